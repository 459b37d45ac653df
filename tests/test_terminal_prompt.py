"""The terminal approval prompt and the text a person reads, driven in a real terminal (tmux).

`faber-db migrate production` runs in a tmux pane, as a person runs it: stdin, stdout and stderr are
the pane's terminal, so the plan is shown and the environment name is asked for; the test types into
the pane and reads the screen. Production is a real SQLite database with one migration pending
(`add bio`). Checked: the plan is on the screen before the question; a typo is asked again, naming
what was typed; the alias `prod` is accepted and the migration applies; three wrong answers, Enter,
Ctrl-C and Ctrl-D each refuse or cancel with nothing applied, the result and the audit line saying so,
and the shell's next line starting clean. Then the text of a dry run and of a refusal at 80 columns:
no line wider than 80 except the numbered SQL lines (which a terminal may wrap).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from faber import faber_argv, faber_env
from faber_db.policy import AGENT_VALUES, AGENT_VARIABLES
from faber_db.render import SQL_LINE
from harness import PrismaProject
from lifecycle import Lifecycle, make_lifecycle

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux not installed (scripts/setup installs it)")

PENDING = "20240202000000_add_bio"
QUESTION = "to go ahead, or press Enter to cancel:"
AUDIT = Path(".fractary/plugins/faber-db/audit.jsonl")
# a migration with a destructive statement on a table with rows: its finding and row count must be shown
DROP_NAME = "20240303000000_drop_name"


@dataclass
class Pane:
    """One command running in a tmux pane of `width` columns; the pane stays after the command exits."""

    tmux: list[str]
    name: str
    status_file: Path

    def screen(self) -> list[str]:
        """Every line the pane showed (history included), lines the terminal wrapped joined back."""
        done = subprocess.run([*self.tmux, "capture-pane", "-p", "-J", "-S", "-", "-t", self.name],
                              capture_output=True, text=True, check=True, timeout=30)
        lines = [line.rstrip() for line in done.stdout.splitlines()]
        while lines and not lines[-1]:
            lines.pop()
        return lines

    def text(self) -> str:
        return "\n".join(self.screen())

    def wait_for(self, pattern: str, *, count: int = 1, timeout: float = 120) -> list[str]:
        """The screen once `pattern` (a regex) shows `count` times."""
        deadline = time.monotonic() + timeout
        while True:
            lines = self.screen()
            if len(re.findall(pattern, "\n".join(lines))) >= count:
                return lines
            assert time.monotonic() < deadline, f"never saw {pattern!r} x{count}:\n" + "\n".join(lines)
            time.sleep(0.1)

    def send(self, *keys: str) -> None:
        subprocess.run([*self.tmux, "send-keys", "-t", self.name, *keys], check=True, timeout=30)

    def type_line(self, text: str) -> None:
        self.send("-l", text)  # literally, not as key names
        self.send("Enter")

    def exit_status(self, timeout: float = 180) -> int:
        """The command's exit code, once it ended (as the wrapper below recorded it)."""
        deadline = time.monotonic() + timeout
        while not self.status_file.is_file() or not self.status_file.read_text():
            assert time.monotonic() < deadline, "the command did not end:\n" + self.text()
            time.sleep(0.1)
        return int(self.status_file.read_text())

    def output(self) -> list[str]:
        """The screen without tmux's own closing line ("Pane is dead ...")."""
        return [line for line in self.screen() if not line.startswith("Pane is dead")]


# The pane's program: runs the command and records its exit code in a file. (tmux's own
# #{pane_dead_status} was left unset now and then, the command's process never reaped.) It ignores
# Ctrl-C only once the command runs, so the command gets the terminal's signals as it would from a shell.
RECORD_EXIT = """
import signal, subprocess, sys
child = subprocess.Popen(sys.argv[2:])
signal.signal(signal.SIGINT, signal.SIG_IGN)
code = child.wait()
with open(sys.argv[1], "w") as handle:
    handle.write(str(code))
"""


class Terminal:
    """A private tmux server (its own socket) whose panes run faber-db in the project."""

    def __init__(self, folder: Path, env: dict[str, str]) -> None:
        self.folder = folder
        self.env = env
        self.socket = folder / "tmux.sock"
        self.config = folder / "tmux.conf"
        # the pane stays after the command ends (to read its exit status); no status line; long history
        self.config.write_text("set -g remain-on-exit on\nset -g status off\nset -g history-limit 100000\n")
        self.count = 0

    @property
    def tmux(self) -> list[str]:
        return ["tmux", "-S", str(self.socket), "-f", str(self.config)]

    def run(self, cwd: Path, *args: str, width: int = 80, env: dict[str, str] | None = None) -> Pane:
        """`faber-db args...` in a new pane `width` columns wide (an argument list: no shell between)."""
        self.count += 1
        name = f"faber-{self.count}"
        status = self.folder / f"{name}.exit"
        command = [sys.executable, "-c", RECORD_EXIT, str(status), *faber_argv(), *args]
        subprocess.run([*self.tmux, "new-session", "-d", "-s", name, "-x", str(width), "-y", "50", "-c", str(cwd),
                        *command], env={**self.env, **(env or {})}, check=True, timeout=30)
        return Pane(self.tmux, name, status)

    def close(self) -> None:
        subprocess.run([*self.tmux, "kill-server"], capture_output=True, timeout=30, check=False)


def _person_env(life: Lifecycle) -> dict[str, str]:
    """The variables a person's shell has: the project's URLs, a terminal, and no AI agent's markers
    (the tmux server is not a descendant of this test, so no agent process is among the ancestors)."""
    env = faber_env(life.env)
    for name in (*AGENT_VARIABLES, *AGENT_VALUES, "COLUMNS", "LINES", "NO_COLOR", "FABER_DB_APPROVAL"):
        env.pop(name, None)
    env["TERM"] = "xterm"
    return env


@pytest.fixture
def production(sqlite_project: PrismaProject, tmp_path: Path) -> Lifecycle:
    """A configured SQLite project whose production has the init migration applied (through an
    approved plan) and 3 users, and one migration pending: add a `bio` column."""
    life = make_lifecycle(sqlite_project, tmp_path, None)
    plan = life.faber("migrate", "production", "--dry-run")
    life.faber("migrate", "production", "--approve", plan["details"]["plan"]["plan_id"])
    for n in range(3):
        _execute(life, f"INSERT INTO \"User\" (email, name) VALUES ('u{n}@example.com', 'user {n}')")
    life.project.add_migration(PENDING, 'ALTER TABLE "User" ADD COLUMN "bio" TEXT;\n')
    return life


@pytest.fixture
def terminal(tmp_path: Path, production: Lifecycle) -> Iterator[Terminal]:
    folder = tmp_path / "tmux"
    folder.mkdir()
    term = Terminal(folder, _person_env(production))
    try:
        yield term
    finally:
        term.close()


def _execute(life: Lifecycle, sql: str) -> None:
    import sqlite3

    url = life.urls["PROD_DATABASE_URL"]
    with sqlite3.connect(url[len("file:"):]) as db:
        db.execute(sql)


def _applied(life: Lifecycle) -> list[str]:
    rows = life.rows("SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL "
                     "AND rolled_back_at IS NULL ORDER BY migration_name", "production")
    return [str(r["migration_name"]) for r in rows]


def _columns(life: Lifecycle) -> set[str]:
    return {str(r["name"]) for r in life.rows("SELECT name FROM pragma_table_info('User')", "production")}


def _last_audit(life: Lifecycle) -> dict[str, Any]:
    lines = (life.root / AUDIT).read_text("utf-8").splitlines()
    entry: dict[str, Any] = json.loads(lines[-1])
    return entry


def _question_lines(lines: list[str]) -> list[int]:
    return [i for i, line in enumerate(lines) if QUESTION in line]


def _assert_nothing_applied(life: Lifecycle) -> None:
    assert PENDING not in _applied(life)
    assert "bio" not in _columns(life)
    assert len(life.rows('SELECT * FROM "User"', "production")) == 3


# --- the prompt -------------------------------------------------------------------------------------


def test_the_plan_comes_first_then_a_typo_is_asked_again_and_the_alias_applies(
        production: Lifecycle, terminal: Terminal) -> None:
    pane = terminal.run(production.root, "migrate", "production")
    lines = pane.wait_for(re.escape(QUESTION))
    question = _question_lines(lines)
    assert len(question) == 1
    before = "\n".join(lines[:question[0]])
    # the plan is on the screen above the question: what would be applied, to which environment
    assert "Migrate production: 1 pending migration(s)" in before, before
    assert f"apply {PENDING}" in before, before
    # the question names the environment and its alias
    assert re.search(r"Type production \(or prod\) " + re.escape(QUESTION) + "$", lines[question[0]]), lines

    pane.type_line("prdo")
    lines = pane.wait_for(re.escape(QUESTION), count=2)
    assert "You typed 'prdo', not 'production'. 2 more tries." in lines
    assert PENDING not in _applied(production)  # nothing happened on a wrong answer

    pane.type_line("prod")
    assert pane.exit_status() == 0, pane.text()
    screen = pane.text()
    assert "[ok] migrate production: Applied 1 migration(s) to production" in " ".join(screen.split()), screen
    assert PENDING in _applied(production)
    assert "bio" in _columns(production)
    audit = _last_audit(production)
    assert (audit["outcome"], audit["approved_by"], audit["environment"]) == (
        "applied", "typed at the terminal", "production"), audit
    assert audit["backup_id"], "a protected apply is backed up first"


def test_three_wrong_answers_refuse_and_change_nothing(production: Lifecycle, terminal: Terminal) -> None:
    pane = terminal.run(production.root, "migrate", "production")
    for answer, count in (("staging", 1), ("yes", 2), ("Production", 3)):
        pane.wait_for(re.escape(QUESTION), count=count)
        pane.type_line(answer)
    assert pane.exit_status() == 3, pane.text()
    lines = pane.output()
    assert "You typed 'staging', not 'production'. 2 more tries." in lines
    assert "You typed 'yes', not 'production'. 1 more tries." in lines
    assert "You typed 'Production', not 'production'." in lines
    assert len(_question_lines(lines)) == 3
    flat = " ".join(" ".join(lines).split())
    assert "APPROVAL_REQUIRED" in flat and "production was not changed" in flat, flat
    _assert_nothing_applied(production)
    audit = _last_audit(production)
    assert (audit["outcome"], audit["error"], audit["approved"]) == ("refused", "APPROVAL_REQUIRED", False), audit


@pytest.mark.parametrize("how", ["ctrl-c", "ctrl-d", "enter"])
def test_ctrl_c_ctrl_d_and_enter_cancel_cleanly(production: Lifecycle, terminal: Terminal, how: str) -> None:
    pane = terminal.run(production.root, "migrate", "production")
    pane.wait_for(re.escape(QUESTION))
    pane.send({"ctrl-c": "C-c", "ctrl-d": "C-d", "enter": "Enter"}[how])
    assert pane.exit_status() == 3, pane.text()
    lines = pane.output()
    flat = " ".join(" ".join(lines).split())
    assert "CANCELLED" in flat and "nothing was changed" in flat, flat
    assert "INTERNAL_ERROR" not in flat and "Traceback" not in flat, flat
    # the answer line ends at the question (Ctrl-C's echoed ^C at most): the result starts a line of its own
    (question,) = _question_lines(lines)
    assert re.fullmatch(r".*" + re.escape(QUESTION) + r"( \^C)?", lines[question]), lines[question]
    assert lines[question + 1].strip() == "" or lines[question + 1].startswith("[FAILED] migrate production"), lines
    _assert_nothing_applied(production)
    audit = _last_audit(production)
    assert (audit["outcome"], audit["error"], audit["approved"]) == ("cancelled", "CANCELLED", False), audit
    assert audit["backup_id"] is None  # cancelled before the backup: nothing was touched


def test_a_destructive_plan_shows_its_finding_and_rows_before_the_question(
        production: Lifecycle, terminal: Terminal) -> None:
    production.project.add_migration(DROP_NAME, 'ALTER TABLE "User" DROP COLUMN "name";\n')
    pane = terminal.run(production.root, "migrate", "production", "--allow-destructive")
    lines = pane.wait_for(re.escape(QUESTION))
    (question,) = _question_lines(lines)
    before = " ".join(" ".join(lines[:question]).split())
    assert "Migrate production: 2 pending migration(s)" in before, before
    assert f"apply {PENDING}" in before and f"apply {DROP_NAME}" in before, before
    assert re.search(rf"drop_column on User \({DROP_NAME}:1\): 3 rows", before), before
    pane.send("C-d")
    assert pane.exit_status() == 3
    _assert_nothing_applied(production)
    assert "name" in _columns(production)


# --- text at 80 columns -------------------------------------------------------------------------------


def _check_80_columns(lines: list[str]) -> None:
    assert lines
    for line in lines:
        if SQL_LINE.match(line):
            continue  # numbered SQL is shown as written; the terminal wraps it
        assert len(line) <= 80, f"{len(line)} columns: {line!r}"


@pytest.mark.parametrize(("width", "columns"), [(80, None), (200, "80")],
                         ids=["80-column terminal", "COLUMNS=80 in a wide terminal"])
def test_dry_run_and_refusal_text_fit_80_columns(production: Lifecycle, terminal: Terminal, width: int,
                                                 columns: str | None) -> None:
    production.project.add_migration(DROP_NAME, 'ALTER TABLE "User" DROP COLUMN "name";\n')
    env = {"COLUMNS": columns} if columns else None
    dry_run = terminal.run(production.root, "migrate", "production", "--dry-run", width=width, env=env)
    assert dry_run.exit_status() == 0, dry_run.text()
    lines = dry_run.output()
    _check_80_columns(lines)
    flat = " ".join(" ".join(lines).split())
    assert "Dry run: 2 pending migration(s) for production" in flat, flat
    assert "drop_column" in flat and "3 live rows" in flat, flat
    plan_id = re.search(r"--approve ([0-9a-f]{16})", flat)
    assert plan_id, flat

    # a refusal: the previewed plan without --allow-destructive
    refusal = terminal.run(production.root, "migrate", "production", "--approve", plan_id[1], width=width, env=env)
    assert refusal.exit_status() == 3, refusal.text()
    lines = refusal.output()
    _check_80_columns(lines)
    flat = " ".join(" ".join(lines).split())
    assert "DESTRUCTIVE_CHANGE" in flat, flat
    assert not [line for line in lines if re.search(r"\bNone\b", line)], "a Python None reached the text"
    _assert_nothing_applied(production)
