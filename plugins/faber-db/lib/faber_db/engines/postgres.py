"""Everything PostgreSQL: the URL, connections through pg8000, the catalog, advisory locks,
creating and dropping databases.

pg8000 (pure Python) rather than psycopg: it imports in about half the time, which matters for a
command whose whole budget is ~80 ms, and it needs no compiled library in the plugin's venv.
"""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit, urlunsplit

from faber_db.engines import postgres_catalog
from faber_db.engines.model import Catalog, DataSnapshot, Progress, Row, TakenBackup, quote_ident
from faber_db.errors import FaberError
from faber_db.redact import redact


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


def maintenance_target(target: PostgresTarget) -> PostgresTarget:
    """The same server and credentials, on the `postgres` maintenance database."""
    return replace(target, database="postgres", schema="public")


class PostgresDatabase:
    provider = "postgresql"
    advisory_locks = True

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
            self.execute(f"SET search_path TO {quote_ident(target.schema)}")

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

    def run_script(self, script: str) -> None:
        """A whole migration file, as migration tools send it: one simple-query batch, no parameters."""
        self.execute(script)

    def apply_script(self, script: str, record: Sequence[tuple[str, Sequence[Any]]] = (), *,
                     timeout: float | None = None) -> None:
        """The script and the statements recording it, in one transaction (PostgreSQL's DDL is
        transactional): all of it or none of it. `timeout`: the transaction's statement_timeout (each
        statement of the script, lock waits included, is cancelled by the server past it)."""
        try:
            self._conn.run("BEGIN")
            if timeout is not None:
                self._conn.run(f"SET LOCAL statement_timeout = {max(1, round(timeout * 1000))}")
            if script.strip():
                self._conn.run(script)  # one simple-query batch, as run_script sends it
        except Exception as exc:
            with contextlib.suppress(Exception):
                self._conn.run("ROLLBACK")
            # 57014 query_canceled is also a cancel by someone else: only the timeout's own says so
            timed_out = _pg_code(exc) == "57014" and "statement timeout" in _pg_message(exc)
            message = f"stopped after {timeout:g} s (the timeout)" if timed_out and timeout else _pg_message(exc)
            raise FaberError("DATABASE_ERROR", f"{self.label}: {redact(message)}", "Check the script's SQL.",
                             details={"timed_out": timed_out}) from None
        try:
            for sql, params in record:
                self.execute(sql, params)
            self._conn.run("COMMIT")
        except BaseException:
            with contextlib.suppress(Exception):
                self._conn.run("ROLLBACK")
            raise

    def table_exists(self, name: str) -> bool:
        return bool(self.query(
            "SELECT 1 FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
            (self.target.schema, name)))

    def tables(self) -> list[str]:
        rows = self.query("SELECT table_name FROM information_schema.tables WHERE table_schema = ? "
                          "AND table_type = 'BASE TABLE' ORDER BY table_name", (self.target.schema,))
        return [r[0] for r in rows]

    def row_count(self, table: str) -> int:
        return int(self.query(f"SELECT count(*) FROM {quote_ident(self.target.schema)}."
                              f"{quote_ident(table)}")[0][0])

    def server_version(self) -> str:
        return f"PostgreSQL {self.query('SHOW server_version')[0][0]}"

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        """One REPEATABLE READ, read-only transaction with the catalog's settings pinned: every
        query inside sees the same state and renders values and definitions the same way."""
        self.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        try:
            for setting in postgres_catalog.PIN_SETTINGS:
                self.execute(setting)
            yield
        finally:
            with contextlib.suppress(FaberError):
                self.execute("ROLLBACK")  # nothing was written; ending the transaction is all

    def scope(self, schemas: Sequence[str] = ()) -> list[str]:
        """The URL's schema, then those of `schemas` that exist (a backup's scope)."""
        wanted = [self.target.schema, *(s for s in schemas if s != self.target.schema)]
        return [str(r[0]) for r in self.query(postgres_catalog.scope_sql(wanted))] or [self.target.schema]

    def catalog(self, skip_tables: frozenset[str] = frozenset()) -> Catalog:
        """The shape of the URL's schema (postgres_catalog.SHAPE_KINDS), for drift."""
        schema = self.target.schema
        catalog: Catalog = {}
        with self.reading():
            rows = self.query(postgres_catalog.catalog_sql([schema], schema))
        for kind, parent, name, definition in rows:
            if kind in postgres_catalog.SHAPE_KINDS and parent not in skip_tables:
                catalog.setdefault(str(kind), {})[(str(parent), str(name))] = str(definition)
        return catalog

    def snapshot(self, schemas: Sequence[str] = ()) -> DataSnapshot:
        """Rows, checksums, fingerprint, sequences and extensions of the URL's schema and `schemas`."""
        with self.reading():
            scope = self.scope(schemas)
            return postgres_catalog.snapshot(self, scope, scope[0])

    def try_advisory_lock(self, key: int) -> bool:
        """A session advisory lock, held until unlocked or the session ends."""
        return bool(self.query("SELECT pg_try_advisory_lock(?)", (key,))[0][0])

    def advisory_unlock(self, key: int) -> None:
        self.query("SELECT pg_advisory_unlock(?)", (key,))

    def health_figures(self) -> dict[str, int]:
        """Size, connections, transactions open for over 5 minutes, lock requests waiting."""
        row = self.query(
            "SELECT pg_database_size(current_database()), "
            "(SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()), "
            "(SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            " AND xact_start IS NOT NULL AND now() - xact_start > interval '5 minutes' "
            " AND pid <> pg_backend_pid()), "
            "(SELECT count(*) FROM pg_locks WHERE NOT granted), "
            "current_setting('max_connections')::int")[0]
        names = ("size_bytes", "connections", "long_transactions", "blocked_locks", "max_connections")
        return {name: int(value) for name, value in zip(names, row, strict=True)}

    def end_sessions_since(self, seconds: float) -> list[int]:
        """End this user's other sessions on this database that began in the last `seconds`; wait
        (up to 15 s) until they are gone. Returns their pids."""
        rows = self.query(
            "SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
            "AND usename = current_user AND pid <> pg_backend_pid() "
            "AND backend_start >= now() - make_interval(secs => ?)", (seconds,))
        pids = [int(r[0]) for r in rows]
        deadline = time.monotonic() + 15
        while pids and time.monotonic() < deadline:
            if not self.query("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(?)", (pids,))[0][0]:
                break
            time.sleep(0.1)
        return pids

    def close(self) -> None:
        try:
            self._conn.close()
        except Exception:
            pass

    def __enter__(self) -> PostgresDatabase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _pg_code(exc: BaseException) -> str | None:
    """The server's SQLSTATE of a pg8000 DatabaseError, if it is one."""
    if exc.args and isinstance(exc.args[0], dict):
        return str(exc.args[0].get("C")) or None
    return None


def _pg_message(exc: BaseException) -> str:
    # pg8000's DatabaseError carries a dict of the server's fields; show the human part.
    if exc.args and isinstance(exc.args[0], dict):
        fields = exc.args[0]
        return str(fields.get("M", fields))
    return str(exc) or type(exc).__name__


def create_temp_database(url: str, prefix: str = "faber_tmp") -> tuple[str, str]:
    """Create an empty database on the same PostgreSQL server; returns (name, url of it)."""
    name = f"{prefix}_{secrets.token_hex(6)}"
    with PostgresDatabase(parse_postgres_url(url)) as admin:
        admin.execute(f"CREATE DATABASE {quote_ident(name)}")
    parts = urlsplit(url)
    return name, urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def drop_database_quietly(url: str, name: str) -> None:
    """Drop a database faber-db created; never raises (it runs in cleanup paths)."""
    try:
        with PostgresDatabase(parse_postgres_url(url)) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {quote_ident(name)} WITH (FORCE)")
    except Exception:
        pass


class PostgresEngine:
    name = "postgresql"
    backup_suffix = ".dump"
    reads_disturb_writers = False
    sessions_outlive_clients = True
    named_schemas = True
    server_holds_databases = True
    alters_tables_in_place = True
    foreign_keys_off_on: tuple[str, str] | None = None

    @staticmethod
    def open(url: str, *, schema_dir: Path, create: bool = False, connect_timeout: float = 5.0
             ) -> PostgresDatabase:
        return PostgresDatabase(parse_postgres_url(url, connect_timeout))

    @staticmethod
    def identity(url: str, schema_dir: Path) -> str:
        target = parse_postgres_url(url)
        return f"postgresql:{target.host}:{target.port}/{target.database}?schema={target.schema}"

    @staticmethod
    def database_name(url: str, schema_dir: Path) -> str:
        return parse_postgres_url(url).database

    @staticmethod
    def database_exists(url: str, schema_dir: Path) -> bool:
        target = parse_postgres_url(url)
        with PostgresDatabase(maintenance_target(target)) as server:
            return bool(server.query("SELECT 1 FROM pg_database WHERE datname = ?", (target.database,)))

    @staticmethod
    def create_database(url: str, schema_dir: Path) -> None:
        target = parse_postgres_url(url)
        with PostgresDatabase(maintenance_target(target)) as server:
            server.execute(f"CREATE DATABASE {quote_ident(target.database)}")

    @staticmethod
    @contextlib.contextmanager
    def scratch_database(url: str, schema_dir: Path) -> Iterator[PostgresDatabase]:
        """An empty database on the same server, always dropped (also on errors and Ctrl-C)."""
        name, scratch_url = create_temp_database(url, prefix="faber_drift")
        try:
            with PostgresDatabase(parse_postgres_url(scratch_url)) as db:
                yield db
        finally:
            drop_database_quietly(url, name)

    @staticmethod
    def backup(*, url: str, schema_dir: Path, dest: Path, progress: Progress | None, compression: int,
               connection: object | None, schemas: Sequence[str] = ()) -> TakenBackup:
        from faber_db.engines import postgres_archive

        reuse = connection if isinstance(connection, PostgresDatabase) else None
        return postgres_archive.backup(parse_postgres_url(url), dest, progress, compression, reuse, schemas)

    @staticmethod
    def restore(*, archive: Path, url: str, schema_dir: Path, expected: DataSnapshot, schemas: Sequence[str],
                backup_id: str, progress: Progress | None) -> DataSnapshot:
        from faber_db.engines import postgres_archive

        target = parse_postgres_url(url)
        if schemas and schemas[0] != target.schema:
            raise FaberError(
                "RESTORE_FAILED",
                f"Backup {backup_id} holds schema {schemas[0]!r}, the URL names {target.schema!r}",
                "Restore into a database URL with the same schema parameter; nothing was changed.",
            )
        return postgres_archive.restore(archive, target, expected, list(schemas) or [target.schema], backup_id,
                                        progress)
