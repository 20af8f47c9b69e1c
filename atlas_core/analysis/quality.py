"""Data-quality checks over stored data (the Dagster asset checks call these).

async with db.get_connection() as conn:
    drops = await implausible_drops(conn, max_drop=0.5)
"""

from __future__ import annotations

from psycopg import AsyncConnection


async def implausible_drops(
    conn: AsyncConnection, max_drop: float = 0.5, days: int = 2
) -> list[tuple[str, int, int]]:
    """(video id, views before, views after) where views fell by more than ``max_drop``
    between consecutive snapshots within the last ``days`` days of data (so the check stays
    cheap as history grows). View counts only grow, bar YouTube's spam corrections."""
    cur = await conn.execute(
        """SELECT video_id, prev, views FROM (
               SELECT video_id, views,
                      lag(views) OVER (PARTITION BY video_id ORDER BY timestamp) AS prev
               FROM video_stats_log
               WHERE views IS NOT NULL
                 AND timestamp >= (SELECT max(timestamp) FROM video_stats_log)
                                  - make_interval(days => %s)) s
           WHERE prev > 0 AND views < prev * (1 - %s)
           ORDER BY video_id LIMIT 100""",
        (days, max_drop),
    )
    return [(r[0], int(r[1]), int(r[2])) for r in await cur.fetchall()]


async def wrong_dimension_vectors(conn: AsyncConnection, dimension: int = 512) -> int:
    cur = await conn.execute(
        "SELECT count(*) FROM video_vectors WHERE vector_dims(vector) <> %s", (dimension,)
    )
    row = await cur.fetchone()
    return int(row[0]) if row else 0


async def orphan_rows(conn: AsyncConnection) -> dict[str, int]:
    """Rows whose parent is missing, per relation (all should be 0)."""
    cur = await conn.execute(
        """SELECT
             (SELECT count(*) FROM videos v
                WHERE v.channel_id IS NULL
                   OR NOT EXISTS (SELECT 1 FROM channels c WHERE c.id = v.channel_id)),
             (SELECT count(*) FROM video_stats_log s
                WHERE NOT EXISTS (SELECT 1 FROM videos v WHERE v.id = s.video_id)),
             (SELECT count(*) FROM video_vectors x
                WHERE NOT EXISTS (SELECT 1 FROM videos v WHERE v.id = x.video_id)),
             (SELECT count(*) FROM channel_stats_log s
                WHERE NOT EXISTS (SELECT 1 FROM channels c WHERE c.id = s.channel_id))"""
    )
    row = await cur.fetchone()
    assert row is not None
    names = (
        "videos_without_channel",
        "video_stats_without_video",
        "vectors_without_video",
        "channel_stats_without_channel",
    )
    return dict(zip(names, (int(v) for v in row), strict=True))
