"""Human-readable rendering of results through jinja2 templates (`templates/`).

`<operation>.txt.j2` renders one operation's result, else the generic `result.txt.j2`; shared pieces live
in `_macros.j2`. Text fits the terminal's width (80 columns when it is unknown or not a terminal; the `wrap`
filter and `row` helper break lines at spaces), except SQL, which is shown as-is, numbered, and cut after
`FABER_DB_SQL_LINES` lines (default 40). Colour marks statuses only, and only on a terminal without NO_COLOR
(https://no-color.org). Standard library only at import: jinja2 is imported when a template renders.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, TextIO

from faber_db.results import Result

_TEMPLATES = Path(__file__).parent / "templates"
WIDTH = 80  # when the width of the terminal is unknown
MIN_WIDTH = 40  # narrower terminals get this width (and wrap visually)
MIN_ROOM = 20  # columns a wrapped text keeps for its words, whatever its prefix
SQL_LINES = 40
ESC = "\x1b["
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_COLOURS = {"green": "32", "yellow": "33", "red": "31"}
_STATUS_COLOUR = {
    **dict.fromkeys(("ok", "success", "pass", "healthy", "applied", "verified", "yes"), "green"),
    **dict.fromkeys(("warning", "warn", "degraded", "pending", "rolled back", "low", "medium"), "yellow"),
    **dict.fromkeys(("failure", "failed", "fail", "unhealthy", "critical", "high", "modified", "missing locally",
                     "no", "not verified"), "red"),
}
_MARKS = {"success": "ok", "warning": "warn", "failure": "FAIL", "failed": "FAIL", "skipped": "skip", "fail": "FAIL"}
# the SQL lines of a rendering: "    !!  12 | ..." (tests exempt them from the width rule by this shape)
SQL_LINE = re.compile(r"^    (?:!!|  ) +\d+ \|(?: |$)")


def terminal_width(stream: TextIO | None = None) -> int:
    """Columns of the terminal `stream` (default stdout) writes to: $COLUMNS when set (as the shell and
    Python's own helpers honour it), else the terminal's size, else 80."""
    setting = os.environ.get("COLUMNS", "")
    if setting.isdigit() and int(setting) > 0:
        return max(int(setting), MIN_WIDTH)
    stream = stream or sys.stdout
    try:
        columns = os.get_terminal_size(stream.fileno()).columns if stream.isatty() else 0
    except (AttributeError, ValueError, OSError):
        columns = 0
    return max(columns, MIN_WIDTH) if columns else WIDTH


def use_color(stream: TextIO | None = None) -> bool:
    """Colour only for a terminal, and never when NO_COLOR is set to anything non-empty or TERM is dumb."""
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    stream = stream or sys.stdout
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def render_result(result: Result, *, color: bool | None = None, sql_lines: int | None = None,
                  width: int | None = None) -> str:
    return render_dict(result.to_dict(), color=color, sql_lines=sql_lines, width=width)


def render_dict(data: dict[str, Any], *, color: bool | None = None, sql_lines: int | None = None,
                width: int | None = None) -> str:
    """Render a result given as its JSON data (what the CLI printed); `color=None` decides by the terminal,
    `width=None` is the terminal's width. Details missing a field the operation's template needs (an error's
    own details) get the generic one. Without jinja2 (the plugin before its venv exists: a usage error, a
    failed bootstrap) the generic rendering is built from the same Python pieces the templates use."""
    if sql_lines is None:
        setting = os.environ.get("FABER_DB_SQL_LINES", "")
        sql_lines = int(setting) if setting.isdigit() else SQL_LINES
    context = {"r": data, "details": data.get("details") or {}, "sql_limit": sql_lines,
               "colored": use_color() if color is None else color,
               "width": terminal_width() if width is None else width}
    try:
        import jinja2
    except ImportError:
        return _tidy(render_plain(context))
    env = _environment()
    name = f"{data['operation']}.txt.j2"
    try:
        text = env.get_template(name if (_TEMPLATES / name).is_file() else "result.txt.j2").render(context)
    except (jinja2.UndefinedError, TypeError):  # StrictUndefined: a field the template needs is missing
        text = env.get_template("result.txt.j2").render(context)
    return _tidy(str(text))


def render_plain(context: Mapping[str, Any]) -> str:
    """The generic rendering for a result without steps (what `result.txt.j2` shows for it), in Python."""
    r, details, colored, width = context["r"], context["details"], context["colored"], context["width"]
    parts = [header(r, colored=colored, width=width)]
    if isinstance(details, Mapping) and flatten(details):
        parts += ["", key_values(details, width=width)]
    elif details:
        parts += ["", wrap(details, "  ", 2, width)]
    parts.append(footer(r, colored=colored, width=width))
    return "\n".join(parts)


def _tidy(text: str) -> str:
    """No trailing spaces, no leading or trailing blank lines, one blank line at most between parts."""
    lines = [line.rstrip() for line in text.strip("\n").splitlines()]
    return "\n".join(line for i, line in enumerate(lines) if line or (i and lines[i - 1]))


def header(r: Mapping[str, Any], *, colored: bool, width: int = WIDTH) -> str:
    """`[ok] migrate dev: Applied 2 migration(s) to dev`, wrapped under the message."""
    word = {"success": "ok", "warning": "warning", "failure": "FAILED"}.get(r["status"], r["status"])
    where = f"{r['operation']} {r['environment']}" if r.get("environment") else str(r["operation"])
    return wrap(r["message"], color(f"[{word}]", r["status"], enabled=colored) + f" {where}: ", 2, width)


def footer(r: Mapping[str, Any], shown: Iterable[str] = (), *, colored: bool, width: int = WIDTH) -> str:
    """How to approve (the `--approve` command offered), warnings, errors with their hints, the suggested
    fixes not shown already (`shown`: commands the rendering printed), and the time taken."""
    approve = approval(r)
    skip = [*shown, approve]
    out: list[str] = []
    if approve:
        out += ["", wrap("After reviewing the plan, approve and apply exactly it with:", width=width),
                shell(approve, width=width)]
    if r.get("warnings"):
        out += ["", "Warnings"]
        out += [wrap(w, "  " + color("!", "warning", enabled=colored) + " ", 4, width) for w in r["warnings"]]
    errors = r.get("errors") or []
    for error in errors:
        label = color(f"Error {error['code']}", "failure", enabled=colored)
        out += ["", label if error["message"] == r["message"] else wrap(error["message"], label + ": ", 2, width)]
        hint = error.get("hint")
        if hint and (command(hint) or hint) not in skip:
            out.append(wrap(hint, "  hint: ", 8, width))
    hints = [error.get("hint") for error in errors]
    fixes = [f for f in r.get("suggested_fixes") or [] if f not in hints and (command(f) or f) not in skip]
    if fixes:
        out += ["", "Next"]
        out += [shell(f, width=width) if f.startswith("faber-db ") else wrap(f, "  - ", 4, width) for f in fixes]
    out += ["", f"(took {duration(r.get('duration_ms'))})"]
    return "\n".join(out)


def key_values(data: Any, indent: int = 2, *, width: int = WIDTH) -> str:
    """Any details as `key: value` lines (no JSON), keys aligned."""
    pairs = flatten(data)
    if not pairs:
        return ""
    key_width = min(max(len(key) for key, _ in pairs) + 1, 24)
    return "\n".join(row([f"{key}:", value], [key_width], indent, width=width) for key, value in pairs)


@lru_cache(maxsize=1)
def _environment() -> Any:
    import jinja2

    def at_width(function: Any) -> Any:  # the filter or helper with the rendering's width
        return jinja2.pass_context(lambda context, *args, **kwargs: function(*args, **kwargs,
                                                                             width=context["width"]))

    def colored(function: Any) -> Any:  # ... and its colour setting
        return jinja2.pass_context(lambda context, *args, **kwargs: function(
            *args, **kwargs, colored=bool(context["colored"]), width=context["width"]))

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(_TEMPLATES)),
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(mark=_mark, color=jinja2.pass_context(_color_filter), wrap=at_width(wrap), duration=duration,
                       size=size, when=when, command=command, fit=fit, omit=omit, shell=at_width(shell))
    env.globals.update(row=at_width(row), approval=approval, sql=jinja2.pass_context(_sql), flatten=flatten,
                       migration_rows=migration_rows, result_header=colored(header), result_footer=colored(footer),
                       key_values=at_width(key_values))
    return env


def _mark(status: str) -> str:
    return _MARKS.get(status, status)


def color(text: Any, key: str | None = None, *, enabled: bool = True) -> str:
    """`text` in the colour of a status (`key`, default the text itself): green ok, yellow warning, red failure."""
    code = _COLOURS.get(_STATUS_COLOUR.get(str(key if key is not None else text).strip().lower(), ""))
    return f"\x1b[{code}m{text}\x1b[0m" if enabled and code else str(text)


def _color_filter(context: Any, text: Any, key: str | None = None) -> str:
    return color(text, key, enabled=bool(context.get("colored")))


def visible_len(text: str) -> int:
    return len(_ANSI.sub("", text))


def wrap(text: Any, prefix: str = "", indent: str | int | None = None, width: int = WIDTH) -> str:
    """`prefix` then `text` filled to `width` columns; later lines indented by `indent` (default: under the
    text, but always leaving `MIN_ROOM` columns). Each line of `text` is its own paragraph. Breaks at spaces:
    a word that does not fit goes to the next line whole; only a word longer than a whole line is broken,
    after a `/` when it is a path. Colour codes take no room."""
    start = visible_len(prefix)
    hang = " " * start if indent is None else (" " * indent if isinstance(indent, int) else indent)
    hang = hang[: max(width - MIN_ROOM, 0)]
    fits = "\n" not in str(text) and start + visible_len(str(text)) <= width
    if width - start < MIN_ROOM and start > len(hang) and not fits:  # too little room after the prefix: below it
        return prefix.rstrip() + "\n" + wrap(text, hang, hang, width)
    lines = [prefix]
    for number, paragraph in enumerate(str(text).splitlines() or [""]):
        if number:
            lines.append(hang)
        for index, word in enumerate(paragraph.split()):
            piece = " " + word if index else word
            if visible_len(lines[-1]) + visible_len(piece) > width and visible_len(word) <= width - len(hang) and (
                    index or visible_len(lines[-1]) > len(hang)):
                lines.append(hang)  # the word fits on a line of its own: it goes there whole
                piece = word
            while visible_len(lines[-1]) + visible_len(piece) > width and len(piece) > 1 and ESC not in piece:
                room = max(width - visible_len(lines[-1]), 1)
                cut = piece.rfind("/", 0, room) + 1  # a word longer than a line: after a `/` when it has one
                lines[-1] += piece[: cut if cut > 1 else room]
                lines.append(hang)
                piece = piece[cut if cut > 1 else room:]
            lines[-1] += piece
    return "\n".join(line.rstrip() for line in lines)


def row(cells: Iterable[Any], widths: Iterable[int], indent: int = 2, hang: int | None = None, *,
        width: int = WIDTH) -> str:
    """One table row: every cell but the last padded to its width (by visible length, so coloured cells
    align), two spaces apart; the last cell wrapped, its continuation lines under it (or at `hang`), or on
    the lines below the row when it does not fit and the other cells leave it less than `MIN_ROOM` columns
    or less than its longest word."""
    values = [str(c) for c in cells]
    prefix = " " * indent
    for value, size_ in zip(values[:-1], widths, strict=False):
        prefix += value + " " * max(size_ - visible_len(value), 0) + "  "
    if not values[-1]:
        return prefix.rstrip()
    room = width - visible_len(prefix)
    longest = max((visible_len(word) for word in values[-1].split()), default=0)
    if visible_len(values[-1]) > room and (room < MIN_ROOM or longest > room):
        return prefix.rstrip() + "\n" + wrap(values[-1], " " * (indent + 4), indent + 4, width)
    return wrap(values[-1], prefix, hang, width)


def duration(ms: Any) -> str:
    ms = int(ms or 0)
    if ms < 1000:
        return f"{ms}ms"
    if ms < 60_000:
        return f"{ms / 1000:.1f}s"
    return f"{ms // 60_000}m{ms % 60_000 // 1000:02d}s"


def size(num: Any) -> str:
    value = float(num or 0)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"  # pragma: no cover


def when(value: Any) -> str:
    """An ISO timestamp as `YYYY-MM-DD HH:MM` UTC (unparseable values as given)."""
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)
    if moment.tzinfo:
        moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M")


def command(text: Any) -> str:
    """The `faber-db …` command inside a suggested fix ("" when there is none)."""
    match = re.search(r"faber-db [^`\n]+", str(text))
    return match.group(0).rstrip(" .;") if match else ""


def shell(cmd: Any, prefix: str = "  $ ", width: int = WIDTH) -> str:
    """A command to copy: never broken inside a word or between an option and its value; long ones
    continue with ` \\` on the next line (still pastable)."""
    units: list[str] = []
    for word in str(cmd).split():  # an option and its value stay together
        if units and units[-1].startswith("-") and " " not in units[-1] and not word.startswith("-"):
            units[-1] += " " + word
        else:
            units.append(word)
    lines = [prefix]
    for word in units:
        if visible_len(lines[-1]) > len(prefix) and visible_len(lines[-1]) + len(word) + 2 > width:
            lines[-1] += "\\"
            lines.append(" " * (len(prefix) + 2))
        lines[-1] += word + " "
    return "\n".join(line.rstrip() for line in lines)


def approval(result: Mapping[str, Any]) -> str:
    """The `faber-db … --approve …` command a result offers (in a suggested fix or an error hint), or ""."""
    hints = [str(e.get("hint") or "") for e in result.get("errors") or []]
    for text in [*(result.get("suggested_fixes") or []), *hints]:
        if "--approve" in command(text):
            return command(text)
    return ""


def omit(data: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in keys}


def fit(text: Any, room: int) -> str:
    """`text` on one line of at most `room` characters, cut with an ellipsis."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= room else flat[: max(room - 1, 0)] + "…"


def _sql(context: Any, text: Any, findings: Iterable[Mapping[str, Any]] = (), limit: int | None = None) -> str:
    """SQL as-is, numbered; lines with a finding marked `!!` (coloured by severity). Shows the first `limit`
    lines and every marked line; the rest is counted ("… N more lines")."""
    lines = str(text or "").rstrip("\n").splitlines()
    limit = int(context.get("sql_limit", SQL_LINES)) if limit is None else limit
    rank = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}
    marked: dict[int, str] = {}
    for f in findings:
        at, sev = int(f.get("line") or 0), str(f.get("severity") or "info")
        if rank.get(sev, 0) >= rank.get(marked.get(at, "info"), 0):
            marked[at] = sev
    out: list[str] = []
    hidden = 0
    for number, line in enumerate(lines, 1):
        if number > limit and number not in marked:
            hidden += 1
            continue
        if hidden:
            out.append(f"    … {hidden} more line{'s' * (hidden != 1)}")
            hidden = 0
        mark = color("!!", marked[number], enabled=bool(context.get("colored"))) if number in marked else "  "
        out.append(f"    {mark} {number:>3} | {line}".rstrip())
    if hidden:
        out.append(f"    … {hidden} more line{'s' * (hidden != 1)}")
    return "\n".join(out)


def flatten(value: Any, prefix: str = "", depth: int = 0) -> list[tuple[str, str]]:
    """Any details as (key, text) pairs for people: nested keys dotted (two levels), list items one line
    each with their nested parts counted, multi-line text cut to its first line; empties left out."""
    if isinstance(value, Mapping) and depth < 2:
        pairs: list[tuple[str, str]] = []
        for key, item in value.items():
            pairs += flatten(item, f"{prefix}.{key}" if prefix else str(key), depth + 1)
        return pairs
    if value is None or value == [] or value == {} or value == "":
        return []
    if isinstance(value, list) and any(isinstance(v, (Mapping, list)) for v in value):
        return [(f"{prefix}[{i}]", "; ".join(f"{k}: {_brief(v)}" for k, v in item.items()
                                             if v not in (None, [], {}, ""))
                 if isinstance(item, Mapping) else _brief(item)) for i, item in enumerate(value, 1)]
    return [(prefix, _brief(value))]


def _brief(value: Any) -> str:
    if isinstance(value, Mapping):
        return f"({len(value)} fields)"
    if isinstance(value, list):
        if any(isinstance(v, (Mapping, list)) for v in value):
            return f"({len(value)} items)"
        return ", ".join(_brief(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    lines = str(value).strip().splitlines() or [""]
    return lines[0] + (f" (+{len(lines) - 1} more lines)" if len(lines) > 1 else "")


def migration_rows(details: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(state, name) for every migration `status` knows, oldest first (names start with a timestamp)."""
    keys = ("applied", "pending", "failed", "rolled_back", "modified", "missing_locally")
    names = sorted({n for k in keys for n in details.get(k) or []})

    def state(name: str) -> str:
        for key in ("failed", "modified", "missing_locally", "applied"):
            if name in (details.get(key) or []):
                return key.replace("_", " ")
        return "rolled back" if name in (details.get("rolled_back") or []) else "pending"

    return [(state(n), n) for n in names]
