"""The quota ledger's SQL: units and calls per key per Pacific day (``youtube_quota_ledger``).

    async with db.get_connection() as conn:
        exhausted = await add_units(conn, day, key_index=0, key_fp="ab12...", units=1, calls=1)
        await add_units(conn, day, 0, "ab12...", -1, calls=-1)      # a reservation refunded
        spent = await units_on(conn, day)

Increments are UPSERTs, so every process shares one tally.
"""

from __future__ import annotations

from datetime import date

from psycopg import AsyncConnection


async def add_units(
    conn: AsyncConnection,
    day: date,
    key_index: int,
    key_fp: str,
    units: int,
    *,
    calls: int,
    exhausted: bool = False,
    wait_for_disk: bool = True,
) -> bool:
    """Add ``units`` and ``calls`` (negative to refund) for a key on ``day``; True when the key
    is marked exhausted (now or by any process before). ``wait_for_disk=False`` commits
    without waiting for the WAL flush (``synchronous_commit = off``): the row is in the
    server as soon as this returns, whatever happens to the caller, and a write per API call
    does not wait on the disk."""
    if not wait_for_disk:
        await conn.execute("SET LOCAL synchronous_commit = off")
    cur = await conn.execute(
        """INSERT INTO youtube_quota_ledger
               (quota_day, key_fingerprint, key_index, units, calls, exhausted_at)
           VALUES (%(day)s, %(fp)s, %(index)s, GREATEST(%(units)s, 0), GREATEST(%(calls)s, 0),
                   CASE WHEN %(exhausted)s THEN NOW() END)
           ON CONFLICT (quota_day, key_fingerprint) DO UPDATE SET
               units = GREATEST(youtube_quota_ledger.units + %(units)s, 0),
               calls = GREATEST(youtube_quota_ledger.calls + %(calls)s, 0),
               key_index = EXCLUDED.key_index,
               exhausted_at = COALESCE(youtube_quota_ledger.exhausted_at,
                                       EXCLUDED.exhausted_at),
               updated_at = NOW()
           RETURNING exhausted_at IS NOT NULL""",
        {
            "day": day,
            "fp": key_fp,
            "index": key_index,
            "units": units,
            "calls": calls,
            "exhausted": exhausted,
        },
    )
    row = await cur.fetchone()
    return bool(row and row[0])


async def exhausted_keys(conn: AsyncConnection, day: date) -> set[str]:
    """Fingerprints of the keys marked exhausted on ``day``."""
    cur = await conn.execute(
        "SELECT key_fingerprint FROM youtube_quota_ledger"
        " WHERE quota_day = %s AND exhausted_at IS NOT NULL",
        (day,),
    )
    return {str(r[0]).strip() for r in await cur.fetchall()}


async def units_on(conn: AsyncConnection, day: date) -> int:
    """Units spent on ``day`` by every key."""
    cur = await conn.execute(
        "SELECT COALESCE(SUM(units), 0) FROM youtube_quota_ledger WHERE quota_day = %s", (day,)
    )
    row = await cur.fetchone()
    return int(row[0]) if row else 0


async def units_by_key(conn: AsyncConnection, day: date) -> dict[int, int]:
    """Units spent on ``day``, per key index."""
    cur = await conn.execute(
        "SELECT key_index, units FROM youtube_quota_ledger WHERE quota_day = %s", (day,)
    )
    return {int(i): int(u) for i, u in await cur.fetchall()}
