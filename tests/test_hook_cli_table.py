"""The gate's copy of faber-db's command line (gate/faber_cli.py) against the real argparse parser:
the same options, and the same reading of argument lists an agent might write."""

from __future__ import annotations

import argparse

import pytest
from faber_db.cli import build_parser, check_repeats, command_of
from faber_db.commands import COMMANDS
from faber_db.errors import FaberError
from faber_db.gate import faber_cli


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise AssertionError("no subcommands")


def _options(parser: argparse.ArgumentParser) -> tuple[set[str], set[str], tuple[int, int]]:
    values: set[str] = set()
    flags: set[str] = set()
    required = optional = 0
    for action in parser._actions:
        longs = {o for o in action.option_strings if o.startswith("--")}
        if not action.option_strings:
            optional += action.nargs == "?"
            required += action.nargs != "?"
        elif action.nargs == 0:
            flags |= longs
        else:
            values |= longs
    return values, flags, (required, required + optional)


def test_the_table_lists_every_command_and_option() -> None:
    parser = build_parser()
    subs = _subparsers(parser)
    assert set(subs) == set(COMMANDS) == set(faber_cli.COMMAND_OPTIONS)
    values, flags, _ = _options(parser)
    assert values == faber_cli.GLOBAL_VALUE_OPTIONS and flags == faber_cli.GLOBAL_FLAGS
    for name in subs:
        values, flags, positionals = _options(_subparsers(build_parser(name))[name])  # its options, loaded
        own_values, own_flags, counts = faber_cli.COMMAND_OPTIONS[name]
        assert values == own_values | faber_cli.COMMON_VALUE_OPTIONS, name
        assert flags == own_flags | {"--help"}, name
        assert counts == positionals, name


ARGVS = [
    ["migrate", "production", "--approve", "P"],
    ["migrate", "production", "--appr", "P"],
    ["migrate", "production", "--approve=P", "--dry"],
    ["--format", "json", "migrate", "prod", "--approve", "P"],
    ["--project", "/a", "migrate", "production", "--project", "/b", "--approve", "P"],
    ["migrate", "production", "--proj", "/x", "--approve", "P"],
    ["migrate", "--approve", "P", "production"],
    ["migrate", "production", "--approve", "--dry-run"],
    ["migrate", "production", "--dry-run=yes"],
    ["migrate", "production", "--s"],
    ["migrate", "production", "extra"],
    ["migrate"],
    ["migrate", "production", "-x"],
    ["migrate", "--", "production"],
    ["rollback", "production", "--last", "1", "--approve", "P"],
    ["rollback", "production", "--to", "m1", "--allow"],
    ["restore", "production", "--approve", "P"],
    ["restore", "production", "--from", "b1", "--approve", "P"],
    ["db-create", "production", "--approve", "P"],
    ["faber", "release", "--approve", "P"],
    ["faber", "release", "--work", "42"],
    ["status", "production", "--drift"],
    ["generate-migration", "add x", "--preview", "--env", "dev"],
    ["audit"],
    ["audit", "production", "--verify"],
    ["init", "--force"],
    ["deploy", "production"],
    ["migrate", "production", "--timeout", "-5"],
]


def _real(argv: list[str]) -> argparse.Namespace | None:
    """How the CLI reads argv: its repeated-global-option check, then the real parser."""
    try:
        check_repeats(argv)
        return build_parser(command_of(argv)).parse_args(argv)
    except FaberError:
        return None  # a usage error: exit 2, nothing runs


@pytest.mark.parametrize("argv", ARGVS, ids=[" ".join(a) for a in ARGVS])
def test_the_gate_reads_arguments_as_argparse_does(argv: list[str]) -> None:
    real = _real(argv)
    mine = faber_cli.read(list(argv))
    assert mine.exits == (real is None), (mine, real)
    if real is None:
        return
    assert mine.command == real.command
    for option, value in mine.options.items():
        dest = option.lstrip("-").replace("-", "_")
        dest = {"from": "backup_id", "backup": "force_backup"}.get(dest, dest)
        got = getattr(real, dest)
        if value is True:
            assert got is True, option
        else:  # argparse converts numbers (--timeout, --last): compare as it would
            assert got == type(got)(value), (option, value, got)
    positionals = [getattr(real, n) for n in ("environment", "phase", "description") if getattr(real, n, None)]
    assert mine.positionals == positionals


def test_help_and_version_exit_before_anything_runs() -> None:
    for argv in (["--help"], ["migrate", "production", "--approve", "P", "-h"], ["--version"],
                 ["migrate", "production", "--he"]):
        assert faber_cli.read(list(argv)).exits
