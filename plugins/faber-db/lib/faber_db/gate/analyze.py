"""Walk a parsed command the way bash would run it and collect every reason to ask the person.

Nothing is executed. The walk follows what is knowable before the command runs: literal words,
variables assigned earlier in the same text, functions and aliases defined in it, `cd`/`pushd`/
`popd`, the bodies of `bash -c`, `eval`, `source`, heredocs and script files (read, bounded), and
the programs behind wrappers (env, sudo, timeout, xargs, npx, uv run, find -exec, ...). Whatever is
computed at run time is "unknown", and an unknown that could reach a protected environment is a
reason to ask.

Why it is long: one walker and the table of programs it follows (builtins, wrappers, runners, the
database clients); each entry needs the walker's state, and splitting them would scatter one walk.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from faber_db import policy, proof
from faber_db.gate import faber_cli
from faber_db.gate.shell import (
    AndOr,
    Arith,
    CmdSub,
    Command,
    Compound,
    FuncDef,
    Lit,
    OutOfTime,
    Param,
    Pipeline,
    ProcSub,
    Redirect,
    Script,
    ShellSyntaxError,
    Simple,
    Word,
    parse,
)
from faber_db.handlers import known_tools
from faber_db.handlers.facts import ToolFacts

MAX_DEPTH = 12  # nested shells, functions, eval, sourced files
MAX_FILE_BYTES = 1 << 20
MAX_LOOP_VALUES = 16

# Variables that decide which database, config, project or proof faber-db (or a migration tool) uses.
SENSITIVE_VARIABLES = frozenset({
    "DATABASE_URL", "SHADOW_DATABASE_URL", "FABER_DB_CONFIG", "CLAUDE_DB_CWD", proof.APPROVAL_VARIABLE,
    "CLAUDE_PLUGIN_DATA", "CLAUDE_PLUGIN_ROOT", "FABER_DB_PYTHON", "CLAUDECODE",
    *(name for tool in known_tools().values() for name in tool.variables),
})
# the migration tools' CLIs, by program name
TOOL_PROGRAMS: dict[str, ToolFacts] = {program: tool for tool in known_tools().values() for program in tool.programs}
# where a relative SQLite `file:` URL may start, relative to a project (each tool resolves it its own way)
URL_FILE_BASES = tuple(dict.fromkeys(base for tool in known_tools().values() for base in tool.url_file_bases))
SHELLS = frozenset({"bash", "sh", "zsh", "dash", "ksh", "ash", "mksh", "yash", "posh"})
PYTHON = re.compile(r"(python|pypy)(\d+(\.\d+)?)?(-dbg)?|py")
NODE = frozenset({"node", "nodejs", "tsx", "ts-node", "bun", "deno"})
CODE_RUNNERS = {"perl": ("-e", "-E"), "ruby": ("-e",), "php": ("-r",), "lua": ("-e",), "Rscript": ("-e",)}
DB_TOOLS = frozenset({"psql", "pg_restore", "pgcli", "createdb", "dropdb", "sqlite3", "litecli", "sqlite-utils"})
READ_ONLY = frozenset({
    "cat", "less", "more", "head", "tail", "grep", "egrep", "fgrep", "rg", "ag", "ls", "ll", "wc", "stat", "file",
    "diff", "cmp", "jq", "yq", "bat", "realpath", "readlink", "dirname", "basename", "echo", "printf", "test", "[",
    "tree", "du", "md5sum", "sha256sum", "sha1sum", "cksum", "od", "hexdump", "xxd", "strings", "nl", "sort",
    "uniq", "cut", "column", "true", "false", "pwd", "type", "which", "whereis", "sqlite3_analyzer", "zcat",
})
# programs that put new content into the files they name (a script they write is not the one on disk)
WRITERS = frozenset({"cp", "mv", "tee", "install", "ln", "rsync", "sed", "dd", "curl", "wget", "patch", "tar",
                     "unzip", "git", "base64", "openssl", "gpg", "scp"})
GIT_READ_ONLY = frozenset({"status", "diff", "log", "show", "blame", "ls-files", "add", "grep", "cat-file",
                           "rev-parse", "describe", "shortlog", "ls-tree", "whatchanged", "check-ignore"})
NOT_SCRIPTS = frozenset({  # programs never read as scripts from PATH (speed; they are binaries)
    "git", "ls", "cat", "grep", "rg", "find", "sed", "awk", "head", "tail", "wc", "sort", "uniq", "cut", "tr",
    "echo", "printf", "test", "mkdir", "rm", "cp", "mv", "touch", "chmod", "chown", "ln", "tee", "xargs", "env",
    "sudo", "node", "npm", "npx", "pnpm", "yarn", "python", "python3", "pip", "pip3", "pytest", "ruff", "mypy",
    "docker", "kubectl", "curl", "wget", "tar", "gzip", "unzip", "make", "cargo", "go", "java", "jq", "diff",
    "psql", "sqlite3", "pg_dump", "pg_restore", "true", "false", "sleep", "date", "pwd", "cd", "which", "uv",
})
SKILL_COMMAND = re.compile(r"""run_command\(\s*["']([a-z-]+)["']\s*\)""")
CODE_MARKERS = (".fractary", "faber_db", "faber-db", "faber_phase", "apply_migration", "db_create", "FABER_DB_",
                "CLAUDE_DB_CWD", "CLAUDE_PLUGIN_DATA", "pg_restore", "psql",
                *dict.fromkeys(" ".join(command) for tool in known_tools().values()
                               for command in tool.changing_commands))
_HOME = Path(pwd.getpwuid(os.geteuid()).pw_dir)
PLUGIN_ROOT = Path(__file__).resolve().parents[3]
APPROVALS = str(proof.approval_dir().parent)  # ~/.local/state/faber-db: the key, the spent list


class Unsure(Exception):
    """The walk cannot go on (too deep, too long): the caller asks."""


@dataclass(frozen=True)
class Arg:
    """One word after expansion: its text, or None when computed at run time; the variables it
    was computed from (to see `$PROD_DATABASE_URL` behind a `psql "$U"`)."""

    text: str | None
    refs: frozenset[str] = frozenset()
    splits: bool = False  # an unquoted unknown: may become several words
    head: str = ""  # for an unknown: the literal text before the first computed part (`NAME=` of export)


@dataclass(frozen=True)
class Value:
    text: str | None
    refs: frozenset[str] = frozenset()
    exported: bool = False


@dataclass
class State:
    cwd: Path | None
    variables: dict[str, Value] = field(default_factory=dict)
    functions: dict[str, Command] = field(default_factory=dict)
    aliases: dict[str, str | None] = field(default_factory=dict)
    positional: list[Arg] | None = None
    dirstack: list[Path | None] = field(default_factory=list)
    oldpwd: Path | None = None

    def copy(self) -> State:
        return State(self.cwd, dict(self.variables), dict(self.functions), dict(self.aliases),
                     None if self.positional is None else list(self.positional), list(self.dirstack), self.oldpwd)

    def merge(self, other: State) -> None:
        """After a branch that may or may not have run: whatever it changed is now unknown."""
        if other.cwd != self.cwd:
            self.cwd = None
        for name in set(self.variables) | set(other.variables):
            if self.variables.get(name) != other.variables.get(name):
                mine, theirs = self.variables.get(name), other.variables.get(name)
                refs = (mine.refs if mine else frozenset()) | (theirs.refs if theirs else frozenset())
                self.variables[name] = Value(None, refs, bool((mine and mine.exported) or (theirs and theirs.exported)))
        for name, body in other.functions.items():
            self.functions.setdefault(name, body)
        for name, alias in other.aliases.items():
            if self.aliases.get(name, alias) != alias:
                self.aliases[name] = None
            self.aliases.setdefault(name, alias)


@dataclass
class Apply:
    """faber-db reached with a change of a protected environment."""

    operation: str
    environment: str
    canonical: str | None
    plan_id: str | None
    project_root: Path | None
    details: list[str]
    node: Simple | None
    proof_ok: bool  # the invocation itself is one the gate can mint for (checked again on the whole text)


@dataclass
class Finding:
    reason: str
    apply: Apply | None = None


@dataclass
class Stdin:
    text: str | None  # None: not known before the command runs


class Analyzer:
    """One decision's walk: the hook's environment, the project the session is in, the findings."""

    def __init__(self, environ: Mapping[str, str], session_cwd: Path, deadline: float, wall_deadline: float) -> None:
        self.environ = environ
        self.session_cwd = session_cwd
        self.deadline = deadline  # in time.process_time(): CPU spent, whatever else the machine runs
        self.wall_deadline = wall_deadline  # in time.monotonic(): well before Claude Code's hook timeout
        self.findings: list[Finding] = []
        self.written: set[str] = set()
        self._protections: dict[Path, policy.Protection] = {}
        self._which: dict[str, str | None] = {}
        self.home_root, _ = policy.find_project_root(session_cwd, environ)
        self.home = self.protection(self.home_root) if self.home_root else None
        self.depth = 0
        self.ticks = 0

    # -- policy lookups --

    def protection(self, root: Path, environ: Mapping[str, str] | None = None) -> policy.Protection:
        env = self.environ if environ is None else environ
        if environ is not None and env.get("FABER_DB_CONFIG") != self.environ.get("FABER_DB_CONFIG"):
            return policy.protection(root, env)
        if root not in self._protections:
            self._protections[root] = policy.protection(root, env)
        return self._protections[root]

    def known_protections(self) -> list[policy.Protection]:
        return list(self._protections.values())

    def sensitive(self) -> frozenset[str]:
        names = set(SENSITIVE_VARIABLES) | {"DEV_DATABASE_URL", "STAGING_DATABASE_URL", "PROD_DATABASE_URL"}
        for prot in self.known_protections():
            names |= prot.url_variables
        return frozenset(names)

    def protected_variables(self) -> frozenset[str]:
        names = {"PROD_DATABASE_URL", "PRODUCTION_DATABASE_URL"}
        for prot in self.known_protections():
            names |= prot.protected_url_variables
            if prot.error is not None:
                names |= prot.url_variables
        return frozenset(names)

    def unprotected_variables(self) -> frozenset[str]:
        every = frozenset(v for prot in self.known_protections() for v in prot.url_variables)
        return every - self.protected_variables()

    def add(self, reason: str, apply: Apply | None = None) -> None:
        if all(f.reason != reason for f in self.findings):
            self.findings.append(Finding(reason, apply))

    def tick(self) -> None:
        self.ticks += 1
        if self.ticks % 64:
            return  # reading the clocks is a system call: look every 64 steps
        if time.process_time() > self.deadline or time.monotonic() > self.wall_deadline:
            raise OutOfTime("the command is too long to check in the time a hook has")

    # -- walking --

    def run_text(self, text: str, state: State, what: str) -> None:
        """Parse and walk shell text met inside the command (bash -c, eval, a script file)."""
        self.enter(what)
        try:
            try:
                script = parse(text, self.deadline)
            except ShellSyntaxError as exc:
                self.add(f"{what} is not shell text the gate can read ({exc})")
                return
            self.run_script(script, state)
        finally:
            self.depth -= 1

    def enter(self, what: str) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            self.depth -= 1
            raise Unsure(f"{what} nests shells, functions or files too deeply to follow")

    def run_script(self, script: Script, state: State) -> None:
        for andor, terminator in script.lists:
            self.tick()
            if terminator == "&":
                self.run_andor(andor, state.copy())  # in the background: its changes stay there
            else:
                self.run_andor(andor, state)

    def run_andor(self, andor: AndOr, state: State) -> None:
        before = state.copy()
        conditional = False
        for op, pipeline in andor.items:
            if op == "||":
                # runs only when what came before failed, part way perhaps: nothing is certain
                state.merge(before)
            conditional = conditional or bool(op)
            self.run_pipeline(pipeline, state)
        if conditional:
            state.merge(before)

    def run_pipeline(self, pipeline: Pipeline, state: State) -> None:
        if len(pipeline.commands) == 1:
            self.run_command(pipeline.commands[0], state, None)
            return
        stdin: Stdin | None = None
        for command in pipeline.commands:
            # each part of a pipe runs in a subshell: its cd and assignments do not leak out
            self.run_command(command, state.copy(), stdin)
            stdin = Stdin(self.output_of(command, state))

    def output_of(self, command: Command, state: State) -> str | None:
        """What a pipe's left side prints, when it is knowable (echo/printf of literals, cat of a file)."""
        if not isinstance(command, Simple) or not command.words:
            return None
        args = self.expand_all(command.words, state, analyze=False)
        if any(a.text is None for a in args):
            return None
        words = [a.text or "" for a in args]
        name = PurePosixPath(words[0]).name
        if name == "echo":
            rest = words[1:]
            while rest and rest[0] in ("-n", "-e", "-E", "-ne", "-en"):
                rest = rest[1:]
            return " ".join(rest) + "\n"
        if name == "printf" and len(words) >= 2 and "%" not in words[1]:
            return words[1].replace("\\n", "\n").replace("\\t", "\t")
        if name == "cat" and len(words) == 2:
            return self.read_file(words[1], state)
        return None

    def run_command(self, command: Command, state: State, stdin: Stdin | None) -> None:
        self.tick()
        if isinstance(command, Simple):
            self.run_simple(command, state, stdin)
        elif isinstance(command, FuncDef):
            state.functions[command.name] = command.body
            state.aliases.pop(command.name, None)
        else:
            self.run_compound(command, state, stdin)

    def run_compound(self, command: Compound, state: State, stdin: Stdin | None) -> None:
        heredoc_stdin = self.redirects(command.redirects, state)
        stdin = heredoc_stdin or stdin
        for word in command.items:
            self.expand(word, state)
        if command.kind == "group":
            self.run_script(command.bodies[0], state)
        elif command.kind == "subshell":
            self.run_script(command.bodies[0], state.copy())
        elif command.kind in ("for", "select") and command.var is not None:
            values = self.expand_all(command.items, state, analyze=False)
            before = state.copy()
            if all(v.text is not None for v in values) and len(values) <= MAX_LOOP_VALUES:
                for value in values:
                    branch = before.copy()
                    branch.variables[command.var] = Value(value.text)
                    self.run_script(command.bodies[0], branch)
                    state.merge(branch)
            else:
                branch = before.copy()
                refs = frozenset(r for v in values for r in v.refs)
                branch.variables[command.var] = Value(None, refs)
                self.run_script(command.bodies[0], branch)
                state.merge(branch)
            state.merge(before)
        else:  # if, while, until, case, arithmetic for: every body may or may not run
            before = state.copy()
            for body in command.bodies:
                branch = state.copy()
                self.run_script(body, branch)
                state.merge(branch)
            state.merge(before)

    # -- expansion --

    def expand(self, word: Word, state: State, analyze: bool = True) -> list[Arg]:
        """The word's expansion: one Arg, several (a split or "$@"), or an unknown."""
        pieces: list[str] = []
        refs: set[str] = set()
        known = True
        splits = False
        out: list[Arg] = []
        parts = word.parts
        for index, part in enumerate(parts):
            if isinstance(part, Lit):
                text = part.text
                if not part.quoted:
                    if index == 0 and text.startswith("~"):
                        home = _tilde(text)
                        if home is None:
                            known = False
                        else:
                            text = home
                    if _has_glob(text):
                        known = False
                pieces.append(text)
            elif isinstance(part, Param):
                if part.arg is not None:
                    for inner in self.expand(part.arg, state, analyze):
                        refs |= inner.refs
                if part.name in ("@", "*") and part.plain:
                    if state.positional is None:
                        known = False
                        splits = True
                        refs.add("@")
                        continue
                    if part.name == "@" and part.quoted and len(parts) == 1:
                        return list(state.positional)
                    values = state.positional
                    if any(v.text is None for v in values):
                        known = False
                    refs |= {r for v in values for r in v.refs}
                    pieces.append(" ".join(v.text or "" for v in values))
                    splits = splits or not part.quoted
                    continue
                value = self.lookup(part.name, state)
                refs |= value.refs | {part.name}
                if value.text is None or not part.plain:
                    known = False
                    splits = splits or not part.quoted
                else:
                    pieces.append(value.text)
                    if not part.quoted and (any(c in value.text for c in " \t\n") or _has_glob(value.text)):
                        splits = True
            elif isinstance(part, CmdSub):
                if analyze:
                    self.run_script(part.script, state.copy())
                known = False
                splits = splits or not part.quoted
                refs.add("$(...)")
            elif isinstance(part, Arith):
                if analyze:
                    self.expand(part.inner, state, analyze)
                known = False
            elif isinstance(part, ProcSub):
                if analyze:
                    self.run_script(part.script, state.copy())
                known = False
        if not known:
            out.append(Arg(None, frozenset(refs), splits, _literal_head(parts)))
            return out
        text = "".join(pieces)
        if splits:  # an unquoted variable holding blanks becomes several words
            return [Arg(piece, frozenset(refs)) for piece in text.split()]
        return [Arg(text, frozenset(refs))]

    def expand_all(self, words: list[Word], state: State, analyze: bool = True) -> list[Arg]:
        out: list[Arg] = []
        for word in words:
            out.extend(self.expand(word, state, analyze))
        return out

    def lookup(self, name: str, state: State) -> Value:
        if name in state.variables:
            return state.variables[name]
        if name == "CLAUDE_PLUGIN_ROOT":
            return Value(str(PLUGIN_ROOT))  # Claude Code's own value: where this hook is installed
        if name.isdigit() and state.positional is not None:
            index = int(name) - 1
            if 0 <= index < len(state.positional):
                arg = state.positional[index]
                return Value(arg.text, arg.refs)
            return Value("") if index >= 0 else Value("bash")
        return Value(None, frozenset({name}))

    # -- redirections and assignments --

    def redirects(self, redirects: list[Redirect], state: State) -> Stdin | None:
        stdin: Stdin | None = None
        for redirect in redirects:
            if redirect.heredoc is not None:
                body = redirect.heredoc.body
                if body is None:
                    stdin = Stdin(None)
                    continue
                args = self.expand(body, state)
                stdin = Stdin(body.raw if redirect.heredoc.quoted else (args[0].text if len(args) == 1 else None))
                continue
            if redirect.target is None:
                continue
            targets = self.expand(redirect.target, state)
            if redirect.op == "<<<":
                stdin = Stdin(targets[0].text if len(targets) == 1 else None)
                continue
            if redirect.writes:
                for target in targets:
                    if target.text is None:
                        continue
                    path = self.resolve(target.text, state)
                    self.written.add(str(path) if path else target.text)
                    guarded = self.guarded(target.text, state)
                    if guarded:
                        self.add(f"it writes {target.text}, {guarded}")
            elif redirect.op == "<" and targets and targets[0].text is not None:
                stdin = Stdin(self.read_file(targets[0].text, state))
        return stdin

    def assign(self, name: str, value: Arg | None, state: State, *, export: bool, scope_only: bool) -> None:
        """An assignment (prefix, plain, export/declare/read): record it, and flag sensitive names."""
        if name in self.sensitive():
            source = sorted((value.refs if value else frozenset()) & self.protected_variables())
            origin = f" from ${source[0]} (a protected environment's URL)" if source else ""
            self.add(f"it sets {name}{origin}, which decides which database, config, project or approval "
                     "faber-db and the migration tool use")
        if not scope_only:
            old = state.variables.get(name)
            exported = export or bool(old and old.exported)
            state.variables[name] = Value(value.text if value else None, value.refs if value else frozenset(),
                                          exported)

    # -- simple commands --

    def run_simple(self, command: Simple, state: State, stdin: Stdin | None) -> None:
        redirect_stdin = self.redirects(command.redirects, state)
        stdin = redirect_stdin or stdin
        prefix: dict[str, Arg] = {}
        for assignment in command.assigns:
            if assignment.value is not None:
                values = self.expand(assignment.value, state)
                value = values[0] if len(values) == 1 else Arg(None, frozenset(r for v in values for r in v.refs))
                if value.splits:  # an assignment never splits
                    value = Arg(None, value.refs)
            else:
                items = self.expand_all(assignment.items, state)
                value = Arg(None, frozenset(r for v in items for r in v.refs))
            if assignment.append:
                value = Arg(None, value.refs | {assignment.name})
            prefix[assignment.name] = value
            self.assign(assignment.name, value, state, export=False, scope_only=bool(command.words))
        if not command.words:
            return
        argv = self.expand_all(command.words, state)
        if not argv:
            return
        self.dispatch(argv, state, prefix, stdin, command)

    def dispatch(self, argv: list[Arg], state: State, prefix: dict[str, Arg], stdin: Stdin | None,
                 node: Simple | None) -> None:
        """What the program of an argument list does, wrappers followed."""
        self.tick()
        program = argv[0].text
        args = argv[1:]
        if program is None:
            self.unknown_program(argv)
            return
        name = PurePosixPath(program).name
        if "/" not in program:
            if program in state.aliases:
                self.run_alias(program, args, state, stdin)
                return
            if program in state.functions:
                self.run_function(program, args, state)
                return
        handler = _BUILTINS.get(program) if "/" not in program else None
        if handler is not None:
            handler(self, argv, state, prefix, stdin, node)
            return
        if name == "faber-db":
            self.faber(args, state, prefix, node, via=program)
        elif name in SHELLS or (name == "busybox" and args and args[0].text in ("sh", "ash")):
            self.shell(args[1:] if name == "busybox" else args, state, stdin)
        elif PYTHON.fullmatch(name):
            self.python(args, state, prefix, stdin, node)
        elif name in NODE:
            self.node(args, state, prefix, node)
        elif name in CODE_RUNNERS:
            self.code_runner(name, args, state)
        elif name in TOOL_PROGRAMS:
            self.tool_cli(TOOL_PROGRAMS[name], args)
        elif name in DB_TOOLS:
            self.db_tool(name, args, state, prefix)
        elif name == "git":
            self.git(args, state)
        else:
            command = self.script_command(program, state)
            if command is not None:
                self.faber([Arg(command), *args], state, prefix, node, via=program)
                return
            self.file_program(program, args, state, name)
            self.path_arguments(name, args, state)

    def unknown_program(self, argv: list[Arg]) -> None:
        """`$F migrate production`: the program is computed, so it may be faber-db."""
        words = [a.text for a in argv[1:]]
        interesting = policy.MUTATING_OPERATIONS | set(policy.MUTATING_FABER_PHASES) | {"-c", "-m", "-e"} | {
            command[-1] for tool in known_tools().values() for command in tool.changing_commands}
        names: set[str] = set()
        for prot in self.known_protections():
            names |= prot.names
        markers = ("faber", *TOOL_PROGRAMS, "psql", "sqlite", "DATABASE_URL")
        if any(w is None for w in words) or any(w in interesting or w in names for w in words if w) or any(
                m in (w or "") for w in words for m in markers):
            self.add("its program is computed at run time (a variable or substitution), so it may be faber-db "
                     "or a database tool")

    def run_alias(self, name: str, args: list[Arg], state: State, stdin: Stdin | None) -> None:
        text = state.aliases[name]
        if text is None:
            self.add(f"it runs the alias {name}, whose text is not known")
            return
        rendered = " ".join(_quote(a) for a in args)
        aliases = dict(state.aliases)
        state.aliases.pop(name)  # an alias is not expanded inside itself
        try:
            self.run_text(f"{text} {rendered}", state, f"the alias {name}")
        finally:
            state.aliases = aliases

    def run_function(self, name: str, args: list[Arg], state: State) -> None:
        body = state.functions[name]
        self.enter(f"the function {name}")
        try:
            saved = state.positional
            state.positional = list(args)
            self.run_command(body, state, None)
            state.positional = saved
        finally:
            self.depth -= 1

    # -- faber-db --

    def faber(self, args: list[Arg], state: State, prefix: dict[str, Arg], node: Simple | None, via: str) -> None:
        call = faber_cli.read([a.text for a in args])
        if call.exits and not call.unknown:
            words = [a.text for a in args if a.text is not None]
            if call.command in policy.MUTATING_OPERATIONS and _odd_apply(call, words):
                # faber-db refuses it as bad usage and changes nothing; an apply spelled oddly (an option
                # given twice, or a value option such as --approve or --project shortened) is still
                # worth a person's look. Help, and shortened or unknown flags, are not.
                why = (f"{' and '.join(sorted(call.repeated))} given more than once" if call.repeated
                       else "an option it does not know")
                self.add(f"it runs faber-db {call.command} with arguments faber-db refuses as bad usage ({why})")
            return
        if call.command is None:
            self.add("it runs faber-db with a command computed at run time")
            return
        if call.command == "init":
            self.init(call, state, prefix)
            return
        if call.command not in policy.MUTATING_OPERATIONS:
            return
        operation = call.command
        if call.unknown:
            self.add(f"it runs faber-db {operation} with arguments computed at run time")
            return
        if operation != "faber" and call.options.get("--dry-run") is True:
            return
        positional = call.positionals[0]
        environment = positional
        if operation == "faber":
            if positional not in policy.MUTATING_FABER_PHASES:
                return
            environment = policy.MUTATING_FABER_PHASES[positional]
            operation = f"faber {positional}"
        if call.repeated & {"--project", "--approve"}:
            self.add(f"it runs faber-db {operation} with {' and '.join(sorted(call.repeated))} given more than "
                     "once, so which project or plan applies is not plain")
            return
        root, why = self.governing_root(call, state, prefix)
        if root is None:
            self.add(f"it runs faber-db {operation} {environment}, but {why}")
            return
        env = self.command_environ(state, prefix)
        governing = self.protection(root, env)
        project_changed = isinstance(call.options.get("--project"), str) and root != self.discovered_root(state)
        if governing.error is not None:
            self.add(f"it runs faber-db {operation} {environment}, and the config that governs it cannot be "
                     f"read ({governing.error})")
            return
        canonical = governing.canonical(environment)
        if canonical is None:
            self.add(f"it runs faber-db {operation} {environment}, an environment {governing.source} does not "
                     "define (faber-db will refuse it)")
            return
        if not self.is_protected(environment, canonical, governing):
            if project_changed:
                self.add(f"it runs faber-db {operation} {environment} with --project {call.options['--project']}, "
                         "which changes which config decides what is protected")
            return
        plan = call.options.get("--approve")
        details = [f"{flag} {call.options[flag]}" for flag in ("--from", "--last", "--to")
                   if isinstance(call.options.get(flag), str)]
        details += [flag for flag in ("--allow-destructive", "--skip-backup", "--skip-health-check")
                    if call.options.get(flag) is True]
        exact = all(a.text.split("=", 1)[0] in faber_cli.option_names(call.command or "")
                    for a in args if a.text is not None and a.text.startswith("--"))
        proof_ok = node is not None and not prefix and not project_changed and exact and _canonical_program(
            via, args, call)
        where = (f" of the project named by --project {call.options['--project']} (not the one it runs in)"
                 if project_changed else "")
        apply = Apply(operation, environment, canonical, plan if isinstance(plan, str) else None, root, details,
                      node, proof_ok)
        self.add(f"it runs faber-db {operation} on the protected environment {canonical}{where}", apply)

    def is_protected(self, name: str, canonical: str, governing: policy.Protection) -> bool:
        """Protected in the config that governs, or in the session's own project, or using a protected
        environment's URL variable (a second config cannot make production's database unprotected)."""
        if governing.is_protected(name):
            return True
        if self.home is not None and (self.home.is_protected(name) or self.home.error is not None):
            return True
        url_env = governing.environments[canonical].url_env
        return url_env in self.protected_variables()

    def governing_root(self, call: faber_cli.Call, state: State,
                       prefix: dict[str, Arg]) -> tuple[Path | None, str]:
        project = call.options.get("--project")
        if isinstance(project, str):
            path = Path(project).expanduser()
            if not path.is_absolute():
                if state.cwd is None:
                    return None, f"--project {project} is relative to a folder that is not known before it runs"
                path = state.cwd / path
            return Path(os.path.abspath(path)).resolve(), ""
        env = self.command_environ(state, prefix)
        if "CLAUDE_DB_CWD" in prefix or "CLAUDE_DB_CWD" in state.variables:
            value = prefix.get("CLAUDE_DB_CWD") or state.variables["CLAUDE_DB_CWD"]
            if value.text is None:
                return None, "CLAUDE_DB_CWD is computed at run time"
        if state.cwd is None:
            return None, "it runs in a folder that is not known before it runs (a cd that may not happen, or " \
                         "to a computed or missing folder), so which project's config governs is not known"
        root, searched = policy.find_project_root(state.cwd, env)
        if root is None:
            return None, f"no faber-db project is found from {state.cwd} (searched {len(searched)} folders)"
        return root, ""

    def discovered_root(self, state: State) -> Path | None:
        if state.cwd is None:
            return None
        return policy.find_project_root(state.cwd, self.environ)[0]

    def command_environ(self, state: State, prefix: dict[str, Arg]) -> dict[str, str]:
        env = dict(self.environ)
        for name, value in state.variables.items():
            if value.exported and value.text is not None:
                env[name] = value.text
        for name, arg in prefix.items():
            if arg.text is not None:
                env[name] = arg.text
        return env

    def init(self, call: faber_cli.Call, state: State, prefix: dict[str, Arg]) -> None:
        if call.options.get("--force") is not True:
            return
        root, _ = self.governing_root(call, state, prefix)
        if root is None or policy.config_file(root, self.command_environ(state, prefix))[0].is_file():
            self.add("it runs faber-db init --force, which replaces the faber-db config (and what it protects)")

    def script_command(self, program: str, state: State) -> str | None:
        """The faber-db command a skill script (or a copy of one) runs, from its path or its content."""
        if "/" not in program and not program.endswith(".py"):
            return None
        path = self.resolve(program, state)
        text = str(path) if path is not None else program
        for script, command in policy.SCRIPT_COMMANDS.items():
            if text.endswith("/" + script) or text == script:
                return command
        if not program.endswith(".py"):
            return None
        content = self.read_file(program, state)
        if content is None:
            return {"apply_migration.py": "migrate", "db_create.py": "db-create",
                    "faber_phase.py": "faber"}.get(PurePosixPath(program).name)
        return self.script_command_in(content)

    @staticmethod
    def script_command_in(content: str) -> str | None:
        """The command of a skill script's text (a copy runs the same CLI as the original)."""
        m = SKILL_COMMAND.search(content)
        return m.group(1) if m and "faber_db" in content else None

    # -- files --

    def resolve(self, text: str, state: State) -> Path | None:
        path = Path(text)
        if not path.is_absolute():
            if state.cwd is None:
                return None
            path = state.cwd / path
        return Path(os.path.normpath(path))

    def read_file(self, text: str, state: State) -> str | None:
        path = self.resolve(text, state)
        if path is None:
            return None
        try:
            with path.open("rb") as handle:
                return handle.read(MAX_FILE_BYTES).decode("utf-8", "replace")
        except OSError:
            return None

    def was_written(self, text: str, state: State) -> bool:
        path = self.resolve(text, state)
        return (str(path) if path else text) in self.written

    def guarded(self, text: str, state: State) -> str | None:
        """Why a path is one that only the person may change, or None."""
        path = self.resolve(text, state)
        candidates = [text] + ([str(path)] if path is not None else [])
        for candidate in candidates:
            reason = guarded_path(candidate, self)
            if reason:
                return reason
        return None

    def file_program(self, program: str, args: list[Arg], state: State, name: str) -> None:
        """A program run by path (./deploy.sh) or found on PATH that is a script: read it."""
        if "/" in program:
            if self.was_written(program, state):
                self.add(f"it runs {program}, which the same command writes first, so its content is not known")
                return
            content = self.read_file(program, state)
        else:
            if name in NOT_SCRIPTS:
                return
            content = self.path_script(program)
        if content is None or not content.startswith("#!"):
            return
        shebang = content.split("\n", 1)[0]
        interpreter = PurePosixPath(shebang[2:].strip().split(" ")[0]).name
        if interpreter == "env" and len(shebang.split()) > 1:
            interpreter = PurePosixPath(shebang.split()[-1]).name
        if interpreter in SHELLS:
            child = state.copy()
            child.positional = list(args)
            self.run_text(content, child, f"the script {program}")
        elif PYTHON.fullmatch(interpreter):
            self.python_code(content, f"the Python script {program}")

    def path_script(self, program: str) -> str | None:
        if program not in self._which:
            found = shutil.which(program, path=self.environ.get("PATH"))
            self._which[program] = found
        found = self._which[program]
        if found is None:
            return None
        try:
            with open(found, "rb") as handle:
                head = handle.read(MAX_FILE_BYTES)
        except OSError:
            return None
        return head.decode("utf-8", "replace") if head.startswith(b"#!") else None

    def path_arguments(self, name: str, args: list[Arg], state: State) -> None:
        for arg in args:  # reading the approval key is as dangerous as writing it
            if not arg.text or ("faber-db" not in arg.text and "approval" not in arg.text):
                continue
            path = self.resolve(arg.text, state)
            if path is not None and (str(path) + "/").startswith(APPROVALS + "/"):
                self.add(f"`{name}` reaches into faber-db's approval key folder ({arg.text})")
        if name in READ_ONLY:
            return
        for arg in args:
            if arg.text is None:
                continue
            text = arg.text.split("=", 1)[1] if arg.text.startswith("--") and "=" in arg.text else arg.text
            if text.startswith("-") or not text:
                continue
            guarded = self.guarded(text, state)
            if guarded:
                self.add(f"`{name}` touches {text}, {guarded}")
            if name in WRITERS:
                path = self.resolve(text, state)
                self.written.add(str(path) if path else text)

    def git(self, args: list[Arg], state: State) -> None:
        sub = next((a.text for a in args if a.text is None or not a.text.startswith("-")), "")
        if sub in GIT_READ_ONLY:
            return
        self.path_arguments("git", args, state)

    # -- interpreters --

    def shell(self, args: list[Arg], state: State, stdin: Stdin | None) -> None:
        i = 0
        command_string = False
        while i < len(args):
            text = args[i].text
            if text is None:
                self.add("it runs a shell with options computed at run time")
                return
            if text == "--":
                i += 1
                break
            if text in ("-o", "+o", "-O", "+O", "--rcfile", "--init-file"):
                i += 2
                continue
            if text.startswith("-") and not text.startswith("--") and len(text) > 1:
                command_string = command_string or "c" in text[1:]
                i += 1
                continue
            if text.startswith("--") or (text.startswith("+") and len(text) > 1):
                i += 1
                continue
            break
        rest = args[i:]
        if command_string:
            if not rest:
                return
            if rest[0].text is None:
                self.add("it runs `sh -c` with a script computed at run time")
                return
            child = state.copy()
            child.positional = rest[2:]
            self.run_text(rest[0].text, child, "the `sh -c` script")
            return
        if rest:
            script = rest[0].text
            if script is None:
                self.add("it runs a shell script whose path is computed at run time")
                return
            if self.was_written(script, state):
                self.add(f"it runs {script}, which the same command writes first")
                return
            content = self.read_file(script, state)
            if content is not None:
                child = state.copy()
                child.positional = rest[1:]
                self.run_text(content, child, f"the script {script}")
            return
        if stdin is None:
            return  # an interactive shell on the terminal: the person types
        if stdin.text is None:
            self.add("it pipes text that is only known at run time into a shell")
            return
        self.run_text(stdin.text, state.copy(), "the script piped into the shell")

    def python(self, args: list[Arg], state: State, prefix: dict[str, Arg], stdin: Stdin | None,
               node: Simple | None) -> None:
        i = 0
        while i < len(args):
            text = args[i].text
            if text is None:
                self.add("it runs Python with arguments computed at run time")
                return
            if text in ("-X", "-W", "--check-hash-based-pycs"):
                i += 2
                continue
            if text == "-":
                self.python_stdin(stdin)
                return
            if text.startswith("-") and not text.startswith("--") and len(text) > 1:
                flags = text[1:]
                for index, flag in enumerate(flags):
                    if flag in "cm":
                        value = flags[index + 1:] or (args[i + 1].text if i + 1 < len(args) else "")
                        rest = args[i + 1:] if flags[index + 1:] else args[i + 2:]
                        if value is None:
                            self.add(f"it runs Python -{flag} with a value computed at run time")
                            return
                        if flag == "c":
                            self.python_code(value, "the Python code")
                        elif value.split(".")[0] == "faber_db":
                            self.faber(rest, state, prefix, node, via="python -m")
                        return
                i += 1
                continue
            if text.startswith("--"):
                i += 1
                continue
            break
        if i >= len(args):
            self.python_stdin(stdin)
            return
        script = args[i].text or ""
        if self.was_written(script, state):
            self.add(f"it runs {script}, which the same command writes first")
            return
        command = self.script_command(script, state)
        if command is not None:
            self.faber([Arg(command), *args[i + 1:]], state, prefix, node, via=f"python {script}")
            return
        content = self.read_file(script, state)
        if content is not None:
            self.python_code(content, f"the Python script {script}")

    def python_stdin(self, stdin: Stdin | None) -> None:
        if stdin is None:
            return
        if stdin.text is None:
            self.add("it pipes a program that is only known at run time into Python")
            return
        self.python_code(stdin.text, "the Python program on its standard input")

    def python_code(self, code: str, what: str) -> None:
        marker = self.code_marker(code)
        if marker:
            self.add(f"{what} uses {marker}; the gate cannot follow what Python code does")

    def code_marker(self, code: str) -> str | None:
        markers = list(CODE_MARKERS) + sorted(self.protected_variables()) + [str(proof.approval_dir())]
        for marker in markers:
            if marker in code:
                return marker
        return None

    def node(self, args: list[Arg], state: State, prefix: dict[str, Arg], node: Simple | None) -> None:
        for index, arg in enumerate(args):
            if arg.text in ("-e", "--eval", "-p", "--print") and index + 1 < len(args):
                code = args[index + 1].text
                if code is None:
                    self.add("it runs JavaScript computed at run time")
                else:
                    self.python_code(code, "the JavaScript code")
                return
            if arg.text is None:
                return
            if arg.text.startswith("-") or arg.text in ("run", "x", "exec"):
                continue
            tool = _tool_entry(arg.text)
            if tool is not None:
                self.tool_cli(tool, args[index + 1:])
                return
            content = self.read_file(arg.text, state)
            if content is not None:
                self.python_code(content, f"the script {arg.text}")
            return

    def code_runner(self, name: str, args: list[Arg], state: State) -> None:
        flags = CODE_RUNNERS[name]
        for index, arg in enumerate(args):
            if arg.text in flags and index + 1 < len(args):
                code = args[index + 1].text
                if code is None:
                    self.add(f"it runs {name} code computed at run time")
                else:
                    self.python_code(code, f"the {name} code")

    # -- raw database tools --

    def tool_cli(self, tool: ToolFacts, args: list[Arg]) -> None:
        """A migration tool's own CLI: its commands that change a database bypass faber-db."""
        words: list[str | None] = []
        for arg in args:
            if arg.text is None:
                words.append(None)
            elif not arg.text.startswith("-"):
                words.append(arg.text)
        if any(a.text in ("-h", "--help") for a in args):
            return
        if len(words) >= 2 and None in words[:2]:
            self.add(f"it runs a {tool.display_name} command computed at run time")
            return
        if len(words) >= 2 and (words[0], words[1]) in tool.changing_commands:
            self.add(f"it runs `{tool.name} {words[0]} {words[1]}` outside faber-db: no plan, no backup, no "
                     "restore, against whichever database its URL variable names")

    def db_tool(self, name: str, args: list[Arg], state: State, prefix: dict[str, Arg]) -> None:
        protected = self.protected_variables()
        harmless = self.unprotected_variables()
        every = [*args, *prefix.values()]
        for arg in every:
            hit = arg.refs & protected
            if hit:
                self.add(f"`{name}` is aimed at a protected database (${sorted(hit)[0]})")
                return
        for arg in every:
            if arg.text is None and not arg.refs <= harmless:
                self.add(f"`{name}` is aimed at a database computed at run time")
                return
        targets = self.protected_targets()
        if name in ("sqlite3", "litecli", "sqlite-utils"):
            for arg in args:
                text = arg.text or ""
                path = self.resolve(text, state) if text and not text.startswith("-") else None
                if path is not None and (str(path.resolve()) in targets.files or path.name in targets.names):
                    self.add(f"`{name}` opens {text}, a protected environment's database file")
                    return
            return
        pg_environment = {n: Arg(self.environ[n]) for n in ("PGHOST", "PGDATABASE") if self.environ.get(n)}
        pg_environment.update({n: Arg(v.text, v.refs) for n, v in state.variables.items()
                               if v.exported and n in ("PGHOST", "PGDATABASE")})
        hosts, databases = _pg_target(args, {**pg_environment, **prefix})
        for host, database in targets.servers:
            local = host in _LOCAL_HOSTS
            host_named = host in hosts or (not hosts and local)
            if (host_named and not local) or (host_named and database in databases):
                self.add(f"`{name}` is aimed at a protected environment's database ({database} on {host})")
                return

    def protected_targets(self) -> _Targets:
        targets = _Targets()
        roots = [p.project_root for p in self.known_protections()]
        for variable in self.protected_variables():
            url = self.environ.get(variable)
            if not url:
                continue
            if url.startswith("file:"):
                raw = unquote(url[5:].split("?", 1)[0])
                for root in roots:
                    for base in URL_FILE_BASES:
                        candidate = Path(raw) if raw.startswith("/") else root / base / raw
                        targets.files.add(str(Path(os.path.abspath(candidate)).resolve()))
                targets.names.add(PurePosixPath(raw).name)
            else:
                server = _server(url)
                if server is not None:
                    targets.servers.add(server)
        return targets


@dataclass
class _Targets:
    files: set[str] = field(default_factory=set)  # protected SQLite files, resolved
    names: set[str] = field(default_factory=set)  # ... and their file names
    servers: set[tuple[str, str]] = field(default_factory=set)  # protected PostgreSQL (host, database)


_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", ""})
_PG_VALUE_OPTIONS = frozenset({"-h", "--host", "-d", "--dbname", "-p", "--port", "-U", "--username", "-f", "--file",
                               "-c", "--command", "-v", "--set", "-o", "--output", "-L", "--log-file", "-n", "-t",
                               "-T", "-P", "-F", "-R", "-j", "--jobs", "-S", "--superuser", "-N", "--schema",
                               "--table", "-I", "--index", "-e", "--exclude-schema"})


def _server(url: str) -> tuple[str, str] | None:
    """(host, database) of a PostgreSQL URL or conninfo string, or None."""
    if "=" in url and "://" not in url:
        fields = dict(item.partition("=")[::2] for item in url.split())
        return fields.get("host", ""), fields.get("dbname", "")
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if not parts.scheme.startswith("postgres"):
        return None
    return parts.hostname or "", unquote(parts.path.lstrip("/"))


def _pg_target(args: list[Arg], prefix: dict[str, Arg]) -> tuple[set[str], set[str]]:
    """The hosts and databases a psql/pg_restore/createdb/dropdb command line names."""
    hosts: set[str] = set()
    databases: set[str] = set()
    for name, arg in prefix.items():
        if arg.text is not None and name == "PGHOST":
            hosts.add(arg.text)
        elif arg.text is not None and name == "PGDATABASE":
            databases.add(arg.text)
    texts = [a.text or "" for a in args]
    i = 0
    while i < len(texts):
        text = texts[i]
        flag, eq, inline = text.partition("=")
        value = inline if eq and flag.startswith("--") else (texts[i + 1] if i + 1 < len(texts) else "")
        if flag in ("-h", "--host"):
            hosts.add(value)
        elif flag in ("-d", "--dbname"):
            server = _server(value)
            if server is not None and ("://" in value or "=" in value):
                hosts.add(server[0])
                databases.add(server[1])
            else:
                databases.add(value)
        if text.startswith("-"):
            i += 2 if flag in _PG_VALUE_OPTIONS and not eq and len(text) == len(flag) else 1
            continue
        server = _server(text)
        if server is not None and ("://" in text or "=" in text):
            hosts.add(server[0])
            databases.add(server[1])
        else:
            databases.add(text)  # psql DBNAME, createdb/dropdb NAME
        i += 1
    return hosts, databases


def guarded_path(text: str, analyzer: Analyzer | None) -> str | None:
    """Why a path belongs to what only the person may change (config, plans, approvals, migrations,
    the plugin, Claude Code's settings, a protected SQLite file), or None."""
    normal = os.path.normpath(text) if text else text
    posix = PurePosixPath(normal)
    components = f"/{normal}/"  # match whole path components: docs/<tool>/migrations.md is no migration
    if f"/{policy.CONFIG_DIR}/" in components:
        return "inside faber-db's config folder (config, plans, audit trail, backups)"
    if normal == APPROVALS or normal.startswith(APPROVALS + "/"):
        return "inside faber-db's approval key folder"
    for tool in known_tools().values():
        if any(f"/{folder}/" in components for folder in tool.migrations_paths):
            return f"inside the {tool.display_name} migrations folder"
        if posix.name in tool.config_names:
            return f"the {tool.display_name} config (which names the database URL variable)"
    if posix.name in ("settings.json", "settings.local.json") and posix.parent.name == ".claude":
        return "Claude Code's settings (hooks and permissions)"
    plugin = str(PLUGIN_ROOT)
    if normal == plugin or normal.startswith(plugin + "/"):
        return "inside the faber-db plugin (its approval gate and CLI)"
    if analyzer is None:
        return None
    override = analyzer.environ.get("FABER_DB_CONFIG")
    if override and normal.endswith(os.path.normpath(override)):
        return "the faber-db config named by FABER_DB_CONFIG"
    for prot in analyzer.known_protections():
        migrations = os.path.normpath(prot.project_root / prot.migrations_dir)
        if normal == migrations or normal.startswith(migrations + "/"):
            return "inside the migrations folder"
    targets = analyzer.protected_targets()
    base = normal.removesuffix("-wal").removesuffix("-shm").removesuffix("-journal")
    if base in targets.files:
        return "a protected environment's database file"
    return None


def _tool_entry(text: str) -> ToolFacts | None:
    """The migration tool whose CLI a JavaScript runtime's argument names (its entry script, or its
    `node_modules/.bin` link), if any."""
    for tool in known_tools().values():
        if any(entry in text for entry in tool.entry_scripts) or any(
                text.endswith(f"/.bin/{program}") for program in tool.programs):
            return tool
    return None


def _literal_head(parts: list[Lit | Param | CmdSub | Arith | ProcSub]) -> str:
    head: list[str] = []
    for part in parts:
        if not isinstance(part, Lit):
            break
        head.append(part.text)
    return "".join(head)


def _tilde(text: str) -> str | None:
    head, sep, rest = text.partition("/")
    if head == "~":
        return str(_HOME) + sep + rest
    try:
        return pwd.getpwnam(head[1:]).pw_dir + sep + rest
    except KeyError:
        return None


def _has_glob(text: str) -> bool:
    bracket = text.find("[")
    if "*" in text or "?" in text or (bracket >= 0 and text.find("]", bracket + 1) > 0):
        return True
    start = text.find("{")
    return start >= 0 and text.find("}", start) > 0 and ("," in text[start:] or ".." in text[start:])


def _quote(arg: Arg) -> str:
    if arg.text is None:
        return '"$__faber_gate_unknown__"'
    return "'" + arg.text.replace("'", "'\\''") + "'"


def _canonical_program(via: str, args: list[Arg], call: faber_cli.Call) -> bool:
    """The apply was reached as `faber-db ...` or a skill script under the plugin root (not python -m,
    not a copy), with a literal plan id, and nothing unusual about its arguments."""
    if not isinstance(call.options.get("--approve"), str) or call.repeated:
        return False
    if via == "faber-db" or os.path.realpath(via) == str(PLUGIN_ROOT / "bin" / "faber-db"):
        return True
    script = os.path.realpath(via.removeprefix("python "))
    return any(script == str(PLUGIN_ROOT / relative) for relative in policy.SCRIPT_COMMANDS)


# -- builtins and wrappers --------------------------------------------------------------------


def _cd(a: Analyzer, argv: list[Arg], state: State, prefix: dict[str, Arg], stdin: Stdin | None,
        node: Simple | None) -> None:
    name = argv[0].text
    args = [x for x in argv[1:] if x.text is None or not x.text.startswith("-") or x.text == "-"]
    if name == "popd":
        state.cwd = state.dirstack.pop() if state.dirstack else None
        return
    if name == "pushd":
        state.dirstack.append(state.cwd)
    target = args[0].text if args else None
    old = state.cwd
    if not args or target is None:
        state.cwd = None  # `cd` alone goes to $HOME, as the shell sees it; computed targets are unknown
    elif target == "-":
        state.cwd = state.oldpwd
    elif a.environ.get("CDPATH") and not target.startswith(("/", "./", "../")):
        state.cwd = None
    else:
        path = a.resolve(target, state)
        state.cwd = Path(os.path.abspath(path)).resolve() if path is not None and path.is_dir() else None
    state.oldpwd = old


def _export(a: Analyzer, argv: list[Arg], state: State, prefix: dict[str, Arg], stdin: Stdin | None,
            node: Simple | None) -> None:
    command = argv[0].text
    export = command == "export" or any(x.text is not None and x.text.startswith("-") and "x" in x.text
                                        for x in argv[1:])
    for arg in argv[1:]:
        text = arg.text
        if text is None:
            name = arg.head.partition("=")[0].removesuffix("+")
            if "=" in arg.head and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                a.assign(name, Arg(None, arg.refs), state, export=export, scope_only=False)
            else:
                a.add(f"`{command}` sets a variable whose name is computed at run time (it may be DATABASE_URL)")
            continue
        if text.startswith(("-", "+")):
            continue
        name, sep, value = text.partition("=")
        name = name.removesuffix("+")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            continue
        if sep:
            a.assign(name, Arg(value, arg.refs), state, export=export, scope_only=False)
        elif name in state.variables:
            old = state.variables[name]
            state.variables[name] = replace(old, exported=export or old.exported)
        elif export and name in a.sensitive():
            a.add(f"it exports {name}, which decides which database, config, project or approval faber-db uses")


def _unset(a: Analyzer, argv: list[Arg], state: State, prefix: dict[str, Arg], stdin: Stdin | None,
           node: Simple | None) -> None:
    for arg in argv[1:]:
        if arg.text and not arg.text.startswith("-"):
            state.variables.pop(arg.text, None)
            state.functions.pop(arg.text, None)


def _read_into(a: Analyzer, argv: list[Arg], state: State, prefix: dict[str, Arg], stdin: Stdin | None,
               node: Simple | None) -> None:
    """read / mapfile / readarray / printf -v / getopts: assign values known only at run time."""
    command = argv[0].text
    names: list[str] = []
    args = argv[1:]
    if command == "printf":
        for index, arg in enumerate(args):
            if arg.text == "-v" and index + 1 < len(args) and args[index + 1].text:
                names.append(args[index + 1].text or "")
    elif command == "getopts":
        names = [x.text for x in args[1:2] if x.text]
    else:
        skip = {"-p", "-d", "-t", "-n", "-N", "-u", "-a", "-i", "-C", "-c", "-O", "-s"} if command == "read" else {
            "-d", "-n", "-O", "-s", "-u", "-C", "-c"}
        index = 0
        while index < len(args):
            text = args[index].text
            if text is None:
                a.add(f"`{command}` assigns a variable whose name is computed at run time")
                return
            if text in skip:
                if text == "-a" and index + 1 < len(args) and args[index + 1].text:
                    names.append(args[index + 1].text or "")
                index += 2
                continue
            if not text.startswith("-"):
                names.append(text)
            index += 1
    for name in names:
        a.assign(name, Arg(None, frozenset({"$(read)"})), state, export=False, scope_only=False)


def _alias(a: Analyzer, argv: list[Arg], state: State, prefix: dict[str, Arg], stdin: Stdin | None,
           node: Simple | None) -> None:
    for arg in argv[1:]:
        if arg.text is None:
            a.add("it defines an alias computed at run time")
            continue
        name, sep, value = arg.text.partition("=")
        if sep:
            state.aliases[name] = value
            state.functions.pop(name, None)


def _eval(a: Analyzer, argv: list[Arg], state: State, prefix: dict[str, Arg], stdin: Stdin | None,
          node: Simple | None) -> None:
    if any(x.text is None for x in argv[1:]):
        a.add("it evals text computed at run time")
        return
    a.run_text(" ".join(x.text or "" for x in argv[1:]), state, "the eval'd text")


def _source(a: Analyzer, argv: list[Arg], state: State, prefix: dict[str, Arg], stdin: Stdin | None,
            node: Simple | None) -> None:
    if len(argv) < 2:
        return
    path = argv[1].text
    if path is None:
        a.add("it sources a file whose path is computed at run time")
        return
    if a.was_written(path, state):
        a.add(f"it sources {path}, which the same command writes first")
        return
    content = a.read_file(path, state)
    if content is None and path == "/dev/stdin" and stdin is not None:
        content = stdin.text
        if content is None:
            a.add("it sources text only known at run time")
            return
    if content is not None:
        saved = state.positional
        if len(argv) > 2:
            state.positional = list(argv[2:])
        a.run_text(content, state, f"the sourced file {path}")
        state.positional = saved


def _skip_options(args: list[Arg], with_value: frozenset[str], stop_at_first_plain: bool = True) -> int:
    i = 0
    while i < len(args):
        text = args[i].text
        if text is None:
            return i
        if text == "--":
            return i + 1
        if not text.startswith("-") or text == "-":
            return i
        flag = text.split("=", 1)[0]
        i += 2 if flag in with_value and "=" not in text else 1
    return i


# wrapper -> options that take a value
_WRAPPER_OPTIONS: dict[str, frozenset[str]] = {
    "nohup": frozenset(), "time": frozenset(), "builtin": frozenset(), "setsid": frozenset(),
    "nice": frozenset({"-n", "--adjustment"}), "ionice": frozenset({"-c", "-n", "--class", "--classdata"}),
    "stdbuf": frozenset({"-i", "-o", "-e", "--input", "--output", "--error"}),
    "sudo": frozenset({"-u", "-g", "-h", "-p", "-C", "-D", "-r", "-t", "-T", "-U", "--user", "--group",
                       "--prompt", "--chdir", "--role", "--type"}),
    "doas": frozenset({"-u"}), "exec": frozenset({"-a"}), "command": frozenset(), "unbuffer": frozenset(),
    "chronic": frozenset(), "caffeinate": frozenset({"-t", "-w"}), "catchsegv": frozenset(),
    "strace": frozenset({"-o", "-e", "-p", "-s", "-u", "-E", "-a", "-b", "-I", "-P", "-S", "-X"}),
    "ltrace": frozenset({"-o", "-e", "-p", "-s", "-u", "-a", "-n", "-l"}), "taskset": frozenset(),
    "chrt": frozenset(), "torsocks": frozenset(), "proxychains": frozenset({"-f"}),
    "uvx": frozenset({"--from", "--with", "-p", "--python"}), "pipx": frozenset({"--spec"}),
}


def _wrapper(a: Analyzer, argv: list[Arg], state: State, prefix: dict[str, Arg], stdin: Stdin | None,
             node: Simple | None) -> None:
    name = argv[0].text or ""
    args = argv[1:]
    if name == "command" and any(x.text in ("-v", "-V") for x in args[:2]):
        return
    if name in ("sudo", "doas") and any(x.text in ("-l", "-v", "-k", "-K", "-e") for x in args[:1]):
        if args and args[0].text == "-e":
            a.path_arguments("sudoedit", args[1:], state)
        return
    if name == "pipx" and args and args[0].text == "run":
        args = args[1:]
    start = _skip_options(args, _WRAPPER_OPTIONS.get(name, frozenset()))
    rest = args[start:]
    if name in ("taskset", "chrt") and rest:
        rest = rest[1:]  # the cpu mask or the priority
    if rest:
        a.dispatch(rest, state, {} if name == "sudo" else prefix, stdin, None)


def _timeout(a: Analyzer, argv: list[Arg], state: State, prefix: dict[str, Arg], stdin: Stdin | None,
             node: Simple | None) -> None:
    start = _skip_options(argv[1:], frozenset({"-s", "-k", "--signal", "--kill-after"}))
    rest = argv[1 + start + 1:]
    if rest:
        a.dispatch(rest, state, prefix, stdin, None)


def _env(a: Analyzer, argv: list[Arg], state: State, prefix: dict[str, Arg], stdin: Stdin | None,
         node: Simple | None) -> None:
    args = argv[1:]
    scoped = dict(prefix)
    child = state
    i = 0
    while i < len(args):
        text = args[i].text
        if text is None:
            name = args[i].head.partition("=")[0]
            if "=" in args[i].head and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                scoped[name] = Arg(None, args[i].refs)
                a.assign(name, scoped[name], state, export=True, scope_only=True)
                i += 1
                continue
            a.add("it runs `env` with arguments computed at run time")
            return
        if text in ("-S", "--split-string") or text.startswith(("-S", "--split-string=")):
            value = text[2:] if text.startswith("-S") and len(text) > 2 else (
                text.split("=", 1)[1] if "=" in text else (args[i + 1].text if i + 1 < len(args) else ""))
            consumed = 1 if (len(text) > 2 and text.startswith("-S")) or "=" in text else 2
            if value is None:
                a.add("it runs `env -S` with a string computed at run time")
                return
            try:
                words = parse(value, a.deadline)
            except ShellSyntaxError:
                a.add("it runs `env -S` with a string the gate cannot split")
                return
            split = _first_words(words, a, state)
            a.dispatch([Arg("env"), *split, *args[i + consumed:]], state, scoped, stdin, None)
            return
        if text in ("-u", "--unset", "-C", "--chdir"):
            if text in ("-C", "--chdir"):
                child = state.copy()
                target = args[i + 1].text if i + 1 < len(args) else None
                path = a.resolve(target, state) if target else None
                child.cwd = path if path is not None and path.is_dir() else None
            i += 2
            continue
        if text.startswith("--chdir="):
            child = state.copy()
            path = a.resolve(text.split("=", 1)[1], state)
            child.cwd = path if path is not None and path.is_dir() else None
            i += 1
            continue
        if text == "--":
            i += 1
            continue
        if text.startswith("-"):
            i += 1
            continue
        if "=" in text and re.match(r"[A-Za-z_][A-Za-z0-9_]*=", text):
            name, _, value = text.partition("=")
            scoped[name] = Arg(value, args[i].refs)
            a.assign(name, scoped[name], state, export=True, scope_only=True)
            i += 1
            continue
        break
    if i < len(args):
        a.dispatch(args[i:], child, scoped, stdin, None)


def _first_words(script: Script, a: Analyzer, state: State) -> list[Arg]:
    """The words of the first simple command of a parsed string (for env -S)."""
    for andor, _ in script.lists:
        for _, pipeline in andor.items:
            for command in pipeline.commands:
                if isinstance(command, Simple):
                    return a.expand_all(command.words, state)
    return []


_XARGS_VALUES = frozenset({"-a", "-d", "-E", "-e", "-I", "-i", "-L", "-l", "-n", "-P", "-s", "--arg-file",
                           "--delimiter", "--eof", "--replace", "--max-lines", "--max-args", "--max-procs",
                           "--max-chars", "--process-slot-var"})


def _xargs(a: Analyzer, argv: list[Arg], state: State, prefix: dict[str, Arg], stdin: Stdin | None,
           node: Simple | None) -> None:
    """xargs PROGRAM ARGS...: the program runs with further arguments read from its input."""
    args = argv[1:]
    start = _skip_options(args, _XARGS_VALUES)
    rest = args[start:] or [Arg("echo")]
    tail = [Arg(None, frozenset({"$(xargs)"}), splits=True)]
    a.dispatch([*rest, *tail], state, prefix, None, None)


def _find(a: Analyzer, argv: list[Arg], state: State, prefix: dict[str, Arg], stdin: Stdin | None,
          node: Simple | None) -> None:
    args = argv[1:]
    i = 0
    while i < len(args):
        text = args[i].text
        if text in ("-exec", "-execdir", "-ok", "-okdir"):
            j = i + 1
            command: list[Arg] = []
            while j < len(args) and args[j].text not in (";", "+"):
                command.append(Arg(None, frozenset({"{}"})) if args[j].text == "{}" else args[j])
                j += 1
            if command:
                a.dispatch(command, state.copy(), prefix, None, None)
            i = j + 1
            continue
        if text == "-delete" or text in ("-fprint", "-fprintf", "-fls"):
            a.path_arguments("find", args[:1], state)
        i += 1


def _flock(a: Analyzer, argv: list[Arg], state: State, prefix: dict[str, Arg], stdin: Stdin | None,
           node: Simple | None) -> None:
    args = argv[1:]
    start = _skip_options(args, frozenset({"-w", "-E", "--timeout", "--conflict-exit-code"}))
    rest = args[start + 1:]  # after the lock file
    _command_string(a, rest, state, stdin, flag="-c")


def _command_string(a: Analyzer, rest: list[Arg], state: State, stdin: Stdin | None, flag: str) -> None:
    for index, arg in enumerate(rest):
        if arg.text in (flag, "--command"):
            if index + 1 < len(rest):
                code = rest[index + 1].text
                if code is None:
                    a.add("it runs a command string computed at run time")
                else:
                    a.run_text(code, state.copy(), "the command string")
            return
    if rest:
        a.dispatch(rest, state, {}, stdin, None)


def _su(a: Analyzer, argv: list[Arg], state: State, prefix: dict[str, Arg], stdin: Stdin | None,
        node: Simple | None) -> None:
    args = argv[1:]
    for index, arg in enumerate(args):
        if arg.text in ("-c", "--command") and index + 1 < len(args):
            code = args[index + 1].text
            if code is None:
                a.add("it runs a command string computed at run time")
            else:
                a.run_text(code, state.copy(), "the command string")
            return
    if argv[0].text == "runuser" and "--" in [x.text for x in args]:
        rest = args[[x.text for x in args].index("--") + 1:]
        if rest:
            a.dispatch(rest, state, {}, stdin, None)


def _script(a: Analyzer, argv: list[Arg], state: State, prefix: dict[str, Arg], stdin: Stdin | None,
            node: Simple | None) -> None:
    _command_string(a, [x for x in argv[1:] if x.text != "-q"], state, stdin, flag="-c")


def _watch(a: Analyzer, argv: list[Arg], state: State, prefix: dict[str, Arg], stdin: Stdin | None,
           node: Simple | None) -> None:
    start = _skip_options(argv[1:], frozenset({"-n", "--interval", "-d", "-q"}))
    rest = argv[1 + start:]
    if any(x.text is None for x in rest):
        a.add("it watches a command computed at run time")
    elif rest:
        a.run_text(" ".join(x.text or "" for x in rest), state.copy(), "the watched command")


def _trap(a: Analyzer, argv: list[Arg], state: State, prefix: dict[str, Arg], stdin: Stdin | None,
          node: Simple | None) -> None:
    if len(argv) > 2 and argv[1].text is not None and not argv[1].text.startswith("-"):
        a.run_text(argv[1].text, state.copy(), "the trap command")
    elif len(argv) > 2 and argv[1].text is None:
        a.add("it sets a trap computed at run time")


_RUN_SUBCOMMANDS = {"uv": ("run", "tool"), "poetry": ("run",), "pipenv": ("run",), "pdm": ("run",),
                    "hatch": ("run",), "rye": ("run",), "conda": ("run",), "mamba": ("run",), "pixi": ("run",)}
_PACKAGE_MANAGER_COMMANDS = frozenset({"install", "i", "add", "remove", "rm", "uninstall", "ci", "update", "up",
                                       "init", "create", "publish", "pack", "audit", "outdated", "list", "ls",
                                       "view", "info", "why", "config", "login", "logout", "link", "version",
                                       "cache", "help", "--version", "-v", "store", "dedupe", "prune", "rebuild"})


def _runner(a: Analyzer, argv: list[Arg], state: State, prefix: dict[str, Arg], stdin: Stdin | None,
            node: Simple | None) -> None:
    """uv run / poetry run / ...: run the rest as a program."""
    name = argv[0].text or ""
    args = argv[1:]
    if not args or args[0].text not in _RUN_SUBCOMMANDS[name]:
        return
    args = args[1:]
    if name == "uv" and args and args[0].text == "run":  # uv tool run
        args = args[1:]
    start = _skip_options(args, frozenset({"--with", "--python", "-p", "--project", "--directory", "--from",
                                           "-n", "--name", "--env-file", "--group", "--extra", "--package",
                                           "-e", "--environment", "--prefix", "--spec"}))
    if args[start:]:
        a.dispatch(args[start:], state, prefix, stdin, None)


def _npx(a: Analyzer, argv: list[Arg], state: State, prefix: dict[str, Arg], stdin: Stdin | None,
         node: Simple | None) -> None:
    """npx / bunx / pnpx / npm exec / pnpm / yarn / bun: a package's program, or a package.json script."""
    name = argv[0].text or ""
    args = argv[1:]
    if name in ("npm", "pnpm", "yarn", "bun"):
        first = next((x for x in args if x.text is None or not x.text.startswith("-")), None)
        if first is None:
            return
        if first.text is None:
            a.add(f"it runs `{name}` with a command computed at run time")
            return
        rest = args[args.index(first) + 1:]
        if first.text in ("exec", "x", "dlx"):
            args = rest
        elif first.text in ("run", "run-script", "test", "start", "t"):
            script = first.text if first.text in ("test", "start", "t") else next(
                (x.text for x in rest if x.text is None or not x.text.startswith("-")), None)
            _package_script(a, script, state)
            return
        elif first.text in _PACKAGE_MANAGER_COMMANDS or name == "npm":
            return
        else:  # pnpm/yarn/bun NAME: a script of that name, else the package's program
            if _package_script(a, first.text, state):
                return
            args = [first, *rest]
    for index, arg in enumerate(args):
        if arg.text is None:
            a.add(f"it runs `{name}` with a program computed at run time")
            return
        if arg.text in ("-c", "--call") and index + 1 < len(args):
            code = args[index + 1].text
            if code is None:
                a.add("it runs a command string computed at run time")
            else:
                a.run_text(code, state.copy(), f"the `{name} -c` command")
            return
        if arg.text in ("-p", "--package") and index + 1 < len(args):
            continue
        if arg.text.startswith("-") or (index > 0 and args[index - 1].text in ("-p", "--package")):
            continue
        program = re.sub(r"@[^/]*$", "", arg.text) if not arg.text.startswith("@") else arg.text
        a.dispatch([Arg(program), *args[index + 1:]], state, prefix, stdin, None)
        return


def _package_script(a: Analyzer, script: str | None, state: State) -> bool:
    """Run a package.json script's text through the gate; True when the script exists."""
    import json

    if script is None:
        a.add("it runs a package script whose name is computed at run time")
        return True
    content = a.read_file("package.json", state)
    if content is None:
        return False
    try:
        scripts = json.loads(content).get("scripts", {})
    except (ValueError, AttributeError):
        return False
    if not isinstance(scripts, dict) or not isinstance(scripts.get(script), str):
        return False
    for hook in (f"pre{script}", script, f"post{script}"):
        text = scripts.get(hook)
        if isinstance(text, str):
            a.run_text(text, state.copy(), f"the package script {hook}")
    return True


def _parallel(a: Analyzer, argv: list[Arg], state: State, prefix: dict[str, Arg], stdin: Stdin | None,
              node: Simple | None) -> None:
    args = argv[1:]
    words = [x for x in args if x.text not in (":::", "::::")]
    start = _skip_options(words, frozenset({"-j", "--jobs", "-S", "--sshlogin", "--joblog", "-a"}))
    rest = words[start:]
    if rest:
        if any(x.text is None for x in rest):
            a.add("it runs `parallel` with a command computed at run time")
        else:
            a.run_text(" ".join(x.text or "" for x in rest) + ' "$@"', state.copy(), "the parallel command")


_BUILTINS = {
    "cd": _cd, "pushd": _cd, "popd": _cd,
    "export": _export, "declare": _export, "typeset": _export, "local": _export, "readonly": _export,
    "unset": _unset, "read": _read_into, "printf": _read_into, "mapfile": _read_into, "readarray": _read_into,
    "getopts": _read_into,
    "alias": _alias, "eval": _eval, "source": _source, ".": _source, "env": _env, "xargs": _xargs,
    "find": _find, "flock": _flock, "su": _su, "runuser": _su, "script": _script, "watch": _watch, "trap": _trap,
    "timeout": _timeout, "parallel": _parallel,
    "npx": _npx, "bunx": _npx, "pnpx": _npx, "npm": _npx, "pnpm": _npx, "yarn": _npx, "bun": _npx,
    **{name: _runner for name in _RUN_SUBCOMMANDS},
    **{name: _wrapper for name in _WRAPPER_OPTIONS},
}


def _odd_apply(call: faber_cli.Call, words: list[str]) -> bool:
    """A refused call that looks like an apply: an option repeated, `--approve`, or a value option
    shortened (`--appr`, `--proj`); never a call asking for help."""
    if any(word in ("-h", "--help") for word in words):
        return False
    if call.repeated or "--approve" in call.options:
        return True
    values = faber_cli.GLOBAL_VALUE_OPTIONS | faber_cli.COMMAND_OPTIONS.get(call.command or "", (frozenset(),))[0]
    known = faber_cli.option_names(call.command or "")
    for word in words:
        name = word.split("=", 1)[0]
        if name.startswith("--") and len(name) > 2 and name not in known and any(v.startswith(name) for v in values):
            return True
    return False
