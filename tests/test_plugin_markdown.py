"""The plugin's Markdown (commands, skills, agent) against the CLI it tells the agent to run.

Checks: frontmatter fields and command length (<= 120 lines); every `faber-db <command> ...` the
Markdown (and the README's command table) writes is a real command whose flags the CLI's own argparse
parser accepts; each command's allowed-tools grants exactly the `faber-db` commands its body runs
(`Bash(faber-db <command>:*)`, and the same through `${CLAUDE_PLUGIN_ROOT}/bin/faber-db` for a session
whose PATH does not have the plugin's bin yet); each command's argument-hint names every flag the
command accepts and no other; every script path mentioned exists, is the entry of the command the
Markdown says, and its `--help` runs.
"""

from __future__ import annotations

import argparse
import functools
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from faber_db.cli import build_parser
from faber_db.commands import COMMANDS
from faber_db.errors import FaberError
from faber_db.policy import SCRIPT_COMMANDS

REPO = Path(__file__).resolve().parent.parent
PLUGIN = REPO / "plugins" / "faber-db"
COMMAND_FILES = sorted((PLUGIN / "commands").glob("*.md"))
SKILLS = sorted((PLUGIN / "skills").glob("*/SKILL.md"))
AGENTS = sorted((PLUGIN / "agents").glob("*.md"))
ALL_MARKDOWN = sorted({*COMMAND_FILES, *PLUGIN.glob("skills/**/*.md"), *AGENTS})

EXPECTED_COMMANDS = {"migrate", "generate-migration", "init", "status", "backup", "rollback", "restore", "audit",
                     "health-check", "db-create"}
MANUAL_ONLY = {"migrate", "rollback", "restore"}  # disable-model-invocation: true
EXPECTED_SKILLS = {"migration-deployer", "handler-db-prisma", "migration-generator", "backup-manager",
                   "faber-coordinator", "health-checker", "safety-validator", "db-initializer"}
# flags every command takes; documented once (handler-db-prisma), not in each argument-hint
GLOBAL_FLAGS = {"--help", "--format", "--project"}
# what a slash command runs besides its own CLI command (backup.md lists backups; restore.md finds the id)
ALSO_RUNS = {"backup": {"backups"}, "restore": {"backups"}}

_SCRIPT = r"skills/[a-z0-9-]+/scripts/[A-Za-z0-9_-]+\.py"
SCRIPT_REF = re.compile(rf"(?:\$\{{CLAUDE_PLUGIN_ROOT\}}/)?({_SCRIPT}|hooks/[A-Za-z0-9_-]+\.py)")
FLAG = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]*)")
GRANT = re.compile(r"^Bash\((faber-db|\$\{CLAUDE_PLUGIN_ROOT\}/bin/faber-db) ([a-z-]+):\*\)$")
# `faber-db <command> ...` in backticks (up to the closing backtick)
# what a placeholder (`<plan_id>`, `ENV`, `N`, `$ARGUMENTS`'s parts) stands for: a value every option takes
STAND_IN = "1"
INVOCATION = re.compile(r"`(?:\$\{CLAUDE_PLUGIN_ROOT\}/bin/)?faber-db ([a-z][a-z-]*)([^`]*)`")


def frontmatter(path: Path) -> tuple[dict[str, str], str]:
    """A tiny YAML-ish reader: top-level `key: value` pairs (quotes stripped) and the body."""
    text = path.read_text("utf-8")
    match = re.match(r"^---\n(.*?)\n---\n(.*)$", text, re.S)
    assert match, f"{path.relative_to(REPO)}: no frontmatter block"
    fields: dict[str, str] = {}
    last = None
    for line in match.group(1).splitlines():
        if line.startswith((" ", "\t")) and last is not None:
            fields[last] += " " + line.strip()
            continue
        key, sep, value = line.partition(":")
        assert sep, f"{path.relative_to(REPO)}: frontmatter line is not `key: value`: {line!r}"
        last = key.strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        fields[last] = value
    return fields, match.group(2)


def split_allowed_tools(value: str) -> list[str]:
    """`Bash(a:*), Bash(b:*)` -> entries (commas inside parentheses kept)."""
    entries: list[str] = []
    depth, current = 0, ""
    for char in value:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            entries.append(current.strip())
            current = ""
        else:
            current += char
    if current.strip():
        entries.append(current.strip())
    return entries


def granted(path: Path) -> dict[str, set[str]]:
    """allowed-tools of a command or skill: CLI command -> the spellings granted (`faber-db`, the bin path)."""
    fields, _ = frontmatter(path)
    grants: dict[str, set[str]] = {}
    for entry in split_allowed_tools(fields.get("allowed-tools", "")):
        match = GRANT.match(entry)
        assert match, f"{path.name}: allowed-tools entry is not a faber-db command grant: {entry!r}"
        grants.setdefault(match.group(2), set()).add(match.group(1))
    return grants


def subcommand_parser(command: str) -> argparse.ArgumentParser:
    parser = build_parser(command)
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    chosen: argparse.ArgumentParser = sub.choices[command]
    return chosen


def accepted_flags(command: str) -> set[str]:
    return {flag for action in subcommand_parser(command)._actions for flag in action.option_strings
            if flag.startswith("--")} - GLOBAL_FLAGS


def invocations(text: str) -> list[tuple[str, str]]:
    """Every `faber-db <command> <arguments>` written in backticks: (command, the arguments)."""
    return [(m.group(1), m.group(2)) for m in INVOCATION.finditer(text)]


def parse_invocation(command: str, arguments: str) -> None:
    """The arguments as the CLI parses them: placeholders (`<plan_id>`, `ENV`, `$ARGUMENTS`) filled in,
    optional parts (`[--flag X]`, `a | b`) taken one by one."""
    text = arguments.replace("\\|", "|").replace("$ARGUMENTS", " ".join(_required(command)))
    text = re.sub(r"<[^>]+>", STAND_IN, text)
    text = re.sub(r"\.\.\.", "", text)
    for optional in re.findall(r"\[([^\[\]]*)\]", text):  # each optional part parses on its own
        for alternative in optional.split("|"):
            _parse(command, [*_required(command), *shlex.split(re.sub(r"\b[A-Z][A-Z_]*\b", STAND_IN, alternative))])
    base = re.sub(r"\[[^\[\]]*\]", "", text)
    words = shlex.split(re.sub(r"\b[A-Z][A-Z_]*\b", STAND_IN, base))
    _parse(command, words or _required(command))


def _required(command: str) -> list[str]:
    """Stand-ins for what a command cannot go without: its positional arguments, its required options."""
    words: list[str] = []
    for action in subcommand_parser(command)._actions:
        if not action.option_strings and action.nargs != "?":
            words.append(str(next(iter(action.choices))) if action.choices else STAND_IN)
        elif action.required:
            words += [action.option_strings[0], STAND_IN]
    return words


def _parse(command: str, words: list[str]) -> None:
    if "--help" in words:
        return
    positional = next((a for a in subcommand_parser(command)._actions if not a.option_strings), None)
    if positional is not None and positional.choices and words and words[0] == STAND_IN:  # `faber PHASE`
        words = [str(next(iter(positional.choices))), *words[1:]]
    try:
        build_parser(command).parse_args([command, *words])
    except FaberError as error:
        raise AssertionError(f"`faber-db {command} {' '.join(words)}`: {error.message}") from None


@functools.cache
def script_help(script: str) -> subprocess.CompletedProcess[str]:
    python3 = shutil.which("python3") or "python3"
    env = {k: v for k, v in os.environ.items() if k not in ("CLAUDE_DB_CWD", "FABER_DB_CONFIG")}
    env.setdefault("CLAUDE_PLUGIN_DATA", str(Path.home() / ".cache" / "faber-db-tests" / "plugin-data"))
    return subprocess.run([python3, str(PLUGIN / script), "--help"], cwd=REPO, env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=600, check=False)


# --- frontmatter ------------------------------------------------------------------------------


def test_the_expected_commands_skills_and_agent_exist() -> None:
    assert {p.stem for p in COMMAND_FILES} == EXPECTED_COMMANDS
    assert {p.parent.name for p in SKILLS} == EXPECTED_SKILLS
    assert (PLUGIN / "skills/migration-deployer/workflow/deploy.md").is_file()
    assert [p.stem for p in AGENTS] == ["db-manager"]
    assert set(COMMANDS) >= EXPECTED_COMMANDS, "a slash command without a CLI command of that name"


@pytest.mark.parametrize("command", COMMAND_FILES, ids=lambda p: p.stem)
def test_command_frontmatter_and_length(command: Path) -> None:
    lines = command.read_text("utf-8").splitlines()
    assert len(lines) <= 120, f"{command.name}: {len(lines)} lines (max 120)"
    fields, body = frontmatter(command)
    assert fields.get("description"), "description missing"
    assert fields.get("argument-hint"), "argument-hint missing"
    assert fields.get("allowed-tools"), "allowed-tools missing"
    manual = fields.get("disable-model-invocation", "false")
    assert manual in ("true", "false")
    assert (manual == "true") == (command.stem in MANUAL_ONLY), f"disable-model-invocation: {manual}"
    assert "$ARGUMENTS" in body
    # the "never" rules every command carries
    assert "## Never" in body
    assert "connection URL" in body
    assert "compose SQL" in body
    if command.stem in MANUAL_ONLY or "--approve" in body:
        assert "Never pass `--approve` without the person's explicit OK" in body


@pytest.mark.parametrize("command", COMMAND_FILES, ids=lambda p: p.stem)
def test_allowed_tools_grant_exactly_the_commands_the_body_runs(command: Path) -> None:
    """The CLI's hints say `faber-db <command> ...`: the command's grant is that invocation (and the
    plugin's bin path for it), so an agent runs what the hint says without a permission prompt."""
    grants = granted(command)
    assert command.stem in grants, f"{command.name} does not grant `faber-db {command.stem}`"
    for name, spellings in grants.items():
        assert spellings == {"faber-db", "${CLAUDE_PLUGIN_ROOT}/bin/faber-db"}, (name, spellings)
    _, body = frontmatter(command)
    run = {name for name, _ in invocations(body)}
    assert set(grants) == run, f"allowed-tools grants {sorted(grants)}, the body runs {sorted(run)}"
    assert set(grants) == {command.stem, *ALSO_RUNS.get(command.stem, set())}
    assert f"${{CLAUDE_PLUGIN_ROOT}}/bin/faber-db {command.stem}" in body, "the fallback for a PATH without bin/"
    assert (PLUGIN / "bin" / "faber-db").is_file()


def test_skill_grants_are_faber_db_commands() -> None:
    for skill in SKILLS:
        for name, spellings in granted(skill).items():
            assert name in COMMANDS, f"{skill.parent.name} grants an unknown command {name!r}"
            assert spellings == {"faber-db", "${CLAUDE_PLUGIN_ROOT}/bin/faber-db"}, (skill.parent.name, spellings)


@pytest.mark.parametrize("skill", SKILLS, ids=lambda p: p.parent.name)
def test_skill_frontmatter(skill: Path) -> None:
    fields, body = frontmatter(skill)
    assert fields.get("name") == skill.parent.name
    description = fields.get("description", "")
    assert len(description) >= 60, "description should say when to use the skill"
    assert body.strip()


def test_skills_say_when_to_use_them_in_faber_phases() -> None:
    descriptions = " ".join(frontmatter(s)[0]["description"].lower() for s in SKILLS)
    for phase in ("architect", "build", "evaluate", "release"):
        assert phase in descriptions, phase


def test_agent_frontmatter() -> None:
    fields, body = frontmatter(PLUGIN / "agents" / "db-manager.md")
    assert fields.get("name") == "db-manager"
    assert fields.get("description")
    tools = {t.strip() for t in fields.get("tools", "").split(",")}
    assert tools and tools <= {"Bash", "Read", "Grep", "Glob"}, tools
    for skill in EXPECTED_SKILLS:
        assert skill in body, f"the agent does not route to {skill}"


# --- commands and flags -------------------------------------------------------------------------


@pytest.mark.parametrize("markdown", ALL_MARKDOWN, ids=lambda p: str(p.relative_to(PLUGIN)))
def test_every_faber_db_command_written_parses(markdown: Path) -> None:
    """What the Markdown tells the agent to run is a command line the CLI accepts, flag by flag."""
    for command, arguments in invocations(markdown.read_text("utf-8")):
        assert command in COMMANDS, f"`faber-db {command}` is not a faber-db command"
        parse_invocation(command, arguments)


def test_the_readme_command_table_parses() -> None:
    readme = (REPO / "README.md").read_text("utf-8")
    table = readme.split("## Commands", 1)[1].split("\n\n", 2)[2]
    rows = [line for line in table.splitlines() if line.startswith("| `faber-db ")]
    assert len(rows) >= len(EXPECTED_COMMANDS), rows
    listed: dict[str, set[str]] = {}
    for row in rows:
        cell = row.split("|")[1].strip()
        for usage in re.findall(r"`faber-db ([a-z-]+)((?:[^`\\]|\\.)*)`", cell):
            command, arguments = usage[0], usage[1].replace("\\|", "|")
            parse_invocation(command, arguments)
            listed.setdefault(command, set()).update(FLAG.findall(arguments))
    for command, flags in listed.items():
        assert flags == accepted_flags(command), (
            f"README's `faber-db {command}` row lists {sorted(flags)}; the CLI takes {sorted(accepted_flags(command))}")


@pytest.mark.parametrize("command", COMMAND_FILES, ids=lambda p: p.stem)
def test_argument_hint_names_exactly_the_flags_the_command_takes(command: Path) -> None:
    fields, _ = frontmatter(command)
    hinted = set(FLAG.findall(fields["argument-hint"]))
    takes = set().union(*(accepted_flags(name) for name in granted(command)))
    assert hinted == takes, (f"{command.name}: argument-hint has {sorted(hinted - takes)} the CLI does not take, "
                             f"lacks {sorted(takes - hinted)}")


# --- scripts ------------------------------------------------------------------------------------


def script_references() -> dict[str, set[str]]:
    """Script path (relative to the plugin) -> the Markdown files that mention it."""
    refs: dict[str, set[str]] = {}
    for md in ALL_MARKDOWN:
        for ref in SCRIPT_REF.findall(md.read_text("utf-8")):
            refs.setdefault(ref, set()).add(str(md.relative_to(PLUGIN)))
    return refs


def test_every_script_path_mentioned_exists_and_is_the_command_it_says() -> None:
    refs = script_references()
    assert refs, "no script paths found in the Markdown"
    missing = {ref: sorted(where) for ref, where in refs.items() if not (PLUGIN / ref).is_file()}
    assert not missing, f"Markdown mentions scripts that do not exist: {missing}"
    for md in ALL_MARKDOWN:
        for line in md.read_text("utf-8").splitlines():
            scripts = [ref for ref in SCRIPT_REF.findall(line) if "/scripts/" in ref]
            said = {name for name, _ in invocations(line)}
            for script in scripts:
                assert script in SCRIPT_COMMANDS, script
                if said:  # "the script X is the same entry as `faber-db Y`": Y is X's command
                    assert SCRIPT_COMMANDS[script] in said, f"{md.name}: {script} is `{SCRIPT_COMMANDS[script]}`"


@pytest.mark.parametrize("script", sorted(SCRIPT_COMMANDS))
def test_script_help_runs(script: str) -> None:
    done = script_help(script)
    assert done.returncode == 0, f"{script} --help: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    assert f"usage: faber-db {SCRIPT_COMMANDS[script]}" in done.stdout
