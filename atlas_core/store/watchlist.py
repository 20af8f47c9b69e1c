"""The watchlist: which channels Atlas tracks (each a Dagster "channels" partition).

async with db.get_connection() as conn:
    await add_to_watchlist(conn, "UC...", added_as="@handle")
    ids = await watchlist_ids(conn)
"""

from __future__ import annotations

from collections.abc import Mapping

from psycopg import AsyncConnection

from atlas_core.store.connect import connect

_IDS = "SELECT channel_id FROM watchlist ORDER BY added_at, channel_id"


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
    cur = await conn.execute(_IDS)
    return [row[0] for row in await cur.fetchall()]


def read_watchlist_ids(dsn: str) -> list[str]:
    """The same over a short synchronous connection (for sensors, which have no event loop)."""
    with connect(dsn) as conn:
        return [row[0] for row in conn.execute(_IDS).fetchall()]


async def watchlist_entries(conn: AsyncConnection) -> list[tuple[str, str | None, str | None]]:
    """(channel id, title if known, what it was added as), oldest first."""
    cur = await conn.execute(
        "SELECT w.channel_id, c.title, w.added_as FROM watchlist w "
        "LEFT JOIN channels c ON c.id = w.channel_id ORDER BY w.added_at, w.channel_id"
    )
    return [(r[0], r[1], r[2]) for r in await cur.fetchall()]


async def remember_uploads_playlists(conn: AsyncConnection, playlists: Mapping[str, str]) -> None:
    """Store each watched channel's uploads playlist id (channel id -> playlist id)."""
    if not playlists:
        return
    async with conn.cursor() as cur:
        await cur.executemany(
            "UPDATE watchlist SET uploads_playlist_id = %s WHERE channel_id = %s"
            " AND uploads_playlist_id IS DISTINCT FROM %s",
            [(p, c, p) for c, p in playlists.items()],
        )


async def uploads_playlist(conn: AsyncConnection, channel_id: str) -> str | None:
    cur = await conn.execute(
        "SELECT uploads_playlist_id FROM watchlist WHERE channel_id = %s", (channel_id,)
    )
    row = await cur.fetchone()
    return row[0] if row else None


async def is_watched(conn: AsyncConnection, channel_id: str) -> bool:
    cur = await conn.execute("SELECT 1 FROM watchlist WHERE channel_id = %s", (channel_id,))
    return await cur.fetchone() is not None
