"""faber-db's approval gate: the core behind the PreToolUse hook (hooks/approval_gate.py).

shell.py parses bash; analyze.py walks the parsed command as bash would run it and collects the
reasons to ask; files.py does the same for Write/Edit/MultiEdit/NotebookEdit; decide.py turns the
reasons into the hook's answer and mints the approval proof for a canonical protected apply.
Standard library only, like policy.py and proof.py, which hold the rules it shares with the CLI.
"""

from faber_db.gate.decide import hook_output

__all__ = ["hook_output"]
