"""Reading one day of data as Arrow tables, for the vault's daily partitions.

async with db.get_connection() as conn:
    table = await day_table(conn, "video_stats_log", date(2026, 11, 27))
    async for batch in day_batches(conn, "videos", day, rows=20_000):   # bounded memory
        ...
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime, time, timedelta
from typing import Any

import pyarrow as pa
from psycopg import AsyncConnection, sql

# dataset -> (query returning that day's rows, arrow schema). Time-series tables take the
# rows whose timestamp falls on the day; `channels` the channels snapshotted that day (their
# current metadata); `videos` every video discovered by the end of the day.
_TS = pa.timestamp("us", tz="UTC")
EXPORTS: dict[str, tuple[str, pa.Schema]] = {
    "video_stats_log": (
        "SELECT video_id, timestamp, views, likes, comment_count, observed_at"
        " FROM video_stats_log"
        " WHERE timestamp >= %(start)s AND timestamp < %(end)s ORDER BY video_id, timestamp",
        pa.schema(
            [
                ("video_id", pa.string()),
                ("timestamp", _TS),
                ("views", pa.int64()),
                ("likes", pa.int64()),
                ("comment_count", pa.int64()),
                ("observed_at", _TS),
            ]
        ),
    ),
    "channel_stats_log": (
        "SELECT channel_id, timestamp, view_count, subscriber_count, video_count, observed_at"
        " FROM channel_stats_log WHERE timestamp >= %(start)s AND timestamp < %(end)s"
        " ORDER BY channel_id, timestamp",
        pa.schema(
            [
                ("channel_id", pa.string()),
                ("timestamp", _TS),
                ("view_count", pa.int64()),
                ("subscriber_count", pa.int64()),
                ("video_count", pa.int32()),
                ("observed_at", _TS),
            ]
        ),
    ),
    "channels": (
        "SELECT id, title, country, custom_url, created_at, is_verified, last_scraped_at"
        " FROM channels c WHERE EXISTS (SELECT 1 FROM channel_stats_log s"
        " WHERE s.channel_id = c.id AND s.timestamp >= %(start)s AND s.timestamp < %(end)s)"
        " ORDER BY id",
        pa.schema(
            [
                ("id", pa.string()),
                ("title", pa.string()),
                ("country", pa.string()),
                ("custom_url", pa.string()),
                ("created_at", _TS),
                ("is_verified", pa.bool_()),
                ("last_scraped_at", _TS),
            ]
        ),
    ),
    "videos": (
        "SELECT id, channel_id, title, published_at, duration, wiki_topics, discovered_at"
        " FROM videos WHERE discovered_at < %(end)s ORDER BY id",
        pa.schema(
            [
                ("id", pa.string()),
                ("channel_id", pa.string()),
                ("title", pa.string()),
                ("published_at", _TS),
                ("duration", pa.int32()),
                ("wiki_topics", pa.list_(pa.string())),
                ("discovered_at", _TS),
            ]
        ),
    ),
}


# What each table and column means, for the vault's dataset card (README.md).
DESCRIPTIONS: dict[str, tuple[str, dict[str, str]]] = {
    "video_stats_log": (
        "One row per video statistics snapshot whose tick falls on the day.",
        {
            "video_id": "YouTube video id",
            "timestamp": "the run's tick that took the snapshot (UTC; with video_id, the key)",
            "views": "view count at the snapshot",
            "likes": "like count (NULL when hidden)",
            "comment_count": "comment count (NULL when comments are off)",
            "observed_at": "when YouTube served the numbers (UTC)",
        },
    ),
    "channel_stats_log": (
        "One row per channel statistics snapshot whose tick falls on the day.",
        {
            "channel_id": "YouTube channel id",
            "timestamp": "the run's tick that took the snapshot (UTC)",
            "view_count": "the channel's total views",
            "subscriber_count": "subscribers (rounded by YouTube; NULL when hidden)",
            "video_count": "public videos",
            "observed_at": "when YouTube served the numbers (UTC)",
        },
    ),
    "channels": (
        "The channels snapshotted on the day, with their current metadata.",
        {
            "id": "YouTube channel id",
            "title": "channel title",
            "country": "country code the channel declares",
            "custom_url": "the channel's handle or custom URL",
            "created_at": "when the channel was created (UTC)",
            "is_verified": "verified badge",
            "last_scraped_at": "when Atlas last read the channel (UTC)",
        },
    ),
    "videos": (
        "Every video Atlas had discovered by the end of the day.",
        {
            "id": "YouTube video id",
            "channel_id": "the uploading channel's id",
            "title": "video title",
            "published_at": "when the video was published (UTC)",
            "duration": "length in seconds",
            "wiki_topics": "Wikipedia topic URLs from topicDetails",
            "discovered_at": "when Atlas first saw the video (UTC)",
        },
    ),
}


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time())
    return start, start + timedelta(days=1)


BATCH_ROWS = 20_000  # rows per server-side fetch and per Parquet row group


async def day_batches(
    conn: AsyncConnection, dataset: str, day: date, rows: int = BATCH_ROWS
) -> AsyncIterator[pa.RecordBatch]:
    """The rows of ``dataset`` for ``day`` as record batches of at most ``rows`` rows, read
    through a server-side cursor: memory holds one batch whatever the size of the day."""
    if dataset not in EXPORTS:
        raise ValueError(f"unknown dataset {dataset!r}; expected one of {sorted(EXPORTS)}")
    if rows < 1:
        raise ValueError(f"export batch size must be at least 1 row, got {rows}")
    query, schema = EXPORTS[dataset]
    start, end = day_bounds(day)
    async with conn.cursor(name=f"export_{dataset}") as cur:
        await cur.execute(sql.SQL(query), {"start": start, "end": end})
        while chunk := await cur.fetchmany(rows):
            yield _batch(chunk, schema)


async def day_table(conn: AsyncConnection, dataset: str, day: date) -> pa.Table:
    """The rows of ``dataset`` for ``day`` as one Arrow table (timestamps in UTC)."""
    if dataset not in EXPORTS:
        raise ValueError(f"unknown dataset {dataset!r}; expected one of {sorted(EXPORTS)}")
    query, schema = EXPORTS[dataset]
    start, end = day_bounds(day)
    cur = await conn.execute(sql.SQL(query), {"start": start, "end": end})
    return pa.Table.from_batches([_batch(await cur.fetchall(), schema)], schema=schema)


def _batch(rows: list[Any], schema: pa.Schema) -> pa.RecordBatch:
    columns: list[Any] = list(zip(*rows, strict=True)) if rows else [[] for _ in schema]
    arrays = [
        pa.array(_utc(col) if pa.types.is_timestamp(f.type) else col, type=f.type)
        for col, f in zip(columns, schema, strict=True)
    ]
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


async def day_count(conn: AsyncConnection, dataset: str, day: date) -> int:
    """How many rows ``day_table`` would return."""
    query, _ = EXPORTS[dataset]
    start, end = day_bounds(day)
    inner = query.split(" ORDER BY ")[0]
    cur = await conn.execute(
        sql.SQL("SELECT count(*) FROM ({}) AS day_rows").format(sql.SQL(inner)),
        {"start": start, "end": end},
    )
    row = await cur.fetchone()
    return int(row[0]) if row else 0


def _utc(values: object) -> list[datetime | None]:
    from datetime import UTC

    return [v.replace(tzinfo=UTC) if v is not None else None for v in values]  # type: ignore[attr-defined]
