"""What Atlas keeps of YouTube push notifications (WebSub): subscriptions and received pushes.

    async with db.get_connection() as conn:
        subscribe, unsubscribe = await subscription_changes(conn, now, renew_within, retry)
        await record_intents(conn, "subscribe", {"UC...": token_sha256}, now)  # before asking
        verified = await confirm_intent(conn, "subscribe", "UC...", token, now, since=cutoff)
        await record_verified(conn, "UC...", now, lease_seconds=432000)
        stored = await record_pushes(conn, pushes, now)     # only watched channels' pushes
    pushes = read_pushes_after(dsn, after_id=cursor)        # sync, for the sensors
    due = count_subscription_changes(dsn, now, renew_within, retry)   # sync: requests owed

A verification is confirmed only for a pending intent whose token matches (the token itself
is never stored, only its sha256). Pushes are a queue, not history: the ``websub_pushes``
sensor reads them by id, a (video, updated time) is queued once, and rows older than
``PUSH_KEEP`` are pruned on every insert.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from psycopg import AsyncConnection

from atlas_core.store.connect import connect
from atlas_core.youtube.websub import Push

PUSH_KEEP = timedelta(days=7)
Mode = Literal["subscribe", "unsubscribe"]


def token_digest(token: str) -> str:
    """What is stored of a verify token: its sha256, hex."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class StoredPush:
    id: int
    channel_id: str
    video_id: str
    deleted: bool


# Watched channels needing a (re)subscribe request: none yet, a lease ending within the renewal
# window, or a request the hub left unverified past the retry delay.
_TO_SUBSCRIBE = """SELECT w.channel_id FROM watchlist w
       LEFT JOIN websub_subscriptions s ON s.channel_id = w.channel_id
       WHERE s.channel_id IS NULL
          OR (s.lease_expires_at IS NOT NULL AND s.lease_expires_at < %(renew)s
              AND s.requested_at < %(retry)s)
          OR ((s.verified_at IS NULL OR s.verified_at < s.requested_at)
              AND s.requested_at < %(retry)s)"""
# Subscribed channels no longer watched; an unsubscribe awaiting verification is re-sent after
# the retry delay.
_TO_UNSUBSCRIBE = """SELECT s.channel_id FROM websub_subscriptions s
       WHERE NOT EXISTS (SELECT 1 FROM watchlist w WHERE w.channel_id = s.channel_id)
         AND NOT (s.pending_mode IS NOT DISTINCT FROM 'unsubscribe'
                  AND s.pending_at >= %(retry)s)"""


def _windows(now: datetime, renew_within: timedelta, retry_after: timedelta) -> dict[str, datetime]:
    return {"renew": now + renew_within, "retry": now - retry_after}


async def subscription_changes(
    conn: AsyncConnection, now: datetime, renew_within: timedelta, retry_after: timedelta
) -> tuple[list[str], list[str]]:
    """(watched channels to (re)subscribe, subscribed channels no longer watched).

    A watched channel needs a request when it has none, when its lease ends within
    ``renew_within``, or when a request went unverified for ``retry_after``."""
    params = _windows(now, renew_within, retry_after)
    cur = await conn.execute(_TO_SUBSCRIBE + " ORDER BY w.added_at, w.channel_id", params)
    subscribe = [r[0] for r in await cur.fetchall()]
    cur = await conn.execute(_TO_UNSUBSCRIBE + " ORDER BY s.channel_id", params)
    return subscribe, [r[0] for r in await cur.fetchall()]


def count_subscription_changes(
    dsn: str, now: datetime, renew_within: timedelta, retry_after: timedelta
) -> int:
    """How many hub requests :func:`subscription_changes` would ask for, over a short
    synchronous connection (for the sensor that launches the subscription job)."""
    with connect(dsn) as conn:
        row = conn.execute(
            f"SELECT (SELECT count(*) FROM ({_TO_SUBSCRIBE}) a)"
            f" + (SELECT count(*) FROM ({_TO_UNSUBSCRIBE}) b)",
            _windows(now, renew_within, retry_after),
        ).fetchone()
    return int(row[0]) if row else 0


async def record_intents(
    conn: AsyncConnection, mode: Mode, token_digests: Mapping[str, str], at: datetime
) -> None:
    """Atlas is about to ask the hub to ``mode`` these channels (channel id -> sha256 of the
    verify token sent with the request): recorded before asking, since the hub may verify at
    the callback before it answers. A newer request replaces an older pending one."""
    if not token_digests:
        return
    ids, digests = list(token_digests), list(token_digests.values())
    if mode == "subscribe":
        await conn.execute(
            """INSERT INTO websub_subscriptions
                   (channel_id, requested_at, pending_mode, verify_token_sha256, pending_at)
               SELECT c, %(at)s, 'subscribe', d, %(at)s
               FROM unnest(%(ids)s::text[], %(digests)s::text[]) AS t(c, d)
               ON CONFLICT (channel_id) DO UPDATE SET
                   requested_at = EXCLUDED.requested_at, pending_mode = 'subscribe',
                   verify_token_sha256 = EXCLUDED.verify_token_sha256,
                   pending_at = EXCLUDED.pending_at""",
            {"at": at, "ids": ids, "digests": digests},
        )
    else:
        await conn.execute(
            """UPDATE websub_subscriptions s SET pending_mode = 'unsubscribe',
                   verify_token_sha256 = t.d, pending_at = %(at)s
               FROM unnest(%(ids)s::text[], %(digests)s::text[]) AS t(c, d)
               WHERE s.channel_id = t.c""",
            {"at": at, "ids": ids, "digests": digests},
        )


async def confirm_intent(
    conn: AsyncConnection, mode: Mode, channel_id: str, token: str, since: datetime
) -> bool:
    """Whether a verification of ``mode`` for ``channel_id`` answers a request Atlas sent
    after ``since`` and has not seen verified, with the token it issued. A confirmed intent is
    consumed (a replayed verification is not confirmed again); an unsubscribe drops the row."""
    cur = await conn.execute(
        """SELECT verify_token_sha256 FROM websub_subscriptions
           WHERE channel_id = %s AND pending_mode = %s AND pending_at >= %s FOR UPDATE""",
        (channel_id, mode, since),
    )
    row = await cur.fetchone()
    if row is None or not row[0] or not hmac.compare_digest(str(row[0]), token_digest(token)):
        return False
    if mode == "unsubscribe":
        await drop_subscriptions(conn, [channel_id])
    else:
        await conn.execute(
            """UPDATE websub_subscriptions SET pending_mode = NULL, verify_token_sha256 = NULL
               WHERE channel_id = %s""",
            (channel_id,),
        )
    return True


async def record_verified(
    conn: AsyncConnection, channel_id: str, at: datetime, lease_seconds: int
) -> None:
    """The hub verified a subscription at the callback (see :func:`confirm_intent`), granting
    ``lease_seconds`` (the caller clamps it to a sane range)."""
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
    """Queue the pushes of watched channels (others are dropped), each (video, removal or not,
    updated time) once: a replayed notification queues nothing. Prunes old ones. Returns how
    many were queued. An entry without an updated time is keyed by its publication time, or
    by ``at``."""
    await conn.execute("DELETE FROM websub_pushes WHERE received_at < %s", (at - PUSH_KEEP,))
    if not pushes:
        return 0
    cur = await conn.execute(
        """INSERT INTO websub_pushes (channel_id, video_id, deleted, updated_at, received_at)
           SELECT p.channel_id, p.video_id, p.deleted, p.updated_at, %s
           FROM unnest(%s::text[], %s::text[], %s::bool[], %s::timestamptz[])
                AS p(channel_id, video_id, deleted, updated_at)
           WHERE EXISTS (SELECT 1 FROM watchlist w WHERE w.channel_id = p.channel_id)
           ON CONFLICT (video_id, deleted, updated_at) DO NOTHING""",
        (
            at,
            [p.channel_id for p in pushes],
            [p.video_id for p in pushes],
            [p.deleted for p in pushes],
            [p.updated_at or p.published_at or at for p in pushes],
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
