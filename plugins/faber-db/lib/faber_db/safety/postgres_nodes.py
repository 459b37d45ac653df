"""Small readers of pglast's nodes shared by the PostgreSQL analyzer, its DML part, the lock lint
and the row counts. pglast is imported inside functions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def relname(relation: Any) -> str:
    return str(getattr(relation, "relname", None) or "?")


def last_name(names: Any) -> str:
    """The last part of a qualified pglast name (a tuple of String nodes)."""
    parts = [getattr(part, "sval", None) for part in names or ()]
    strings = [p for p in parts if isinstance(p, str)]
    return strings[-1] if strings else "?"


def statement_table(node: Any) -> str | None:
    """The table a PostgreSQL statement mainly touches (for lint findings)."""
    if node is None:
        return None
    relation = getattr(node, "relation", None)
    name = getattr(relation, "relname", None)
    return str(name) if name else None


def walk_nodes(node: Any) -> Iterator[Any]:
    """Every pglast node under `node` (itself included), depth first."""
    from pglast import ast

    if node is None:
        return
    if isinstance(node, (tuple, list)):
        for item in node:
            yield from walk_nodes(item)
        return
    if not isinstance(node, ast.Node):
        return
    yield node
    for name in node:
        yield from walk_nodes(getattr(node, name))
