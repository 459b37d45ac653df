"""`faber-db init`: find the migration tool's project (the handler registry's `detect_setup`; without
one, a folder of plain SQL migration files) and write `.fractary/plugins/faber-db/config.toml`."""

from __future__ import annotations

import argparse
import dataclasses
import os
from pathlib import Path

from faber_db.config import (
    CONFIG_DIR,
    CONFIG_JSON,
    CONFIG_TOML,
    DatabaseConfig,
    FaberConfig,
    SqlConfig,
    config_to_toml_dict,
    default_environments,
    parse_config_bytes,
)
from faber_db.errors import FaberError
from faber_db.files import write_atomic
from faber_db.handlers import detect_setup, detect_sql_folder, known_tools
from faber_db.results import InitDetails, Result
from faber_db.runtime import Context

HELP = "Detect the migration project (the tool's, or a plain SQL migrations folder) and write the faber-db config"

HEADER = """\
# faber-db configuration (written by `faber-db init`; edit freely).
# Connection URLs never go in this file: each environment names the variable that holds its URL.
# Reference: the README's "Configuration" section.

"""

GITIGNORE = "# faber-db's local state: backups hold data, locks are per machine\nbackups/\nlocks/\n"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--force", action="store_true", help="overwrite an existing config")
    parser.add_argument("--provider", choices=("sqlite", "postgresql"),
                        help="the database of a plain SQL migrations folder (default: from $DEV_DATABASE_URL's "
                        "scheme); a tool whose schema names its database says it itself")
    parser.add_argument("--faber", action="store_true",
                        help="also add faber-db's phase hooks to .faber.config.toml (other keys kept)")
    parser.add_argument("--claude-settings", action="store_true",
                        help="also add permission rules to .claude/settings.json that deny the raw database "
                        "tools to Claude Code and ask before faber-db's config changes (other rules kept)")


def run(ctx: Context, args: argparse.Namespace) -> Result:
    root = ctx.project_root()
    override = os.environ.get("FABER_DB_CONFIG")
    path = Path(override) if override else root / CONFIG_TOML
    if not path.is_absolute():
        path = root / path
    existing = [p for p in (path, root / CONFIG_JSON) if p.is_file()]
    if args.claude_settings:
        from faber_db.claude_settings import merged_settings

        merged_settings(root)  # an unreadable settings file stops init before anything is written
    if existing and (args.faber or args.claude_settings) and not args.force:
        return _extras_only(root, existing[0], faber=args.faber, claude_settings=args.claude_settings)
    if existing and not args.force:
        raise FaberError(
            "CONFIG_EXISTS",
            f"{_rel(existing[0], root)} already exists; nothing was written",
            "Keep it, or pass --force to replace it with a freshly detected config.",
        )
    try:
        setup = detect_setup(root)
    except FaberError as error:
        folder = detect_sql_folder(root) if error.code == "SCHEMA_NOT_FOUND" else None
        if folder is None:
            raise
        return _write_sql_config(root, path, folder, args)
    environments = default_environments()
    if setup.shadow_env:  # the variable the project reads its shadow database from holds the developer's
        environments["dev"] = dataclasses.replace(environments["dev"], shadow_url_env=setup.shadow_env)
    config = FaberConfig(
        database=DatabaseConfig(provider=setup.provider, migration_tool=setup.tool),  # type: ignore[arg-type]
        environments=environments,
        **{setup.tool: setup.section},  # type: ignore[arg-type]
    )
    _write_config(root, path, config)

    warnings = list(setup.warnings)
    hooks = None
    if args.faber:
        from faber_db.faber import write_hooks

        hooks, hook_warnings = write_hooks(root)
        warnings += hook_warnings
    settings_note = ""
    if args.claude_settings:
        from faber_db.claude_settings import write_claude_settings

        settings, added = write_claude_settings(root)
        settings_note = f" and {len(added)} permission rule(s) in {_rel(settings, root)}"
    details = InitDetails(
        config_path=_rel(path, root),
        written=True,
        provider=setup.provider,
        schema=setup.schema,
        migrations_dir=setup.migrations_dir,
        environments={name: env.url_env for name, env in config.environments.items()},
        tool_config=setup.tool_config,
        tool_command=setup.tool_command,
        tool_version=setup.tool_version,
        datasource_url_env=setup.url_env,
        datasource_shadow_env=setup.shadow_env,
        migration_tool=setup.tool,
    )
    return Result(
        status="warning" if warnings else "success",
        operation="init",
        environment=None,
        message=f"Wrote {details.config_path} ({setup.provider}, {len(config.environments)} environments)"
        + (f" and the FABER hooks in {hooks.name}" if hooks else "") + settings_note,
        details=details,
        warnings=warnings,
        suggested_fixes=list(setup.suggested_fixes)
        + [f"export {env.url_env}=… for each environment you use, then `faber-db status dev`"
           for env in list(config.environments.values())[:1]],
    )


def _write_config(root: Path, path: Path, config: FaberConfig) -> None:
    import tomli_w

    data = config_to_toml_dict(config)
    for other in known_tools():  # only the chosen tool's section
        if other != config.database.migration_tool:
            data.pop(other, None)
    text = HEADER + tomli_w.dumps(data)
    parse_config_bytes(text.encode(), ".toml", _rel(path, root))  # what we write must load back
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, text)
    gitignore = root / CONFIG_DIR / ".gitignore"
    if path.parent == root / CONFIG_DIR and not gitignore.exists():
        gitignore.write_text(GITIGNORE, "utf-8")


def _sql_provider(args: argparse.Namespace) -> str:
    """--provider, else the scheme of dev's URL (never printed), else a refusal that says what to pass."""
    if args.provider:
        return str(args.provider)
    url = os.environ.get("DEV_DATABASE_URL", "").strip()
    if url.startswith("file:"):
        return "sqlite"
    if url.startswith(("postgres://", "postgresql://")):
        return "postgresql"
    raise FaberError("INVALID_ARGUMENT", "A plain SQL migrations folder does not say which database it is for; "
                     "nothing was written", "Pass --provider postgresql or --provider sqlite (or set "
                     "$DEV_DATABASE_URL first: its scheme decides).")


def _write_sql_config(root: Path, path: Path, folder: Path, args: argparse.Namespace) -> Result:
    """No tool's project, but a folder of `<version>_<name>.sql` files: the sql migration tool."""
    provider = _sql_provider(args)
    config = FaberConfig(database=DatabaseConfig(provider=provider, migration_tool="sql"),  # type: ignore[arg-type]
                         environments=default_environments(), sql=SqlConfig(migrations_dir=_rel(folder, root)))
    _write_config(root, path, config)
    details = InitDetails(config_path=_rel(path, root), written=True, provider=provider, schema="",
                          migrations_dir=config.sql.migrations_dir,
                          environments={name: env.url_env for name, env in config.environments.items()},
                          migration_tool="sql")
    return Result(status="success", operation="init", environment=None,
                  message=f"Wrote {details.config_path} (plain SQL migrations in {details.migrations_dir}, "
                  f"{provider}, {len(config.environments)} environments)", details=details,
                  suggested_fixes=[f"export {env.url_env}=… for each environment you use, then `faber-db status dev`"
                                   for env in list(config.environments.values())[:1]])


def _extras_only(root: Path, config: Path, *, faber: bool, claude_settings: bool) -> Result:
    from faber_db.claude_settings import write_claude_settings
    from faber_db.faber import write_hooks

    warnings: list[str] = []
    done: list[str] = []
    details: dict[str, object] = {"config_path": _rel(config, root), "written": False}
    if faber:
        hooks, warnings = write_hooks(root)
        details["faber_config"] = hooks.name
        done.append(f"faber-db's phase hooks in {hooks.name}")
    if claude_settings:
        settings, added = write_claude_settings(root)
        details["claude_settings"] = _rel(settings, root)
        details["claude_rules_added"] = added
        done.append(f"{len(added)} permission rule(s) in {_rel(settings, root)}")
    return Result(status="warning" if warnings else "success", operation="init", environment=None,
                  message=f"Kept {_rel(config, root)}; added {' and '.join(done)}", details=details,
                  warnings=warnings)


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)
