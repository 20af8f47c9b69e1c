"""Queries the asset checks run: latest snapshot per watched channel, events in a window."""

from __future__ import annotations

from datetime import datetime

from psycopg import AsyncConnection


async def latest_channel_snapshots(conn: AsyncConnection) -> dict[str, datetime | None]:
    """Each watched channel's most recent channel_stats_log time (None: never snapshotted).
    One index probe per channel on the (channel_id, timestamp) primary key."""
    cur = await conn.execute(
        """SELECT w.channel_id,
                  (SELECT max(s.timestamp) FROM channel_stats_log AS s
                    WHERE s.channel_id = w.channel_id)
           FROM watchlist AS w ORDER BY w.channel_id"""
    )
    return {str(cid): last for cid, last in await cur.fetchall()}


async def count_events(
    conn: AsyncConnection, event_type: str, start: datetime, end: datetime
) -> int:
    """How many ``event_type`` events were recorded in [start, end)."""
    cur = await conn.execute(
        "SELECT count(*) FROM system_events"
        " WHERE event_type = %s AND created_at >= %s AND created_at < %s",
        (event_type, start, end),
    )
    row = await cur.fetchone()
    return int(row[0]) if row else 0
