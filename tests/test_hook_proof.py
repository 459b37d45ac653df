"""faber_db.proof: single-use approval proofs, HMAC-signed with a key under the real home directory."""

from __future__ import annotations

import base64
import json
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest
from faber_db import proof

REPO = Path(__file__).resolve().parent.parent
LIB = REPO / "plugins" / "faber-db" / "lib"


def plan() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


def test_a_proof_verifies_once(tmp_path: Path) -> None:
    plan_id = plan()
    token = proof.mint(plan_id=plan_id, environment="production", project_root=tmp_path)
    assert token.startswith("fdb1.") and token.count(".") == 2
    proof.verify_and_spend(token, plan_id=plan_id, environment="production", project_root=tmp_path)
    with pytest.raises(proof.ProofRejected, match="already used") as second:
        proof.verify_and_spend(token, plan_id=plan_id, environment="production", project_root=tmp_path)
    assert second.value.reason.startswith("already used")


def test_the_project_is_compared_resolved(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    plan_id = plan()
    token = proof.mint(plan_id=plan_id, environment="production", project_root=tmp_path / "link")
    proof.verify_and_spend(token, plan_id=plan_id, environment="production", project_root=tmp_path / "real/.")


@pytest.mark.parametrize("change, words", [
    ({"plan_id": "other"}, "another plan"),
    ({"environment": "staging"}, "another environment"),
    ({"project_root": Path("/elsewhere")}, "another project"),
])
def test_a_proof_binds_plan_environment_and_project(tmp_path: Path, change: dict[str, object], words: str) -> None:
    plan_id = plan()
    token = proof.mint(plan_id=plan_id, environment="production", project_root=tmp_path)
    wanted: dict[str, object] = {"plan_id": plan_id, "environment": "production", "project_root": tmp_path}
    with pytest.raises(proof.ProofRejected, match=words):
        proof.verify_and_spend(token, **{**wanted, **change})  # type: ignore[arg-type]
    proof.verify_and_spend(token, **wanted)  # type: ignore[arg-type]  # a refusal does not spend it


def test_a_proof_expires(tmp_path: Path) -> None:
    plan_id = plan()
    now = time.time()
    token = proof.mint(plan_id=plan_id, environment="production", project_root=tmp_path, now=now)
    with pytest.raises(proof.ProofRejected, match="expired"):
        proof.verify_and_spend(token, plan_id=plan_id, environment="production", project_root=tmp_path,
                               now=now + proof.PROOF_TTL_SECONDS + 1)
    proof.verify_and_spend(token, plan_id=plan_id, environment="production", project_root=tmp_path,
                           now=now + proof.PROOF_TTL_SECONDS - 5)


def _forge(token: str, **changes: object) -> str:
    prefix, body, signature = token.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload.update(changes)
    forged = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    return f"{prefix}.{forged}.{signature}"


def test_an_edited_proof_has_a_bad_signature(tmp_path: Path) -> None:
    token = proof.mint(plan_id=plan(), environment="dev", project_root=tmp_path)
    forged = _forge(token, e="production", p="anything")
    with pytest.raises(proof.ProofRejected, match="bad signature"):
        proof.verify_and_spend(forged, plan_id="anything", environment="production", project_root=tmp_path)


@pytest.mark.parametrize("token", ["", "garbage", "fdb1.abc", "fdb2.a.b", "fdb1.!!.??", "fdb1." + "A" * 3000 + ".b",
                                   "fdb1.e30.AAAA"])
def test_malformed_proofs(token: str, tmp_path: Path) -> None:
    with pytest.raises(proof.ProofRejected) as rejected:
        proof.verify_and_spend(token, plan_id="p", environment="production", project_root=tmp_path)
    assert rejected.value.reason.startswith(("malformed", "bad signature"))


def test_key_and_folder_are_private() -> None:
    proof.mint(plan_id=plan(), environment="production", project_root=Path("/"))
    directory = proof.approval_dir()
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    key = directory / "key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and key.stat().st_size == proof.KEY_BYTES
    assert directory == Path(pwd.getpwuid(os.geteuid()).pw_dir) / ".local/state/faber-db/approval"


def test_the_approval_folder_ignores_variables_an_agent_can_set(tmp_path: Path) -> None:
    env = {**os.environ, "HOME": str(tmp_path), "XDG_STATE_HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path),
           "CLAUDE_PLUGIN_DATA": str(tmp_path), "PYTHONPATH": str(LIB)}
    done = subprocess.run([sys.executable, "-c", "from faber_db import proof; print(proof.approval_dir())"],
                          env=env, capture_output=True, text=True, timeout=60, check=True)
    assert Path(done.stdout.strip()) == proof.approval_dir()


def test_only_one_of_two_racing_uses_wins(tmp_path: Path) -> None:
    """Two processes spend the same proof at the same moment: the file lock lets exactly one through."""
    plan_id = plan()
    token = proof.mint(plan_id=plan_id, environment="production", project_root=tmp_path)
    code = ("import sys; from pathlib import Path; from faber_db import proof\n"
            "sys.stdin.readline()\n"
            "try:\n proof.verify_and_spend(sys.argv[1], plan_id=sys.argv[2], environment='production', "
            "project_root=Path(sys.argv[3])); print('spent')\n"
            "except proof.ProofRejected as e: print(e.reason)\n")
    env = {**os.environ, "PYTHONPATH": str(LIB)}
    racers = [subprocess.Popen([sys.executable, "-c", code, token, plan_id, str(tmp_path)], env=env,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) for _ in range(4)]
    time.sleep(1.0)  # all four are started and waiting
    for racer in racers:
        assert racer.stdin is not None
        racer.stdin.write("go\n")
        racer.stdin.flush()
    answers = sorted(racer.communicate(timeout=60)[0].strip() for racer in racers)
    assert answers.count("spent") == 1, answers
    assert all(a.startswith("already used") for a in answers if a != "spent")


def test_concurrent_first_mints_agree_on_one_key(tmp_path: Path) -> None:
    """Processes minting at once all sign with the same key (created once, atomically)."""
    code = ("from pathlib import Path; from faber_db import proof; import sys\n"
            "print(proof.mint(plan_id=sys.argv[1], environment='production', project_root=Path(sys.argv[2])))")
    env = {**os.environ, "PYTHONPATH": str(LIB)}
    plan_id = plan()
    minters = [subprocess.Popen([sys.executable, "-c", code, plan_id, str(tmp_path)], env=env,
                                stdout=subprocess.PIPE, text=True) for _ in range(4)]
    tokens = [m.communicate(timeout=60)[0].strip() for m in minters]
    for token in tokens:
        proof.verify_and_spend(token, plan_id=plan_id, environment="production", project_root=tmp_path)


def test_spent_entries_are_pruned_once_expired(tmp_path: Path) -> None:
    now = time.time()
    first_plan = plan()
    first = proof.mint(plan_id=first_plan, environment="production", project_root=tmp_path, now=now)
    proof.verify_and_spend(first, plan_id=first_plan, environment="production", project_root=tmp_path, now=now)
    nonce = json.loads(base64.urlsafe_b64decode(first.split(".")[1] + "==="))["n"]
    spent = proof.approval_dir() / "spent.json"
    assert nonce in json.loads(spent.read_text("utf-8"))
    later = now + proof.PROOF_TTL_SECONDS + 60
    second_plan = plan()
    second = proof.mint(plan_id=second_plan, environment="production", project_root=tmp_path, now=later)
    proof.verify_and_spend(second, plan_id=second_plan, environment="production", project_root=tmp_path, now=later)
    assert nonce not in json.loads(spent.read_text("utf-8"))


SYSTEM_PYTHON = Path("/usr/bin/python3")


@pytest.mark.skipif(os.geteuid() != 0 or not SYSTEM_PYTHON.exists(), reason="needs root and the system python3")
def test_no_key_on_this_machine(tmp_path: Path) -> None:
    """Another user (no key in their home) cannot verify a proof minted here."""
    token = proof.mint(plan_id="p", environment="production", project_root=tmp_path)
    nobody = pwd.getpwnam("nobody")
    code = ("import sys; from pathlib import Path; from faber_db import proof\n"
            "try: proof.verify_and_spend(sys.argv[1], plan_id='p', environment='production', project_root=Path('/'))\n"
            "except proof.ProofRejected as e: print(e.reason)\n")
    # a copy nobody can read: the checkout itself may sit in a folder only root can enter
    readable = Path(tempfile.mkdtemp(prefix="faber-db-lib-"))
    try:
        readable.chmod(0o755)
        shutil.copytree(LIB / "faber_db", readable / "faber_db", ignore=shutil.ignore_patterns("__pycache__"))
        env = {"PYTHONPATH": str(readable), "PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"}
        done = subprocess.run([str(SYSTEM_PYTHON), "-c", code, token], env=env,
                              user=nobody.pw_uid, group=nobody.pw_gid, extra_groups=[], capture_output=True,
                              text=True, timeout=60, check=False, cwd="/")
    finally:
        shutil.rmtree(readable, ignore_errors=True)
    assert done.stdout.startswith("no approval key"), (done.stdout, done.stderr)
