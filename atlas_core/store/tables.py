"""Facts about Atlas's tables for the catalog: how many rows each holds.

    async with db.get_connection() as conn:
        rows = await row_count(conn, "video_stats_log")   # RowCount(rows=..., exact=...)

Below ``EXACT_BELOW`` rows (by the planner's estimate) the count is an exact ``count(*)``;
above it, PostgreSQL's own estimate (``pg_class.reltuples``, kept current by autovacuum and
ANALYZE), because counting a 100M-row stats log on every materialization takes minutes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from psycopg import AsyncConnection, sql

from atlas_core.store.connect import connect

KNOWN_TABLES = frozenset(
    {
        "channels",
        "channel_stats_log",
        "videos",
        "video_stats_log",
        "video_vectors",
        "velocity_anomalies",
    }
)
EXACT_BELOW = 1_000_000


@dataclass(frozen=True)
class RowCount:
    rows: int
    exact: bool  # False: pg_class.reltuples estimate

    @property
    def method(self) -> str:
        return "exact count(*)" if self.exact else "estimate (pg_class.reltuples)"


async def row_count(conn: AsyncConnection, table: str, exact_below: int = EXACT_BELOW) -> RowCount:
    """Rows of one of Atlas's tables: exact when the estimate is under ``exact_below`` (or
    the table was never analyzed), else PostgreSQL's estimate."""
    if table not in KNOWN_TABLES:
        raise ValueError(f"unknown table {table!r}; expected one of {sorted(KNOWN_TABLES)}")
    cur = await conn.execute(
        "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)", (table,)
    )
    estimate = await cur.fetchone()
    if estimate is not None and estimate[0] is not None and estimate[0] >= exact_below:
        return RowCount(int(estimate[0]), exact=False)  # -1 (never analyzed) counts exactly
    cur = await conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
    row = await cur.fetchone()
    return RowCount(int(row[0]) if row else 0, exact=True)


async def row_counts(conn: AsyncConnection, tables: Sequence[str]) -> dict[str, RowCount]:
    """``row_count`` of each table, in one connection."""
    return {table: await row_count(conn, table) for table in tables}


_ATLAS_TABLES = (
    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
    "AND tablename <> 'schema_migrations' ORDER BY tablename"
)


def holds_channels(dsn: str) -> bool:
    """Whether the database tracks or has stored any channel."""
    with connect(dsn) as conn:
        row = conn.execute(
            "SELECT EXISTS (SELECT 1 FROM watchlist) OR EXISTS (SELECT 1 FROM channels)"
        ).fetchone()
    return bool(row and row[0])


def empty_all_tables(dsn: str) -> int:
    """Empty every one of Atlas's tables in one transaction, the record of migrations kept
    (for ``atlas demo``, whose simulated world starts anew on every run); how many."""
    with connect(dsn) as conn:
        names = [row[0] for row in conn.execute(_ATLAS_TABLES).fetchall()]
        if names:
            tables = sql.SQL(", ").join(sql.Identifier(name) for name in names)
            conn.execute(sql.SQL("TRUNCATE {} CASCADE").format(tables))
    return len(names)
