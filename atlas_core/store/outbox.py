"""The alert outbox (``alert_outbox``): alerts written with their cause, drained later.

    new = await enqueue_alert(conn, alert)        # same transaction as the change; False = known
    rows = await claim_due(conn, now, limit=100, lease_seconds=600)   # SKIP LOCKED, committed
    rows = await claim_due(conn, now, limit=100, lease_seconds=600, fresh_only=True)  # never tried
    await release(conn, ids)                      # untried after all: due again now, same attempts
    await mark_delivered(conn, [r.id for r in rows], now)
    await mark_failed(conn, ids, "HTTP 500", retry_at)
    await give_up(conn, ids, "HTTP 404 ...", now)

Claiming bumps ``attempts`` and pushes ``next_attempt_at`` out by a lease, so two drainers
never take the same row, and a drainer that dies mid-delivery hands its rows back when the
lease ends (at-least-once delivery).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from psycopg import AsyncConnection
from psycopg.types.json import Jsonb

from atlas_core.alerts_model import Alert, AlertChannel, AlertLevel
from atlas_core.store.connect import connect

ERROR_LIMIT = 1000


@dataclass(frozen=True)
class OutboxRow:
    """An alert claimed for delivery."""

    id: int
    alert: Alert
    created_at: datetime
    attempts: int  # including this one


async def enqueue_alert(conn: AsyncConnection, alert: Alert) -> bool:
    """Store ``alert`` unless its key is already there; True when it is new."""
    cur = await conn.execute(
        """INSERT INTO alert_outbox (key, channel, level, title, description, fields, image_path)
           VALUES (%s, %s, %s, %s, %s, %s, %s)
           ON CONFLICT (key) DO NOTHING""",
        (
            alert.key,
            alert.channel.value,
            alert.level.name,
            _text(alert.title),
            _text(alert.description),
            Jsonb({_text(k): _text(v) for k, v in alert.fields.items()}, dumps=json.dumps),
            alert.image_path,
        ),
    )
    return cur.rowcount == 1


async def claim_due(
    conn: AsyncConnection,
    now: datetime,
    *,
    limit: int,
    lease_seconds: float,
    fresh_only: bool = False,
) -> list[OutboxRow]:
    """Take up to ``limit`` pending alerts due at ``now``, oldest first, for this drainer;
    with ``fresh_only``, only alerts never tried (the step that wrote them posts them)."""
    fresh = "AND attempts = 0" if fresh_only else ""
    cur = await conn.execute(
        f"""UPDATE alert_outbox o
              SET attempts = o.attempts + 1, next_attempt_at = %(lease)s
            WHERE o.id IN (SELECT id FROM alert_outbox
                            WHERE delivered_at IS NULL AND given_up_at IS NULL
                              AND next_attempt_at <= %(now)s {fresh}
                            ORDER BY id
                            LIMIT %(limit)s
                            FOR UPDATE SKIP LOCKED)
        RETURNING o.id, o.key, o.channel, o.level, o.title, o.description, o.fields,
                  o.image_path, o.created_at, o.attempts""",
        {"now": now, "lease": now + timedelta(seconds=lease_seconds), "limit": limit},
    )
    rows = [
        OutboxRow(
            id=row[0],
            alert=Alert(
                key=row[1],
                channel=AlertChannel(row[2]),
                level=AlertLevel[row[3]],
                title=row[4],
                description=row[5],
                fields=dict(row[6] or {}),
                image_path=row[7],
            ),
            created_at=row[8],
            attempts=row[9],
        )
        for row in await cur.fetchall()
    ]
    rows.sort(key=lambda r: r.id)
    return rows


async def mark_delivered(conn: AsyncConnection, ids: Sequence[int], now: datetime) -> None:
    if ids:
        await conn.execute(
            "UPDATE alert_outbox SET delivered_at = %s, last_error = NULL WHERE id = ANY(%s)",
            (now, list(ids)),
        )


async def mark_failed(
    conn: AsyncConnection, ids: Sequence[int], error: str, retry_at: datetime
) -> None:
    """Record the failure; the alerts are due again at ``retry_at``."""
    if ids:
        await conn.execute(
            "UPDATE alert_outbox SET last_error = %s, next_attempt_at = %s WHERE id = ANY(%s)",
            (error[:ERROR_LIMIT], retry_at, list(ids)),
        )


async def release(conn: AsyncConnection, ids: Sequence[int], now: datetime) -> None:
    """Hand claimed alerts back untried: due at ``now``, their claim not counted."""
    if ids:
        await conn.execute(
            "UPDATE alert_outbox SET attempts = greatest(attempts - 1, 0), next_attempt_at = %s"
            " WHERE id = ANY(%s) AND delivered_at IS NULL",
            (now, list(ids)),
        )


async def give_up(conn: AsyncConnection, ids: Sequence[int], error: str, now: datetime) -> None:
    """Stop trying these alerts (kept, with ``given_up_at`` and the last error)."""
    if ids:
        await conn.execute(
            "UPDATE alert_outbox SET last_error = %s, given_up_at = %s WHERE id = ANY(%s)",
            (error[:ERROR_LIMIT], now, list(ids)),
        )


async def outbox_counts(conn: AsyncConnection) -> dict[str, int]:
    """How many alerts are pending, delivered and given up."""
    cur = await conn.execute(
        """SELECT count(*) FILTER (WHERE delivered_at IS NULL AND given_up_at IS NULL),
                  count(*) FILTER (WHERE delivered_at IS NOT NULL),
                  count(*) FILTER (WHERE given_up_at IS NOT NULL)
             FROM alert_outbox"""
    )
    row = await cur.fetchone()
    assert row is not None
    return {"pending": row[0], "delivered": row[1], "given_up": row[2]}


def _text(value: str) -> str:
    """PostgreSQL text cannot hold NUL."""
    return str(value).replace("\x00", "")


def due_alert_count(dsn: str, *, grace_seconds: float = 0.0) -> int:
    """Pending alerts due now, over a short synchronous connection (for sensors). An alert
    never tried counts only once it is ``grace_seconds`` old: until then the step that wrote
    it is posting it."""
    with connect(dsn) as conn:
        row = conn.execute(
            "SELECT count(*) FROM alert_outbox WHERE delivered_at IS NULL"
            " AND given_up_at IS NULL AND next_attempt_at <= now()"
            " AND (attempts > 0 OR created_at <= now() - make_interval(secs => %s))",
            (grace_seconds,),
        ).fetchone()
    return int(row[0]) if row else 0
