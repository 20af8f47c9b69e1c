"""What the velocity scan remembers: the moments it alerted for each video, kept as columns
of the alert's outbox row (``subject_id``, ``subject_at``; migration 0028), and every spike it
found, in ``velocity_anomalies`` (migration 0035).

    async with db.get_connection() as conn:
        if await enqueue_alert(conn, alert):
            await mark_alert_subject(conn, alert.key, "dQw4w9WgXcQ", at)
        earlier = await alerted_at(conn, "video.velocity_anomaly:", ["dQw4w9WgXcQ"])
        await record_spikes(conn, [FoundSpike("dQw4w9WgXcQ", at, 900.0, 20.0, False, True)])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True)
class FoundSpike:
    """One row of ``velocity_anomalies``: a spike the scan found, and whether it alerted."""

    video_id: str
    at: datetime
    views_per_hour: float
    previous_per_hour: float
    channel_confirmed: bool
    alerted: bool


async def record_spikes(conn: AsyncConnection, spikes: Sequence[FoundSpike]) -> None:
    """Keep what the scan found, once per (video, tick): a re-run adds nothing, and a spike
    that alerted stays marked so."""
    if not spikes:
        return
    await conn.execute(
        """INSERT INTO velocity_anomalies
               (video_id, at, views_per_hour, previous_per_hour, channel_confirmed, alerted)
           SELECT * FROM unnest(%s::text[], %s::timestamptz[], %s::float8[], %s::float8[],
                                %s::bool[], %s::bool[])
           ON CONFLICT (video_id, at) DO UPDATE
           SET alerted = velocity_anomalies.alerted OR EXCLUDED.alerted""",
        (
            [s.video_id for s in spikes],
            [as_utc(s.at) for s in spikes],
            [s.views_per_hour for s in spikes],
            [s.previous_per_hour for s in spikes],
            [s.channel_confirmed for s in spikes],
            [s.alerted for s in spikes],
        ),
    )
