"""`faber-db init --claude-settings`: Claude Code permission rules that keep an agent away from the raw
database tools and faber-db's approval material, merged into the project's .claude/settings.json."""

from __future__ import annotations

import json

from faber import error_code, run_faber
from harness import PrismaProject


def test_rules_are_merged_once_and_other_settings_kept(sqlite_project: PrismaProject) -> None:
    root = sqlite_project.root
    settings = root / ".claude" / "settings.json"
    settings.parent.mkdir()
    settings.write_text(json.dumps({"model": "opus", "permissions": {"allow": ["Bash(npm test:*)"],
                                                                    "deny": ["Read(./.env)"]}}))
    code, result, stderr = run_faber(root, "init", "--claude-settings")
    assert code == 0, (result, stderr)
    data = json.loads(settings.read_text())
    assert data["model"] == "opus" and data["permissions"]["allow"] == ["Bash(npm test:*)"]
    deny = data["permissions"]["deny"]
    assert deny[0] == "Read(./.env)"
    for rule in ("Bash(psql:*)", "Bash(npx prisma migrate deploy:*)", "Bash(sqlite3:*)",
                 "Read(~/.local/state/faber-db/**)"):
        assert rule in deny
    assert "Edit(.fractary/plugins/faber-db/**)" in data["permissions"]["ask"]
    assert (root / ".fractary/plugins/faber-db/config.toml").is_file()

    before = settings.read_bytes()
    code, again, _ = run_faber(root, "init", "--claude-settings")
    assert code == 0 and again["details"]["claude_rules_added"] == []
    assert settings.read_bytes() == before


def test_a_settings_file_it_cannot_read_is_left_alone(sqlite_project: PrismaProject) -> None:
    root = sqlite_project.root
    settings = root / ".claude" / "settings.json"
    settings.parent.mkdir()
    settings.write_text('{"permissions": {"deny": [')
    code, result, _ = run_faber(root, "init", "--claude-settings")
    assert code == 2 and error_code(result) == "CONFIG_INVALID"
    assert settings.read_text() == '{"permissions": {"deny": ['
    assert not (root / ".fractary/plugins/faber-db/config.toml").exists()
