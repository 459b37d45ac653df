"""`faber-db`: the command line. Parses arguments, runs one command, prints one result.

Exit codes: 0 success or warning, 1 the operation failed, 2 bad usage or input, 3 refused by a
safety rule. Whatever happens, stdout carries exactly one result (JSON unless a person is at a
terminal) and never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import textwrap
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

from faber_db import __version__
from faber_db.commands import COMMANDS
from faber_db.errors import FaberError
from faber_db.results import Result, Timer, failure_from_error

# Standard library only up to the parsed command line (`prepare` in `main`): the plugin answers
# --help, --version and usage errors before its dependencies are installed. Paragraphs, blank-line
# separated; the help formatter fills them to the terminal's width.
EPILOG = """exit codes: 0 success or warning, 1 the operation failed, 2 bad usage or input, 3 refused by a
safety rule (approval, backup, destructive change).

Output: one JSON result on stdout when it is not a terminal (or --format json); progress on stderr."""


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's layout, with text filled at spaces only (never inside a word, a flag or a path) and the
    description's and epilog's paragraphs kept apart."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        return textwrap.wrap(" ".join(text.split()), width, break_long_words=False, break_on_hyphens=False)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        paragraphs = [" ".join(p.split()) for p in text.split("\n\n")]
        return "\n\n".join(textwrap.fill(p, width, initial_indent=indent, subsequent_indent=indent,
                                          break_long_words=False, break_on_hyphens=False) for p in paragraphs)


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of printing usage and exiting, so bad usage is a JSON result."""

    def error(self, message: str) -> NoReturn:
        raise FaberError("USAGE", f"{self.prog}: {message}", f"Run `{self.prog} --help` for usage.")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; only `command`'s module is imported (none for the top level: its help lists names)."""
    common = _Parser(add_help=False, allow_abbrev=False)
    common.add_argument("--format", choices=["json", "text"], default=argparse.SUPPRESS,
                        help="json (default when stdout is not a terminal) or text")
    common.add_argument("--project", type=Path, default=argparse.SUPPRESS, metavar="DIR",
                        help="the project folder (default: $CLAUDE_DB_CWD, else found from the cwd)")
    parser = _Parser(prog="faber-db", description="Safe database migrations: preview, approve, back up, "
                     "apply, verify, restore.", epilog=EPILOG, parents=[common], allow_abbrev=False,
                     formatter_class=_HelpFormatter)
    parser.add_argument("--version", action="version", version=f"faber-db {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, (module_name, help_text) in COMMANDS.items():
        command_parser = sub.add_parser(name, help=help_text, description=help_text, parents=[common],
                                        allow_abbrev=False, epilog=EPILOG, formatter_class=_HelpFormatter)
        if name == command:
            importlib.import_module(module_name).add_arguments(command_parser)
    return parser


def main(argv: list[str] | None = None, *, prepare: Callable[[], None] | None = None) -> int:
    """Run one command; `prepare` runs once the command line is valid, before the command (the plugin
    makes its dependencies importable there)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    timer = Timer()
    fmt = _peek_format(argv)
    command = command_of(argv)
    environment = None
    from faber_db.output import choose_format, emit

    try:
        check_repeats(argv)
        parser = build_parser(command)
        args = parser.parse_args(argv)
        fmt = choose_format(getattr(args, "format", None))
        if not args.command:
            parser.print_help(sys.stderr)
            raise FaberError("USAGE", "No command given", "Run `faber-db --help` for the commands.")
        environment = getattr(args, "environment", None)
        if prepare is not None:
            prepare()
        from faber_db.runtime import Context

        ctx = Context(project=getattr(args, "project", None), fmt=fmt)
        module = importlib.import_module(COMMANDS[args.command][0])
        result: Result = module.run(ctx, args)
    except FaberError as error:
        result = failure_from_error(error, command or "faber-db", environment)
    except KeyboardInterrupt:
        result = failure_from_error(
            FaberError("CANCELLED", "Cancelled (Ctrl-C) before anything was changed",
                       "Run the command again when ready."), command or "faber-db", environment)
    except Exception as exc:  # the last net: never a traceback on stdout
        _log_crash(exc)
        result = failure_from_error(
            FaberError("INTERNAL_ERROR", f"Unexpected error: {type(exc).__name__}: {exc}",
                       "This is a faber-db bug; the traceback is in the faber-db crash log."),
            command or "faber-db", environment)
    result.duration_ms = timer.ms
    emit(result, fmt or choose_format(None))
    return result.exit_code


GLOBAL_VALUE_OPTIONS = ("--format", "--project")


def command_of(argv: list[str]) -> str | None:
    """The sub-command: the first argument that is neither an option nor a global option's value
    (so `--project backup status dev` is `status` in the folder `backup`)."""
    index = 0
    while index < len(argv):
        arg = argv[index]
        if arg in GLOBAL_VALUE_OPTIONS:
            index += 2
            continue
        if arg.startswith("-"):
            index += 1
            continue
        return arg if arg in COMMANDS else None
    return None


def check_repeats(argv: list[str]) -> None:
    """A global option given twice is refused: which one would win is not something to guess."""
    for option in GLOBAL_VALUE_OPTIONS:
        given = [a for a in argv if a == option or a.startswith(option + "=")]
        if len(given) > 1:
            raise FaberError("USAGE", f"{option} is given {len(given)} times",
                             f"Give {option} once; it decides which project (or output) faber-db works on.")


def _peek_format(argv: list[str]) -> str | None:
    for i, arg in enumerate(argv):
        if arg == "--format" and i + 1 < len(argv) and argv[i + 1] in ("json", "text"):
            return argv[i + 1]
        if arg.startswith("--format=") and arg.split("=", 1)[1] in ("json", "text"):
            return arg.split("=", 1)[1]
    return None


def _log_crash(exc: BaseException) -> None:
    from faber_db.launch import state_dir
    from faber_db.redact import redact

    text = redact("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
    try:
        log = state_dir() / "crash.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("a", encoding="utf-8") as handle:
            handle.write(text + "\n")
        sys.stderr.write(f"faber-db: internal error; traceback written to {log}\n")
    except OSError:
        sys.stderr.write(text)


def exit_process(code: int) -> NoReturn:
    """End the process with `code`, skipping the interpreter's teardown: freeing every module once
    sqlglot, pydantic or pg8000 are loaded takes 50-90 ms, and by now everything faber-db wrote is
    closed (its files are written in `with` blocks, its temporary folders and databases gone), so only
    the standard streams need a flush. The process entry points end here; `main` itself returns, for
    callers in the same process."""
    import os

    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: the exit code still says what happened
            pass
    os._exit(code)


def console_main() -> NoReturn:
    """The `faber-db` console script."""
    exit_process(main())


if __name__ == "__main__":
    console_main()
