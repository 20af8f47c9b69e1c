"""Facts about Atlas's tables for the catalog: how many rows each holds."""

from __future__ import annotations

from collections.abc import Sequence

from psycopg import AsyncConnection, sql

KNOWN_TABLES = frozenset(
    {"channels", "channel_stats_log", "videos", "video_stats_log", "video_vectors"}
)


async def row_count(conn: AsyncConnection, table: str) -> int:
    """Exact ``count(*)`` of one of Atlas's tables (an index-only scan on the stats logs)."""
    if table not in KNOWN_TABLES:
        raise ValueError(f"unknown table {table!r}; expected one of {sorted(KNOWN_TABLES)}")
    cur = await conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
    row = await cur.fetchone()
    return int(row[0]) if row else 0


async def row_counts(conn: AsyncConnection, tables: Sequence[str]) -> dict[str, int]:
    """``row_count`` of each table, in one connection."""
    return {table: await row_count(conn, table) for table in tables}
