"""Channel metadata and its title history.

async with db.get_connection() as conn:
    renames = await upsert_channels(conn, rows)   # -> [Rename(...)] for changed titles
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from psycopg import AsyncConnection

from atlas_core.store.retention import is_forgotten
from atlas_core.store.stats import log_fenced
from atlas_core.utils import as_utc


@dataclass(frozen=True)
class ChannelRow:
    """``is_verified`` is only written for a new channel (the Data API does not expose it)."""

    id: str
    title: str
    country: str | None
    custom_url: str | None
    created_at: datetime | None
    is_verified: bool = False


@dataclass(frozen=True)
class Rename:
    channel_id: str
    old_title: str
    new_title: str


async def upsert_channels(
    conn: AsyncConnection, rows: Sequence[ChannelRow], scraped_at: datetime
) -> list[Rename]:
    """Insert or update channels; a changed title is logged in ``channel_history``."""
    if not rows:
        return []
    cur = await conn.execute(
        "SELECT id, title FROM channels WHERE id = ANY(%s) FOR UPDATE", ([r.id for r in rows],)
    )
    previous: dict[str, str] = dict(await cur.fetchall())
    renames = [
        Rename(r.id, previous[r.id], r.title)
        for r in rows
        if r.id in previous and previous[r.id] != r.title
    ]
    scraped = as_utc(scraped_at)
    async with conn.cursor() as c:
        await c.executemany(
            """INSERT INTO channels (id, title, country, custom_url, created_at, is_verified,
                                     last_scraped_at)
               VALUES (%s, %s, %s, %s, %s, %s, %s)
               ON CONFLICT (id) DO UPDATE SET
                   title = EXCLUDED.title, country = EXCLUDED.country,
                   custom_url = EXCLUDED.custom_url, created_at = EXCLUDED.created_at,
                   last_scraped_at = EXCLUDED.last_scraped_at""",
            [
                (
                    r.id,
                    r.title[:255],
                    (r.country or None) and r.country[:10],
                    (r.custom_url or None) and r.custom_url[:100],
                    as_utc(r.created_at) if r.created_at else None,
                    r.is_verified,
                    scraped,
                )
                for r in rows
            ],
        )
        if c.rowcount >= 0 and c.rowcount < len(rows):  # the forget fence skipped some
            fenced = set(await is_forgotten(conn, [r.id for r in rows]))
            log_fenced("channels", len(rows) - c.rowcount)
            renames = [r for r in renames if r.channel_id not in fenced]
        if renames:
            await c.executemany(
                "INSERT INTO channel_history (channel_id, changed_at, old_title, new_title,"
                " event_type) VALUES (%s, %s, %s, %s, 'channel.renamed')",
                [(r.channel_id, scraped, r.old_title[:255], r.new_title[:255]) for r in renames],
            )
    return renames


async def channel_titles(conn: AsyncConnection, ids: Sequence[str]) -> dict[str, str]:
    cur = await conn.execute("SELECT id, title FROM channels WHERE id = ANY(%s)", (list(ids),))
    return dict(await cur.fetchall())
