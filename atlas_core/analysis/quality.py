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
