"""Talking to a database directly: SQLite through the stdlib, PostgreSQL through pg8000.

pg8000 (pure Python) rather than psycopg: it imports in about half the time, which matters for a
command whose whole budget is ~80 ms, and it needs no compiled library in the plugin's venv.
This module knows connection URLs and catalogs, nothing about any migration tool.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from faber_db.errors import FaberError
from faber_db.redact import redact

Row = tuple[Any, ...]

# URL parameters Prisma understands that libpq/pg8000 do not; `schema` is honoured as search_path.
_PRISMA_ONLY_PARAMS = {"schema", "connection_limit", "pool_timeout", "pgbouncer", "socket_timeout",
                       "statement_cache_size", "sslaccept", "sslidentity", "sslpassword"}


class Database(Protocol):
    provider: str
    label: str

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None: ...

    def table_exists(self, name: str) -> bool: ...

    def tables(self) -> list[str]: ...

    def row_count(self, table: str) -> int: ...

    def server_version(self) -> str: ...

    def close(self) -> None: ...

    def __enter__(self) -> Database: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...


@dataclass(frozen=True)
class SqliteTarget:
    path: Path


@dataclass(frozen=True)
class PostgresTarget:
    user: str
    password: str | None
    host: str
    port: int
    database: str
    schema: str
    unix_socket: str | None
    sslmode: str | None
    connect_timeout: float


def parse_sqlite_url(url: str, relative_to: Path) -> SqliteTarget:
    """`file:./dev.db` is relative to the schema's folder, as the Prisma schema engine resolves it."""
    if not url.startswith("file:"):
        raise FaberError("DATABASE_URL_INVALID", "A SQLite URL must start with file:",
                         "Use file:/absolute/path/dev.db or file:./dev.db (relative to the schema's folder).")
    raw = url[len("file:"):].split("?", 1)[0]
    if raw.startswith("//"):
        raw = raw[2:]
    if not raw:
        raise FaberError("DATABASE_URL_INVALID", "The SQLite URL names no file",
                         "Use file:/absolute/path/dev.db or file:./dev.db.")
    path = Path(unquote(raw))
    return SqliteTarget(path if path.is_absolute() else (relative_to / path).resolve())


def parse_postgres_url(url: str, connect_timeout: float = 5.0) -> PostgresTarget:
    try:
        parts = urlsplit(url)
        port = parts.port or 5432
    except ValueError:
        raise FaberError("DATABASE_URL_INVALID", "The PostgreSQL URL cannot be parsed",
                         "Use postgresql://USER:PASSWORD@HOST:PORT/DATABASE") from None
    if parts.scheme not in ("postgres", "postgresql"):
        raise FaberError("DATABASE_URL_INVALID", f"Not a PostgreSQL URL (scheme {parts.scheme or 'missing'!r})",
                         "Use postgresql://USER:PASSWORD@HOST:PORT/DATABASE")
    params = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    host = params.get("host") or parts.hostname or "localhost"
    socket = host if host.startswith("/") else None
    if "connect_timeout" in params:
        try:
            connect_timeout = float(params["connect_timeout"])
        except ValueError:
            pass
    return PostgresTarget(
        user=params.get("user") or unquote(parts.username or "postgres"),
        # libpq's query form too: postgresql://host/db?user=u&password=p
        password=unquote(parts.password) if parts.password is not None else params.get("password"),
        host=host,
        port=port,
        database=unquote(parts.path.lstrip("/")) or unquote(parts.username or "postgres"),
        schema=params.get("schema", "public"),
        unix_socket=(f"{socket}/.s.PGSQL.{port}" if socket else None),
        sslmode=params.get("sslmode"),
        connect_timeout=connect_timeout,
    )


def database_identity(provider: str, url: str, schema_dir: Path) -> str:
    """Which database this is, without secrets: binds a plan to one database."""
    if provider == "sqlite":
        return f"sqlite:{parse_sqlite_url(url, schema_dir).path}"
    target = parse_postgres_url(url)
    return f"postgresql:{target.host}:{target.port}/{target.database}?schema={target.schema}"


def open_database(provider: str, url: str, *, schema_dir: Path, create: bool = False,
                  connect_timeout: float = 5.0) -> Database:
    if provider == "sqlite":
        return SqliteDatabase(parse_sqlite_url(url, schema_dir).path, create=create, busy_timeout=connect_timeout)
    if provider == "postgresql":
        return PostgresDatabase(parse_postgres_url(url, connect_timeout))
    raise FaberError("PROVIDER_UNSUPPORTED", f"Provider {provider!r} is not supported yet",
                     "faber-db supports sqlite and postgresql.")


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class SqliteDatabase:
    provider = "sqlite"

    def __init__(self, path: Path, *, create: bool = False, busy_timeout: float = 30.0) -> None:
        self.path = path
        self.label = f"sqlite database {path.name}"
        self.exists = path.is_file()
        if not self.exists and not create:
            # Read-only callers see an empty database without creating a file.
            self._conn = sqlite3.connect(":memory:")
            return
        if not path.parent.is_dir():
            raise FaberError("DATABASE_UNREACHABLE", f"The folder of {self.label} does not exist",
                             "Check the environment's SQLite URL.")
        try:
            self._conn = sqlite3.connect(str(path), timeout=busy_timeout, isolation_level=None)
        except sqlite3.Error as exc:
            raise FaberError("DATABASE_UNREACHABLE", f"Cannot open {self.label}: {exc}",
                             "Check the file's path and permissions.") from None

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        try:
            return [tuple(r) for r in self._conn.execute(sql, tuple(params)).fetchall()]
        except sqlite3.DatabaseError as exc:
            raise FaberError("DATABASE_ERROR", f"{self.label}: {exc}",
                             "The database rejected faber-db's query; is it a SQLite database?") from None

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.query(sql, params)

    def table_exists(self, name: str) -> bool:
        return bool(self.query("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (name,)))

    def tables(self) -> list[str]:
        rows = self.query("SELECT name FROM sqlite_master WHERE type='table' "
                          "AND name NOT LIKE 'sqlite_%' ORDER BY name")
        return [r[0] for r in rows]

    def row_count(self, table: str) -> int:
        return int(self.query(f"SELECT count(*) FROM {_quote_ident(table)}")[0][0])

    def server_version(self) -> str:
        return f"SQLite {sqlite3.sqlite_version}"

    @property
    def connection(self) -> sqlite3.Connection:
        return self._conn

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> SqliteDatabase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class PostgresDatabase:
    provider = "postgresql"

    def __init__(self, target: PostgresTarget) -> None:
        import pg8000.native  # deferred: only PostgreSQL users pay for it

        self.target = target
        self.label = f"postgresql database {target.database}"
        kwargs: dict[str, Any] = {
            "user": target.user,
            "password": target.password,
            "database": target.database,
            "timeout": target.connect_timeout,
            "application_name": "faber-db",
        }
        if target.unix_socket:
            kwargs["unix_sock"] = target.unix_socket
        else:
            kwargs["host"] = target.host
            kwargs["port"] = target.port
        if target.sslmode in ("require", "verify-ca", "verify-full"):
            import ssl

            context = ssl.create_default_context()
            if target.sslmode == "require":
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            kwargs["ssl_context"] = context
        try:
            self._conn = pg8000.native.Connection(**kwargs)
        except Exception as exc:  # pg8000 raises InterfaceError/DatabaseError/OSError/ssl errors
            raise FaberError(
                "DATABASE_UNREACHABLE",
                f"Cannot connect to {self.label} at {target.host}:{target.port}: {redact(_pg_message(exc))}",
                "Check that the server is running and the URL's host, port, user and password are right.",
            ) from None
        self._conn.timeout = None  # the connect timeout must not cap long statements
        if target.schema != "public":
            self.execute(f"SET search_path TO {_quote_ident(target.schema)}")

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        named = {f"p{i}": v for i, v in enumerate(params, 1)}
        if params:
            pieces = sql.split("?")
            sql = "".join(p + (f":p{i}" if i < len(pieces) else "") for i, p in enumerate(pieces, 1))
        try:
            rows = self._conn.run(sql, **named)
        except Exception as exc:
            raise FaberError("DATABASE_ERROR", f"{self.label}: {redact(_pg_message(exc))}",
                             "Check the role's privileges on this database.") from None
        return [tuple(r) for r in rows or []]

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.query(sql, params)

    def table_exists(self, name: str) -> bool:
        return bool(self.query(
            "SELECT 1 FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
            (self.target.schema, name)))

    def tables(self) -> list[str]:
        rows = self.query("SELECT table_name FROM information_schema.tables WHERE table_schema = ? "
                          "AND table_type = 'BASE TABLE' ORDER BY table_name", (self.target.schema,))
        return [r[0] for r in rows]

    def row_count(self, table: str) -> int:
        return int(self.query(f"SELECT count(*) FROM {_quote_ident(self.target.schema)}."
                              f"{_quote_ident(table)}")[0][0])

    def server_version(self) -> str:
        return f"PostgreSQL {self.query('SHOW server_version')[0][0]}"

    def close(self) -> None:
        try:
            self._conn.close()
        except Exception:
            pass

    def __enter__(self) -> PostgresDatabase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _pg_message(exc: BaseException) -> str:
    # pg8000's DatabaseError carries a dict of the server's fields; show the human part.
    if exc.args and isinstance(exc.args[0], dict):
        fields = exc.args[0]
        return str(fields.get("M", fields))
    return str(exc) or type(exc).__name__


def create_temp_database(url: str, prefix: str = "faber_tmp") -> tuple[str, str]:
    """Create an empty database on the same PostgreSQL server; returns (name, url of it)."""
    import secrets
    from urllib.parse import urlsplit, urlunsplit

    name = f"{prefix}_{secrets.token_hex(6)}"
    with PostgresDatabase(parse_postgres_url(url)) as admin:
        admin.execute(f"CREATE DATABASE {_quote_ident(name)}")
    parts = urlsplit(url)
    return name, urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def drop_database_quietly(url: str, name: str) -> None:
    """Drop a database faber-db created; never raises (it runs in cleanup paths)."""
    try:
        with PostgresDatabase(parse_postgres_url(url)) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {_quote_ident(name)} WITH (FORCE)")
    except Exception:
        pass
