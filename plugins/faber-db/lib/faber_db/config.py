"""The project's faber-db config: `.fractary/plugins/faber-db/config.toml` (or the original plugin's
`config.json` beside it; `FABER_DB_CONFIG` overrides the path).

The config is made of frozen dataclasses. pydantic validates a file the first time it is seen
(unknown keys and wrong types are errors naming the key); the validated form is cached under the
state directory keyed by the file's bytes, so later commands skip the ~70 ms pydantic import.
Connection URLs never live in the file: each environment names the variable that holds its URL.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import sys
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from faber_db import __version__
from faber_db.errors import FaberError
from faber_db.files import write_atomic
from faber_db.launch import state_dir
from faber_db.redact import register_url

CONFIG_DIR = Path(".fractary/plugins/faber-db")
CONFIG_TOML = CONFIG_DIR / "config.toml"
CONFIG_JSON = CONFIG_DIR / "config.json"

Provider = Literal["sqlite", "postgresql"]
BackupPolicy = Literal["required", "recommended", "optional"]
ApprovalLevel = Literal["standard", "enhanced"]

# pydantic reads this attribute on stdlib dataclasses; a plain dict keeps pydantic unimported.
_STRICT: dict[str, Any] = {"extra": "forbid"}


@dataclass(frozen=True)
class DatabaseConfig:
    __pydantic_config__ = _STRICT
    provider: Provider
    migration_tool: Literal["prisma"] = "prisma"


@dataclass(frozen=True)
class PrismaConfig:
    __pydantic_config__ = _STRICT
    schema: str = "prisma/schema.prisma"
    migrations_dir: str = "prisma/migrations"
    # prisma.config.ts, when the project has one (Prisma 6.x optional, 7.x required)
    config_file: str | None = None
    # empty: the project's node_modules/.bin/prisma; else an argv prefix such as ["npx", "prisma"]
    command: tuple[str, ...] = ()
    timeout_seconds: int = 600


@dataclass(frozen=True)
class EnvironmentConfig:
    __pydantic_config__ = _STRICT
    url_env: str
    protected: bool = False
    backup: BackupPolicy = "optional"
    health_checks: bool = True
    # PostgreSQL: a database faber-db may use as Prisma's shadow database; else it makes a temporary one
    shadow_url_env: str | None = None
    aliases: tuple[str, ...] = ()
    # regenerate the Prisma Client after applying (default: only in the environment named "dev")
    generate_client: bool | None = None


@dataclass(frozen=True)
class BackupConfig:
    __pydantic_config__ = _STRICT
    provider: str = "local"
    directory: str = ".fractary/plugins/faber-db/backups"
    keep_count: int = 10
    keep_days: int = 30
    # pg_dump's gzip level: 1 is about twice as fast as pg_dump's default for a few percent more bytes
    compression: int = 1


@dataclass(frozen=True)
class DestructiveRule:
    __pydantic_config__ = _STRICT
    allowed: bool = True
    approval: ApprovalLevel = "standard"
    require_backup: bool = True
    block_reason: str | None = None
    row_threshold: int | None = None


def _default_destructive_rules() -> dict[str, DestructiveRule]:
    # The original plugin's defaults: dropping a database or schema is never done by automation.
    never = "Never allowed through automation; run it by hand"
    return {
        "drop_database": DestructiveRule(allowed=False, block_reason=never),
        "drop_schema": DestructiveRule(allowed=False, block_reason=never),
        "drop_table": DestructiveRule(approval="enhanced"),
        "truncate": DestructiveRule(approval="enhanced", row_threshold=1000),
        "delete_without_where": DestructiveRule(approval="enhanced"),
        "update_without_where": DestructiveRule(approval="enhanced"),
        "drop_column": DestructiveRule(),
        "alter_column_type": DestructiveRule(),
        "set_not_null": DestructiveRule(),
        "add_unique": DestructiveRule(),
        "rename": DestructiveRule(),
    }


@dataclass(frozen=True)
class SafetyConfig:
    __pydantic_config__ = _STRICT
    max_auto_rollback_attempts: int = 1
    health_check_before_deploy: bool = True
    lock_wait_seconds: int = 0
    destructive: dict[str, DestructiveRule] = field(default_factory=_default_destructive_rules)


@dataclass(frozen=True)
class FaberConfig:
    __pydantic_config__ = _STRICT
    database: DatabaseConfig
    environments: dict[str, EnvironmentConfig]
    schema_version: int = 1
    prisma: PrismaConfig = field(default_factory=PrismaConfig)
    backup: BackupConfig = field(default_factory=BackupConfig)
    safety: SafetyConfig = field(default_factory=SafetyConfig)


def default_environments() -> dict[str, EnvironmentConfig]:
    return {
        "dev": EnvironmentConfig(url_env="DEV_DATABASE_URL"),
        "staging": EnvironmentConfig(url_env="STAGING_DATABASE_URL", backup="recommended"),
        "production": EnvironmentConfig(
            url_env="PROD_DATABASE_URL", protected=True, backup="required", aliases=("prod",)
        ),
    }


@dataclass(frozen=True)
class LoadedConfig:
    """A validated config plus where it came from."""

    config: FaberConfig
    path: Path
    project_root: Path

    def resolve(self, relative: str) -> Path:
        path = Path(relative)
        return path if path.is_absolute() else self.project_root / path

    def environment(self, name: str) -> tuple[str, EnvironmentConfig]:
        return resolve_environment(self.config, name)


# --- finding the project and the file -------------------------------------------------------


def find_project_root(start: Path | None = None, *, want_config: bool = True) -> Path:
    """CLAUDE_DB_CWD, else the nearest ancestor holding a faber-db config, else the git root, else cwd."""
    explicit = os.environ.get("CLAUDE_DB_CWD")
    if explicit:
        return Path(explicit).resolve()
    here = (start or Path.cwd()).resolve()
    candidates = [here, *here.parents]
    if want_config:
        for directory in candidates:
            if (directory / CONFIG_TOML).is_file() or (directory / CONFIG_JSON).is_file():
                return directory
    for directory in candidates:
        if (directory / ".git").exists():
            return directory
    return here


def config_path(project_root: Path) -> Path:
    override = os.environ.get("FABER_DB_CONFIG")
    if override:
        path = Path(override)
        return path if path.is_absolute() else (project_root / path)
    toml_path = project_root / CONFIG_TOML
    if toml_path.is_file():
        return toml_path
    json_path = project_root / CONFIG_JSON
    return json_path if json_path.is_file() else toml_path


def load_config(project_root: Path | None = None) -> LoadedConfig:
    root = project_root or find_project_root()
    path = config_path(root)
    try:
        raw_bytes = path.read_bytes()
    except FileNotFoundError:
        raise FaberError(
            "CONFIG_NOT_FOUND",
            f"No faber-db config at {_display(path, root)}",
            "Run `faber-db init` in the project (or set FABER_DB_CONFIG to the config file).",
        ) from None
    except OSError as exc:
        raise FaberError("CONFIG_INVALID", f"Cannot read {_display(path, root)}: {exc.strerror}",
                         "Check the file's permissions.") from None
    return LoadedConfig(parse_config_bytes(raw_bytes, path.suffix, _display(path, root)), path, root)


def parse_config_bytes(raw_bytes: bytes, suffix: str, label: str) -> FaberConfig:
    key = hashlib.sha256(
        b"%s\0%s\0%s\0" % (__version__.encode(), suffix.encode(), _module_stamp()) + raw_bytes
    ).hexdigest()
    cached = _cache_read(key)
    if cached is not None:
        return cached
    data = _parse_raw(raw_bytes, suffix, label)
    if suffix == ".json":
        data = legacy_json_to_config_dict(data, label)
    config = validate_config_dict(data, label)
    _cache_write(key, config)
    return config


def _parse_raw(raw_bytes: bytes, suffix: str, label: str) -> dict[str, Any]:
    try:
        text = raw_bytes.decode("utf-8")
    except UnicodeDecodeError:
        raise FaberError("CONFIG_INVALID", f"{label} is not UTF-8 text", "Rewrite the file as UTF-8.") from None
    if sys.version_info >= (3, 11):
        import tomllib  # only on a cache miss
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        data = json.loads(text) if suffix == ".json" else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError, RecursionError) as exc:
        kind = "JSON" if suffix == ".json" else "TOML"
        why = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise FaberError(
            "CONFIG_INVALID",
            f"{label} is not valid {kind}: {why}",
            "Fix the syntax at the position shown, or re-create it with `faber-db init --force`.",
        ) from None
    if not isinstance(data, dict):
        raise FaberError("CONFIG_INVALID", f"{label} must hold a table/object at the top level",
                         "Re-create it with `faber-db init --force`.")
    return data


def validate_config_dict(data: dict[str, Any], label: str) -> FaberConfig:
    from pydantic import TypeAdapter, ValidationError  # only on a cache miss

    try:
        config = TypeAdapter(FaberConfig).validate_python(data, strict=False)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in first["loc"]) or "(top level)"
        problem = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
        count = exc.error_count()
        more = f" (and {count - 1} more problem{'s' if count > 2 else ''})" if count > 1 else ""
        raise FaberError(
            "CONFIG_INVALID",
            f"{label}: {key}: {problem}{more}",
            _config_hint(key, first["type"]),
            details={"key": key, "problems": [_problem(e) for e in exc.errors()]},
        ) from None
    if not config.environments:
        raise FaberError("CONFIG_INVALID", f"{label}: environments: at least one environment is needed",
                         "Add [environments.dev] with url_env = \"DEV_DATABASE_URL\".")
    _check_aliases(config, label)
    return config


def _problem(error: Any) -> dict[str, str]:
    key = ".".join(str(part) for part in error["loc"])
    return {"key": key, "problem": "unknown key" if error["type"] == "extra_forbidden" else error["msg"]}


def _config_hint(key: str, error_type: str) -> str:
    if error_type == "extra_forbidden":
        return f"Remove or rename `{key}`; the keys faber-db knows are listed in the README (Configuration)."
    return f"Set `{key}` to a value of the type shown, or delete it to use the default."


def _usable_name(name: str) -> bool:
    """An environment name ends up in file names (locks, journal, backup folders): never a path."""
    try:
        size = len(name.encode("utf-8"))
    except UnicodeEncodeError:  # a lone surrogate (possible in JSON)
        return False
    return 0 < size <= 100 and bool(name.strip()) and name not in (".", "..") and not any(c in name for c in "/\\\0")


def _check_aliases(config: FaberConfig, label: str) -> None:
    seen: dict[str, str] = {}
    for name, env in config.environments.items():
        for alias in (name, *env.aliases):
            # the name becomes part of file names (locks, journal, backups): never a path
            if not _usable_name(alias):
                raise FaberError(
                    "CONFIG_INVALID",
                    f"{label}: environments.{name}: unusable environment name or alias {alias!r}",
                    "Use a plain name such as dev, staging or production (no slashes, not . or .., "
                    "at most 100 bytes).",
                )
            if alias in seen and seen[alias] != name:
                raise FaberError(
                    "CONFIG_INVALID",
                    f"{label}: environments.{name}: name or alias {alias!r} is also used by {seen[alias]!r}",
                    "Give each environment names and aliases of its own.",
                )
            seen[alias] = name


def resolve_environment(config: FaberConfig, name: str) -> tuple[str, EnvironmentConfig]:
    for env_name, env in config.environments.items():
        if name == env_name or name in env.aliases:
            return env_name, env
    known = ", ".join(config.environments)
    raise FaberError(
        "UNKNOWN_ENVIRONMENT",
        f"Unknown environment {name!r}",
        f"Use one of: {known} (or add [environments.<name>] to the config).",
    )


def database_url(env_name: str, env: EnvironmentConfig) -> str:
    """The environment's connection URL from its variable, registered for redaction at once."""
    url = os.environ.get(env.url_env, "").strip()
    if not url:
        raise FaberError(
            "DATABASE_URL_MISSING",
            f"${env.url_env} is not set (it holds the connection URL of {env_name})",
            f"export {env.url_env}='<connection URL>' before running faber-db; URLs never go in the config.",
        )
    register_url(url, env.url_env)
    return url


# --- the original plugin's config.json --------------------------------------------------------

# Keys the original format has that faber-db reads nothing from (accepted, not errors).
_LEGACY_IGNORED_TOP = {"integration", "faber_integration"}
_LEGACY_IGNORED_SAFETY = {
    "protected_environments",
    "require_approval_for",
    "validate_destructive_operations",
    "backup_enforcement",
    "destructive_operations",
    "approval_timeouts",
    "max_auto_rollback_attempts",
    "health_check_before_deploy",
    "health_check_after_deploy",
    "rollback_on_health_check_failure",
}


def legacy_json_to_config_dict(data: dict[str, Any], label: str) -> dict[str, Any]:
    """Translate the original plugin's `config.json` into faber-db's shape; unknown keys stay errors."""

    def table(value: Any, key: str) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise FaberError("CONFIG_INVALID", f"{label}: {key}: must be an object",
                             f"Make `{key}` a JSON object.")
        return value

    def reject_unknown(obj: dict[str, Any], known: set[str], prefix: str) -> None:
        for key in obj:
            if key not in known:
                raise FaberError(
                    "CONFIG_INVALID",
                    f"{label}: {prefix}{key}: unknown key",
                    f"Remove or rename `{prefix}{key}`.",
                    details={"key": f"{prefix}{key}"},
                )

    reject_unknown(
        data,
        {"schema_version", "database", "environments", "migrations", "safety", "backup", *_LEGACY_IGNORED_TOP},
        "",
    )
    database = table(data.get("database"), "database")
    reject_unknown(database, {"provider", "hosting", "migration_tool"}, "database.")
    safety = table(data.get("safety"), "safety")
    reject_unknown(safety, _LEGACY_IGNORED_SAFETY, "safety.")
    protected = set(safety.get("protected_environments") or ["production"])
    enforcement = table(safety.get("backup_enforcement"), "safety.backup_enforcement")

    environments: dict[str, Any] = {}
    for name, env in table(data.get("environments"), "environments").items():
        env = table(env, f"environments.{name}")
        reject_unknown(
            env,
            {"connection_string_env", "auto_migrate", "backup_before_migrate", "require_approval", "region"},
            f"environments.{name}.",
        )
        backup = enforcement.get(name) or ("recommended" if env.get("backup_before_migrate") else "optional")
        environments[name] = {
            "url_env": env.get("connection_string_env", f"{name.upper()}_DATABASE_URL"),
            "protected": bool(env.get("require_approval")) or name in protected,
            "backup": backup,
        }

    migrations = table(data.get("migrations"), "migrations")
    reject_unknown(migrations, {"directory", "table", "timeout_seconds", "lock_timeout_seconds"}, "migrations.")
    prisma: dict[str, Any] = {}
    if "directory" in migrations:
        prisma["migrations_dir"] = migrations["directory"]
    if "timeout_seconds" in migrations:
        prisma["timeout_seconds"] = migrations["timeout_seconds"]

    backup_in = table(data.get("backup"), "backup")
    reject_unknown(backup_in, {"provider", "retention_days", "backup_before_destructive_ops", "auto_cleanup",
                               "storage_location", "encrypt_backups"}, "backup.")
    backup_out: dict[str, Any] = {}
    if "provider" in backup_in:
        backup_out["provider"] = backup_in["provider"]
    if "retention_days" in backup_in:
        backup_out["keep_days"] = backup_in["retention_days"]

    safety_out: dict[str, Any] = {}
    for key in ("max_auto_rollback_attempts", "health_check_before_deploy"):
        if key in safety:
            safety_out[key] = safety[key]
    if "lock_timeout_seconds" in migrations:  # the original's wait for the migration lock
        safety_out["lock_wait_seconds"] = migrations["lock_timeout_seconds"]
    if "destructive_operations" in safety:
        rules = {**{k: dataclasses.asdict(v) for k, v in _default_destructive_rules().items()}}
        for kind, rule in table(safety["destructive_operations"], "safety.destructive_operations").items():
            rules[kind] = {**rules.get(kind, {}), **table(rule, f"safety.destructive_operations.{kind}")}
        safety_out["destructive"] = rules

    out: dict[str, Any] = {
        "database": {
            k: v for k, v in database.items() if k in {"provider", "migration_tool"}
        },
        "environments": environments,
        "prisma": prisma,
        "backup": backup_out,
        "safety": safety_out,
    }
    return out


# --- writing -------------------------------------------------------------------------------------


def config_to_toml_dict(config: FaberConfig) -> dict[str, Any]:
    """The config as TOML-writable data (None values dropped: TOML has no null)."""

    def clean(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items() if v is not None}
        if isinstance(value, (list, tuple)):
            return [clean(v) for v in value]
        return value

    data = clean(_to_plain(config))
    assert isinstance(data, dict)
    return data


# --- cache ---------------------------------------------------------------------------------------


def _module_stamp() -> bytes:
    try:
        return str(Path(__file__).stat().st_mtime_ns).encode()
    except OSError:  # pragma: no cover
        return b"0"


def _cache_file(key: str) -> Path:
    return state_dir() / "config-cache" / f"{key}.json"


def _cache_read(key: str) -> FaberConfig | None:
    try:
        data = json.loads(_cache_file(key).read_text("utf-8"))
        built = _from_plain(FaberConfig, data)
    except (OSError, ValueError, TypeError, KeyError, AttributeError):  # unreadable or not our shape: revalidate
        return None
    return built if isinstance(built, FaberConfig) else None


def _cache_write(key: str, config: FaberConfig) -> None:
    path = _cache_file(key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, json.dumps(_to_plain(config)), durable=False)
    except OSError:
        pass  # a cache is an optimisation; an unwritable one costs only speed


def _to_plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {k: _to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_plain(v) for v in value]
    return value


def _from_plain(cls: Any, data: Any) -> Any:
    """Rebuild already-validated cached data into the dataclasses (no validation: it was validated)."""
    origin = typing.get_origin(cls)
    if dataclasses.is_dataclass(cls) and isinstance(cls, type):
        hints = typing.get_type_hints(cls)
        return cls(**{f.name: _from_plain(hints[f.name], data[f.name]) for f in dataclasses.fields(cls)})
    if origin is dict:
        _, value_type = typing.get_args(cls)
        return {k: _from_plain(value_type, v) for k, v in data.items()}
    if origin is tuple:
        return tuple(data)
    if origin in (typing.Union, types.UnionType):
        if data is None:
            return None
        non_none = [a for a in typing.get_args(cls) if a is not type(None)]
        return _from_plain(non_none[0], data)
    return data


def _display(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)
