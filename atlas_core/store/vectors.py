"""Frame vectors (pgvector, 512-d) and near-duplicate lookups.

async with db.get_connection() as conn:
    await write_vectors(conn, [("vid", 0, vec, "thumbnail:hqdefault")])
    matches = await nearest_other_channel(conn, "vid", max_distance=0.05)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from psycopg import AsyncConnection

from atlas_core.vision.embedder import DIMENSION

VectorRow = tuple[str, int, np.ndarray, str]


@dataclass(frozen=True)
class Match:
    video_id: str
    frame_index: int
    match_video_id: str
    match_channel_id: str
    distance: float


async def write_vectors(conn: AsyncConnection, rows: Sequence[VectorRow]) -> int:
    """Insert or replace frame vectors; each must have 512 finite values."""
    for video_id, frame, vector, _ in rows:
        if vector.shape != (DIMENSION,) or not np.isfinite(vector).all():
            raise ValueError(
                f"vector for {video_id} frame {frame} has shape {vector.shape}; "
                f"expected {DIMENSION} finite values"
            )
    async with conn.cursor() as cur:
        await cur.executemany(
            """INSERT INTO video_vectors (video_id, frame_index, vector, source_type)
               VALUES (%s, %s, %s, %s)
               ON CONFLICT (video_id, frame_index) DO UPDATE
               SET vector = EXCLUDED.vector, source_type = EXCLUDED.source_type""",
            [(v, f, vec.astype(np.float32), s) for v, f, vec, s in rows],
        )
    return len(rows)


async def videos_without_vectors(conn: AsyncConnection, limit: int = 500) -> list[str]:
    """Tracked videos that have no frame vectors yet, newest first. Videos recorded as gone
    (``video.missing``) or whose thumbnails could not be embedded (``vectors.skipped``) are
    left out, so they never block the queue."""
    cur = await conn.execute(
        """SELECT v.id FROM videos v
           JOIN watchlist w ON w.channel_id = v.channel_id
           WHERE NOT EXISTS (SELECT 1 FROM video_vectors vv WHERE vv.video_id = v.id)
             AND NOT EXISTS (SELECT 1 FROM system_events e
                             WHERE e.event_type IN ('video.missing', 'vectors.skipped')
                               AND e.entity_id = v.id)
           ORDER BY v.published_at DESC NULLS LAST, v.id LIMIT %s""",
        (limit,),
    )
    return [row[0] for row in await cur.fetchall()]


async def nearest_other_channel(
    conn: AsyncConnection, video_id: str, max_distance: float, per_frame: int = 3
) -> list[Match]:
    """Frames of other channels' videos within ``max_distance`` (cosine) of this video's."""
    # The channel filter applies after the HNSW scan: widen the candidate list so a video's
    # own channel's look-alikes cannot crowd out the other channels' matches.
    await conn.execute("SET LOCAL hnsw.ef_search = 200")
    cur = await conn.execute(
        """SELECT q.video_id, q.frame_index, m.video_id, m.channel_id, m.distance
           FROM video_vectors q
           JOIN videos qv ON qv.id = q.video_id
           CROSS JOIN LATERAL (
               SELECT o.video_id, ov.channel_id, o.vector <=> q.vector AS distance
               FROM video_vectors o JOIN videos ov ON ov.id = o.video_id
               WHERE ov.channel_id IS DISTINCT FROM qv.channel_id
               ORDER BY o.vector <=> q.vector LIMIT %s
           ) m
           WHERE q.video_id = %s AND m.distance <= %s
           ORDER BY m.distance""",
        (per_frame, video_id, max_distance),
    )
    return [Match(r[0], r[1], r[2], r[3], float(r[4])) for r in await cur.fetchall()]
