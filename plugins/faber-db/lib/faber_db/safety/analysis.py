"""The analysis entry points: one migration file, or several pending ones in apply order, each
after a replay of the already applied history (so the analysis knows the existing tables'
columns, types and indexes)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from faber_db.errors import FaberError
from faber_db.results import Finding
from faber_db.safety.model import Analyzer
from faber_db.safety.statements import plainly_additive

History = Sequence["str | tuple[str, str]"]


def analyze_sql(sql: str, provider: str, *, migration: str | None = None, history: History = ()) -> list[Finding]:
    """One Finding per risky statement of one migration file, in file order.

    `history`: earlier (already applied) migrations, oldest first, as SQL or `(name, sql)`. It is
    replayed to learn the existing tables' columns, types and indexes and which migration created
    each object (named in the findings); its own statements are not reported.
    """
    if plainly_additive(sql):
        return []
    analyzer = _replayed(provider, history)
    return analyzer.analyze(sql, migration)


class HistoryAnalysis:
    """The analysis of one new migration on top of a history replayed ahead of it (generate-migration
    replays it while the migration tool computes the migration, so the replay does not follow it)."""

    def __init__(self, provider: str, history: History) -> None:
        self._analyzer = _replayed(provider, history)

    def tables(self) -> dict[str, frozenset[str] | None]:
        """The tables the history leaves, each with its columns (None: not known)."""
        return {name: frozenset(table.columns) if table.known else None
                for name, table in self._analyzer.tables.items()}

    def findings(self, sql: str, migration: str | None = None) -> list[Finding]:
        """What analyze_sql(sql, provider, migration=migration, history=history) finds; once."""
        return [] if plainly_additive(sql) else self._analyzer.analyze(sql, migration)


def analyze_migrations(
    migrations: Sequence[tuple[str, str]], provider: str, *, history: History = ()
) -> list[Finding]:
    """Findings for several pending migrations `(name, sql)` in apply order.

    A statement keeps its severity when its table comes from an earlier pending migration (on a
    fresh database its live row count shows what it loses: nothing); only what the same migration
    creates is low.
    """
    if all(plainly_additive(sql) for _, sql in migrations):
        return []
    analyzer = _replayed(provider, history)
    findings: list[Finding] = []
    for name, sql in migrations:
        findings.extend(analyzer.analyze(sql, name))
    return findings


def lock_findings(migrations: Sequence[tuple[str, str]], provider: str) -> list[Finding]:
    """What the pending migrations `(name, sql)` would lock, where the database's locks keep others out
    while a migration runs (PostgreSQL's lock lint); none on SQLite, whose one lock is the whole file."""
    from faber_db.safety.locks import lint_locks_many

    linters: dict[str, Callable[[Sequence[tuple[str, str]]], list[Finding]]] = {"postgresql": lint_locks_many}
    lint = linters.get(provider)
    return lint(migrations) if lint is not None and migrations else []


def _replayed(provider: str, history: History) -> Analyzer:
    analyzer = _analyzer(provider)
    for earlier in history:
        if isinstance(earlier, str):
            analyzer.replay(earlier)
        else:
            analyzer.replay(earlier[1], earlier[0])
    return analyzer


def _analyzer(provider: str) -> Analyzer:
    from faber_db.safety.postgres import PostgresAnalyzer
    from faber_db.safety.sqlite import SqliteAnalyzer

    analyzers: dict[str, Callable[[], Analyzer]] = {
        "postgresql": PostgresAnalyzer, "postgres": PostgresAnalyzer,
        "sqlite": lambda: SqliteAnalyzer("sqlite"), "mysql": lambda: SqliteAnalyzer("mysql")}
    make = analyzers.get(provider.lower())
    if make is not None:
        return make()
    raise FaberError(
        "PROVIDER_UNSUPPORTED",
        f"Provider {provider!r} is not supported by the safety analysis",
        "faber-db supports sqlite and postgresql.",
    )
