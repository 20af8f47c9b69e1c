"""What the charts and weekly reports read: statistics series, a week's top videos and alerts.

async with db.get_connection() as conn:
    points = await video_view_points(conn, "dQw4w9WgXcQ", since, until)   # [(observed, views)]
    series = await channel_series(conn, "UC...", since, until)            # [ChannelPoint]
    top = await top_videos(conn, "UC...", week_start, week_end, limit=3)

Series are ordered by tick (``timestamp``) and stamped with when YouTube served them
(``observed_at``): rates over them measure the time that really passed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from psycopg import AsyncConnection

from atlas_core.utils import as_utc


@dataclass(frozen=True)
class ChannelPoint:
    at: datetime
    views: int | None
    subscribers: int | None
    videos: int | None


@dataclass(frozen=True)
class TopVideo:
    video_id: str
    title: str
    gained: int  # views gained within the period
    views: int  # views at the period's last snapshot


@dataclass(frozen=True)
class WeekAlert:
    title: str
    description: str
    created_at: datetime


async def video_view_points(
    conn: AsyncConnection, video_id: str, since: datetime, until: datetime
) -> list[tuple[datetime, int]]:
    """(observed at, views) of the video's snapshots ticked in [since, until], plus the last
    one before ``since`` so the first interval in the window has its start."""
    cur = await conn.execute(
        """(SELECT observed_at, views, timestamp FROM video_stats_log
             WHERE video_id = %(id)s AND views IS NOT NULL AND timestamp < %(since)s
             ORDER BY timestamp DESC LIMIT 1)
           UNION ALL
           (SELECT observed_at, views, timestamp FROM video_stats_log
             WHERE video_id = %(id)s AND views IS NOT NULL
               AND timestamp >= %(since)s AND timestamp <= %(until)s)
           ORDER BY timestamp""",
        {"id": video_id, "since": since, "until": until},
    )
    return [(as_utc(t), int(v)) for t, v, _ in await cur.fetchall()]


async def channel_series(
    conn: AsyncConnection, channel_id: str, since: datetime, until: datetime
) -> list[ChannelPoint]:
    """The channel's snapshots ticked in [since, until] plus the last one before ``since``."""
    cur = await conn.execute(
        """(SELECT observed_at, view_count, subscriber_count, video_count, timestamp
              FROM channel_stats_log
             WHERE channel_id = %(id)s AND timestamp < %(since)s
             ORDER BY timestamp DESC LIMIT 1)
           UNION ALL
           (SELECT observed_at, view_count, subscriber_count, video_count, timestamp
              FROM channel_stats_log
             WHERE channel_id = %(id)s AND timestamp >= %(since)s AND timestamp <= %(until)s)
           ORDER BY timestamp""",
        {"id": channel_id, "since": since, "until": until},
    )
    return [ChannelPoint(as_utc(t), v, s, n) for t, v, s, n, _ in await cur.fetchall()]


async def video_channel(conn: AsyncConnection, video_id: str) -> tuple[str, str] | None:
    """(channel id, title) of a video, or None if it is unknown."""
    cur = await conn.execute("SELECT channel_id, title FROM videos WHERE id = %s", (video_id,))
    row = await cur.fetchone()
    return (row[0], row[1]) if row and row[0] else None


async def watched_channels(conn: AsyncConnection) -> list[tuple[str, str]]:
    """(id, title) of every watched channel, by id."""
    cur = await conn.execute(
        """SELECT w.channel_id, coalesce(c.title, w.channel_id)
             FROM watchlist w LEFT JOIN channels c ON c.id = w.channel_id
            ORDER BY w.channel_id"""
    )
    return [(cid, title) for cid, title in await cur.fetchall()]


async def top_videos(
    conn: AsyncConnection, channel_id: str, since: datetime, until: datetime, limit: int = 3
) -> list[TopVideo]:
    """The channel's videos that gained the most views between their last snapshot before
    ``since`` (or their first in the period) and their last before ``until``."""
    cur = await conn.execute(
        """SELECT v.id, v.title, e.views - coalesce(b.views, f.views), e.views
             FROM videos v
             JOIN LATERAL (SELECT views FROM video_stats_log
                            WHERE video_id = v.id AND views IS NOT NULL
                              AND timestamp < %(until)s
                            ORDER BY timestamp DESC LIMIT 1) e ON TRUE
             LEFT JOIN LATERAL (SELECT views FROM video_stats_log
                                 WHERE video_id = v.id AND views IS NOT NULL
                                   AND timestamp < %(since)s
                                 ORDER BY timestamp DESC LIMIT 1) b ON TRUE
             LEFT JOIN LATERAL (SELECT views FROM video_stats_log
                                 WHERE video_id = v.id AND views IS NOT NULL
                                   AND timestamp >= %(since)s
                                 ORDER BY timestamp LIMIT 1) f ON TRUE
            WHERE v.channel_id = %(channel)s
            ORDER BY 3 DESC NULLS LAST, v.id
            LIMIT %(limit)s""",
        {"channel": channel_id, "since": since, "until": until, "limit": limit},
    )
    return [
        TopVideo(vid, title, int(gained or 0), int(views))
        for vid, title, gained, views in (await cur.fetchall())
    ]


async def uploads_between(
    conn: AsyncConnection, channel_id: str, since: datetime, until: datetime
) -> list[datetime]:
    """Publish times of the channel's videos published in [since, until)."""
    cur = await conn.execute(
        """SELECT published_at FROM videos
            WHERE channel_id = %s AND published_at >= %s AND published_at < %s
            ORDER BY published_at""",
        (channel_id, since, until),
    )
    return [as_utc(t) for (t,) in await cur.fetchall()]


async def week_alerts(
    conn: AsyncConnection, channel_id: str, video_ids: list[str], since: datetime, until: datetime
) -> list[WeekAlert]:
    """Alerts written in [since, until) that name the channel or one of its videos."""
    cur = await conn.execute(
        """SELECT title, description, created_at FROM alert_outbox
            WHERE created_at >= %(since)s AND created_at < %(until)s
              AND (fields->>'channel_id' = %(channel)s OR fields->>'video_id' = ANY(%(videos)s))
            ORDER BY created_at, id""",
        {"since": since, "until": until, "channel": channel_id, "videos": video_ids},
    )
    return [WeekAlert(t, d, as_utc(c)) for t, d, c in await cur.fetchall()]


async def channel_video_ids(conn: AsyncConnection, channel_id: str) -> list[str]:
    cur = await conn.execute(
        "SELECT id FROM videos WHERE channel_id = %s ORDER BY id", (channel_id,)
    )
    return [vid for (vid,) in await cur.fetchall()]
