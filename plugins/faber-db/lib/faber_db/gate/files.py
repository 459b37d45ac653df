"""Write, Edit, MultiEdit and NotebookEdit: what a file change would do.

Asked about: a change inside faber-db's config folder (config, plans, audit trail), the migrations
folder, faber-db's approval keys, a migration tool's config, the plugin itself, Claude Code's settings or a
protected SQLite file; and a script (shell, Python, package.json scripts, .env) whose new content the
gate would ask about if it were run.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from faber_db.gate.analyze import SHELLS, Analyzer, State, guarded_path

SHELL_SUFFIXES = frozenset({".sh", ".bash", ".zsh", ".ksh", ".envrc"})
_MAX_EDITED_BYTES = 1 << 20


def file_reasons(tool_name: str, tool_input: Mapping[str, Any], analyzer: Analyzer) -> list[str]:
    """Reasons to ask about one file change (empty: nothing to ask)."""
    path_text = tool_input.get("file_path") or tool_input.get("notebook_path")
    if not isinstance(path_text, str) or not path_text:
        return [f"the {tool_name} payload names no file"]
    state = State(cwd=analyzer.session_cwd)
    guarded = analyzer.guarded(path_text, state) or guarded_path(path_text, analyzer)
    if guarded:
        return [f"it changes {path_text}, {guarded}"]
    content = new_content(tool_name, tool_input, analyzer.resolve(path_text, state))
    if content is None:
        return []
    check_content(PurePosixPath(path_text), content, analyzer, tool_name == "NotebookEdit")
    return [f"the new content of {path_text}: {f.reason}" for f in analyzer.findings]


def new_content(tool_name: str, tool_input: Mapping[str, Any], path: Path | None) -> str | None:
    """The file's text after the change (the edited text alone when the file cannot be read)."""
    if tool_name == "Write":
        content = tool_input.get("content")
        return content if isinstance(content, str) else None
    if tool_name == "NotebookEdit":
        source = tool_input.get("new_source")
        return source if isinstance(source, str) else None
    edits: list[Any]
    if tool_name == "MultiEdit":
        given = tool_input.get("edits")
        edits = given if isinstance(given, list) else []
    else:
        edits = [tool_input]
    current = _read(path)
    pieces: list[str] = []
    for edit in edits:
        if not isinstance(edit, dict):
            continue
        old, new = edit.get("old_string"), edit.get("new_string")
        if not isinstance(new, str):
            continue
        if current is not None and isinstance(old, str) and old and old in current:
            current = current.replace(old, new) if edit.get("replace_all") else current.replace(old, new, 1)
        else:
            pieces.append(new)
    if current is not None:
        pieces.insert(0, current)
    return "\n".join(pieces) if pieces else None


def _read(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        with path.open("rb") as handle:
            data = handle.read(_MAX_EDITED_BYTES)
    except OSError:
        return None
    return data.decode("utf-8", "replace")


def check_content(path: PurePosixPath, content: str, analyzer: Analyzer, notebook: bool) -> None:
    """Run the content through the gate as what it is: a shell script, Python, package scripts."""
    state = State(cwd=analyzer.session_cwd)
    first_line = content.split("\n", 1)[0]
    interpreter = PurePosixPath(first_line[2:].strip().split(" ")[-1]).name if first_line.startswith("#!") else ""
    if notebook or path.suffix == ".ipynb":
        _notebook_cell(content, analyzer, state)
    elif path.suffix in SHELL_SUFFIXES or path.name.startswith(".env") or interpreter in SHELLS:
        analyzer.run_text(content, state, f"the script {path.name}")
    elif path.name == "package.json":
        try:
            scripts = json.loads(content).get("scripts", {})
        except (ValueError, AttributeError):
            return
        if isinstance(scripts, dict):
            for name, text in scripts.items():
                if isinstance(text, str):
                    analyzer.run_text(text, state.copy(), f"the package script {name}")
    elif path.suffix == ".py" or interpreter.startswith("python"):
        command = analyzer.script_command_in(content)
        if command is not None:
            analyzer.add(f"it is a copy of faber-db's {command} skill script")
        analyzer.python_code(content, "the Python code")


def _notebook_cell(source: str, analyzer: Analyzer, state: State) -> None:
    if source.startswith(("%%bash", "%%sh", "%%script bash", "%%script sh")):
        analyzer.run_text(source.split("\n", 1)[1] if "\n" in source else "", state, "the notebook cell")
        return
    for line in source.splitlines():
        stripped = line.strip()
        if stripped.startswith("!"):
            analyzer.run_text(stripped[1:], state.copy(), "the notebook shell line")
        elif stripped.startswith("%sx ") or stripped.startswith("%system "):
            analyzer.run_text(stripped.split(" ", 1)[1], state.copy(), "the notebook shell line")
    analyzer.python_code(source, "the notebook cell")
