#!/usr/bin/env python3
"""faber-db's PreToolUse approval gate (Bash, Write, Edit, MultiEdit, NotebookEdit).

Claude Code runs this before each of those tools with the hook payload as JSON on stdin. It prints
nothing (Claude Code's normal permission flow decides) or `permissionDecision: "ask"` with the
reason, so that the person is asked whatever the model decided; for exactly one canonical protected
apply it also returns `updatedInput`, the same command carrying a single-use approval proof that
faber-db checks. It never answers "allow". The logic lives in lib/faber_db/gate (standard library
only, no virtual environment needed); this file only feeds it and fails closed: any error means ask.
"""

import json
import os
import pwd
import sys
import time

STARTED = time.monotonic()
# Compiled bytecode goes to faber-db's state folder (as bin/faber-db does), never into the plugin folder;
# without a cache every call would compile the gate again (a few hundred milliseconds).
_STATE = os.environ.get("CLAUDE_PLUGIN_DATA") or os.path.join(pwd.getpwuid(os.geteuid()).pw_dir, ".cache", "faber-db")
sys.pycache_prefix = os.path.join(_STATE, "pycache")
sys.dont_write_bytecode = False  # even under PYTHONDONTWRITEBYTECODE: the cache is outside the plugin


def _fail_closed(exc: BaseException) -> dict:
    return {"hookSpecificOutput": {
        "hookEventName": "PreToolUse", "permissionDecision": "ask",
        "permissionDecisionReason": f"faber-db approval gate: the gate failed ({type(exc).__name__}: {exc}), so "
                                    "it cannot tell whether this changes a protected database; you are asked."}}


def main() -> int:
    try:
        from pathlib import Path

        sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lib"))
        from faber_db.gate import hook_output

        answer = hook_output(sys.stdin.buffer.read(), dict(os.environ), STARTED)
    except BaseException as exc:
        answer = _fail_closed(exc)
    if answer is not None:
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
