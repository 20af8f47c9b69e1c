"""Recent snapshots per video, the one query family behind every views-per-hour figure
(velocity anomalies, the refresh planner).

    async with db.get_connection() as conn:
        series = await recent_video_series(conn, 3, since=tick - timedelta(hours=3))
        drops = await implausible_drops(conn, max_drop=0.5)

A series is a tracked video's last ``n`` snapshots with a view count, newest tick first:
ticks (the runs' keys), the times YouTube served them, and the view counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from psycopg import AsyncConnection, sql

from atlas_core.utils import as_utc


def latest_snapshots(n: int, *, with_views: bool = True) -> sql.Composed:
    """A LATERAL subquery over ``v`` (a ``videos`` row): ``ts``, ``observed`` and ``views``
    arrays of its last ``n`` snapshots, newest tick first."""
    return sql.SQL(
        """LATERAL (
    SELECT array_agg(x.timestamp ORDER BY x.timestamp DESC) AS ts,
           array_agg(x.observed_at ORDER BY x.timestamp DESC) AS observed,
           array_agg(x.views ORDER BY x.timestamp DESC) AS views
    FROM (SELECT l.timestamp, l.observed_at, l.views FROM video_stats_log l
          WHERE l.video_id = v.id{filter} ORDER BY l.timestamp DESC LIMIT {n}) x
) s"""
    ).format(filter=sql.SQL(" AND l.views IS NOT NULL" if with_views else ""), n=sql.Literal(n))


@dataclass(frozen=True)
class VideoSeries:
    video_id: str
    channel_id: str
    ticks: list[datetime]
    observed: list[datetime]
    views: list[int]


async def recent_video_series(
    conn: AsyncConnection,
    n: int,
    *,
    since: datetime | None = None,
    channels: Sequence[str] | None = None,
) -> list[VideoSeries]:
    """Each watched video's last ``n`` snapshots with views (only videos that have ``n``),
    limited to videos snapshotted at or after ``since`` (through the BRIN index on
    ``timestamp``) and to ``channels`` when given."""
    where = [sql.SQL("cardinality(s.ts) = {}").format(sql.Literal(n))]
    if since is not None:
        where.append(
            sql.SQL(
                "v.id IN (SELECT DISTINCT video_id FROM video_stats_log WHERE timestamp >= {})"
            ).format(sql.Literal(as_utc(since)))
        )
    if channels is not None:
        where.append(sql.SQL("v.channel_id = ANY({})").format(sql.Literal(list(channels))))
    query = sql.SQL(
        "SELECT v.id, v.channel_id, s.ts, s.observed, s.views FROM videos v"
        " JOIN watchlist w ON w.channel_id = v.channel_id"
        " CROSS JOIN {lateral} WHERE {where}"
    ).format(lateral=latest_snapshots(n), where=sql.SQL(" AND ").join(where))
    cur = await conn.execute(query)
    return [
        VideoSeries(vid, cid, [as_utc(t) for t in ts], [as_utc(o) for o in observed], views)
        for vid, cid, ts, observed, views in await cur.fetchall()
    ]


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
