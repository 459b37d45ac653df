"""The analysis entry points: one migration file, or several pending ones in apply order, each
after a replay of the already applied history (so the analysis knows the existing tables'
columns, types and indexes)."""

from __future__ import annotations

from collections.abc import Sequence

from faber_db.errors import FaberError
from faber_db.results import Finding
from faber_db.safety.model import Analyzer
from faber_db.safety.statements import plainly_additive


def preload(provider: str) -> None:
    """Import the parser for `provider` now (generate-migration does it while Prisma's reverse diff
    runs, so the import does not follow it)."""
    if provider == "postgresql":
        import pglast  # noqa: F401
    else:
        import sqlglot.dialects.sqlite  # noqa: F401


def analyze_sql(
    sql: str, provider: str, *, migration: str | None = None, history: Sequence[str] = ()
) -> list[Finding]:
    """One Finding per risky statement of one migration file, in file order.

    `history`: the SQL of earlier (already applied) migrations, oldest first. It is replayed to
    learn the existing tables' columns, types and indexes; its own statements are not reported.
    """
    if plainly_additive(sql):
        return []
    analyzer = _analyzer(provider)
    for earlier in history:
        analyzer.replay(earlier)
    return analyzer.analyze(sql, migration)


def analyze_migrations(
    migrations: Sequence[tuple[str, str]], provider: str, *, history: Sequence[str] = ()
) -> list[Finding]:
    """Findings for several pending migrations `(name, sql)` in apply order.

    Tables created by an earlier pending migration do not exist yet, so changes to them are low risk.
    """
    if all(plainly_additive(sql) for _, sql in migrations):
        return []
    analyzer = _analyzer(provider)
    for earlier in history:
        analyzer.replay(earlier)
    findings: list[Finding] = []
    for name, sql in migrations:
        findings.extend(analyzer.analyze(sql, name))
    return findings


def _analyzer(provider: str) -> Analyzer:
    from faber_db.safety.postgres import PostgresAnalyzer
    from faber_db.safety.sqlite import SqliteAnalyzer

    provider = provider.lower()
    if provider in ("postgresql", "postgres"):
        return PostgresAnalyzer()
    if provider in ("sqlite", "mysql"):
        return SqliteAnalyzer(provider)
    raise FaberError(
        "PROVIDER_UNSUPPORTED",
        f"Provider {provider!r} is not supported by the safety analysis",
        "faber-db supports sqlite and postgresql.",
    )
