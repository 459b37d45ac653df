"""A throw-away PostgreSQL server for the test session (initdb + pg_ctl on a loopback port)."""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import psycopg
from psycopg import sql

FABER_USER = "faber"
FABER_PASSWORD = "s3cret-PW-9f"
SUPERUSER = "postgres"
"""Bootstrap superuser; it alone may log in without a password (trust on loopback)."""


def find_bin_dir() -> Path | None:
    """Newest /usr/lib/postgresql/<ver>/bin holding initdb ($FABER_PG_BIN overrides), or None."""
    env = os.environ.get("FABER_PG_BIN")
    if env:
        return Path(env) if (Path(env) / "initdb").is_file() else None
    found = [Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")]

    def version(p: Path) -> tuple[int, ...]:
        try:
            return tuple(int(x) for x in p.parent.name.split("."))
        except ValueError:
            return (0,)

    return max(found, key=version) if found else None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class PostgresServer:
    """A private PostgreSQL cluster in a temp dir, listening on 127.0.0.1:<free port>.

    Authentication: the ``postgres`` superuser is trusted on loopback (admin SQL); every other
    role needs its password (scram-sha-256), so URLs built by :meth:`url` really carry one.
    The role ``faber`` (password ``s3cret-PW-9f``) is SUPERUSER + CREATEDB and owns the
    databases :meth:`create_database` makes. Run as root, the server runs as the ``postgres``
    OS user through ``runuser`` (initdb refuses root).
    """

    def __init__(self, bin_dir: Path | None = None, base_dir: Path | None = None) -> None:
        found = bin_dir or find_bin_dir()
        if found is None:
            raise FileNotFoundError("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin")
        self._bin_dir = found
        self._base_dir = base_dir
        self._tmp: Path | None = None
        self._port: int | None = None
        self._running = False

    # -- properties ---------------------------------------------------------------------------
    @property
    def bin_dir(self) -> Path:
        return self._bin_dir

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("PostgresServer not started")
        return self._port

    @property
    def data_dir(self) -> Path:
        return self._root / "data"

    @property
    def log_file(self) -> Path:
        return self._root / "postgres.log"

    @property
    def version(self) -> str:
        return self._bin_dir.parent.name

    @property
    def _root(self) -> Path:
        if self._tmp is None:
            raise RuntimeError("PostgresServer not started")
        return self._tmp

    # -- process control -----------------------------------------------------------------------
    def _as_server_user(self, argv: list[str]) -> list[str]:
        if os.geteuid() == 0:
            return ["runuser", "-u", "postgres", "--", *argv]
        return argv

    def _run(self, argv: list[str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            self._as_server_user(argv), capture_output=True, text=True, timeout=timeout, check=False
        )
        if proc.returncode != 0:
            log = self.log_file.read_text(errors="replace") if self.log_file.exists() else ""
            raise RuntimeError(
                f"{' '.join(argv)} failed (exit {proc.returncode})\nstdout:\n{proc.stdout}\n"
                f"stderr:\n{proc.stderr}\nserver log:\n{log[-4000:]}"
            )
        return proc

    def start(self) -> PostgresServer:
        if self._running:
            return self
        if self._tmp is None:
            self._tmp = Path(tempfile.mkdtemp(prefix="faber-pg-", dir=self._base_dir))
            if os.geteuid() == 0:
                pw = pwd.getpwnam("postgres")
                os.chown(self._tmp, pw.pw_uid, pw.pw_gid)
            self._initdb()
            atexit.register(self._atexit)
        last: Exception | None = None
        for _ in range(5):  # the free port may be taken between probing and binding
            self._port = free_port()
            self._write_port()
            try:
                self._pg_ctl_start()
                break
            except RuntimeError as exc:
                last = exc
        else:
            raise RuntimeError(f"could not start PostgreSQL: {last}")
        self._running = True
        self._create_role()
        return self

    def _initdb(self) -> None:
        self._run(
            [
                str(self._bin_dir / "initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                SUPERUSER,
                "-E",
                "UTF8",
                "--locale=C",
                "--auth=trust",
                "--no-sync",
            ]
        )
        conf = self.data_dir / "postgresql.conf"
        with conf.open("a") as f:
            f.write(
                "\n# faber-db test server\n"
                "listen_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self._root}'\n"
                "fsync = off\n"
                "synchronous_commit = off\n"
                "full_page_writes = off\n"
                "max_connections = 200\n"
            )
        (self.data_dir / "pg_hba.conf").write_text(
            "# TYPE  DATABASE  USER      ADDRESS        METHOD\n"
            f"local   all       {SUPERUSER}                 trust\n"
            f"host    all       {SUPERUSER}  127.0.0.1/32   trust\n"
            "local   all       all                      scram-sha-256\n"
            "host    all       all       127.0.0.1/32   scram-sha-256\n"
        )

    def _write_port(self) -> None:
        # postgresql.auto.conf wins over postgresql.conf; keep the port there so restarts reuse it.
        (self.data_dir / "postgresql.auto.conf").write_text(f"port = {self.port}\n")

    def _pg_ctl_start(self) -> None:
        self._run(
            [
                str(self._bin_dir / "pg_ctl"),
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_file),
                "-w",
                "-t",
                "60",
                "start",
            ]
        )

    def _create_role(self) -> None:
        with self.admin_connection() as conn:
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [FABER_USER]).fetchone()
            verb = "ALTER" if exists else "CREATE"
            conn.execute(
                sql.SQL(verb + " ROLE {} LOGIN SUPERUSER CREATEDB PASSWORD {}").format(
                    sql.Identifier(FABER_USER), sql.Literal(FABER_PASSWORD)
                )
            )

    def stop(self) -> None:
        """Stop the server (fast shutdown) and delete its data directory."""
        if self._running:
            with contextlib.suppress(RuntimeError):
                self._run(
                    [str(self._bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop"]
                )
            self._running = False
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None
        with contextlib.suppress(Exception):
            atexit.unregister(self._atexit)

    def restart(self) -> None:
        """Restart on the same port, keeping all data (drops every open connection)."""
        self._run(
            [
                str(self._bin_dir / "pg_ctl"),
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_file),
                "-m",
                "fast",
                "-w",
                "-t",
                "60",
                "restart",
            ]
        )
        self._running = True

    def _atexit(self) -> None:
        with contextlib.suppress(Exception):
            self.stop()

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- SQL -----------------------------------------------------------------------------------
    def url(self, dbname: str, user: str = FABER_USER, password: str | None = FABER_PASSWORD) -> str:
        """postgresql://faber:s3cret-PW-9f@127.0.0.1:PORT/dbname (user/password percent-encoded)."""
        auth = quote(user, safe="")
        if password is not None:
            auth += ":" + quote(password, safe="")
        return f"postgresql://{auth}@127.0.0.1:{self.port}/{quote(dbname, safe='')}"

    def connect(
        self, dbname: str = "postgres", user: str = FABER_USER, password: str | None = FABER_PASSWORD
    ) -> psycopg.Connection[tuple[object, ...]]:
        """An autocommit psycopg connection (caller closes it; usable as a context manager)."""
        return psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            dbname=dbname,
            user=user,
            password=password,
            autocommit=True,
            connect_timeout=10,
        )

    def admin_connection(self, dbname: str = "postgres") -> psycopg.Connection[tuple[object, ...]]:
        """Autocommit connection as the trusted bootstrap superuser."""
        return psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            dbname=dbname,
            user=SUPERUSER,
            autocommit=True,
            connect_timeout=10,
        )

    def create_database(self, name: str, template: str | None = None, owner: str = FABER_USER) -> str:
        """CREATE DATABASE name [TEMPLATE template] OWNER owner; returns name.

        A template database must have no open connections while it is copied.
        """
        query = sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name), sql.Identifier(owner))
        if template is not None:
            query = query + sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        with self.admin_connection() as conn:
            for attempt in range(20):
                try:
                    conn.execute(query)
                    break
                except psycopg.errors.ObjectInUse:
                    # "source database ... is being accessed by other users": a just-exited
                    # Prisma process's backend may still be shutting down.
                    if attempt == 19:
                        raise
                    time.sleep(0.1)
        return name

    def drop_database(self, name: str) -> None:
        """DROP DATABASE IF EXISTS name WITH (FORCE)."""
        with self.admin_connection() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def database_exists(self, name: str) -> bool:
        with self.admin_connection() as conn:
            return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None
