"""Time-series snapshots: ``video_stats_log`` and ``channel_stats_log``, written with COPY.

    async with db.get_connection() as conn:
        written = await write_video_stats(
            conn, [(video_id, tick, views, likes, comments), ...], observed_at=arrived
        )

Rows are keyed by (id, timestamp): ``timestamp`` is the run's tick, so writing the same
snapshot twice leaves one row (the first one's ``observed_at``, the moment the API response
arrived, is kept). The
fast path is a binary COPY straight into the table inside a savepoint; if any row already
exists, that savepoint rolls back and the rows go through a temporary table with
``INSERT ... ON CONFLICT DO NOTHING`` instead. Times are TIMESTAMPTZ, written as aware UTC.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import psycopg
from psycopg import AsyncConnection, sql

from atlas_core.utils import as_utc, utc_now

logger = logging.getLogger(__name__)


def log_fenced(table: str, skipped: int) -> None:
    """One line for rows the forget fence (migration 0016) skipped: they name a forgotten
    channel or video; the rest of the batch was stored."""
    if skipped > 0:
        logger.info("%s: skipped %d row(s) of forgotten channels or videos", table, skipped)


VideoStatsRow = tuple[str, datetime, int | None, int | None, int | None]
ChannelStatsRow = tuple[str, datetime, int | None, int | None, int | None]

_VIDEO = (
    "video_stats_log",
    ("video_id", "timestamp", "views", "likes", "comment_count", "observed_at"),
    ("text", "timestamptz", "int8", "int8", "int8", "timestamptz"),
)
_CHANNEL = (
    "channel_stats_log",
    ("channel_id", "timestamp", "view_count", "subscriber_count", "video_count", "observed_at"),
    ("text", "timestamptz", "int8", "int8", "int4", "timestamptz"),
)


async def write_video_stats(
    conn: AsyncConnection, rows: Iterable[VideoStatsRow], observed_at: datetime | None = None
) -> int:
    """Write video snapshots observed at ``observed_at`` (default: now); returns the number
    of new rows."""
    return await _write(conn, _VIDEO, rows, observed_at or utc_now())


async def write_channel_stats(
    conn: AsyncConnection, rows: Iterable[ChannelStatsRow], observed_at: datetime | None = None
) -> int:
    """Write channel snapshots observed at ``observed_at`` (default: now); returns the number
    of new rows."""
    return await _write(conn, _CHANNEL, rows, observed_at or utc_now())


async def _write(
    conn: AsyncConnection,
    spec: tuple[str, Sequence[str], Sequence[str]],
    rows: Iterable[Sequence[Any]],
    observed_at: datetime,
) -> int:
    table, columns, types = spec
    observed = as_utc(observed_at)
    batch = rows if isinstance(rows, list) else list(rows)  # kept for the fallback path
    if not batch:
        return 0
    cols = sql.SQL(", ").join(map(sql.Identifier, columns))
    try:
        async with conn.transaction():
            copied = await _copy(conn, sql.Identifier(table), cols, types, batch, observed)
        log_fenced(table, len(batch) - copied)
        return copied
    except psycopg.errors.UniqueViolation:
        pass
    async with conn.transaction():
        staging = sql.Identifier(f"_stage_{table}")
        await conn.execute(
            sql.SQL("CREATE TEMP TABLE IF NOT EXISTS {} (LIKE {}) ON COMMIT DELETE ROWS").format(
                staging, sql.Identifier(table)
            )
        )
        await _copy(conn, staging, cols, types, batch, observed)
        cur = await conn.execute(
            sql.SQL("INSERT INTO {t} ({c}) SELECT {c} FROM {s} ON CONFLICT DO NOTHING").format(
                t=sql.Identifier(table), c=cols, s=staging
            )
        )
        inserted = cur.rowcount
        await conn.execute(sql.SQL("TRUNCATE {}").format(staging))
        return inserted


async def _copy(
    conn: AsyncConnection,
    target: sql.Composable,
    cols: sql.Composable,
    types: Sequence[str],
    batch: list[Sequence[Any]],
    observed: datetime,
) -> int:
    """Rows the COPY stored (fewer than ``batch`` when the forget fence skipped some)."""
    cur = conn.cursor()
    query = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(target, cols)
    async with cur.copy(query) as copy:
        copy.set_types(list(types))
        for key, ts, a, b, c in batch:  # every stats row: key, tick and three counts
            await copy.write_row((key, as_utc(ts), a, b, c, observed))
    return cur.rowcount if cur.rowcount >= 0 else len(batch)
