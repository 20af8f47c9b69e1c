"""What Atlas keeps of YouTube push notifications (WebSub): subscriptions and received pushes.

    async with db.get_connection() as conn:
        subscribe, unsubscribe = await subscription_changes(conn, now, renew_within, retry)
        await record_requested(conn, subscribe, now)
        await record_verified(conn, "UC...", now, lease_seconds=432000)
        stored = await record_pushes(conn, pushes, now)     # only watched channels' pushes
    pushes = read_pushes_after(dsn, after_id=cursor)        # sync, for the sensor

Pushes are a queue, not history: the ``websub_pushes`` sensor reads them by id and rows
older than ``PUSH_KEEP`` are pruned on every insert.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from psycopg import AsyncConnection

from atlas_core.store.connect import connect
from atlas_core.youtube.websub import Push

PUSH_KEEP = timedelta(days=7)


@dataclass(frozen=True)
class StoredPush:
    id: int
    channel_id: str
    video_id: str
    deleted: bool


async def subscription_changes(
    conn: AsyncConnection, now: datetime, renew_within: timedelta, retry_after: timedelta
) -> tuple[list[str], list[str]]:
    """(watched channels to (re)subscribe, subscribed channels no longer watched).

    A watched channel needs a request when it has none, when its lease ends within
    ``renew_within``, or when a request went unverified for ``retry_after``."""
    cur = await conn.execute(
        """SELECT w.channel_id FROM watchlist w
           LEFT JOIN websub_subscriptions s ON s.channel_id = w.channel_id
           WHERE s.channel_id IS NULL
              OR (s.lease_expires_at IS NOT NULL AND s.lease_expires_at < %(renew)s
                  AND s.requested_at < %(retry)s)
              OR ((s.verified_at IS NULL OR s.verified_at < s.requested_at)
                  AND s.requested_at < %(retry)s)
           ORDER BY w.added_at, w.channel_id""",
        {"renew": now + renew_within, "retry": now - retry_after},
    )
    subscribe = [r[0] for r in await cur.fetchall()]
    cur = await conn.execute(
        """SELECT s.channel_id FROM websub_subscriptions s
           WHERE NOT EXISTS (SELECT 1 FROM watchlist w WHERE w.channel_id = s.channel_id)
           ORDER BY s.channel_id"""
    )
    return subscribe, [r[0] for r in await cur.fetchall()]


async def record_requested(conn: AsyncConnection, channel_ids: Sequence[str], at: datetime) -> None:
    """The hub accepted subscribe requests for these channels at ``at``."""
    if channel_ids:
        await conn.execute(
            """INSERT INTO websub_subscriptions (channel_id, requested_at)
               SELECT unnest(%s::text[]), %s
               ON CONFLICT (channel_id) DO UPDATE SET requested_at = EXCLUDED.requested_at""",
            (list(channel_ids), at),
        )


async def record_verified(
    conn: AsyncConnection, channel_id: str, at: datetime, lease_seconds: int
) -> None:
    """The hub verified a subscription at the callback, granting ``lease_seconds``."""
    await conn.execute(
        """INSERT INTO websub_subscriptions
               (channel_id, requested_at, verified_at, lease_expires_at)
           VALUES (%(c)s, %(at)s, %(at)s, %(end)s)
           ON CONFLICT (channel_id) DO UPDATE
           SET verified_at = EXCLUDED.verified_at, lease_expires_at = EXCLUDED.lease_expires_at""",
        {"c": channel_id, "at": at, "end": at + timedelta(seconds=lease_seconds)},
    )


async def drop_subscriptions(conn: AsyncConnection, channel_ids: Sequence[str]) -> None:
    if channel_ids:
        await conn.execute(
            "DELETE FROM websub_subscriptions WHERE channel_id = ANY(%s)", (list(channel_ids),)
        )


async def record_pushes(conn: AsyncConnection, pushes: Sequence[Push], at: datetime) -> int:
    """Queue the pushes of watched channels (others are dropped); prune old ones. Returns
    how many were queued."""
    await conn.execute("DELETE FROM websub_pushes WHERE received_at < %s", (at - PUSH_KEEP,))
    if not pushes:
        return 0
    cur = await conn.execute(
        """INSERT INTO websub_pushes (channel_id, video_id, deleted, received_at)
           SELECT p.channel_id, p.video_id, p.deleted, %s
           FROM unnest(%s::text[], %s::text[], %s::bool[]) AS p(channel_id, video_id, deleted)
           WHERE EXISTS (SELECT 1 FROM watchlist w WHERE w.channel_id = p.channel_id)""",
        (
            at,
            [p.channel_id for p in pushes],
            [p.video_id for p in pushes],
            [p.deleted for p in pushes],
        ),
    )
    return cur.rowcount


def read_pushes_after(dsn: str, after_id: int, limit: int = 10_000) -> list[StoredPush]:
    """Queued pushes with ids above ``after_id``, oldest first, over a short synchronous
    connection (for the sensor, which has no event loop)."""
    with connect(dsn) as conn:
        rows = conn.execute(
            "SELECT id, channel_id, video_id, deleted FROM websub_pushes WHERE id > %s"
            " ORDER BY id LIMIT %s",
            (after_id, limit),
        ).fetchall()
    return [StoredPush(int(r[0]), r[1], r[2], bool(r[3])) for r in rows]
