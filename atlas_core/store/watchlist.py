"""The watchlist: which channels Atlas tracks.

async with db.get_connection() as conn:
    await add_to_watchlist(conn, "UC...", added_as="@handle")
    ids = await watchlist_ids(conn)
"""

from __future__ import annotations

from psycopg import AsyncConnection


async def add_to_watchlist(conn: AsyncConnection, channel_id: str, added_as: str | None) -> bool:
    """Track a channel; False if it was already tracked."""
    cur = await conn.execute(
        "INSERT INTO watchlist (channel_id, added_as) VALUES (%s, %s) ON CONFLICT DO NOTHING",
        (channel_id, added_as),
    )
    return cur.rowcount == 1


async def remove_from_watchlist(conn: AsyncConnection, channel_id: str) -> bool:
    """Stop tracking a channel (its data stays); False if it was not tracked."""
    cur = await conn.execute("DELETE FROM watchlist WHERE channel_id = %s", (channel_id,))
    return cur.rowcount == 1


async def watchlist_ids(conn: AsyncConnection) -> list[str]:
    """Tracked channel ids, oldest first."""
    cur = await conn.execute("SELECT channel_id FROM watchlist ORDER BY added_at, channel_id")
    return [row[0] for row in await cur.fetchall()]


async def watchlist_entries(conn: AsyncConnection) -> list[tuple[str, str | None, str | None]]:
    """(channel id, title if known, what it was added as), oldest first."""
    cur = await conn.execute(
        "SELECT w.channel_id, c.title, w.added_as FROM watchlist w "
        "LEFT JOIN channels c ON c.id = w.channel_id ORDER BY w.added_at, w.channel_id"
    )
    return [(r[0], r[1], r[2]) for r in await cur.fetchall()]


def read_watchlist_ids(dsn: str) -> list[str]:
    """Tracked channel ids over a short synchronous connection (for sensors and the CLI)."""
    import psycopg

    with psycopg.connect(dsn, connect_timeout=10) as conn:
        rows = conn.execute(
            "SELECT channel_id FROM watchlist ORDER BY added_at, channel_id"
        ).fetchall()
    return [row[0] for row in rows]
