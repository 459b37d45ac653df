"""How faber-db's argparse command line reads an argument list, without importing the CLI.

The hook runs with the system Python, before faber-db's dependencies exist, so it cannot build the
real parser; this table mirrors it (tests/test_hook_cli_table.py compares the two), including the
habits that matter here: options spelled in full only (the CLI turns argparse's prefix matching off,
so `--proj` is a usage error), `--opt=value`, a global option given twice refused, the last of another
repeated option winning, `--` ending the options, and `-h`/`--help` exiting first.
"""

from __future__ import annotations

from dataclasses import dataclass, field

GLOBAL_VALUE_OPTIONS = frozenset({"--format", "--project"})
GLOBAL_FLAGS = frozenset({"--version", "--help"})
COMMON_VALUE_OPTIONS = frozenset({"--format", "--project"})

# command -> (options taking a value, flags, (min, max) positionals)
COMMAND_OPTIONS: dict[str, tuple[frozenset[str], frozenset[str], tuple[int, int]]] = {
    "init": (frozenset({"--provider"}), frozenset({"--force", "--faber", "--claude-settings"}), (0, 0)),
    "status": (frozenset(), frozenset({"--drift"}), (1, 1)),
    "migrate": (frozenset({"--approve", "--timeout"}),
                frozenset({"--dry-run", "--skip-backup", "--backup", "--skip-health-check", "--allow-destructive",
                           "--allow-drift"}),
                (1, 1)),
    "generate-migration": (frozenset({"--name", "--env"}), frozenset({"--preview", "--force"}), (1, 1)),
    "backup": (frozenset({"--label"}), frozenset(), (1, 1)),
    "backups": (frozenset(), frozenset(), (1, 1)),
    "restore": (frozenset({"--from", "--approve"}), frozenset({"--dry-run"}), (1, 1)),
    "rollback": (frozenset({"--last", "--to", "--approve", "--restore-backup"}),
                 frozenset({"--dry-run", "--allow-destructive"}), (1, 1)),
    "health-check": (frozenset({"--checks", "--timeout"}), frozenset(), (1, 1)),
    "db-create": (frozenset({"--approve"}), frozenset({"--dry-run"}), (1, 1)),
    "audit": (frozenset({"--since", "--limit"}), frozenset({"--verify"}), (0, 1)),
    "faber": (frozenset({"--work-id", "--description", "--approve"}), frozenset({"--allow-destructive"}), (1, 1)),
}


@dataclass
class Call:
    """One faber-db command line as argparse would read it.

    `unknown` is set when an argument is computed at run time, so the reading may be wrong; `exits`
    when argparse stops before running anything (help, version, a usage error).
    """

    command: str | None = None
    positionals: list[str] = field(default_factory=list)
    options: dict[str, str | bool] = field(default_factory=dict)
    repeated: set[str] = field(default_factory=set)
    unknown: bool = False
    exits: bool = False
    global_project: bool = False  # --project was given before the command (and maybe again after)


def option_names(command: str) -> frozenset[str]:
    """Every long option spelled out in full, for `command` (and before it)."""
    values, flags, _ = COMMAND_OPTIONS.get(command, (frozenset(), frozenset(), (0, 0)))
    return GLOBAL_VALUE_OPTIONS | GLOBAL_FLAGS | values | flags


def _match(token: str, values: frozenset[str], flags: frozenset[str]) -> tuple[str | None, bool]:
    """(option, takes_value) for a long option spelled in full; (None, _) when unknown (a usage error)."""
    name = token.split("=", 1)[0]
    if name in values | flags:
        return name, name in values
    return None, False


def read(argv: list[str | None]) -> Call:
    """Read faber-db's arguments (None for an argument computed at run time)."""
    call = Call()
    values, flags = GLOBAL_VALUE_OPTIONS, GLOBAL_FLAGS
    minmax = (0, 0)
    only_positionals = False
    i = 0
    while i < len(argv):
        token = argv[i]
        i += 1
        if token is None:
            call.unknown = True
            if call.command is None:
                return call  # the command itself is computed
            continue
        if not only_positionals and token == "--":
            only_positionals = True
            continue
        if not only_positionals and token.startswith("-") and token != "-" and not _is_number(token):
            if not token.startswith("--"):
                call.exits = True  # -h prints help; there is no other short option (a usage error)
                return call
            option, takes_value = _match(token, values, flags | {"--help"})
            if option is None or option in ("--help", "--version"):
                call.exits = True  # help, version, or an unknown/ambiguous option: nothing runs
                return call
            if option in call.options:
                call.repeated.add(option)
                if option in GLOBAL_VALUE_OPTIONS:
                    call.exits = True  # the CLI refuses a repeated --project/--format (USAGE)
                    return call
            if option == "--project" and call.command is None:
                call.global_project = True
            if takes_value:
                if "=" in token:
                    call.options[option] = token.split("=", 1)[1]
                elif i < len(argv):
                    value = argv[i]
                    i += 1
                    if value is None:
                        call.unknown = True
                        call.options[option] = ""
                    elif value.startswith("-") and not _is_number(value):
                        call.exits = True  # "expected one argument"
                        return call
                    else:
                        call.options[option] = value
                else:
                    call.exits = True
                    return call
            elif "=" in token:
                call.exits = True  # "ignored explicit argument"
                return call
            else:
                call.options[option] = True
            continue
        if call.command is None:
            if token not in COMMAND_OPTIONS:
                call.exits = True  # "invalid choice"
                return call
            call.command = token
            own_values, own_flags, minmax = COMMAND_OPTIONS[token]
            values, flags = own_values | COMMON_VALUE_OPTIONS, own_flags
            continue
        call.positionals.append(token)
    if call.command is None:
        call.exits = True  # no command: usage
    elif not call.unknown and not minmax[0] <= len(call.positionals) <= minmax[1]:
        call.exits = True
    elif call.command == "restore" and "--from" not in call.options and not call.unknown:
        call.exits = True  # --from is required
    return call


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True
