"""Property tests of the approval gate: whatever text an agent writes, the gate answers (nothing or a
well-formed `ask`, never `allow`, never an exception), and a protected apply stays asked about
whatever ordinary commands come before it. Speed is measured by scripts/bench, not asserted here;
the gate's own deadline turns anything it cannot finish in time into `ask`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from faber_db.gate import hook_output
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

REPO = Path(__file__).resolve().parent.parent
HOOK = REPO / "plugins" / "faber-db" / "hooks" / "approval_gate.py"
PROJECT = Path(tempfile.mkdtemp(prefix="gate-property-"))
(PROJECT / ".git").mkdir()
(PROJECT / "prisma").mkdir()
(PROJECT / "prisma/schema.prisma").write_text('datasource db {\n  provider = "sqlite"\n}\n', "utf-8")
ENVIRON = {"PATH": os.environ.get("PATH", ""), "CLAUDECODE": "1", "PROD_DATABASE_URL": "file:./prod.db"}
SHELL_ALPHABET = st.sampled_from([*"abcfmprx-_ ./=$`'\"\\;&|()<>{}[]*?~!#\n\t0129",
                                  "faber-db", "migrate", "production", "--approve", "P", "--dry-run", "$(", "${",
                                  "<<EOF\n", "\nEOF\n", "bash -c ", "eval ", "python3 -c ", "xargs ", "env -S ",
                                  "cd /tmp", "&&", "||", "DATABASE_URL=", "export ", "f(){ ", "; }", "prisma "])
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def decide(command: str, tool: str = "Bash", tool_input: dict[str, Any] | None = None) -> dict[str, Any] | None:
    payload = {"session_id": "p", "transcript_path": "/tmp/t.jsonl", "cwd": str(PROJECT),
               "hook_event_name": "PreToolUse", "tool_name": tool,
               "tool_input": tool_input if tool_input is not None else {"command": command, "description": "x"}}
    return hook_output(json.dumps(payload).encode(), ENVIRON, time.monotonic())


def well_formed(answer: dict[str, Any] | None) -> None:
    if answer is None:
        return
    assert set(answer) == {"hookSpecificOutput"}
    output = answer["hookSpecificOutput"]
    assert output["hookEventName"] == "PreToolUse"
    assert output["permissionDecision"] == "ask"
    assert isinstance(output["permissionDecisionReason"], str) and output["permissionDecisionReason"]
    assert set(output) <= {"hookEventName", "permissionDecision", "permissionDecisionReason", "updatedInput"}


@SETTINGS
@given(st.lists(SHELL_ALPHABET, max_size=60).map("".join))
def test_any_text_gets_an_answer(command: str) -> None:
    well_formed(decide(command))


@SETTINGS
@given(st.text(max_size=400))
def test_any_unicode_gets_an_answer(command: str) -> None:
    well_formed(decide(command))


WORD = st.from_regex(r"[a-z0-9./_-]{1,8}", fullmatch=True) | st.from_regex(r"'[a-z ]{0,6}'", fullmatch=True)
SIMPLE = st.lists(WORD, min_size=1, max_size=5).map(" ".join)
SEPARATOR = st.sampled_from(["; ", " && ", " || ", " | ", "\n", " & "])


@SETTINGS
@given(st.lists(st.tuples(SIMPLE, SEPARATOR), max_size=8))
def test_an_apply_after_ordinary_commands_is_always_asked(prefix: list[tuple[str, str]]) -> None:
    text = "".join(command + separator for command, separator in prefix)
    answer = decide(text + "\nfaber-db migrate production --approve P1")
    assert answer is not None
    well_formed(answer)
    if prefix:
        assert "updatedInput" not in answer["hookSpecificOutput"]  # only the plain command alone gets a proof


@SETTINGS
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                                  max_size=4), max_leaves=20),
       st.sampled_from(["Bash", "Write", "Edit", "MultiEdit", "NotebookEdit"]))
def test_any_payload_shape_gets_an_answer(tool_input: Any, tool: str) -> None:
    payload = {"tool_name": tool, "tool_input": tool_input, "cwd": str(PROJECT)}
    well_formed(hook_output(json.dumps(payload).encode(), ENVIRON, time.monotonic()))


@SETTINGS
@given(st.sampled_from(["deploy.sh", "x.py", "package.json", ".env", "notes.md", "n.ipynb"]),
       st.lists(SHELL_ALPHABET, max_size=40).map("".join))
def test_any_written_file_gets_an_answer(name: str, content: str) -> None:
    well_formed(decide("", "Write", {"file_path": str(PROJECT / name), "content": content}))


@settings(max_examples=15, deadline=None)
@given(st.lists(SHELL_ALPHABET, max_size=80).map("".join))
def test_the_real_hook_script_never_crashes(command: str) -> None:
    payload = {"session_id": "p", "transcript_path": "/tmp/t.jsonl", "cwd": str(PROJECT),
               "hook_event_name": "PreToolUse", "tool_name": "Bash",
               "tool_input": {"command": command, "description": "x"}}
    done = subprocess.run([sys.executable, str(HOOK)], input=json.dumps(payload), capture_output=True, text=True,
                          env=ENVIRON, timeout=60, check=False)
    assert done.returncode == 0 and done.stderr == ""
    well_formed(json.loads(done.stdout) if done.stdout.strip() else None)
