"""The package's shape stays what CONTRIBUTING.md describes: one version string, no import cycles, and
no module past ~600 lines without saying why."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import faber_db
import tomllib

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "plugins" / "faber-db" / "lib" / "faber_db"
LONG = 600


def test_one_version_string() -> None:
    versions = {
        "faber_db.__version__": faber_db.__version__,
        "pyproject.toml": tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"],
        "plugin.json": json.loads((REPO / "plugins/faber-db/.claude-plugin/plugin.json").read_text())["version"],
    }
    marketplace = json.loads((REPO / ".claude-plugin/marketplace.json").read_text())
    versions["marketplace.json"] = marketplace["metadata"]["version"] if "metadata" in marketplace else ""
    versions.update({f"marketplace.json plugin {p['name']}": p["version"] for p in marketplace["plugins"]})
    assert len(set(versions.values())) == 1, versions


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _imports_at_load(path: Path, modules: dict[str, Path]) -> set[str]:
    """The faber_db modules importing `path` loads (TYPE_CHECKING blocks and function bodies don't run
    at import; `from pkg import submodule` needs the submodule, not pkg's own names)."""
    deps: set[str] = set()

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                continue
            if isinstance(node, ast.Import):
                deps.update(a.name for a in node.names if a.name.startswith("faber_db"))
            elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("faber_db"):
                subs = [f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in modules]
                deps.update(subs)
                if len(subs) < len(node.names):
                    deps.add(node.module)
            elif isinstance(node, ast.If | ast.Try):
                visit(node.body)
                visit(node.orelse)
                for handler in getattr(node, "handlers", []):
                    visit(handler.body)

    visit(ast.parse(path.read_text("utf-8")).body)
    return {d for d in deps if d in modules}


def test_no_import_cycles() -> None:
    modules = _modules()
    graph = {name: _imports_at_load(path, modules) - {name} for name, path in modules.items()}
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def walk(name: str) -> None:
        state[name] = 1
        stack.append(name)
        for dep in sorted(graph[name]):
            if state.get(dep) == 1:
                cycles.append([*stack[stack.index(dep):], dep])
            elif dep not in state:
                walk(dep)
        stack.pop()
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            walk(name)
    assert not cycles, "\n".join(" -> ".join(c) for c in cycles)
    assert graph["faber_db.operations.migrate"], "the graph is not empty: the walk reads imports"


def test_long_modules_say_why() -> None:
    unexplained = []
    for name, path in sorted(_modules().items()):
        lines = path.read_text("utf-8").count("\n")
        docstring = ast.get_docstring(ast.parse(path.read_text("utf-8"))) or ""
        if lines > LONG and "Why it is long:" not in docstring:
            unexplained.append(f"{name}: {lines} lines")
    assert not unexplained, unexplained
