"""The runtime layer every command stands on: the project, its config, the chosen environment."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from faber_db.config import EnvironmentConfig, LoadedConfig, database_url, find_project_root, load_config

if TYPE_CHECKING:
    from faber_db.engines import Database
    from faber_db.handlers.base import MigrationHandler


@dataclass
class Target:
    """One environment, resolved: its config, its URL (never printed) and its handler."""

    name: str
    env: EnvironmentConfig
    url: str
    loaded: LoadedConfig
    handler: MigrationHandler

    @property
    def provider(self) -> str:
        return self.loaded.config.database.provider

    def connect(self, *, create: bool = False, timeout: float = 5.0) -> Database:
        from faber_db.engines import open_database

        return open_database(self.provider, self.url, schema_dir=self.handler.schema_dir,
                             create=create, connect_timeout=timeout)


@dataclass
class Context:
    project: Path | None = None
    fmt: str = "json"
    # the folders project discovery looked in (for errors that say where no project was found)
    searched: list[Path] = field(default_factory=list)
    _loaded: LoadedConfig | None = field(default=None, repr=False)

    def project_root(self) -> Path:
        """--project, else the discovered project folder, else the cwd (whose errors then say so)."""
        if self.project is not None:
            return self.project.resolve()
        root, self.searched = find_project_root()
        return root or Path.cwd().resolve()

    def load(self) -> LoadedConfig:
        if self._loaded is None:
            self._loaded = load_config(self.project_root())
        return self._loaded

    def target(self, environment: str) -> Target:
        from faber_db.handlers import get_handler

        loaded = self.load()
        name, env = loaded.environment(environment)
        url = database_url(name, env)
        return Target(name=name, env=env, url=url, loaded=loaded, handler=get_handler(loaded))
