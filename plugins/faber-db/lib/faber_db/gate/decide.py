"""The gate's answer to one PreToolUse payload: nothing, `ask`, or `ask` with a proof.

Never `allow`: the gate only adds a question; Claude Code's own permission rules still apply. When
the command is exactly one canonical protected apply the gate understands, it mints a single-use
proof for (plan, environment, project) and puts it in front of that command, so the person sees
and accepts the command that will run. Every other protected shape is asked about without a proof,
and faber-db itself refuses it under an agent.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from faber_db import policy, proof
from faber_db.gate.analyze import Analyzer, Apply, Finding, State, Unsure
from faber_db.gate.files import file_reasons
from faber_db.gate.shell import OutOfTime, Script, ShellSyntaxError, Simple, Word, parse

FILE_TOOLS = frozenset({"Write", "Edit", "MultiEdit", "NotebookEdit"})
MAX_PAYLOAD_BYTES = 4 << 20
CPU_BUDGET_SECONDS = 0.75  # reading the command: past this, ask (a 1 MB input is decided in under 1 s)
WALL_BUDGET_SECONDS = 5.0  # on a machine too loaded to give the CPU: still answer long before the 10 s timeout
PLAN_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
_PLAIN_WORD = re.compile(r"[A-Za-z0-9_./:=@%+,-]+")
_PLUGIN_WORD = re.compile(r"(\$\{CLAUDE_PLUGIN_ROOT\}|\$CLAUDE_PLUGIN_ROOT)(/[A-Za-z0-9_./-]+)")
_MAX_PLAN_BYTES = 64 << 10
_MAX_SUMMARY_LINES = 40
_MAX_LINE_CHARS = 240
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


def ask(reason: str, updated_input: Mapping[str, Any] | None = None) -> dict[str, Any]:
    output: dict[str, Any] = {"hookEventName": "PreToolUse", "permissionDecision": "ask",
                              "permissionDecisionReason": reason}
    if updated_input is not None:
        output["updatedInput"] = dict(updated_input)
    return {"hookSpecificOutput": output}


def hook_output(raw: bytes, environ: Mapping[str, str], started: float) -> dict[str, Any] | None:
    """The JSON the hook prints for one payload (None: print nothing, the normal permission flow).
    `started` is the hook process's start in time.monotonic()."""
    deadline = time.process_time() + CPU_BUDGET_SECONDS
    wall_deadline = started + WALL_BUDGET_SECONDS
    if len(raw) > MAX_PAYLOAD_BYTES:
        return ask(f"faber-db approval gate: the request is larger than {MAX_PAYLOAD_BYTES >> 20} MB, too large "
                   "to check, so you are asked.")
    try:
        payload = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return ask("faber-db approval gate: the hook payload is not JSON, so the gate cannot check the command.")
    if not isinstance(payload, dict):
        return ask("faber-db approval gate: the hook payload is not a JSON object.")
    tool = payload.get("tool_name")
    tool_input = payload.get("tool_input")
    if tool != "Bash" and tool not in FILE_TOOLS:
        return None
    if not isinstance(tool_input, dict):
        return ask(f"faber-db approval gate: the {tool} payload has no tool_input object.")
    if _holds_nul(tool_input):  # no command line or file name can hold one: what would run is not known
        return ask(f"faber-db approval gate: the {tool} request contains a NUL character, which no shell command "
                   "or file name can hold, so the gate cannot tell what would run; you are asked.")
    cwd_text = payload.get("cwd")
    session_cwd = Path(cwd_text) if isinstance(cwd_text, str) and cwd_text.startswith("/") else Path.cwd()
    analyzer = Analyzer(environ, session_cwd, deadline, wall_deadline)
    try:
        if tool == "Bash":
            return bash_output(tool_input, analyzer)
        reasons = file_reasons(str(tool), tool_input, analyzer)
    except OutOfTime as exc:
        return ask(f"faber-db approval gate: {exc}, so you are asked.")
    except Unsure as exc:
        return ask(f"faber-db approval gate: {exc}, so you are asked.")
    if not reasons:
        return None
    return ask(f"faber-db approval gate: {'; '.join(reasons)}. Approve only if you meant this change.")


def _holds_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(key) or _holds_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_holds_nul(item) for item in value)
    return False


def bash_output(tool_input: Mapping[str, Any], analyzer: Analyzer) -> dict[str, Any] | None:
    command = tool_input.get("command")
    if not isinstance(command, str):
        return ask("faber-db approval gate: the Bash payload has no command text.")
    try:
        script = parse(command, analyzer.deadline)
    except ShellSyntaxError as exc:
        return ask(f"faber-db approval gate: the command's shell syntax cannot be read ({exc}); bash may "
                   "still run part of it, so you are asked.")
    start_dir = analyzer.session_cwd if analyzer.session_cwd.is_dir() else None
    state = State(cwd=start_dir.resolve() if start_dir else None)
    analyzer.run_script(script, state)
    findings = analyzer.findings
    if not findings:
        return None
    single = findings[0].apply if len(findings) == 1 else None
    if single is not None and single.proof_ok:
        node = canonical_node(command, script, single)
        if node is not None:
            return proof_output(command, tool_input, single, node)
    return ask(refusal_reason(findings))


def canonical_node(command: str, script: Script, apply: Apply) -> Simple | None:
    """The apply's command node when the whole text is `[cd DIR &&] <apply>` in plain words."""
    if len(script.lists) != 1 or script.lists[0][1] not in ("", "\n"):
        return None
    items = script.lists[0][0].items
    nodes = [p.commands[0] if len(p.commands) == 1 and not p.negated else None for _, p in items]
    if any(not isinstance(n, Simple) for n in nodes) or apply.node is None or apply.plan_id is None:
        return None
    simples = [n for n in nodes if isinstance(n, Simple)]
    if len(simples) == 2:
        cd = simples[0]
        if items[1][0] != "&&" or cd.assigns or cd.redirects or len(cd.words) != 2 or cd.words[0].raw != "cd" \
                or not _plain(cd.words[1]):
            return None
    elif len(simples) != 1:
        return None
    node = simples[-1]
    if node.assigns or node.redirects or not PLAN_ID.fullmatch(apply.plan_id):
        return None
    if command[:simples[0].start].strip() or command[node.end:].strip():
        return None  # nothing else in the text, not even a comment
    if "\\" in command or "\n" in command.strip():
        return None  # one line, no escapes or line continuations
    if node is not apply.node:
        return None
    for index, word in enumerate(node.words):
        if not (_plain(word) or (index < 2 and _PLUGIN_WORD.fullmatch(word.raw))):
            return None
    return node


def _plain(word: Word) -> bool:
    return bool(_PLAIN_WORD.fullmatch(word.raw))


def proof_output(command: str, tool_input: Mapping[str, Any], apply: Apply, node: Simple) -> dict[str, Any]:
    assert apply.plan_id is not None and apply.canonical is not None and apply.project_root is not None
    try:
        token = proof.mint(plan_id=apply.plan_id, environment=apply.canonical, project_root=apply.project_root)
    except (OSError, proof.ProofRejected) as exc:
        why = exc.reason if isinstance(exc, proof.ProofRejected) else str(exc)
        return ask(f"faber-db approval gate: {apply.operation} on the protected environment {apply.canonical}, but "
                   f"no approval proof could be made ({why}); faber-db will refuse it. Run the command in your "
                   "own terminal, where faber-db asks you directly.")
    updated = dict(tool_input)
    updated["command"] = f"{command[:node.start]}{proof.APPROVAL_VARIABLE}={token} {command[node.start:]}"
    return ask(approval_reason(apply), updated)


def approval_reason(apply: Apply) -> str:
    assert apply.plan_id is not None and apply.project_root is not None
    head = (f"faber-db approval: {apply.operation} on the PROTECTED environment {apply.canonical} "
            f"(project {apply.project_root}), plan {apply.plan_id}")
    if apply.details:
        head += f", with {', '.join(apply.details)}"
    lines = [head + "."]
    lines += plan_summary(apply)
    lines.append(f"Accepting runs this command once with a single-use approval proof (valid "
                 f"{proof.PROOF_TTL_SECONDS // 60} minutes, for this plan, environment and project only). "
                 "Decline unless you reviewed this plan.")
    return "\n".join(lines)


def plan_summary(apply: Apply) -> list[str]:
    """What the dry run recorded for the plan (untrusted: shown, never relied on)."""
    assert apply.plan_id is not None and apply.project_root is not None
    path = apply.project_root / policy.PLANS_DIR / f"{apply.plan_id}.json"
    dry_run = f"faber-db {apply.operation.replace('faber release', 'migrate')} {apply.environment} --dry-run"
    missing = (f"No recorded plan {apply.plan_id} exists in this project, so faber-db will refuse it: run "
               f"`{dry_run}` first and approve the plan id it prints.")
    try:
        with path.open("rb") as handle:
            raw = handle.read(_MAX_PLAN_BYTES + 1)
        record = json.loads(raw.decode("utf-8")) if len(raw) <= _MAX_PLAN_BYTES else None
    except (OSError, ValueError):
        return [missing]
    if not isinstance(record, dict):
        return [missing]
    out = ["The plan as faber-db's dry run recorded it (shown as written; faber-db checks it again):"]
    summary = record.get("summary")
    if isinstance(summary, dict):
        title = summary.get("title")
        if isinstance(title, str):
            out.append(_clean(title))
        lines = summary.get("lines")
        if isinstance(lines, list):
            shown = [line for line in lines if isinstance(line, str)]
            out += [f"  {_clean(line)}" for line in shown[:_MAX_SUMMARY_LINES]]
            if len(shown) > _MAX_SUMMARY_LINES:
                out.append(f"  … and {len(shown) - _MAX_SUMMARY_LINES} more lines")
    if len(out) == 1:
        out.append("  (the record has no summary)")
    recorded_op = record.get("operation")
    expected_op = "migrate" if apply.operation.startswith("faber") else apply.operation
    if recorded_op != expected_op or record.get("environment") not in (apply.canonical, apply.environment):
        out.append(f"Note: the record is for {_clean(str(recorded_op))} on {_clean(str(record.get('environment')))}, "
                   "not this command: faber-db will refuse it.")
    if record.get("used_at") is not None:
        out.append("Note: the record says this plan was already applied: faber-db will refuse it.")
    expires = record.get("expires_at")
    if isinstance(expires, (int, float)) and expires < time.time():
        out.append("Note: the record says this plan has expired: faber-db will refuse it.")
    return out


def _clean(text: str) -> str:
    """A line from an untrusted file, safe to show: no control or bidi characters, bounded length."""
    text = _CONTROL.sub("?", text)
    return text if len(text) <= _MAX_LINE_CHARS else text[:_MAX_LINE_CHARS - 1] + "…"


def refusal_reason(findings: list[Finding]) -> str:
    reasons = "; ".join(f.reason for f in findings)
    text = f"faber-db approval gate: {reasons}."
    applies = [f.apply for f in findings if f.apply is not None]
    if applies:
        first = applies[0]
        plan = first.plan_id or "<plan id from the dry run>"
        canonical = (f"faber-db faber release --approve {plan}" if first.operation == "faber release"
                     else f"faber-db {first.operation} {first.environment} --approve {plan}")
        text += (" faber-db will refuse a protected change here: under an agent it needs the gate's single-use "
                 "proof, which the gate gives only to one plain command, on its own (optionally after "
                 f"`cd <project> &&`): `{canonical}`.")
    else:
        text += " A protected environment may be affected; approve only if you meant exactly this."
    return text
