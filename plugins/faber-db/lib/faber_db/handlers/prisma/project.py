"""A Prisma project's files: where its schema, config and migrations are (for `faber-db init`), and
what schema.prisma and prisma.config.ts say about the datasource (its provider, the variables the
URLs are read from, a driver adapter)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from faber_db.errors import FaberError
from faber_db.handlers.prisma._lazy import LazyPattern

_DATASOURCE = LazyPattern(r"datasource\s+\w+\s*\{(?P<body>[^}]*)\}", re.S)
_PROVIDER = LazyPattern(r"^\s*provider\s*=\s*\"(?P<p>[^\"]+)\"", re.M)
_ENV_URL = LazyPattern(r"^\s*(?:url|directUrl|shadowDatabaseUrl)\s*=\s*env\(\s*\"(?P<v>[^\"]+)\"\s*\)", re.M)
_CONFIG_ENV = LazyPattern(r"env\(\s*[\"'](?P<v>[A-Z0-9_]+)[\"']\s*\)|process\.env\.(?P<w>[A-Z0-9_]+)")
_CONFIG_MIGRATIONS = LazyPattern(r"migrations\s*:\s*\{[^}]*?path\s*:\s*[\"'](?P<p>[^\"']+)[\"']", re.S)
_ADAPTER_MODE = LazyPattern(r"\badapter\s*[:(]")
_CONFIG_SCHEMA = LazyPattern(r"\bschema\s*:\s*[\"'](?P<p>[^\"']+)[\"']")
_PROVIDERS = {"sqlite": "sqlite", "postgresql": "postgresql", "postgres": "postgresql"}
CONFIG_FILE_NAMES = ("prisma.config.ts", "prisma.config.mts", "prisma.config.js", ".config/prisma.ts")


@dataclass(frozen=True)
class Datasource:
    provider: str  # as written in the schema ("postgresql", "sqlite", "mysql", ...)
    url_env_names: tuple[str, ...]


@dataclass(frozen=True)
class DetectedProject:
    schema: Path
    provider: str
    migrations_dir: Path
    config_file: Path | None


def read_schema_text(schema: Path) -> str:
    """The schema's text; a folder schema (prismaSchemaFolder / Prisma 6.6+) is all its .prisma files."""
    if schema.is_dir():
        return "\n".join(p.read_text("utf-8") for p in sorted(schema.rglob("*.prisma")))
    return schema.read_text("utf-8")


def parse_datasource(schema_text: str) -> Datasource | None:
    match = _DATASOURCE.search(strip_comments(schema_text))
    if not match:
        return None
    body = match["body"]
    provider = _PROVIDER.search(body)
    return Datasource(
        provider=provider["p"] if provider else "",
        url_env_names=tuple(m["v"] for m in _ENV_URL.finditer(body)),
    )


def strip_comments(text: str) -> str:
    return re.sub(r"//[^\n]*", "", text)


def detect_project(root: Path) -> DetectedProject:
    """Find the Prisma project under `root` the way the Prisma CLI would (for `faber-db init`)."""
    config_file = find_config_file(root)
    config_text = config_file.read_text("utf-8") if config_file else ""
    candidates: list[Path] = []
    schema_match = _CONFIG_SCHEMA.search(config_text)
    if schema_match:
        candidates.append(root / schema_match["p"])
    package_json = root / "package.json"
    if package_json.is_file():
        try:
            declared = json.loads(package_json.read_text("utf-8")).get("prisma", {}).get("schema")
        except (ValueError, AttributeError):
            declared = None
        if isinstance(declared, str):
            candidates.append(root / declared)
    candidates += [root / "prisma" / "schema.prisma", root / "schema.prisma", root / "prisma" / "schema"]
    schema = next((c for c in candidates if c.is_file() or (c.is_dir() and any(c.rglob("*.prisma")))), None)
    if schema is None:
        raise FaberError(
            "SCHEMA_NOT_FOUND",
            "No Prisma schema found (looked for prisma/schema.prisma, schema.prisma, prisma/schema/)",
            "Run faber-db in the folder of a Prisma project, or create one with `npx prisma init`.",
        )
    datasource = parse_datasource(read_schema_text(schema))
    raw_provider = datasource.provider if datasource else ""
    provider = _PROVIDERS.get(raw_provider)
    if provider is None:
        raise FaberError(
            "PROVIDER_UNSUPPORTED",
            f"The schema's datasource provider is {raw_provider or 'missing'!r}",
            "faber-db supports provider = \"sqlite\" and provider = \"postgresql\".",
        )
    migrations_match = _CONFIG_MIGRATIONS.search(config_text)
    schema_dir = schema if schema.is_dir() else schema.parent
    migrations_dir = root / migrations_match["p"] if migrations_match else schema_dir / "migrations"
    return DetectedProject(schema=schema, provider=provider, migrations_dir=migrations_dir,
                           config_file=config_file)


def find_config_file(root: Path) -> Path | None:
    return next((root / n for n in CONFIG_FILE_NAMES if (root / n).is_file()), None)


def url_env_names(schema: Path, config_file: Path | None) -> tuple[str, ...]:
    """The variables Prisma reads the URL from: the schema's `env("…")` and prisma.config.ts's."""
    names: list[str] = ["DATABASE_URL"]
    try:
        datasource = parse_datasource(read_schema_text(schema))
    except OSError:
        datasource = None
    if datasource:
        names += datasource.url_env_names
    if config_file:
        try:
            text = config_file.read_text("utf-8")
        except OSError:
            text = ""
        names += [m["v"] or m["w"] for m in _CONFIG_ENV.finditer(text)]
    return tuple(dict.fromkeys(names))


def uses_driver_adapter(config_file: Path | None) -> bool:
    """prisma.config.ts with an `adapter`: Prisma then rejects --shadow-database-url/--*-url."""
    try:
        return bool(config_file and _ADAPTER_MODE.search(config_file.read_text("utf-8")))
    except OSError:
        return False
