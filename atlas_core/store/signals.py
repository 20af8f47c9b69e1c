"""What the velocity scan remembers: the moments it alerted for each video, kept as columns
of the alert's outbox row (``subject_id``, ``subject_at``; migration 0028).

    async with db.get_connection() as conn:
        if await enqueue_alert(conn, alert):
            await mark_alert_subject(conn, alert.key, "dQw4w9WgXcQ", at)
        earlier = await alerted_at(conn, "video.velocity_anomaly:", ["dQw4w9WgXcQ"])
"""

from __future__ import annotations

from datetime import datetime

from psycopg import AsyncConnection

from atlas_core.utils import as_utc


async def mark_alert_subject(
    conn: AsyncConnection, key: str, subject_id: str, subject_at: datetime
) -> None:
    """Record what the outbox row ``key`` alerts about (in the transaction that wrote it)."""
    await conn.execute(
        "UPDATE alert_outbox SET subject_id = %s, subject_at = %s WHERE key = %s",
        (subject_id, as_utc(subject_at), key),
    )


async def alerted_at(
    conn: AsyncConnection, key_prefix: str, subject_ids: list[str]
) -> dict[str, list[datetime]]:
    """Subject id -> the moments of its alerts whose keys start with ``key_prefix``."""
    if not subject_ids:
        return {}
    cur = await conn.execute(
        "SELECT subject_id, subject_at FROM alert_outbox WHERE subject_id = ANY(%s)"
        " AND subject_at IS NOT NULL AND starts_with(key, %s)",
        (subject_ids, key_prefix),
    )
    out: dict[str, list[datetime]] = {}
    for subject_id, at in await cur.fetchall():
        out.setdefault(subject_id, []).append(as_utc(at))
    return out
