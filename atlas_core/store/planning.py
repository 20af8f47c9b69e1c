"""What the refresh planner reads: per-video snapshot state and per-channel upload history.

async with db.get_connection() as conn:
    videos = await video_states(conn)          # tracked videos, last two snapshots each
    async for batch in iter_video_states(conn):  # the same, a batch at a time (bounded memory)
        planner.add_all(batch)
    channels = await channel_states(conn)      # watched channels, recent uploads, last check
    await mark_checked(conn, ["UC..."], now)
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime

from psycopg import AsyncConnection, sql

from atlas_core.planner import ChannelState, VideoState
from atlas_core.store.velocity import latest_snapshots
from atlas_core.utils import as_utc, views_per_hour

_VIDEO_STATES = sql.SQL(
    "SELECT v.id, v.channel_id, v.published_at, s.ts[1], s.observed[1], s.observed[2],"
    " s.views[1], s.views[2] FROM videos v JOIN watchlist w ON w.channel_id = v.channel_id"
    " LEFT JOIN {lateral} ON TRUE ORDER BY v.id"
).format(lateral=latest_snapshots(2, with_views=False))

_CHANNEL_STATES = """
SELECT w.channel_id, c.checked_at, p.times
FROM watchlist w
LEFT JOIN channel_discovery_checks c ON c.channel_id = w.channel_id
LEFT JOIN LATERAL (
    SELECT array_agg(x.published_at ORDER BY x.published_at) AS times
    FROM (SELECT v.published_at FROM videos v
          WHERE v.channel_id = w.channel_id AND v.published_at IS NOT NULL
          ORDER BY v.published_at DESC LIMIT %s) x
) p ON TRUE
ORDER BY w.channel_id
"""


_CHANNEL_VIEWS = """
SELECT w.channel_id, s.observed, s.views
FROM watchlist w
JOIN LATERAL (
    SELECT array_agg(x.observed_at ORDER BY x.timestamp DESC) AS observed,
           array_agg(x.view_count ORDER BY x.timestamp DESC) AS views
    FROM (SELECT l.timestamp, l.observed_at, l.view_count FROM channel_stats_log l
          WHERE l.channel_id = w.channel_id AND l.view_count IS NOT NULL
          ORDER BY l.timestamp DESC LIMIT 4) x
) s ON s.observed IS NOT NULL
ORDER BY w.channel_id
"""


async def channel_view_history(
    conn: AsyncConnection,
) -> dict[str, list[tuple[datetime, int]]]:
    """Each watched channel's last four snapshots as (observed at, total views), newest tick
    first: rates over them measure the time that really passed between observations."""
    cur = await conn.execute(_CHANNEL_VIEWS)
    return {
        cid: [(_aware(t) or t, v) for t, v in zip(ts, views, strict=True)]
        for cid, ts, views in await cur.fetchall()
    }


def _aware(ts: datetime | None) -> datetime | None:
    return None if ts is None else as_utc(ts)


async def iter_video_states(
    conn: AsyncConnection, batch: int = 10_000
) -> AsyncIterator[list[VideoState]]:
    """Every tracked video with its publish time, last snapshot and recent views per hour,
    ``batch`` at a time through a server-side cursor (in id order)."""
    async with conn.cursor(name="planner_video_states") as cur:
        await cur.execute(_VIDEO_STATES)
        while rows := await cur.fetchmany(batch):
            yield [
                VideoState(
                    id=vid,
                    published_at=_aware(pub),
                    last_snapshot_at=_aware(t1),  # the tick: the planner schedules by ticks
                    views_per_hour=views_per_hour(o1, o2, v1, v2),  # over observed time
                    channel_id=cid,
                )
                for vid, cid, pub, t1, o1, o2, v1, v2 in rows
            ]


async def video_states(conn: AsyncConnection, batch: int = 10_000) -> list[VideoState]:
    """All of ``iter_video_states`` in one list (small watchlists, tests)."""
    return [v async for chunk in iter_video_states(conn, batch) for v in chunk]


async def channel_states(conn: AsyncConnection, history: int = 8) -> list[ChannelState]:
    """Every watched channel with its last ``history`` upload times and last discovery check."""
    cur = await conn.execute(_CHANNEL_STATES, (history,))
    return [
        ChannelState(
            id=cid,
            upload_times=tuple(_aware(t) or t for t in (times or ())),
            last_checked_at=_aware(checked),
        )
        for cid, checked, times in await cur.fetchall()
    ]


async def mark_checked(conn: AsyncConnection, channel_ids: Sequence[str], at: datetime) -> None:
    """Record that discovery checked these channels at ``at``."""
    if not channel_ids:
        return
    await conn.execute(
        """INSERT INTO channel_discovery_checks (channel_id, checked_at)
           SELECT unnest(%s::text[]), %s
           ON CONFLICT (channel_id) DO UPDATE SET checked_at = EXCLUDED.checked_at""",
        (list(channel_ids), as_utc(at)),
    )
