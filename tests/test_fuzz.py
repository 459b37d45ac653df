"""Input fuzzing with hypothesis: environment names, migration names and descriptions, config files
(TOML and JSON: wrong types, huge values, unicode, nesting) and mixes of CLI arguments.

Whatever the input: never a traceback and never INTERNAL_ERROR; exactly one JSON object on stdout
whose error codes are registered in faber_db.errors.ERROR_CODES; an exit code in {0, 1, 2, 3} that
matches the first error's code; nothing written outside the project (and faber-db's own state
folder); and no shell: subprocess.Popen is watched and must always get an argument list, never
shell=True (os.system and os.popen must never be called).

Most examples call `faber_db.cli.main(argv)` in-process (fast); a few tricky descriptions also go
through the real `faber-db` process and real Prisma.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, ClassVar
from unittest import mock

import pytest
import tomli_w
from faber import parse_single_json, run_faber, tree_snapshot
from faber_db.cli import _peek_format, main
from faber_db.commands.generate import MAX_SLUG, migration_name, slugify
from faber_db.errors import ERROR_CODES
from harness import PrismaProject
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

# FABER_FUZZ_EXAMPLES scales every fuzz test (default 40 examples, the CLI mixes 3x that).
EXAMPLES = int(os.environ.get("FABER_FUZZ_EXAMPLES", "40"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow],
                    database=None)

SCHEMA = ('datasource db {\n  provider = "sqlite"\n  url      = env("DATABASE_URL")\n}\n\n'
          "model User {\n  id Int @id\n}\n")
INIT_SQL = 'CREATE TABLE "User" ("id" INTEGER NOT NULL PRIMARY KEY);\n'
FAKE_PRISMA = """#!/bin/sh
case "$1" in
  --version|-v) echo "prisma                  : 6.15.0"; exit 0 ;;
esac
echo "Error: this is a stand-in Prisma CLI (fuzz tests)" >&2
exit 1
"""
BASE_CONFIG: dict[str, Any] = {
    "database": {"provider": "sqlite"},
    "environments": {
        "dev": {"url_env": "DEV_DATABASE_URL"},
        "staging": {"url_env": "STAGING_DATABASE_URL", "backup": "recommended"},
        "production": {"url_env": "PROD_DATABASE_URL", "protected": True, "backup": "required",
                       "aliases": ["prod"]},
    },
}
TRICKY = ["", " ", ".", "..", "../..", "../../../../etc/passwd", "/etc/passwd", "a/b", "a\\b", "dev/..", "~",
          "$(touch pwned)", "`touch pwned`", "; rm -rf ~", "&& touch pwned", "| cat", "dev\nstaging", "dev\x00",
          "-", "--", "--help", "-h", "--version", "--format=text", "production --approve x", "ДЕВ", "開発", "🚀",
          "prod", "PRODUCTION", "dev ", "x" * 300, "%s%n", "{0}", "${HOME}", "'; DROP TABLE \"User\"; --",
          "dev.lock", "staging.journal.json", "CON", "nul", "*", "?"]


# --- a sandbox per example: <root>/outside/project, with the state, home and temp folders beside it ---


@dataclass
class Sandbox:
    root: Path

    @property
    def project(self) -> Path:
        return self.root / "outside" / "project"

    @property
    def state(self) -> Path:
        return self.root / "state"

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"

    def env(self) -> dict[str, str]:
        url = f"file:{self.project / 'dev.db'}"
        return {"DEV_DATABASE_URL": url, "STAGING_DATABASE_URL": url, "PROD_DATABASE_URL": url,
                "CLAUDE_PLUGIN_DATA": str(self.state), "HOME": str(self.root / "home"), "TMPDIR": str(self.tmp),
                "FABER_DB_QUIET": "1", "CHECKPOINT_DISABLE": "1"}

    def outside_snapshot(self) -> dict[str, str]:
        """Everything under root but the project, the state folder and the temp folder."""
        snap = tree_snapshot(self.root)
        allowed = ("outside/project", "state", "tmp")
        return {k: v for k, v in snap.items() if not any(k == a or k.startswith(a + "/") for a in allowed)}


def write_config(sandbox: Sandbox, data: dict[str, Any] | None = None, *, text: str | None = None,
                 name: str = "config.toml") -> None:
    path = sandbox.project / ".fractary/plugins/faber-db" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if text is None:
        text = tomli_w.dumps(data if data is not None else BASE_CONFIG)
    path.write_text(text, "utf-8", errors="surrogatepass")


@contextlib.contextmanager
def sandbox(config: bool = True) -> Iterator[Sandbox]:
    root = Path(tempfile.mkdtemp(prefix="faber-fuzz-"))
    box = Sandbox(root)
    try:
        (root / "home").mkdir()
        box.tmp.mkdir()
        init = box.project / "prisma" / "migrations" / "20240101000000_init"
        init.mkdir(parents=True)
        (box.project / "prisma" / "schema.prisma").write_text(SCHEMA)
        (init / "migration.sql").write_text(INIT_SQL)
        (box.project / "package.json").write_text('{"name": "fuzz", "private": true}\n')
        # a stand-in Prisma CLI (no real Prisma in-process: fast), so that faber-db does start subprocesses
        fake = box.project / "node_modules" / ".bin" / "prisma"
        fake.parent.mkdir(parents=True)
        fake.write_text(FAKE_PRISMA)
        fake.chmod(0o755)
        if config:
            write_config(box)
        yield box
    finally:
        shutil.rmtree(root, ignore_errors=True)


# --- running the CLI in-process, watching every subprocess ------------------------------------------------


HELP_FLAGS = {"-h", "--help", "--version"}


class ShellUsed(AssertionError):
    pass


_REAL_POPEN = subprocess.Popen


class WatchedPopen(_REAL_POPEN):  # type: ignore[type-arg, misc]
    calls: ClassVar[list[list[str]]] = []

    def __init__(self, args: Any, *rest: Any, **kwargs: Any) -> None:
        if kwargs.get("shell"):
            raise ShellUsed(f"shell=True for {args!r}")
        if not isinstance(args, (list, tuple)):
            raise ShellUsed(f"a command string instead of an argument list: {args!r}")
        WatchedPopen.calls.append([str(a) for a in args])
        super().__init__(args, *rest, **kwargs)


def _no_shell(*args: Any, **kwargs: Any) -> Any:
    raise ShellUsed(f"os.system/os.popen called with {args!r}")


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str
    result: dict[str, Any]

    @property
    def json(self) -> bool:
        """False for --help/--version and for an explicit --format text."""
        return self.result.get("operation") not in ("text", "help")

    @property
    def error(self) -> str | None:
        errors = self.result.get("errors") or []
        return errors[0]["code"] if errors else None


def run_main(box: Sandbox, argv: list[str], extra_env: dict[str, str] | None = None) -> Outcome:
    """main(argv) with cwd = the project, stdout/stderr captured, subprocesses watched; the result is
    checked against the contract and nothing outside the project may have been written."""
    before = box.outside_snapshot()
    out, err = io.StringIO(), io.StringIO()
    env = {**box.env(), **(extra_env or {})}
    cwd = os.getcwd()
    with contextlib.ExitStack() as stack:
        stack.enter_context(mock.patch.dict(os.environ, env))
        for key in ("CLAUDE_DB_CWD", "FABER_DB_CONFIG", "DATABASE_URL"):
            if key not in env:
                os.environ.pop(key, None)
        stack.enter_context(mock.patch.object(subprocess, "Popen", WatchedPopen))
        stack.enter_context(mock.patch.object(os, "system", _no_shell))
        stack.enter_context(mock.patch.object(os, "popen", _no_shell))
        stack.enter_context(mock.patch.object(tempfile, "tempdir", str(box.tmp)))
        stack.enter_context(contextlib.redirect_stdout(out))
        stack.enter_context(contextlib.redirect_stderr(err))
        os.chdir(box.project)
        stack.callback(os.chdir, cwd)
        try:
            code = main(list(argv))
        except SystemExit as exc:  # argparse's --help / --version: usage text on stdout, exit 0
            assert exc.code == 0 and HELP_FLAGS & set(argv), f"SystemExit({exc.code}) for {argv!r}"
            assert out.getvalue().strip() and "Traceback" not in out.getvalue() + err.getvalue()
            return Outcome(0, out.getvalue(), err.getvalue(), {"status": "success", "operation": "help"})
    outcome = Outcome(code, out.getvalue(), err.getvalue(), {})
    shown = f"argv={argv!r}\nexit {code}\nstdout:\n{outcome.stdout}\nstderr:\n{outcome.stderr}"
    assert "Traceback (most recent call last)" not in outcome.stdout + outcome.stderr, shown
    if _peek_format(argv) == "text":  # text was asked for explicitly: a rendering for people, not JSON
        assert code in (0, 1, 2, 3) and outcome.stdout.strip(), shown
        assert box.outside_snapshot() == before, f"written outside the project:\n{shown}"
        outcome.result = {"status": "success" if code == 0 else "failure", "operation": "text"}
        return outcome
    outcome.result = parse_single_json(outcome.stdout)
    check_envelope(outcome.result, code, shown)
    assert box.outside_snapshot() == before, f"written outside the project:\n{shown}"
    return outcome


def check_envelope(result: dict[str, Any], code: int, shown: str) -> None:
    assert code in (0, 1, 2, 3), shown
    assert result.get("status") in ("success", "warning", "failure"), shown
    assert isinstance(result.get("message"), str) and result["message"], shown
    codes = [e.get("code") for e in result.get("errors") or []]
    assert all(c in ERROR_CODES for c in codes), shown
    assert "INTERNAL_ERROR" not in codes, shown  # a crash in faber-db itself
    if result["status"] == "failure":
        assert codes and code == ERROR_CODES[codes[0]].exit_code, shown
    else:
        assert code == 0, shown


# --- slugify and migration_name, directly -------------------------------------------------------------------

SLUG = re.compile(r"[a-z0-9]+(?:_[a-z0-9]+)*")


@SETTINGS
@given(st.text(max_size=200))
@example("add user profiles")
@example("Ünïcödé → ÄÖÜ ß 🚀 日本語")
@example("../../etc/passwd; rm -rf / $(touch x) `id`")
@example("_" * 100)
def test_slugify_gives_a_safe_slug(text: str) -> None:
    slug = slugify(text)
    assert len(slug) <= MAX_SLUG
    assert slug == "" or SLUG.fullmatch(slug), slug
    assert slugify(slug) == slug  # idempotent


@SETTINGS
@given(st.text(max_size=80).map(slugify).filter(bool),
       st.lists(st.integers(min_value=19700101000000, max_value=29991231235959), max_size=5),
       st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2998, 12, 31)))
def test_migration_name_sorts_after_every_existing_one(slug: str, stamps: list[int], now: datetime) -> None:
    existing = []
    for stamp in stamps:
        with contextlib.suppress(ValueError):  # only real timestamps
            datetime.strptime(str(stamp), "%Y%m%d%H%M%S")
            existing.append(f"{stamp}_old")
    name = migration_name(slug, existing, now.replace(tzinfo=timezone.utc))
    assert re.fullmatch(r"\d{14}_" + re.escape(slug), name), name
    assert all(name > other for other in existing), (name, existing)
    assert "/" not in name and "\\" not in name and ".." not in name


# --- environment names --------------------------------------------------------------------------------------

env_names = st.one_of(st.sampled_from(TRICKY), st.text(max_size=40),
                      st.text(alphabet="./\\-_ ~$`;|&dev", max_size=12))


@SETTINGS
@given(env_names, st.sampled_from([["status"], ["migrate", "--dry-run"], ["backup"], ["backups"],
                                   ["health-check"], ["rollback", "--dry-run"], ["migrate", "--skip-backup"]]))
def test_environment_names_on_the_command_line(name: str, command: list[str]) -> None:
    assume("\x00" not in name)  # an argv can never hold NUL
    with sandbox() as box:
        outcome = run_main(box, [command[0], name, *command[1:]])
        if outcome.json and outcome.result["status"] == "failure" and name not in (
                "dev", "staging", "production", "prod"):
            assert outcome.error in ("UNKNOWN_ENVIRONMENT", "USAGE", "INVALID_ARGUMENT"), outcome.stdout


@SETTINGS
@given(env_names.filter(lambda n: "\x00" not in n and not n.startswith("-")))
@example("../../escape")
@example("..")
@example("a/b")
def test_environment_names_in_the_config(name: str) -> None:
    """A name the config defines becomes part of lock, journal and backup file names: a name that is
    a path must be refused, and nothing may ever land outside the project."""
    config = json.loads(json.dumps(BASE_CONFIG))
    config["environments"] = {name: {"url_env": "DEV_DATABASE_URL", "backup": "required"}}
    with sandbox() as box:
        write_config(box, config)
        for argv in (["migrate", name], ["backup", name], ["status", name], ["migrate", name, "--dry-run"]):
            outcome = run_main(box, argv)
            if outcome.json and ("/" in name or "\\" in name or name.strip() in ("", ".", "..")):
                assert outcome.error in ("CONFIG_INVALID", "USAGE", "INVALID_ARGUMENT"), outcome.stdout


# --- migration names and descriptions -----------------------------------------------------------------------


@SETTINGS
@given(st.one_of(st.sampled_from(TRICKY), st.text(max_size=120)),
       st.one_of(st.none(), st.sampled_from(TRICKY), st.text(max_size=60)))
def test_generate_migration_descriptions_and_names(description: str, name: str | None) -> None:
    assume("\x00" not in description and (name is None or "\x00" not in name))
    argv = ["generate-migration", description, "--preview"] + (["--name", name] if name is not None else [])
    with sandbox() as box:
        before = tree_snapshot(box.project)
        outcome = run_main(box, argv)
        slug = slugify(name if name is not None else description)
        if not outcome.json:
            pass
        elif outcome.error == "INVALID_NAME":
            assert slug == "", outcome.stdout
        elif not slug and not description.startswith("-") and not (name or "").startswith("-"):
            assert outcome.error in ("INVALID_NAME", "USAGE"), outcome.stdout
        assert tree_snapshot(box.project) == before  # a preview writes nothing, even into the project


# --- config files -------------------------------------------------------------------------------------------

toml_scalars = st.one_of(
    st.booleans(), st.integers(min_value=-(2**63), max_value=2**63 - 1), st.integers(),
    st.floats(allow_nan=False), st.text(max_size=30), st.sampled_from(["", "required", "sqlite", "postgresql",
                                                                       "x" * 5000, "ünïcödé 🚀", "../../etc"]))
toml_values = st.recursive(toml_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)), max_leaves=12)
KEYS = [("database", "provider"), ("database", "migration_tool"), ("environments",), ("environments", "dev"),
        ("environments", "dev", "url_env"), ("environments", "dev", "protected"), ("environments", "dev", "backup"),
        ("environments", "dev", "aliases"), ("environments", "dev", "health_checks"),
        ("environments", "production", "protected"), ("prisma",), ("prisma", "schema"), ("prisma", "command"),
        ("prisma", "timeout_seconds"), ("prisma", "migrations_dir"), ("backup", "directory"),
        ("backup", "keep_count"), ("backup", "keep_days"), ("safety",), ("safety", "lock_wait_seconds"),
        ("safety", "max_auto_rollback_attempts"), ("safety", "destructive"), ("safety", "destructive", "drop_table"),
        ("safety", "destructive", "drop_table", "row_threshold"), ("schema_version",), ("unknown_key",),
        ("environments", "dev", "unknown"), ("database",)]


def mutate(base: dict[str, Any], changes: list[tuple[tuple[str, ...], Any]]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(json.dumps(base))
    for path, value in changes:
        node = data
        for key in path[:-1]:
            if not isinstance(node.get(key), dict):
                node[key] = {}
            node = node[key]
        node[path[-1]] = value
    return data


@SETTINGS
@given(st.lists(st.tuples(st.sampled_from(KEYS), toml_values), min_size=1, max_size=3),
       st.sampled_from(["toml", "json"]), st.sampled_from([["status", "dev"], ["migrate", "dev", "--dry-run"],
                                                           ["backups", "staging"], ["audit"]]))
def test_config_files_with_wrong_types_and_huge_values(changes: list[tuple[tuple[str, ...], Any]], kind: str,
                                                       argv: list[str]) -> None:
    data = mutate(BASE_CONFIG, changes)
    if kind == "toml":
        try:
            text = tomli_w.dumps(data)
        except (TypeError, ValueError):
            assume(False)
            return
        name = "config.toml"
    else:
        text, name = json.dumps(data), "config.json"
    with sandbox(config=False) as box:
        write_config(box, text=text, name=name)
        outcome = run_main(box, argv)
        if outcome.json and outcome.result["status"] == "failure" and outcome.error not in (
                "CONFIG_INVALID", "UNKNOWN_ENVIRONMENT", "DATABASE_URL_MISSING", "DATABASE_URL_INVALID",
                "SCHEMA_NOT_FOUND", "PRISMA_NOT_FOUND", "PROVIDER_UNSUPPORTED", "CONFIG_NOT_FOUND",
                "INVALID_ARGUMENT", "PRISMA_FAILED", "SCHEMA_INVALID"):
            raise AssertionError(f"unexpected code for a fuzzed config:\n{text[:2000]}\n{outcome.stdout}")


@SETTINGS
@given(st.one_of(st.text(max_size=400), st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
                 st.integers(min_value=1, max_value=400).map(lambda n: "[a]\n" * 0 + "x = " + "[" * n + "]" * n),
                 st.integers(min_value=1, max_value=300).map(lambda n: ".".join(["t"] * n).join(["[", "]\n"]))),
       st.sampled_from(["config.toml", "config.json"]))
def test_config_files_that_are_not_configs(text: str, name: str) -> None:
    with sandbox(config=False) as box:
        write_config(box, text=text, name=name)
        outcome = run_main(box, ["status", "dev"])
        assert outcome.error in ("CONFIG_INVALID", "CONFIG_NOT_FOUND", "DATABASE_URL_MISSING", None), outcome.stdout


def test_deeply_nested_json_config() -> None:
    with sandbox(config=False) as box:
        write_config(box, text='{"database": ' + "[" * 100_000 + "]" * 100_000 + "}", name="config.json")
        assert run_main(box, ["status", "dev"]).error == "CONFIG_INVALID"
        write_config(box, text="x = " + "[" * 100_000 + "]" * 100_000, name="config.toml")
        assert run_main(box, ["status", "dev"]).error == "CONFIG_INVALID"


# --- CLI argument mixes --------------------------------------------------------------------------------------

TOKENS = ["init", "status", "migrate", "generate-migration", "backup", "backups", "restore", "rollback",
          "health-check", "db-create", "audit", "faber", "dev", "staging", "production", "prod", "nope",
          "--dry-run", "--approve", "--allow-destructive", "--skip-backup", "--backup", "--skip-health-check",
          "--timeout", "0", "-1", "1e9", "nan", "inf", "--format", "json", "text", "--format=json", "--project",
          ".", "prisma", "--from", "20240101T000000Z-abcd", "--preview", "--name", "--force", "--verify",
          "--drift", "--to", "--steps", "architect", "build", "evaluate", "release", "--help", "--version", "-x",
          "--", "=", "--approve=", "ü", "$(id)", "../..", "--env"]


@settings(max_examples=3 * EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
@given(st.lists(st.one_of(st.sampled_from(TOKENS), st.text(max_size=12).filter(lambda t: "\x00" not in t)),
                max_size=7))
@example(["migrate", "production", "--approve"])
@example(["--format", "text", "status"])
@example(["restore", "dev", "--from", "../../../etc/passwd"])
@example(["init", "--force"])
@example([])
def test_cli_argument_mixes(argv: list[str]) -> None:
    # --project may only point into the sandbox's project (any other folder is another project)
    assume(all(argv[i + 1] in (".", "prisma") for i, a in enumerate(argv[:-1]) if a == "--project"))
    assume(not any(a.startswith("--project=") for a in argv))
    with sandbox() as box:
        outcome = run_main(box, argv)
        if "--help" in argv or "-h" in argv or "--version" in argv:
            return
        assert outcome.result["operation"], outcome.stdout


def test_subprocesses_are_watched() -> None:
    """faber-db does start subprocesses here (the stand-in Prisma), each seen by the watch."""
    WatchedPopen.calls.clear()
    with sandbox() as box:
        run_main(box, ["generate-migration", "add profiles; $(touch pwned)", "--preview"])
        assert not (box.project / "pwned").exists()
    assert WatchedPopen.calls, "no subprocess was started: the shell check saw nothing"
    assert all(isinstance(a, str) for call in WatchedPopen.calls for a in call)


def test_popen_watch_catches_a_shell() -> None:
    """The watch itself works: a shell string is refused."""
    with mock.patch.object(subprocess, "Popen", WatchedPopen), pytest.raises(ShellUsed):
        subprocess.run("echo hi", shell=True, check=False)


# --- a few real processes with real Prisma --------------------------------------------------------------------


@pytest.mark.parametrize("description", ["$(touch pwned) add `id` profiles; rm -rf ~",
                                         "../../../tmp/escape \" ' \\ \n newline", "Ünïcödé 🚀 日本語 profiles",
                                         "drop table \"User\"; -- && echo hi > /tmp/x"])
def test_generate_preview_through_the_real_cli(sqlite_project: PrismaProject, tmp_path: Path,
                                               description: str) -> None:
    project = sqlite_project
    env = {"DEV_DATABASE_URL": project.database_url or "", "CLAUDE_PLUGIN_DATA": str(tmp_path / "state")}
    project.write_schema('model User {\n  id Int @id @default(autoincrement())\n  email String @unique\n'
                         '  name String?\n  bio String?\n}\n')
    assert run_faber(project.root, "init", env=env).returncode == 0
    before_outside = {p.name for p in tmp_path.parent.iterdir()}
    before = tree_snapshot(project.root)

    code, result, stderr = run_faber(project.root, "generate-migration", description, "--preview", env=env)

    shown = json.dumps(result, indent=1) + stderr
    assert code == 0, shown
    name = result["details"]["migration"]["name"]
    assert re.fullmatch(r"\d{14}_[a-z0-9_]+", name), shown
    assert result["details"]["migration"]["path"] is None
    assert tree_snapshot(project.root) == before  # a preview writes nothing
    assert not (project.root / "pwned").exists() and not Path("pwned").exists()
    assert {p.name for p in tmp_path.parent.iterdir()} <= before_outside | {tmp_path.name}
    assert not any((tmp_path / "..").glob("escape*"))
