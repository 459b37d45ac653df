"""Printing: one result on stdout (JSON for programs, text for people), progress on stderr.

Everything leaving the process goes through `redact` first, whatever its path.

Progress lines start with the time since faber-db started (`[faber-db   4.2s] applying …`) and are
wrapped to the terminal's width. A step that runs longer than a second gets a live timer: on a terminal
its line is rewritten in place a few times a second (`… (3.1s)`), elsewhere (a log, an agent reading
stderr) a one-line note says it is still running every `PLAIN_EVERY` seconds, and another when it ends.
`FABER_DB_QUIET` silences all of it.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TextIO

from faber_db.redact import redact, redact_data
from faber_db.render import fit, terminal_width, wrap
from faber_db.results import Result

_started = time.monotonic()
LIVE_AFTER = 1.0  # a step gets a live timer once it has run this long (seconds)
TICK = 0.25  # how often a terminal's live line is redrawn
PLAIN_EVERY = 10.0  # how often a step still running is reported where lines cannot be rewritten
_CLEAR_LINE = "\r\x1b[K"


def choose_format(requested: str | None, stream: TextIO | None = None) -> str:
    """JSON unless a person is reading: `--format` wins, else a terminal gets text."""
    if requested:
        return requested
    stream = stream or sys.stdout
    return "text" if stream.isatty() else "json"


def render_json(result: Result) -> str:
    # value by value, then serialised: a secret (or text shaped like one) never breaks the JSON
    return json.dumps(redact_data(result.to_dict()), indent=2, ensure_ascii=False, default=str)


def render_text(result: Result) -> str:
    from faber_db.render import render_result

    return redact(render_result(result))


def emit(result: Result, fmt: str) -> None:
    text = render_text(result) if fmt == "text" else render_json(result)
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def progress(message: str) -> None:
    """One progress line for people, on stderr, with the elapsed time."""
    _REPORTER.line(message)


def warn(message: str) -> None:
    progress(f"warning: {message}")


@contextlib.contextmanager
def progress_step(message: str, *, after: float = 0.0) -> Iterator[None]:
    """A step people may wait for: its line (shown once it has run `after` seconds: 0 shows it at once),
    with a live timer while it runs longer than a second, and how long it took."""
    step = _REPORTER.begin(message, after)
    try:
        yield
    finally:
        _REPORTER.end(step)


@contextlib.contextmanager
def progress_paused() -> Iterator[None]:
    """Nothing is drawn on stderr meanwhile (a prompt is waiting for the person's answer there)."""
    _REPORTER.pause(True)
    try:
        yield
    finally:
        _REPORTER.pause(False)


def jsonable_details(details: Any) -> Any:
    return json.loads(json.dumps(details, default=str))


@dataclass
class _Step:
    message: str
    started: float
    shown_after: float
    shown: bool = False
    reported: float = 0.0  # plain mode: when it was last reported


class _Reporter:
    """The one writer of progress to stderr, shared by every thread (a deploy's watcher thread too).
    On a terminal the innermost running step owns the last line, which only it rewrites; any other line
    is written above it."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.steps: list[_Step] = []
        self.open = False  # the terminal's last line is a live step line, no newline yet
        self.paused = False
        self.wake = threading.Event()
        self.ticker: threading.Thread | None = None

    # -- what the functions above call

    def line(self, message: str) -> None:
        with self.lock:
            stream = self._stream()
            if stream is None:
                return
            self._close_live(stream)
            self._write(stream, self._lines(message, stream) + "\n")
            self._draw(stream)

    def begin(self, message: str, after: float) -> _Step:
        step = _Step(message, time.monotonic(), after)
        with self.lock:
            self.steps.append(step)
            stream = self._stream()
            if stream is not None and after <= 0:
                self._show(step, stream)
            self._start_ticker()
        return step

    def end(self, step: _Step) -> None:
        with self.lock:
            if step in self.steps:
                self.steps.remove(step)
            stream = self._stream()
            if stream is None or not step.shown:
                return
            took = time.monotonic() - step.started
            if _is_terminal(stream):
                if took >= LIVE_AFTER or not self._is_live(step):
                    self._close_live(stream)
                    self._write(stream, self._lines(f"{step.message} ({took:.1f}s)", stream, at=step.started) + "\n")
                else:  # a quick step: its line stands as written
                    self._write(stream, "\n")
                    self.open = False
                self._draw(stream)
            elif took >= LIVE_AFTER:
                self._write(stream, self._one_line(step.message, f": done ({took:.1f}s)", stream))

    def pause(self, paused: bool) -> None:
        with self.lock:
            self.paused = paused
            stream = self._stream()
            if stream is None:
                return
            if paused:
                self._close_live(stream, keep=False)
            else:
                self._draw(stream)

    # -- the ticker thread: shows late steps, redraws the live line, reports long plain steps

    def _start_ticker(self) -> None:
        if self.ticker is None or not self.ticker.is_alive():
            self.ticker = threading.Thread(target=self._tick, name="faber-db-progress-ticker", daemon=True)
            self.ticker.start()

    def _tick(self) -> None:
        while True:
            time.sleep(TICK)
            with self.lock:
                if not self.steps:
                    self.ticker = None
                    return
                stream = self._stream()
                if stream is None or self.paused:
                    continue
                now = time.monotonic()
                for step in self.steps:
                    if not step.shown and now - step.started >= step.shown_after:
                        self._show(step, stream)
                if _is_terminal(stream):
                    self._draw(stream)
                    continue
                for step in self.steps:
                    if step.shown and now - step.reported >= PLAIN_EVERY:
                        step.reported = now
                        self._write(stream, self._one_line(step.message, f": still running "
                                                           f"({now - step.started:.0f}s)", stream))

    # -- drawing (the caller holds the lock)

    def _show(self, step: _Step, stream: TextIO) -> None:
        step.shown = True
        step.reported = time.monotonic()
        if _is_terminal(stream):
            self._close_live(stream)
            self._draw(stream)
        else:
            self._write(stream, self._lines(step.message, stream, at=step.started) + "\n")

    def _is_live(self, step: _Step) -> bool:
        live = self._live_step()
        return self.open and live is step

    def _live_step(self) -> _Step | None:
        return next((s for s in reversed(self.steps) if s.shown), None)

    def _draw(self, stream: TextIO) -> None:
        """(Re)write the live line: the innermost shown step, its timer once it has run a second."""
        step = self._live_step()
        if step is None or self.paused or not _is_terminal(stream):
            return
        took = time.monotonic() - step.started
        timer = f" ({took:.1f}s)" if took >= LIVE_AFTER else ""
        head = _prefix(step.started)
        room = terminal_width(stream) - len(head) - len(timer) - 1  # never the last column: no wrap
        self._write(stream, (_CLEAR_LINE if self.open else "") + head + fit(step.message, room) + timer)
        self.open = True

    def _close_live(self, stream: TextIO, *, keep: bool = False) -> None:
        """Clear the live line so another line can take its place (it is redrawn after that line)."""
        if self.open:
            self._write(stream, "\n" if keep else _CLEAR_LINE)
            self.open = False

    @staticmethod
    def _one_line(message: str, suffix: str, stream: TextIO) -> str:
        """A plain line about a step already shown in full: its message cut to leave room for `suffix`."""
        head = _prefix()
        return head + fit(message, terminal_width(stream) - len(head) - len(suffix)) + suffix + "\n"

    def _lines(self, message: str, stream: TextIO, at: float | None = None) -> str:
        head = _prefix(at)
        return wrap(message, head, len(head), width=terminal_width(stream))

    @staticmethod
    def _write(stream: TextIO, text: str) -> None:
        try:
            stream.write(redact(text))
            stream.flush()
        except (OSError, ValueError):
            pass  # a closed stderr must never fail the operation

    @staticmethod
    def _stream() -> TextIO | None:
        return None if os.environ.get("FABER_DB_QUIET") else sys.stderr


def _prefix(at: float | None = None) -> str:
    return f"[faber-db {(time.monotonic() if at is None else at) - _started:6.1f}s] "


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty() and os.environ.get("TERM") != "dumb"
    except (AttributeError, ValueError):
        return False


_REPORTER = _Reporter()
