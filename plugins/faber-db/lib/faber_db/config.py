"""The project's faber-db config: `.fractary/plugins/faber-db/config.toml` (or the original plugin's
`config.json` beside it; `FABER_DB_CONFIG` overrides the path).

The config is made of frozen dataclasses, built from the file's own bytes on every run: a file whose
values already have exactly the declared types is built directly (`build_strict`), anything else
goes through pydantic (lax coercions, or an error naming the key). There is no cached copy that could
stand in for the file; pydantic's ~70 ms import is paid only for unusual files and for errors.
Connection URLs never live in the file: each environment names the variable that holds its URL.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from faber_db import policy
from faber_db.errors import FaberError
from faber_db.handlers import known_tools
from faber_db.redact import register_url

CONFIG_DIR = Path(policy.CONFIG_DIR)
CONFIG_TOML = Path(policy.CONFIG_TOML)
CONFIG_JSON = Path(policy.CONFIG_JSON)

Provider = Literal["sqlite", "postgresql"]
BackupPolicy = Literal["required", "recommended", "optional"]
ApprovalLevel = Literal["standard", "enhanced"]

# pydantic reads this attribute on stdlib dataclasses; a plain dict keeps pydantic unimported.
_STRICT: dict[str, Any] = {"extra": "forbid"}


@dataclass(frozen=True)
class DatabaseConfig:
    __pydantic_config__ = _STRICT
    provider: Provider
    migration_tool: Literal["prisma", "sql"] = "prisma"


@dataclass(frozen=True)
class PrismaConfig:
    __pydantic_config__ = _STRICT
    schema: str = "prisma/schema.prisma"
    migrations_dir: str = known_tools()["prisma"].default_migrations_dir
    # prisma.config.ts, when the project has one (Prisma 6.x optional, 7.x required)
    config_file: str | None = None
    # empty: the project's node_modules/.bin/prisma; else an argv prefix such as ["npx", "prisma"]
    command: tuple[str, ...] = ()
    timeout_seconds: int = 600


@dataclass(frozen=True)
class SqlConfig:
    """migration_tool = "sql": a folder of `<version>_<name>.sql` files."""

    __pydantic_config__ = _STRICT
    migrations_dir: str = known_tools()["sql"].default_migrations_dir


@dataclass(frozen=True)
class EnvironmentConfig:
    __pydantic_config__ = _STRICT
    url_env: str
    protected: bool = False
    backup: BackupPolicy = "optional"
    health_checks: bool = True
    # PostgreSQL: a database faber-db may use as the migration tool's shadow database (generate replays the
    # history into it); else it makes a temporary one
    shadow_url_env: str | None = None
    aliases: tuple[str, ...] = ()
    # regenerate the migration tool's client after applying (default: only in the environment named "dev")
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
    # an absolute backup.directory outside the project must be asked for explicitly
    allow_outside_project: bool = False


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
        "delete_where": DestructiveRule(),
        "update_where": DestructiveRule(),
        "drop_column": DestructiveRule(),
        "alter_column_type": DestructiveRule(),
        "set_not_null": DestructiveRule(),
        "add_unique": DestructiveRule(),
        "rename": DestructiveRule(),
        "drop_view": DestructiveRule(),
        "drop_materialized_view": DestructiveRule(),
        "drop_function": DestructiveRule(),
        "drop_trigger": DestructiveRule(),
        "drop_type": DestructiveRule(),
        # an extension's types and operators can hold up columns and indexes across the database
        "drop_extension": DestructiveRule(approval="enhanced"),
    }


@dataclass(frozen=True)
class SafetyConfig:
    __pydantic_config__ = _STRICT
    max_auto_rollback_attempts: int = 1
    health_check_before_deploy: bool = True
    lock_wait_seconds: int = 0
    # how long a dry run's plan can be approved and applied
    plan_ttl_hours: int = 24
    destructive: dict[str, DestructiveRule] = field(default_factory=_default_destructive_rules)


@dataclass(frozen=True)
class FaberConfig:
    __pydantic_config__ = _STRICT
    database: DatabaseConfig
    environments: dict[str, EnvironmentConfig]
    schema_version: int = 1
    prisma: PrismaConfig = field(default_factory=PrismaConfig)
    sql: SqlConfig = field(default_factory=SqlConfig)
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


def find_project_root(start: Path | None = None) -> tuple[Path | None, list[Path]]:
    """The project folder ($CLAUDE_DB_CWD, else the nearest folder upwards from `start`, default the
    cwd, holding a faber-db config or a migration tool's project, up to the git root) and every folder searched.
    The rule lives in policy.py, which the approval gate shares."""
    return policy.find_project_root(start or Path.cwd(), os.environ)


def config_path(project_root: Path) -> Path:
    return policy.config_file(project_root, os.environ)[0]


def load_config(project_root: Path | None = None) -> LoadedConfig:
    root = project_root or find_project_root()[0] or Path.cwd().resolve()
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
    """The config from the file's own bytes, every time: no cached copy can stand in for the file."""
    data = _parse_raw(raw_bytes, suffix, label)
    if suffix == ".json":
        data = legacy_json_to_config_dict(data, label)
    try:
        config = build_strict(FaberConfig, data)
    except _NotPlain:
        config = validate_config_dict(data, label)  # pydantic: lax coercions, or the error naming the key
    else:
        _check_config(config, label)
    if not isinstance(config, FaberConfig):  # pragma: no cover (build_strict returns the class it was given)
        raise TypeError(type(config))
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
    from pydantic import TypeAdapter, ValidationError  # only when the plain build could not decide

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
    _check_config(config, label)
    return config


# (key, lowest, highest): numbers that would break faber-db (a negative retention, a timeout the
# clock cannot hold) are refused with the key named, instead of misbehaving later.
_RANGES: tuple[tuple[str, int, int], ...] = (
    ("prisma.timeout_seconds", 1, 7 * 24 * 3600),
    ("backup.keep_count", 0, 100_000),
    ("backup.keep_days", 0, 100_000),
    ("backup.compression", 0, 9),
    ("safety.max_auto_rollback_attempts", 0, 10),
    ("safety.lock_wait_seconds", 0, 24 * 3600),
    ("safety.plan_ttl_hours", 1, 30 * 24),
)


def _check_config(config: FaberConfig, label: str) -> None:
    if not config.environments:
        raise FaberError("CONFIG_INVALID", f"{label}: environments: at least one environment is needed",
                         "Add [environments.dev] with url_env = \"DEV_DATABASE_URL\".")
    _check_aliases(config, label)
    for key, low, high in _RANGES:
        section, name = key.split(".")
        value = getattr(getattr(config, section), name)
        if not low <= value <= high:
            raise FaberError("CONFIG_INVALID", f"{label}: {key}: {value} is outside {low}..{high}",
                             f"Set `{key}` to a value from {low} to {high}, or delete it to use the default.",
                             details={"key": key})
    for kind, rule in config.safety.destructive.items():
        if rule.row_threshold is not None and rule.row_threshold < 0:
            raise FaberError("CONFIG_INVALID", f"{label}: safety.destructive.{kind}.row_threshold: must not be "
                             "negative", "Set a row count of 0 or more, or delete the key.",
                             details={"key": f"safety.destructive.{kind}.row_threshold"})
    directory = Path(config.backup.directory)
    if directory.is_absolute() and not config.backup.allow_outside_project:
        raise FaberError("CONFIG_INVALID", f"{label}: backup.directory: {directory} is outside the project",
                         "Backups hold the database's data: keep them under the project, or, for a deliberate "
                         "absolute path, also set backup.allow_outside_project = true.",
                         details={"key": "backup.directory"})
    if not directory.is_absolute() and ".." in directory.parts:
        raise FaberError("CONFIG_INVALID", f"{label}: backup.directory: {directory} climbs out of the project",
                         "Use a folder inside the project, or an absolute path with "
                         "backup.allow_outside_project = true.", details={"key": "backup.directory"})


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


def _to_plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {k: _to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_plain(v) for v in value]
    return value


# --- building the dataclasses without pydantic ------------------------------------------------


class _NotPlain(Exception):
    """The data is not exactly of the declared types: let pydantic decide (and word the error)."""


def build_strict(cls: Any, data: Any) -> Any:
    """`cls` from `data` when every value already has exactly the declared type (what a config file
    written by `init` or by hand holds), with the dataclass defaults for missing keys; else _NotPlain.
    This keeps the ~70 ms pydantic import off every command without trusting any cached copy."""
    origin = typing.get_origin(cls)
    if dataclasses.is_dataclass(cls) and isinstance(cls, type):
        if not isinstance(data, dict):
            raise _NotPlain
        fields = {f.name: f for f in dataclasses.fields(cls)}
        if set(data) - set(fields):
            raise _NotPlain
        hints = typing.get_type_hints(cls)
        values = {}
        for name, spec in fields.items():
            if name in data:
                values[name] = build_strict(hints[name], data[name])
            elif spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING:
                raise _NotPlain
        return cls(**values)
    if origin is dict:
        key_type, value_type = typing.get_args(cls)
        if not isinstance(data, dict) or not all(isinstance(k, key_type) for k in data):
            raise _NotPlain
        return {k: build_strict(value_type, v) for k, v in data.items()}
    if origin is tuple:
        (item_type, _ellipsis) = typing.get_args(cls)
        if not isinstance(data, list):
            raise _NotPlain
        return tuple(build_strict(item_type, v) for v in data)
    if origin in (typing.Union, types.UnionType):
        if data is None and type(None) in typing.get_args(cls):
            return None
        non_none = [a for a in typing.get_args(cls) if a is not type(None)]
        if len(non_none) != 1:
            raise _NotPlain
        return build_strict(non_none[0], data)
    if origin is Literal:
        if data not in typing.get_args(cls) or not isinstance(data, str):
            raise _NotPlain
        return data
    if cls is bool:
        if not isinstance(data, bool):
            raise _NotPlain
        return data
    if cls is int:
        if isinstance(data, bool) or not isinstance(data, int):
            raise _NotPlain
        return data
    if cls is str:
        if not isinstance(data, str):
            raise _NotPlain
        return data
    raise _NotPlain


def _display(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)
