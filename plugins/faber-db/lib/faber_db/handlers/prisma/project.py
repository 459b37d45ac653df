"""A Prisma project's files: where its schema, config and migrations are (for `faber-db init`), and
what schema.prisma and prisma.config.ts say about the datasource: its provider, the environment
variables its URL and its shadow database's URL are read from, a driver adapter.

faber-db points Prisma at an environment by setting the variables the project itself reads, so it
follows the user's files rather than a naming convention. prisma.config.ts is TypeScript: it is not
run, only scanned (comments and strings understood), for the forms people write:
`env("X")` (throws when X is unset), `process.env.X` (optionally `!`, `as string`, `?? fallback`), or
a `const` holding one of those. Anything else (a literal URL, a computed one) cannot be fed, and
`UrlSources.unreadable` says so.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from faber_db.errors import FaberError
from faber_db.handlers.prisma._lazy import LazyPattern

_DATASOURCE = LazyPattern(r"datasource\s+\w+\s*\{(?P<body>[^}]*)\}", re.S)
_PROVIDER = LazyPattern(r"^\s*provider\s*=\s*\"(?P<p>[^\"]+)\"", re.M)
_SCHEMA_URL = LazyPattern(r"^\s*(?P<key>url|directUrl|shadowDatabaseUrl)\s*=\s*(?P<value>[^\n]+?)\s*$", re.M)
_SCHEMA_ENV = LazyPattern(r"env\(\s*\"(?P<v>[^\"]+)\"\s*\)")
_SCHEMAS = LazyPattern(r"^\s*schemas\s*=\s*\[(?P<list>[^\]]*)\]", re.M)
_VAR = r"[A-Za-z_][A-Za-z0-9_]*"  # an environment variable's name
_CONFIG_ENV = LazyPattern(rf"\benv\s*(?:<[^>]*>)?\s*\(\s*([\"'`])(?P<v>{_VAR})\1\s*\)|"
                          rf"process\.env(?:\.(?P<w>{_VAR})|\[\s*([\"'])(?P<x>{_VAR})\4\s*\])")
_ENV_CALL = LazyPattern(rf"env\s*(?:<[^>]*>)?\s*\(\s*([\"'`])(?P<v>{_VAR})\1\s*\)")
_PROCESS_ENV = LazyPattern(rf"process\.env(?:\.(?P<v>{_VAR})|\[\s*([\"'])(?P<w>{_VAR})\2\s*\])"
                           r"\s*!?(?:\s+as\s+string)?(?:\s*(?:\?\?|\|\|)[\s\S]*)?")
_BLOCK = LazyPattern(r"^[ \t]*(?P<kind>model|view|type|enum)\s+(?P<name>\w+)\s*\{", re.M)
_FIELD = LazyPattern(r"^\s*(?P<name>\w+)\s+(?P<type>\w+)")
_FIELD_MAP = LazyPattern(r'@map\(\s*(?:name\s*:\s*)?"(?P<n>[^"]+)"')
_MODEL_MAP = LazyPattern(r'@@map\(\s*(?:name\s*:\s*)?"(?P<n>[^"]+)"')
_IDENTIFIER = LazyPattern(r"[A-Za-z_$][A-Za-z0-9_$]*")
_CONFIG_MIGRATIONS = LazyPattern(r"migrations\s*:\s*\{[^}]*?path\s*:\s*[\"'](?P<p>[^\"']+)[\"']", re.S)
_ADAPTER_MODE = LazyPattern(r"\badapter\s*[:(]")
_CONFIG_SCHEMA = LazyPattern(r"\bschema\s*:\s*[\"'](?P<p>[^\"']+)[\"']")
_DATASOURCE_KEY = LazyPattern(r"(?:\bdatasource|[\"']datasource[\"'])\s*:\s*\{")
_PROVIDERS = {"sqlite": "sqlite", "postgresql": "postgresql", "postgres": "postgresql"}
_EXTENSIONS = (".js", ".ts", ".mjs", ".cjs", ".mts", ".cts")
# where Prisma looks for its config, in its order (prisma/config's loadConfigFromFile, 7.10)
CONFIG_FILE_NAMES = (
    *(f"prisma7.config{e}" for e in _EXTENSIONS), *(f".config/prisma7{e}" for e in _EXTENSIONS),
    *(f"{base}{e}" for base in ("prisma.config", ".config/prisma", ".config/prisma.config") for e in _EXTENSIONS),
    *(f"{base}/index{e}" for base in ("prisma.config", ".config/prisma", ".config/prisma.config")
      for e in _EXTENSIONS),
)


@dataclass(frozen=True)
class Datasource:
    provider: str  # as written in the schema ("postgresql", "sqlite", "mysql", ...)
    url_env_names: tuple[str, ...]  # the variables of `url` and `directUrl` (migrations use the direct one)
    shadow_env: str | None  # the variable of `shadowDatabaseUrl`
    literal_url: bool  # `url = "postgresql://…"`: written in the file, not read from the environment
    schemas: tuple[str, ...] = ()  # multiSchema: `schemas = ["public", "auth"]`


@dataclass(frozen=True)
class EnvRead:
    """One environment variable the project reads a URL from."""

    name: str
    required: bool  # read with prisma/config's env(), which throws when the variable is unset


@dataclass(frozen=True)
class UrlSources:
    """Where the project's Prisma reads its database URLs from."""

    url: tuple[str, ...]  # the variables faber-db sets to the environment's URL
    shadow: EnvRead | None  # the variable the shadow database's URL is read from
    unreadable: str | None  # why the URL cannot be fed (a literal or computed URL), or None
    origin: str  # where the URL is read, for messages: "prisma.config.ts datasource.url" / "schema.prisma"


@dataclass(frozen=True)
class DetectedProject:
    schema: Path
    provider: str
    migrations_dir: Path
    config_file: Path | None
    urls: UrlSources
    version: str | None  # the installed Prisma's, when node_modules has it


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
    urls: list[str] = []
    shadow: str | None = None
    literal = False
    for entry in _SCHEMA_URL.finditer(body):
        variable = _SCHEMA_ENV.fullmatch(entry["value"])
        if entry["key"] == "shadowDatabaseUrl":
            shadow = variable["v"] if variable else None
        elif variable:
            urls.append(variable["v"])
        elif entry["key"] == "url":
            literal = True
    schemas = _SCHEMAS.search(body)
    return Datasource(provider=provider["p"] if provider else "", url_env_names=tuple(urls), shadow_env=shadow,
                      literal_url=literal,
                      schemas=tuple(re.findall(r'"([^"]+)"', schemas["list"])) if schemas else ())


def declared_tables(schema_text: str) -> dict[str, frozenset[str]] | None:
    """Each model's table and its columns, by their names in the database (`@@map`, `@map`; a relation
    field is no column). None for a multi-schema datasource, where one name may be a table in each."""
    text = strip_comments(schema_text)
    datasource = parse_datasource(text)
    if datasource is None or datasource.schemas:
        return None
    blocks = [(m["kind"], m["name"], _balanced(text, m.end() - 1)) for m in _BLOCK.finditer(text)]
    related = {name for kind, name, _ in blocks if kind != "enum"}  # a field of such a type is a relation
    tables: dict[str, frozenset[str]] = {}
    for kind, name, body in blocks:
        if kind != "model":
            continue
        table, columns = name, set()
        for line in body.splitlines():
            if line.strip().startswith("@@"):
                mapped = _MODEL_MAP.search(line)
                table = mapped["n"] if mapped else table
                continue
            field = _FIELD.match(line)
            if field is not None and field["type"] not in related:
                mapped = _FIELD_MAP.search(line)
                columns.add(mapped["n"] if mapped else field["name"])
        tables[table] = frozenset(columns)
    return tables


def strip_comments(text: str) -> str:
    """The text without `//` and `/* */` comments; quoted text is kept (a URL's `//` is no comment)."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char in "\"'`":
            end = i + 1
            while end < n and text[end] != char and (char == "`" or text[end] != "\n"):
                end += 2 if text[end] == "\\" else 1
            out.append(text[i:end + 1])
            i = end + 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
        else:
            out.append(char)
            i += 1
    return "".join(out)


def detect_project(root: Path) -> DetectedProject:
    """Find the Prisma project under `root` the way the Prisma CLI would (for `faber-db init`)."""
    config_file = find_config_file(root)
    config_text = strip_comments(config_file.read_text("utf-8")) if config_file else ""
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
    version = installed_version(root)
    major = int(version.split(".")[0]) if version and version.split(".")[0].isdigit() else 6
    return DetectedProject(schema=schema, provider=provider, migrations_dir=migrations_dir,
                           config_file=config_file, urls=url_sources(schema, config_file, major), version=version)


def installed_version(root: Path) -> str | None:
    """The project's Prisma version, read from node_modules/prisma/package.json (no subprocess)."""
    try:
        return str(json.loads((root / "node_modules" / "prisma" / "package.json").read_text("utf-8"))["version"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def find_config_file(root: Path) -> Path | None:
    return next((root / n for n in CONFIG_FILE_NAMES if (root / n).is_file()), None)


def url_sources(schema: Path, config_file: Path | None, major: int) -> UrlSources:
    """The variables the project's Prisma reads the URL and the shadow URL from.

    prisma.config.ts's `datasource` wins where it has a `url` (Prisma 7 reads only that). Prisma 6
    reads the schema's `url`/`directUrl = env("…")`; with a driver adapter (Prisma 6's
    `experimental.adapter`) the adapter reads the URL itself, so every variable the config reads
    counts too (except the shadow's).
    """
    config_text = _read(config_file)
    entries = _datasource_entries(config_text) if config_text else None
    config_name = config_file.name if config_file else "prisma.config.ts"
    if entries is not None and "url" in entries:
        origin = f"{config_name} datasource.url"
        url = _env_read(entries["url"], config_text)
        shadow_expr = entries.get("shadowDatabaseUrl")
        shadow = _env_read(shadow_expr, config_text) if shadow_expr else None
        if url is None:
            return UrlSources((), shadow, f"{origin} is `{_shorten(entries['url'])}`, not a variable", origin)
        return UrlSources((url.name,), shadow, None, origin)
    if major >= 7:
        where = f"{config_name} has no datasource.url" if config_file else "the project has no prisma.config.ts"
        return UrlSources((), None, f"{where} (Prisma 7 reads the URL only from there)", "prisma.config.ts")
    try:
        datasource = parse_datasource(read_schema_text(schema))
    except OSError:
        datasource = None
    names = list(datasource.url_env_names) if datasource else []
    shadow_name = datasource.shadow_env if datasource else None
    if config_text and _ADAPTER_MODE.search(config_text):
        names += [n for n in _config_env_names(config_text) if n != shadow_name]
    shadow = EnvRead(shadow_name, required=False) if shadow_name else None
    names = list(dict.fromkeys(names))
    if not names:
        what = "a literal URL" if datasource and datasource.literal_url else "no env(\"…\") url"
        return UrlSources((), shadow, f"{schema.name}'s datasource has {what}", schema.name)
    return UrlSources(tuple(names), shadow, None, schema.name)


def uses_driver_adapter(config_file: Path | None) -> bool:
    """prisma.config.ts with an `adapter` (Prisma 6): Prisma then runs its WebAssembly engine through
    it, makes its own shadow databases, and rejects --shadow-database-url/--*-url/--*-schema-datasource."""
    text = _read(config_file)
    return bool(text and _ADAPTER_MODE.search(text))


def _read(path: Path | None) -> str:
    if path is None:
        return ""
    try:
        return strip_comments(path.read_text("utf-8"))
    except OSError:
        return ""


def _config_env_names(text: str) -> list[str]:
    return [m["v"] or m["w"] or m["x"] for m in _CONFIG_ENV.finditer(text)]


def _env_read(expression: str, text: str) -> EnvRead | None:
    """The variable an expression reads, if it is one of the forms faber-db can feed."""
    expression = expression.strip()
    if match := _ENV_CALL.fullmatch(expression):
        return EnvRead(match["v"], required=True)
    if match := _PROCESS_ENV.fullmatch(expression):
        return EnvRead(match["v"] or match["w"], required=False)
    if _IDENTIFIER.fullmatch(expression):  # `url: databaseUrl` (or shorthand `url`) with `const databaseUrl = …`
        declared = re.search(rf"\b(?:const|let|var)\s+{re.escape(expression)}\s*(?::[^=]+)?=\s*([^;\n]+)", text)
        if declared and not _IDENTIFIER.fullmatch(declared[1].strip()):
            return _env_read(declared[1], text)
    return None


def _datasource_entries(text: str) -> dict[str, str] | None:
    """The top-level `key: expression` entries of the config's `datasource: { … }` object."""
    match = _DATASOURCE_KEY.search(text)
    if not match:
        return None
    body = _balanced(text, match.end() - 1)
    entries: dict[str, str] = {}
    for part in _split_top_level(body):
        key, sep, value = part.partition(":")
        key = key.strip().strip("\"'")
        if _IDENTIFIER.fullmatch(key):
            entries[key] = value.strip() if sep else key  # `{ url }` is shorthand for `{ url: url }`
    return entries


def _balanced(text: str, start: int) -> str:
    """The text inside the bracket at `start` up to its match (strings skipped)."""
    depth, i = 0, start
    while i < len(text):
        char = text[i]
        if char in "\"'`":
            i = _string_end(text, i)
            continue
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth == 0:
                return text[start + 1:i]
        i += 1
    return text[start + 1:]


def _split_top_level(body: str) -> list[str]:
    parts, depth, begin, i = [], 0, 0, 0
    while i < len(body):
        char = body[i]
        if char in "\"'`":
            i = _string_end(body, i)
            continue
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(body[begin:i])
            begin = i + 1
        i += 1
    parts.append(body[begin:])
    return [p.strip() for p in parts if p.strip()]


def _string_end(text: str, start: int) -> int:
    quote, i = text[start], start + 1
    while i < len(text) and text[i] != quote:
        i += 2 if text[i] == "\\" else 1
    return i + 1


_STRING_LITERAL = LazyPattern(r"([\"'`])(?:\\.|(?!\1).)*\1", re.S)


def _shorten(expression: str) -> str:
    """An expression for a message: one line, string literals emptied (one may be a URL with a password)."""
    flat = str(_STRING_LITERAL.sub(lambda m: m[1] + "…" + m[1], " ".join(expression.split())))
    return flat if len(flat) <= 60 else flat[:57] + "..."
