"""A bash parser for the approval gate: text in, syntax tree out, nothing evaluated.

It follows bash's grammar closely enough to find every command a text would run: quotes, escapes,
line continuations, comments, heredocs (bodies parsed for expansions unless the delimiter is
quoted), parameter/command/arithmetic/process substitutions, redirections, `;`/`&`/`&&`/`||`,
pipes, subshells, brace groups, if/while/until/for/select/case, `[[ ]]`, `(( ))`, functions and
array assignments. One pass over the text with a cursor; runs of ordinary characters are taken with
character-class regexes (no backtracking), so time is linear in the input. Text it cannot parse
raises ShellSyntaxError: the caller treats that as "cannot tell" and asks.

Why it is long: one recursive-descent parser over one cursor; its grammar rules call each other
(a word holds substitutions that hold whole scripts), so they stay together.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field

MAX_NESTING = 200


class ShellSyntaxError(Exception):
    """The text is not a command bash would run as written (or nests too deeply to follow)."""


class OutOfTime(Exception):
    """Reading the text took longer than the caller's deadline allows."""


# --- syntax tree -------------------------------------------------------------------------------


@dataclass(slots=True)
class Lit:
    text: str
    quoted: bool


@dataclass(slots=True)
class Param:
    """$name, ${name...}: `arg` is the word inside ${name:-word} and the like (may hold substitutions)."""

    name: str
    quoted: bool
    arg: Word | None = None
    plain: bool = True  # False for ${#x}, ${!x}, ${x/a/b}, ... (the value is not simply the variable's)


@dataclass(slots=True)
class CmdSub:
    script: Script
    quoted: bool


@dataclass(slots=True)
class Arith:
    """$(( ... )) or $[ ... ]: a number computed at run time (may hold substitutions)."""

    inner: Word


@dataclass(slots=True)
class ProcSub:
    script: Script


Part = Lit | Param | CmdSub | Arith | ProcSub


@dataclass(slots=True)
class Word:
    parts: list[Part]
    start: int
    end: int
    raw: str


@dataclass(slots=True)
class Heredoc:
    delimiter: str
    quoted: bool
    strip_tabs: bool
    body: Word | None = None  # filled in when the body lines are read


@dataclass(slots=True)
class Redirect:
    op: str
    fd: str | None
    target: Word | None
    heredoc: Heredoc | None = None

    @property
    def writes(self) -> bool:
        return self.op in (">", ">>", ">|", "&>", "&>>", "<>") or (self.op == ">&" and self.target is not None
                                                                    and not self.target.raw.isdigit()
                                                                    and self.target.raw != "-")


@dataclass(slots=True)
class Assign:
    name: str
    value: Word | None
    items: list[Word] = field(default_factory=list)  # NAME=(a b c)
    append: bool = False


@dataclass(slots=True)
class Simple:
    assigns: list[Assign]
    words: list[Word]
    redirects: list[Redirect]
    start: int = 0
    end: int = 0


@dataclass(slots=True)
class Compound:
    """subshell, group, if, while, until, for, select, case, arith, cond."""

    kind: str
    bodies: list[Script]
    redirects: list[Redirect]
    var: str | None = None
    items: list[Word] = field(default_factory=list)  # for/select words, case subject and patterns, [[ ]] words


@dataclass(slots=True)
class FuncDef:
    name: str
    body: Command


Command = Simple | Compound | FuncDef


@dataclass(slots=True)
class Pipeline:
    commands: list[Command]
    negated: bool = False


@dataclass(slots=True)
class AndOr:
    items: list[tuple[str, Pipeline]]  # ("", first), ("&&", next), ("||", next) ...


@dataclass(slots=True)
class Script:
    lists: list[tuple[AndOr, str]]  # each with its terminator: ";", "&", "\n" or ""


# --- lexer and parser --------------------------------------------------------------------------

_BLANKS = re.compile(r"(?:[ \t\r]|\\\n)+")
_PLAIN = re.compile(r"[^ \t\r\n;&|()<>'\"\\$`]+")
_DQ_PLAIN = re.compile(r"[^\"\\$`]+")
_HEREDOC_PLAIN = re.compile(r"[^\\$`]+")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ASSIGNMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(\+?)=")
_FD_PREFIX = re.compile(r"(\d+|\{[A-Za-z_][A-Za-z0-9_]*\})(?=[<>])")
_RESERVED = re.compile(
    r"(if|then|elif|else|fi|while|until|do|done|for|select|case|esac|function|in|\{|\}|!|\[\[|coproc)"
    r"(?=[ \t\r\n;&|()<>]|$)")
# longest first, as bash reads them
_OPERATOR = re.compile(r"&&|\|\||;;&|;;|;&|\|&|&>>|&>|<<<|<<-|<<|<>|<&|>&|>>|>\||[<>|;&()]")
# a run of further plain words (no quotes, escapes, expansions; not an fd number before < or >)
_PLAIN_WORDS = re.compile(r"(?:[ \t]+[^\s;&|()<>'\"\\$`#][^\s;&|()<>'\"\\$`]*(?=[ \t\n;&|)]|$))+")
_REDIRECT_OPS = frozenset({"&>>", "&>", "<<<", "<<-", "<<", "<>", "<&", ">&", ">>", ">|", "<", ">"})
_ANSI_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "e": "\x1b", "E": "\x1b", "f": "\f",
                 "v": "\v", "\\": "\\", "'": "'", '"': '"', "?": "?"}
_SPECIAL_PARAMS = frozenset("@*#?$!-0123456789")
_TIME = re.compile(r"time(?=[ \t\r\n;&|()<>]|$)")
_FUNCTION_NAME = re.compile(r"[^ \t\r\n;&|()<>'\"\\$`]+")
_PARAM_ARG_PLAIN = re.compile(r"[^}{'\"\\$`]+")
_ANSI_NUMERIC = re.compile(r"x([0-9A-Fa-f]{1,2})|u([0-9A-Fa-f]{1,4})|U([0-9A-Fa-f]{1,8})|([0-7]{1,3})|c(.)")
_ARRAY_PREFIX = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\+?=")


def parse(text: str, deadline: float = math.inf) -> Script:
    """The syntax tree of a whole command text (raises ShellSyntaxError, or OutOfTime once this
    process's CPU time, time.process_time(), passes `deadline`)."""
    parser = _Parser(text, 0, deadline)
    script = parser.parse_list(frozenset(), closing=None)
    if parser.i < len(text):
        raise ShellSyntaxError(f"unexpected {text[parser.i:parser.i + 10]!r} at offset {parser.i}")
    if parser.pending:
        parser.read_heredocs()
    return script


class _Parser:
    def __init__(self, text: str, depth: int, deadline: float) -> None:
        self.s = text
        self.i = 0
        self.depth = depth
        self.deadline = deadline
        self.ticks = 0
        self.pending: list[Heredoc] = []

    def check_time(self) -> None:
        self.ticks += 1
        if self.ticks % 256:
            return  # reading the CPU clock is a system call: look every 256 steps
        if time.process_time() > self.deadline:
            raise OutOfTime("the command is too long to read in the time a hook has")

    # -- low level --

    def fail(self, what: str) -> ShellSyntaxError:
        return ShellSyntaxError(f"{what} at offset {self.i}")

    def nest(self) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise self.fail("nesting too deep")

    def skip_blanks(self) -> None:
        m = _BLANKS.match(self.s, self.i)
        if m:
            self.i = m.end()

    def skip_comment(self) -> None:
        if self.i < len(self.s) and self.s[self.i] == "#":
            end = self.s.find("\n", self.i)
            self.i = len(self.s) if end < 0 else end

    def skip_space(self, newlines: bool) -> None:
        while True:
            self.skip_blanks()
            self.skip_comment()
            if newlines and self.i < len(self.s) and self.s[self.i] == "\n":
                self.newline()
                continue
            return

    def newline(self) -> None:
        self.i += 1
        if self.pending:
            self.read_heredocs()

    def operator(self) -> str | None:
        m = _OPERATOR.match(self.s, self.i)
        return m.group(0) if m else None

    def reserved(self) -> str | None:
        m = _RESERVED.match(self.s, self.i)
        return m.group(1) if m else None

    def at_end(self) -> bool:
        return self.i >= len(self.s)

    # -- lists --

    def parse_list(self, stops: frozenset[str], closing: str | None) -> Script:
        """Commands up to EOF, a closing ')' / '`' (not consumed), a stop word, or a case terminator."""
        self.nest()
        lists: list[tuple[AndOr, str]] = []
        while True:
            self.skip_space(newlines=True)
            if self.at_end():
                break
            op = self.operator()
            if op is not None and (op == ")" or op in (";;", ";&", ";;&")):
                break
            word = self.reserved()
            if word is not None and word in stops:
                break
            self.check_time()
            andor = self.parse_and_or()
            self.skip_blanks()
            self.skip_comment()
            op = self.operator()
            if op in (";", "&"):
                self.i += 1
                lists.append((andor, op))
            elif self.i < len(self.s) and self.s[self.i] == "\n":
                self.newline()
                lists.append((andor, "\n"))
            else:
                lists.append((andor, ""))
                if not self.at_end() and op not in (")", ";;", ";&", ";;&") and self.reserved() not in stops:
                    raise self.fail(f"unexpected {self.s[self.i:self.i + 10]!r}")
                break
        self.depth -= 1
        if closing == ")" and (self.at_end() or self.s[self.i] != ")"):
            raise self.fail("missing ')'")
        return Script(lists)

    def parse_and_or(self) -> AndOr:
        items: list[tuple[str, Pipeline]] = [("", self.parse_pipeline())]
        while True:
            self.skip_blanks()
            op = self.operator()
            if op not in ("&&", "||"):
                return AndOr(items)
            self.i += 2
            self.skip_space(newlines=True)
            items.append((op, self.parse_pipeline()))

    def parse_pipeline(self) -> Pipeline:
        self.skip_blanks()
        negated = False
        while self.reserved() == "!":
            negated = True
            self.i += 1
            self.skip_blanks()
        if _TIME.match(self.s, self.i):
            self.i += 4  # the `time` keyword times the pipeline; `time -p` is handled as a word
            self.skip_blanks()
        commands = [self.parse_command()]
        while True:
            self.skip_blanks()
            op = self.operator()
            if op not in ("|", "|&"):
                return Pipeline(commands, negated)
            self.i += len(op)
            self.skip_space(newlines=True)
            commands.append(self.parse_command())

    # -- commands --

    def parse_command(self) -> Command:
        self.skip_blanks()
        if self.at_end():
            raise self.fail("a command is missing")
        word = self.reserved()
        if word == "{":
            self.i += 1
            body = self.parse_list(frozenset({"}"}), closing=None)
            self.expect_word("}")
            return Compound("group", [body], self.parse_redirects())
        if word in ("if", "while", "until", "for", "select", "case", "[[", "function", "coproc"):
            return self.parse_keyword(word)
        if word is not None and word not in ("!", "in"):
            raise self.fail(f"unexpected {word!r}")
        if self.s.startswith("((", self.i):
            self.i += 2
            inner = self.parse_arith_body()
            return Compound("arith", [], self.parse_redirects(), items=[inner])
        if self.operator() == "(":
            self.i += 1
            body = self.parse_list(frozenset(), closing=")")
            self.i += 1
            return Compound("subshell", [body], self.parse_redirects())
        return self.parse_simple()

    def expect_word(self, word: str) -> None:
        self.skip_space(newlines=True)
        if self.reserved() != word:
            raise self.fail(f"expected {word!r}")
        self.i += len(word)

    def parse_keyword(self, word: str) -> Command:
        self.i += len(word)
        if word == "if":
            bodies = [self.parse_list(frozenset({"then"}), None)]
            self.expect_word("then")
            bodies.append(self.parse_list(frozenset({"elif", "else", "fi"}), None))
            while True:
                self.skip_space(newlines=True)
                nxt = self.reserved()
                if nxt == "elif":
                    self.i += 4
                    bodies.append(self.parse_list(frozenset({"then"}), None))
                    self.expect_word("then")
                    bodies.append(self.parse_list(frozenset({"elif", "else", "fi"}), None))
                elif nxt == "else":
                    self.i += 4
                    bodies.append(self.parse_list(frozenset({"fi"}), None))
                else:
                    self.expect_word("fi")
                    return Compound("if", bodies, self.parse_redirects())
        if word in ("while", "until"):
            condition = self.parse_list(frozenset({"do"}), None)
            self.expect_word("do")
            body = self.parse_list(frozenset({"done"}), None)
            self.expect_word("done")
            return Compound(word, [condition, body], self.parse_redirects())
        if word in ("for", "select"):
            return self.parse_for(word)
        if word == "case":
            return self.parse_case()
        if word == "[[":
            return self.parse_cond()
        if word == "coproc":
            self.skip_blanks()
            m = _NAME.match(self.s, self.i)
            if m and re.match(r"[ \t]*[{(]", self.s[m.end():m.end() + 8]):
                self.i = m.end()  # coproc NAME { ...; }
            inner = self.parse_command()
            return Compound("group", [_single(inner)], [])
        # function NAME [()] BODY
        self.skip_blanks()
        m = _FUNCTION_NAME.match(self.s, self.i)
        if not m:
            raise self.fail("a function name is missing")
        self.i = m.end()
        self.skip_blanks()
        if self.s.startswith("()", self.i) or re.match(r"\([ \t]*\)", self.s[self.i:self.i + 8]):
            self.i = self.s.index(")", self.i) + 1
        self.skip_space(newlines=True)
        return FuncDef(m.group(0), self.parse_command())

    def parse_for(self, kind: str) -> Command:
        self.skip_blanks()
        if self.s.startswith("((", self.i):
            self.i += 2
            header = self.parse_arith_body()
            self.skip_space(newlines=True)
            if self.operator() == ";":
                self.i += 1
            self.skip_space(newlines=True)
            body = self.parse_do_body()
            return Compound(kind, [body], self.parse_redirects(), var=None, items=[header])
        m = _NAME.match(self.s, self.i)
        if not m:
            raise self.fail(f"a {kind} variable is missing")
        self.i = m.end()
        self.skip_space(newlines=True)
        items: list[Word] | None = None
        if self.reserved() == "in":
            self.i += 2
            items = []
            while True:
                self.skip_blanks()
                if self.operator() == ";" or self.at_end() or self.s[self.i] == "\n":
                    break
                w = self.parse_word()
                if w is None:
                    raise self.fail(f"unexpected text in the {kind} word list")
                items.append(w)
        self.skip_blanks()
        if self.operator() == ";":
            self.i += 1
        body = self.parse_do_body()
        compound = Compound(kind, [body], self.parse_redirects(), var=m.group(0))
        compound.items = items if items is not None else [Word([Param("@", True)], 0, 0, '"$@"')]
        return compound

    def parse_do_body(self) -> Script:
        self.skip_space(newlines=True)
        if self.reserved() == "{":  # for x in a; { ...; } (bash accepts a group as the body)
            self.i += 1
            body = self.parse_list(frozenset({"}"}), None)
            self.expect_word("}")
            return body
        self.expect_word("do")
        body = self.parse_list(frozenset({"done"}), None)
        self.expect_word("done")
        return body

    def parse_case(self) -> Command:
        self.skip_blanks()
        subject = self.parse_word()
        if subject is None:
            raise self.fail("a case word is missing")
        self.expect_word("in")
        items = [subject]
        bodies: list[Script] = []
        while True:
            self.skip_space(newlines=True)
            if self.reserved() == "esac":
                self.i += 4
                return Compound("case", bodies, self.parse_redirects(), items=items)
            if self.operator() == "(":
                self.i += 1
            while True:
                self.skip_blanks()
                pattern = self.parse_word()
                if pattern is None:
                    raise self.fail("a case pattern is missing")
                items.append(pattern)
                self.skip_blanks()
                op = self.operator()
                if op == "|":
                    self.i += 1
                    continue
                if op == ")":
                    self.i += 1
                    break
                raise self.fail("expected ')' after a case pattern")
            bodies.append(self.parse_list(frozenset({"esac"}), None))
            self.skip_space(newlines=True)
            op = self.operator()
            if op in (";;", ";&", ";;&"):
                self.i += len(op)

    def parse_cond(self) -> Command:
        items: list[Word] = []
        while True:
            self.skip_space(newlines=True)
            if self.at_end():
                raise self.fail("missing ']]'")
            if self.s.startswith("]]", self.i) and re.match(r"\]\](?=[ \t\r\n;&|()<>]|$)",
                                                             self.s[self.i:self.i + 3]):
                self.i += 2
                return Compound("cond", [], self.parse_redirects(), items=items)
            op = self.operator()
            if op is not None:
                self.i += len(op)
                continue
            w = self.parse_word()
            if w is None:
                raise self.fail("unexpected text in [[ ]]")
            items.append(w)

    def parse_arith_body(self) -> Word:
        """The inside of (( )) up to the matching '))'."""
        start = self.i
        parts = self.parse_dq_like(terminator="))", arith=True)
        if not self.s.startswith("))", self.i):
            raise self.fail("missing '))'")
        word = Word(parts, start, self.i, self.s[start:self.i])
        self.i += 2
        return word

    def parse_redirects(self) -> list[Redirect]:
        redirects: list[Redirect] = []
        while True:
            self.skip_blanks()
            redirect = self.parse_redirect()
            if redirect is None:
                return redirects
            redirects.append(redirect)

    def parse_redirect(self) -> Redirect | None:
        fd = None
        m = _FD_PREFIX.match(self.s, self.i)
        start = self.i
        if m:
            fd = m.group(1)
            self.i = m.end()
        op = self.operator()
        if op not in _REDIRECT_OPS or (op in ("<", ">") and self.s.startswith("(", self.i + 1)):
            self.i = start
            return None
        self.i += len(op)
        self.skip_blanks()
        if op in ("<<", "<<-"):
            delim_word = self.parse_word()
            if delim_word is None:
                raise self.fail("a heredoc delimiter is missing")
            quoted = any(isinstance(p, Lit) and p.quoted for p in delim_word.parts)
            delimiter = "".join(p.text if isinstance(p, Lit) else "" for p in delim_word.parts)
            if not quoted and any(not isinstance(p, Lit) for p in delim_word.parts):
                delimiter = delim_word.raw  # `<<$X` ends at a line reading $X literally
            heredoc = Heredoc(delimiter, quoted, op == "<<-")
            self.pending.append(heredoc)
            return Redirect(op, fd, delim_word, heredoc)
        target = self.parse_word()
        if target is None:
            raise self.fail(f"a target is missing after {op!r}")
        return Redirect(op, fd, target)

    def read_heredocs(self) -> None:
        pending, self.pending = self.pending, []
        for heredoc in pending:
            start = self.i
            body_end = len(self.s)
            pos = self.i
            while pos < len(self.s):
                nl = self.s.find("\n", pos)
                line_end = len(self.s) if nl < 0 else nl
                line = self.s[pos:line_end]
                if (line.lstrip("\t") if heredoc.strip_tabs else line) == heredoc.delimiter:
                    body_end = pos
                    self.i = len(self.s) if nl < 0 else nl + 1
                    break
                pos = line_end + 1
            else:
                self.i = len(self.s)  # no delimiter line: bash reads to the end (with a warning)
            text = self.s[start:body_end]
            if heredoc.quoted:
                heredoc.body = Word([Lit(text, True)], start, body_end, text)
            else:
                sub = _Parser(text, self.depth, self.deadline)
                heredoc.body = Word(sub.parse_dq_like(terminator=None, heredoc=True), start, body_end, text)

    def parse_simple(self) -> Command:
        start = self.i
        assigns: list[Assign] = []
        words: list[Word] = []
        redirects: list[Redirect] = []
        while True:
            self.skip_blanks()
            if self.at_end() or self.s[self.i] == "\n" or self.s[self.i] == "#":
                break
            self.check_time()
            redirect = self.parse_redirect()
            if redirect is not None:
                redirects.append(redirect)
                continue
            op = self.operator()
            if op is not None and not (op in ("<", ">") and self.s.startswith("(", self.i + 1)):
                if op == "(" and len(words) == 1 and not assigns and not redirects:
                    return self.parse_function_def(words[0])
                break
            if not words:
                m = _ASSIGNMENT.match(self.s, self.i)
                if m:
                    assigns.append(self.parse_assignment(m))
                    continue
            word = self.parse_word()
            if word is None:
                break
            words.append(word)
            m = _PLAIN_WORDS.match(self.s, self.i)
            if m:  # the common case, taken in one step: plain arguments
                self.i = m.end()
                words.extend(Word([Lit(w, False)], -1, -1, w) for w in m.group(0).split())
        if not words and not assigns and not redirects:
            raise self.fail("a command is missing")
        return Simple(assigns, words, redirects, start, self.i)

    def parse_function_def(self, name: Word) -> Command:
        self.i += 1
        self.skip_blanks()
        if self.operator() != ")":
            raise self.fail("expected ')' in a function definition")
        self.i += 1
        self.skip_space(newlines=True)
        return FuncDef(name.raw, self.parse_command())

    def parse_assignment(self, m: re.Match[str]) -> Assign:
        self.i = m.end()
        if self.i < len(self.s) and self.s[self.i] == "(":
            self.i += 1
            items: list[Word] = []
            while True:
                self.skip_space(newlines=True)
                if self.at_end():
                    raise self.fail("missing ')' after an array")
                if self.s[self.i] == ")":
                    self.i += 1
                    return Assign(m.group(1), None, items, bool(m.group(2)))
                w = self.parse_word()
                if w is None:
                    raise self.fail("unexpected text in an array")
                items.append(w)
        start = self.i
        value = self.parse_word()
        if value is None:
            value = Word([Lit("", False)], start, start, "")
        return Assign(m.group(1), value, [], bool(m.group(2)))

    # -- words --

    def parse_word(self) -> Word | None:
        """One word at the cursor (None when an operator, blank or end is there)."""
        s = self.s
        start = self.i
        parts: list[Part] = []
        while self.i < len(s):
            c = s[self.i]
            m = _PLAIN.match(s, self.i)
            if m:
                text = m.group(0)
                self.i = m.end()
                if self.i < len(s) and s[self.i] == "(" and (
                        text[-1] in "@!+*?" or (not parts and _ARRAY_PREFIX.fullmatch(text))):
                    text += self.scan_parens()  # extglob @(a|b), or `declare x=(a b)`
                parts.append(Lit(text, False))
                continue
            if c in "'\"":
                parts.extend(self.parse_quoted())
            elif c == "\\":
                if self.i + 1 >= len(s):
                    self.i += 1
                    parts.append(Lit("\\", False))
                elif s[self.i + 1] == "\n":
                    self.i += 2
                else:
                    parts.append(Lit(s[self.i + 1], True))
                    self.i += 2
            elif c == "$":
                parts.append(self.parse_dollar(quoted=False))
            elif c == "`":
                parts.append(self.parse_backquote(quoted=False))
            elif c in "<>" and self.i + 1 < len(s) and s[self.i + 1] == "(":
                self.i += 2
                body = self.parse_list(frozenset(), closing=")")
                self.i += 1
                parts.append(ProcSub(body))
            else:
                break
        if self.i == start:
            return None
        return Word(parts, start, self.i, s[start:self.i])

    def scan_parens(self) -> str:
        depth = 0
        start = self.i
        while self.i < len(self.s):
            c = self.s[self.i]
            if c == "\\":
                self.i += 2
                continue
            if c == "(":
                depth += 1
            elif c == ")":
                depth -= 1
                if depth == 0:
                    self.i += 1
                    return self.s[start:self.i]
            self.i += 1
        raise self.fail("missing ')' in a pattern")

    def parse_dq_like(self, terminator: str | None, heredoc: bool = False, arith: bool = False) -> list[Part]:
        """Inside "...", a heredoc body, or (( )): only $, ` and \\ are special (and quotes in (( )))."""
        s = self.s
        parts: list[Part] = []
        plain = _HEREDOC_PLAIN if heredoc else _DQ_PLAIN
        paren_depth = 0
        while self.i < len(s):
            self.check_time()
            if terminator == "))" and paren_depth == 0 and s.startswith("))", self.i):
                break
            c = s[self.i]
            if terminator == '"' and c == '"':
                break
            if arith:
                if c == "(":
                    paren_depth += 1
                elif c == ")":
                    paren_depth -= 1
                if c in "()":
                    parts.append(Lit(c, True))
                    self.i += 1
                    continue
            if c == "\\":
                nxt = s[self.i + 1] if self.i + 1 < len(s) else ""
                if nxt == "\n":
                    self.i += 2
                elif nxt in ("$", "`", "\\") or (nxt == '"' and not heredoc):
                    parts.append(Lit(nxt, True))
                    self.i += 2
                else:
                    parts.append(Lit("\\", True))
                    self.i += 1
                continue
            if c == "$":
                parts.append(self.parse_dollar(quoted=True))
                continue
            if c == "`":
                parts.append(self.parse_backquote(quoted=True))
                continue
            m = plain.match(s, self.i)
            end = m.end() if m else self.i + 1
            if arith:
                cut = [p for p in (s.find("(", self.i, end), s.find(")", self.i, end)) if p >= 0]
                end = min(cut) if cut else end
            parts.append(Lit(s[self.i:end], True))
            self.i = end
        return parts

    def parse_dollar(self, quoted: bool) -> Part:
        s = self.s
        i = self.i + 1
        nxt = s[i] if i < len(s) else ""
        if nxt == "(":
            if s.startswith("((", i):
                self.i = i + 2
                saved = self.i
                try:
                    inner = self.parse_arith_body()
                    return Arith(inner)
                except ShellSyntaxError:
                    self.i = saved - 1  # `$( (cmd) )`: a command substitution after all
            else:
                self.i = i + 1
            body = self.parse_list(frozenset(), closing=")")
            self.i += 1
            return CmdSub(body, quoted)
        if nxt == "{":
            return self.parse_braced_param(quoted)
        if nxt == "[":
            end = s.find("]", i)
            if end < 0:
                raise self.fail("missing ']' after '$['")
            self.i = end + 1
            return Arith(Word([Lit(s[i + 1:end], True)], i + 1, end, s[i + 1:end]))
        if nxt == "'" and not quoted:
            return self.parse_ansi_c()
        if nxt == '"' and not quoted:
            self.i = i + 1
            parts = self.parse_dq_like(terminator='"')
            if self.i >= len(s):
                raise self.fail("unterminated $\"...\"")
            self.i += 1
            # a locale-translated string: its parts as a quoted word
            return Param("", True, Word(parts, i, self.i, s[i:self.i]), plain=False) if any(
                not isinstance(p, Lit) for p in parts) else Lit("".join(p.text for p in parts
                                                                          if isinstance(p, Lit)), True)
        m = _NAME.match(s, i)
        if m:
            self.i = m.end()
            return Param(m.group(0), quoted)
        if nxt and nxt in _SPECIAL_PARAMS:
            self.i = i + 1
            return Param(nxt, quoted)
        self.i = i
        return Lit("$", quoted)

    def parse_braced_param(self, quoted: bool) -> Part:
        s = self.s
        self.i += 2
        plain = True
        if self.i < len(s) and s[self.i] in "#!" and self.i + 1 < len(s) and s[self.i + 1] != "}":
            plain = False
            self.i += 1
        m = _NAME.match(s, self.i)
        if m:
            name = m.group(0)
            self.i = m.end()
        elif self.i < len(s) and s[self.i] in _SPECIAL_PARAMS:
            name = s[self.i]
            self.i += 1
            while name.isdigit() and self.i < len(s) and s[self.i].isdigit():
                name += s[self.i]
                self.i += 1
        else:
            raise self.fail("bad ${...} substitution")
        arg: Word | None = None
        if self.i < len(s) and s[self.i] != "}":
            plain = False
            start = self.i
            parts = self.parse_param_arg()
            arg = Word(parts, start, self.i, s[start:self.i])
        if self.i >= len(s) or s[self.i] != "}":
            raise self.fail("missing '}'")
        self.i += 1
        return Param(name, quoted, arg, plain)

    def parse_quoted(self) -> list[Part]:
        """The '...' or "..." at the cursor, up to its closing quote (the parts are quoted)."""
        s = self.s
        if s[self.i] == "'":
            end = s.find("'", self.i + 1)
            if end < 0:
                raise self.fail("unterminated single quote")
            single = Lit(s[self.i + 1:end], True)
            self.i = end + 1
            return [single]
        self.i += 1
        parts = self.parse_dq_like(terminator='"')
        if self.i >= len(s):
            raise self.fail("unterminated double quote")
        self.i += 1
        return parts

    def parse_param_arg(self) -> list[Part]:
        """The word inside ${x:-word}, ${x/a/b}, ...: up to the matching '}'."""
        s = self.s
        parts: list[Part] = []
        depth = 0
        while self.i < len(s):
            c = s[self.i]
            if c == "}" and depth == 0:
                break
            if c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
            if c in "'\"":
                parts.extend(self.parse_quoted())
            elif c == "\\":
                parts.append(Lit(s[self.i + 1:self.i + 2], True))
                self.i += 2
            elif c == "$":
                parts.append(self.parse_dollar(quoted=True))
            elif c == "`":
                parts.append(self.parse_backquote(quoted=True))
            else:
                m = _PARAM_ARG_PLAIN.match(s, self.i)
                end = m.end() if m else self.i + 1
                parts.append(Lit(s[self.i:end], False))
                self.i = end
        return parts

    def parse_ansi_c(self) -> Part:
        s = self.s
        self.i += 2
        out: list[str] = []
        while self.i < len(s) and s[self.i] != "'":
            c = s[self.i]
            if c == "\\" and self.i + 1 < len(s):
                nxt = s[self.i + 1]
                if nxt in _ANSI_ESCAPES:
                    out.append(_ANSI_ESCAPES[nxt])
                    self.i += 2
                    continue
                m = _ANSI_NUMERIC.match(s, self.i + 1)
                if m:
                    if m.group(5) is not None:
                        out.append(chr(ord(m.group(5)) & 0x1F))
                    else:
                        digits = next(g for g in m.groups()[:4] if g is not None)
                        value = int(digits, 8 if m.group(4) is not None else 16)
                        out.append(chr(value) if value < 0x110000 else "?")
                    self.i = m.end()
                    continue
                out.append("\\" + nxt)
                self.i += 2
                continue
            out.append(c)
            self.i += 1
        if self.i >= len(s):
            raise self.fail("unterminated $'...'")
        self.i += 1
        return Lit("".join(out), True)

    def parse_backquote(self, quoted: bool) -> Part:
        s = self.s
        self.i += 1
        out: list[str] = []
        while self.i < len(s) and s[self.i] != "`":
            c = s[self.i]
            if c == "\\" and self.i + 1 < len(s) and s[self.i + 1] in "`\\$":
                out.append(s[self.i + 1])
                self.i += 2
                continue
            out.append(c)
            self.i += 1
        if self.i >= len(s):
            raise self.fail("unterminated backquote")
        self.i += 1
        sub = _Parser("".join(out), self.depth + 1, self.deadline)
        if sub.depth > MAX_NESTING:
            raise self.fail("nesting too deep")
        script = sub.parse_list(frozenset(), closing=None)
        if sub.i < len(sub.s):
            raise self.fail("unexpected text inside backquotes")
        return CmdSub(script, quoted)


def _single(command: Command) -> Script:
    return Script([(AndOr([("", Pipeline([command]))]), "")])
