"""Issue #17's boundary, read file by file as a reviewer would: only the Prisma handler's package names
Prisma, and only engines/ compares the database provider. A second migration tool is then one handler
(and its facts), and a third database one engine."""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "plugins" / "faber-db" / "lib" / "faber_db"

# Still being moved behind the boundary by their owners (issue #17); each entry goes when its file is clean.
PRISMA_PENDING: set[str] = set()
PROVIDER_PENDING: set[str] = set()

# The registry, and the deprecated result aliases kept for one release (`prisma_output` and init's).
REGISTRY = "handlers/__init__.py"
ALIASES = re.compile(r"\bprisma_(?:output|config|command|version)\b")
# config.py's `[prisma]` section: its key wherever the file reads or writes it, and the value
# `migration_tool = "prisma"`
CONFIG_KEYS = re.compile(r'"prisma(?:\.[a-z_]+)?"|\bprisma\b(?=\s*[:\[=,])|\bPrismaConfig\b')
PROVIDER_COMPARE = re.compile(r"\bprovider\b\s*(?:==|!=|\bin\b|\bnot in\b)|(?:==|!=)\s*[\w.]*\bprovider\b")


def _sources() -> dict[str, str]:
    return {path.relative_to(PACKAGE).as_posix(): path.read_text("utf-8") for path in sorted(PACKAGE.rglob("*.py"))}


def _class_lines(text: str, name: str) -> set[int]:
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.ClassDef) and node.name == name:
            return set(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return set()


def test_only_the_prisma_handler_names_prisma() -> None:
    mentions: list[str] = []
    for name, text in _sources().items():
        if name.startswith("handlers/prisma/") or name == REGISTRY or name in PRISMA_PENDING:
            continue
        schema_section = _class_lines(text, "PrismaConfig") if name == "config.py" else set()
        for number, line in enumerate(text.splitlines(), 1):
            rest = ALIASES.sub("", line)
            if name == "config.py":
                if number in schema_section:
                    continue
                rest = CONFIG_KEYS.sub("", rest)
            if "prisma" in rest.lower():
                mentions.append(f"{name}:{number}: {line.strip()}")
    assert not mentions, "Prisma is named outside handlers/prisma/:\n" + "\n".join(mentions)


def test_only_the_engines_compare_the_provider() -> None:
    compares = [f"{name}:{number}: {line.strip()}" for name, text in _sources().items()
                if not name.startswith("engines/") and name not in PROVIDER_PENDING
                for number, line in enumerate(text.splitlines(), 1) if PROVIDER_COMPARE.search(line)]
    assert not compares, "the provider is compared outside engines/:\n" + "\n".join(compares)


def test_the_pending_lists_only_hold_files_that_still_need_them() -> None:
    """An entry whose file became clean is removed, so the test holds that file from then on."""
    sources = _sources()
    assert all("prisma" in sources[name].lower() for name in PRISMA_PENDING)
    assert all(PROVIDER_COMPARE.search(sources[name]) for name in PROVIDER_PENDING)


def test_the_checks_see_what_they_look_for() -> None:
    """The patterns match the shapes issue #17 counted, so a clean pass means something."""
    assert PROVIDER_COMPARE.search('if target.provider == "postgresql":')
    assert PROVIDER_COMPARE.search('if provider in ("sqlite", "mysql"):')
    assert PROVIDER_COMPARE.search("if manifest.provider != target.provider:")
    assert not PROVIDER_COMPARE.search("engine(target.provider).sessions_outlive_clients")
    assert CONFIG_KEYS.sub("", 'prisma: PrismaConfig = field(default_factory=PrismaConfig)').strip(" :=(),") \
        == "field(default_factory"
    assert "prisma" in CONFIG_KEYS.sub("", "# run prisma generate").lower()
