"""Video metadata.

async with db.get_connection() as conn:
    known = await known_video_ids(conn, "UC...")
    new = await upsert_videos(conn, rows)         # -> ids that were not stored before
    origins = await video_origins(conn, ["vid1", "vid2"])  # -> {id: VideoOrigin}
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from psycopg import AsyncConnection

from atlas_core.store.stats import log_fenced
from atlas_core.utils import as_utc


@dataclass(frozen=True)
class VideoRow:
    id: str
    channel_id: str
    title: str
    published_at: datetime | None
    duration: int | None
    wiki_topics: list[str] = field(default_factory=list)


async def known_video_ids(conn: AsyncConnection, channel_id: str) -> set[str]:
    cur = await conn.execute("SELECT id FROM videos WHERE channel_id = %s", (channel_id,))
    return {row[0] for row in await cur.fetchall()}


@dataclass(frozen=True)
class VideoOrigin:
    channel_id: str
    published_at: datetime | None
    title: str


async def video_origins(conn: AsyncConnection, ids: Sequence[str]) -> dict[str, VideoOrigin]:
    """Each stored video's channel, publish time and title."""
    cur = await conn.execute(
        "SELECT id, channel_id, published_at, title FROM videos WHERE id = ANY(%s)", (list(ids),)
    )
    return {row[0]: VideoOrigin(*row[1:]) for row in await cur.fetchall()}


async def upsert_videos(
    conn: AsyncConnection, rows: Sequence[VideoRow], discovered_at: datetime
) -> list[str]:
    """Insert or refresh videos (first sight stamped ``discovered_at``); returns the ids this
    call inserted. Safe under concurrent runs: each id counts as new for one caller only."""
    if not rows:
        return []
    async with conn.cursor() as cur:
        await cur.executemany(
            """INSERT INTO videos (id, channel_id, title, published_at, duration, wiki_topics,
                                   discovered_at)
               VALUES (%s, %s, %s, %s, %s, %s, %s)
               ON CONFLICT (id) DO UPDATE SET
                   title = EXCLUDED.title, published_at = EXCLUDED.published_at,
                   duration = EXCLUDED.duration, wiki_topics = EXCLUDED.wiki_topics
               RETURNING id, (xmax = 0) AS inserted""",
            [
                (
                    r.id,
                    r.channel_id,
                    r.title,
                    as_utc(r.published_at) if r.published_at else None,
                    r.duration,
                    r.wiki_topics,
                    as_utc(discovered_at),
                )
                for r in rows
            ],
            returning=True,
        )
        inserted: list[str] = []
        returned = 0
        while True:
            row = await cur.fetchone()
            returned += row is not None
            if row is not None and row[1]:
                inserted.append(row[0])
            if not cur.nextset():
                break
    if returned < len(rows):  # rows of forgotten channels, skipped by the forget fence
        log_fenced("videos", len(rows) - returned)
    return inserted


async def tracked_video_ids(conn: AsyncConnection) -> list[str]:
    """Every stored video of a watched channel."""
    cur = await conn.execute(
        "SELECT v.id FROM videos v JOIN watchlist w ON w.channel_id = v.channel_id ORDER BY v.id"
    )
    return [row[0] for row in await cur.fetchall()]


async def record_presence(
    conn: AsyncConnection, found: Sequence[str], missing: Sequence[str], at: datetime
) -> None:
    """``videos.missing_since``: set (once) for the videos the API no longer returns, cleared
    for the ones it returned."""
    if found:
        await conn.execute(
            "UPDATE videos SET missing_since = NULL"
            " WHERE id = ANY(%s) AND missing_since IS NOT NULL",
            (list(found),),
        )
    if missing:
        await conn.execute(
            "UPDATE videos SET missing_since = %s WHERE id = ANY(%s) AND missing_since IS NULL",
            (as_utc(at), list(missing)),
        )
