"""Frame vectors (pgvector, 512-d) and near-duplicate lookups.

async with db.get_connection() as conn:
    await write_vectors(conn, [("vid", 0, vec, "thumbnail:hqdefault")])
    matches = await nearest_other_channel(conn, "vid", max_distance=0.05)
    found = await candidates_for(conn, queries_of(rows, channel_id))  # the hunt's stage 1
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from psycopg import AsyncConnection

from atlas_core.store.connect import connect

# The video_vectors.vector column's width (vector(512)) and the name of the default
# embedder (PerceptualEmbedder.name). Plain values: the store does not import the vision
# code (tests/test_architecture.py checks they agree).
DIMENSION = 512
DEFAULT_EMBEDDER = "perceptual-centre-v-32x16-v6"

VectorRow = tuple[str, int, np.ndarray, str]


@dataclass(frozen=True)
class Match:
    video_id: str
    frame_index: int
    match_video_id: str
    match_channel_id: str
    distance: float


async def write_vectors(
    conn: AsyncConnection, rows: Sequence[VectorRow], embedder: str = DEFAULT_EMBEDDER
) -> int:
    """Insert or replace frame vectors made by ``embedder`` (name and version); each must
    have 512 finite values. Rows that are queries only (``is_stored_row`` false: a frame's
    shifted windows) are checked and left out. Returns the rows written."""
    if not embedder or len(embedder) > 100:
        raise ValueError(f"embedder name {embedder!r}: expected 1-100 characters")
    for video_id, frame, vector, _ in rows:
        if vector.shape != (DIMENSION,) or not np.isfinite(vector).all():
            raise ValueError(
                f"vector for {video_id} frame {frame} has shape {vector.shape}; "
                f"expected {DIMENSION} finite values"
            )
    rows = [row for row in rows if is_stored_row(row[1])]
    async with conn.cursor() as cur:
        await cur.executemany(
            """INSERT INTO video_vectors (video_id, embedder, frame_index, vector, source_type)
               VALUES (%s, %s, %s, %s, %s)
               ON CONFLICT (video_id, embedder, frame_index) DO UPDATE
               SET vector = EXCLUDED.vector, source_type = EXCLUDED.source_type""",
            [(v, embedder, f, vec.astype(np.float32), s) for v, f, vec, s in rows],
        )
    return len(rows)


async def vectors_of(
    conn: AsyncConnection, video_id: str, embedder: str = DEFAULT_EMBEDDER
) -> list[VectorRow]:
    """A video's stored rows made by ``embedder``, by frame index."""
    cur = await conn.execute(
        """SELECT video_id, frame_index, vector, source_type FROM video_vectors
           WHERE video_id = %s AND embedder = %s ORDER BY frame_index""",
        (video_id, embedder),
    )
    return [(r[0], int(r[1]), r[2], r[3]) for r in await cur.fetchall()]


# The hunt's queue: watched videos without vectors, except those the API reports gone, whose
# thumbnails could not be embedded, or whose thumbnail fetch failed for good or waits to retry.
_HUNT_QUEUE = """FROM videos v
           JOIN watchlist w ON w.channel_id = v.channel_id
           WHERE v.missing_since IS NULL
             AND NOT EXISTS (SELECT 1 FROM video_vectors vv WHERE vv.video_id = v.id)
             AND NOT EXISTS (SELECT 1 FROM vector_skips k
                             WHERE k.video_id = v.id AND k.stage = 'embed')
             AND NOT EXISTS (SELECT 1 FROM thumbnail_attempts t WHERE t.video_id = v.id
                               AND (t.permanent OR t.next_attempt_at > NOW()))"""


async def videos_without_vectors(conn: AsyncConnection, limit: int = 500) -> list[str]:
    """Tracked videos that have no frame vectors yet, newest first. Videos the API reports
    gone (``videos.missing_since``), whose thumbnails could not be embedded (a ``vector_skips``
    row), whose thumbnail fetch failed for good or is waiting for its retry
    (``thumbnail_attempts``) are left out, so they never block the queue."""
    cur = await conn.execute(
        f"""SELECT v.id {_HUNT_QUEUE}
           ORDER BY v.published_at DESC NULLS LAST, v.id LIMIT %s""",
        (limit,),
    )
    return [row[0] for row in await cur.fetchall()]


# Stage 1 of the hunt: a generous top-k, served by the HNSW index with the channel filter
# applied during the scan (pgvector >= 0.8 iterative scans keep scanning until k rows pass).
CANDIDATES = 20
# bench/ann.py (embedder v4: 200 planted near-copies among 1,001,600 other-channel rows,
# iterative scan, at load ~8 on 2 cores): copy recall@20 0.950 at ef_search 20, 0.960 at 40
# and 60, 0.965 at 100, 0.970 at 200 (brute force 0.980); p50 per query 14.1, 12.5, 16.0,
# 22.0, 33.5 ms; at load ~6: 7.9, 9.9, 12.3, 17.1 ms at 20/40/60/100 (the load decides).
# v3 had 0.865 at 40 (brute force 0.890).
EF_SEARCH = 40
MAX_SCAN_TUPLES = 40000


@dataclass(frozen=True)
class Candidate:
    video_id: str
    frame_index: int
    match_video_id: str
    match_channel_id: str
    match_frame_index: int
    distance: float


# A frame's rows come in blocks of MIRROR_ROWS (vision.embedder): i (the frame), MIRROR_ROWS + i
# (its mirror), 2 * MIRROR_ROWS + i (its zoomed centre), 3 * MIRROR_ROWS + i (that one's
# mirror). The hunt queries the even blocks (the frame and its zoomed centre: a copy with a
# border or letterbox added is near the original's own row through its zoomed centre) and
# matches all: a mirrored copy is near the original's mirror rows, a cropped one near its
# zoomed rows. bench/ann.py: the zoomed query adds 0.01 of exact recall@20. 5 * MIRROR_ROWS + i
# (an odd block: matched only) is the frame in grey, stored for a frame in colour: a greyscale
# copy is near it. Blocks from 6 * MIRROR_ROWS on (the frame's centre window shifted left and
# right, even blocks: queried) are queries only and never stored: an unevenly cropped copy's
# shifted window finds the original's stored rows, and the index keeps four or five rows a
# frame.
MIRROR_ROWS = 1000
QUERY_ONLY_ROWS = 6 * MIRROR_ROWS


def is_query_row(frame_index: int) -> bool:
    """Whether stage 1 queries this row of a video (its frame, zoomed centre, shifted
    windows)."""
    return frame_index % (2 * MIRROR_ROWS) < MIRROR_ROWS


def is_stored_row(frame_index: int) -> bool:
    """Whether this row of a video is kept in ``video_vectors`` (all but the shifted windows,
    which are only queried)."""
    return frame_index < QUERY_ONLY_ROWS


# One stage-1 query: (video id, frame index, vector, the video's channel id).
Query = tuple[str, int, np.ndarray, str | None]


def queries_of(rows: Sequence[VectorRow], channel_id: str | None) -> list[Query]:
    """A video's stage-1 queries: its rows that are queried (``is_query_row``: its frames,
    zoomed centres and shifted windows; not its mirrors), from ``channel_id``."""
    return [
        (video_id, frame, vector, channel_id)
        for video_id, frame, vector, _ in rows
        if is_query_row(frame)
    ]


async def candidates_for(
    conn: AsyncConnection,
    queries: Sequence[Query],
    k: int = CANDIDATES,
    ef_search: int = EF_SEARCH,
    embedder: str = DEFAULT_EMBEDDER,
) -> list[Candidate]:
    """Stage 1 for many query frames in one round trip (pipelined): each one's ``k`` nearest
    frames from other channels' videos, by an HNSW scan with ``hnsw.iterative_scan =
    relaxed_order`` so that a video whose neighbours are mostly on its own channel still gets
    ``k`` rows. Sorted by distance."""
    if not queries:
        return []
    async with conn.transaction():
        async with conn.pipeline():
            await conn.execute(f"SET LOCAL hnsw.ef_search = {int(ef_search)}")
            await conn.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
            await conn.execute(f"SET LOCAL hnsw.max_scan_tuples = {int(MAX_SCAN_TUPLES)}")
            cursors = [
                await conn.execute(NEAREST_SQL, (vector, channel_id, embedder, vector, k))
                for _, _, vector, channel_id in queries
            ]
        out: list[Candidate] = []
        for (video_id, frame_index, _, _), cur in zip(queries, cursors, strict=True):
            out += [
                Candidate(video_id, frame_index, r[0], r[1], r[2], float(r[3]))
                for r in await cur.fetchall()
            ]
    # relaxed_order may return rows slightly out of order
    return sorted(out, key=lambda c: c.distance)


# The filter is on the vectors' own table (a semi-join on videos by channel), so the planner
# keeps the HNSW index scan with the filter applied during it.
NEAREST_SQL = """SELECT o.video_id, ov.channel_id, o.frame_index, o.vector <=> %s AS distance
    FROM video_vectors o JOIN videos ov ON ov.id = o.video_id
    WHERE ov.channel_id IS DISTINCT FROM %s AND o.embedder = %s
    ORDER BY o.vector <=> %s LIMIT %s"""


async def videos_needing_embedder(
    conn: AsyncConnection, embedder: str, limit: int = 200
) -> list[str]:
    """Videos with vectors, none of them from ``embedder``: the re-embedding queue. Videos
    whose stored frames could not be re-embedded by it (``vector_skips``) are left out."""
    cur = await conn.execute(
        """SELECT DISTINCT vv.video_id FROM video_vectors vv
           WHERE vv.embedder <> %s
             AND NOT EXISTS (SELECT 1 FROM video_vectors n
                             WHERE n.video_id = vv.video_id AND n.embedder = %s)
             AND NOT EXISTS (SELECT 1 FROM vector_skips k
                             WHERE k.video_id = vv.video_id AND k.stage = 'reembed'
                               AND k.embedder = %s)
           ORDER BY vv.video_id LIMIT %s""",
        (embedder, embedder, embedder, limit),
    )
    return [row[0] for row in await cur.fetchall()]


async def record_vector_skip(
    conn: AsyncConnection, video_id: str, stage: str, embedder: str, reason: str
) -> None:
    """Keep ``video_id`` out of the ``stage`` queue ('embed' or 'reembed' for ``embedder``)."""
    await conn.execute(
        "INSERT INTO vector_skips (video_id, stage, embedder, reason) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT (video_id, stage, embedder) DO UPDATE SET reason = EXCLUDED.reason,"
        " skipped_at = now()",
        (video_id, stage, embedder, reason.replace("\x00", "")),
    )


async def drop_other_embedders(conn: AsyncConnection, video_id: str, keep: str) -> int:
    """Delete a video's rows made by embedders other than ``keep`` (once its new rows exist)."""
    cur = await conn.execute(
        "DELETE FROM video_vectors WHERE video_id = %s AND embedder <> %s", (video_id, keep)
    )
    return cur.rowcount


async def record_reupload_pair(
    conn: AsyncConnection,
    original_id: str,
    copy_id: str,
    score: float,
    evidence_path: str | None = None,
) -> bool:
    """Record a suspected pair once, ever (unordered). True when this call recorded it."""
    if original_id == copy_id:
        raise ValueError(f"a video cannot be a re-upload of itself ({original_id!r})")
    a, b = sorted((original_id, copy_id))
    cur = await conn.execute(
        """INSERT INTO reupload_pairs (video_a, video_b, original_id, score, evidence_path)
           VALUES (%s, %s, %s, %s, %s) ON CONFLICT (video_a, video_b) DO NOTHING
           RETURNING video_a""",
        (a, b, original_id, float(score), evidence_path),
    )
    return await cur.fetchone() is not None


async def reupload_pair_known(conn: AsyncConnection, one: str, other: str) -> bool:
    a, b = sorted((one, other))
    cur = await conn.execute(
        "SELECT 1 FROM reupload_pairs WHERE video_a = %s AND video_b = %s", (a, b)
    )
    return await cur.fetchone() is not None


async def reupload_pairs_known(
    conn: AsyncConnection, pairs: Sequence[tuple[str, str]]
) -> set[tuple[str, str]]:
    """Which of these (unordered) pairs are recorded already, as sorted tuples: one query."""
    if not pairs:
        return set()
    keys = sorted({tuple(sorted(p)) for p in pairs})
    cur = await conn.execute(
        """SELECT video_a, video_b FROM reupload_pairs
           WHERE (video_a, video_b) IN (SELECT * FROM unnest(%s::text[], %s::text[]))""",
        ([a for a, _ in keys], [b for _, b in keys]),
    )
    return {(str(r[0]), str(r[1])) for r in await cur.fetchall()}


@dataclass(frozen=True)
class Original:
    """A recorded original of a copy: its own (``depth`` 1) or its original's, and so on up
    the chain of recorded pairs; ``root`` when it is recorded as nobody's copy."""

    video_id: str
    depth: int
    root: bool


# How far up a chain of recorded copies ``originals_of`` looks (a copy of a copy of ...).
ORIGINAL_DEPTH = 8


async def originals_of(
    conn: AsyncConnection, video_ids: Sequence[str]
) -> dict[str, list[Original]]:
    """For each of these videos recorded as the copy in a re-upload pair: its originals (the
    pair's earlier-published video) and theirs, up to ``ORIGINAL_DEPTH`` pairs away, in one
    query. Roots first (a copy found beside another copy of one video is recorded against
    it, and the video they both copy is the root of both), then nearest up the chain, then
    in the order they were first recorded as an original."""
    if not video_ids:
        return {}
    ids = sorted(set(video_ids))
    cur = await conn.execute(
        """WITH RECURSIVE up(video, original, depth) AS (
               SELECT v, p.original_id, 1
               FROM unnest(%s::text[]) v
               JOIN reupload_pairs p ON (p.video_a = v OR p.video_b = v) AND p.original_id <> v
               UNION
               SELECT u.video, p.original_id, u.depth + 1
               FROM up u
               JOIN reupload_pairs p ON (p.video_a = u.original OR p.video_b = u.original)
                   AND p.original_id <> u.original
               WHERE u.depth < %s AND p.original_id <> u.video
           )
           SELECT u.video, u.original, min(u.depth),
                  -- original_id is always video_a or video_b: saying so lets the pair's
                  -- indexes find the rows (original_id has none of its own).
                  (SELECT min(f.created_at) FROM reupload_pairs f
                   WHERE f.original_id = u.original
                       AND (f.video_a = u.original OR f.video_b = u.original)) AS first_recorded,
                  NOT EXISTS (
                      SELECT 1 FROM reupload_pairs q
                      WHERE (q.video_a = u.original OR q.video_b = u.original)
                          AND q.original_id <> u.original
                  ) AS root
           FROM up u GROUP BY u.video, u.original
           ORDER BY u.video, root DESC, min(u.depth), first_recorded, u.original""",
        (ids, ORIGINAL_DEPTH),
    )
    out: dict[str, list[Original]] = {}
    for video, original, depth, _, root in await cur.fetchall():
        out.setdefault(str(video), []).append(Original(str(original), depth, bool(root)))
    return out


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


async def write_compare_frame(
    conn: AsyncConnection, video_id: str, frame_index: int, version: str, data: bytes
) -> None:
    """Store (or replace) the prepared compare frame of a video (``Frame.to_bytes``)."""
    await conn.execute(
        """INSERT INTO compare_frames (video_id, frame_index, version, data)
           VALUES (%s, %s, %s, %s)
           ON CONFLICT (video_id) DO UPDATE SET frame_index = EXCLUDED.frame_index,
             version = EXCLUDED.version, data = EXCLUDED.data, created_at = NOW()""",
        (video_id, frame_index, version, data),
    )


async def compare_frames_of(
    conn: AsyncConnection, video_ids: Sequence[str], version: str
) -> dict[str, bytes]:
    """The stored compare frames of these videos made by ``version`` (others are left out:
    the caller prepares them again)."""
    if not video_ids:
        return {}
    cur = await conn.execute(
        "SELECT video_id, data FROM compare_frames WHERE video_id = ANY(%s) AND version = %s",
        (list(video_ids), version),
    )
    return {row[0]: bytes(row[1]) for row in await cur.fetchall()}


@dataclass(frozen=True)
class ThumbnailAttempt:
    video_id: str
    attempts: int
    last_error: str
    permanent: bool


async def record_thumbnail_failure(
    conn: AsyncConnection,
    video_id: str,
    error: str,
    permanent: bool,
    retry_after_seconds: float,
) -> ThumbnailAttempt:
    """Count a failed thumbnail fetch; the video is retried after ``retry_after_seconds``
    unless ``permanent`` (its hunt ends)."""
    cur = await conn.execute(
        """INSERT INTO thumbnail_attempts
             (video_id, attempts, last_error, permanent, next_attempt_at)
           VALUES (%s, 1, %s, %s, NOW() + make_interval(secs => %s))
           ON CONFLICT (video_id) DO UPDATE SET attempts = thumbnail_attempts.attempts + 1,
             last_error = EXCLUDED.last_error, permanent = EXCLUDED.permanent,
             next_attempt_at = EXCLUDED.next_attempt_at, updated_at = NOW()
           RETURNING attempts""",
        (video_id, error[:500], permanent, float(retry_after_seconds)),
    )
    row = await cur.fetchone()
    return ThumbnailAttempt(video_id, int(row[0]) if row else 1, error[:500], permanent)


async def thumbnail_attempts(conn: AsyncConnection, video_id: str) -> int:
    cur = await conn.execute(
        "SELECT attempts FROM thumbnail_attempts WHERE video_id = %s", (video_id,)
    )
    row = await cur.fetchone()
    return int(row[0]) if row else 0


async def clear_thumbnail_attempts(conn: AsyncConnection, video_id: str) -> None:
    await conn.execute("DELETE FROM thumbnail_attempts WHERE video_id = %s", (video_id,))


async def videos_without_vectors_by_reason(conn: AsyncConnection) -> dict[str, int]:
    """Watched videos with no frame vectors, counted by why: ``pending`` (not hunted yet),
    ``retrying`` (a transient thumbnail failure, retried later), ``thumbnail_gone`` /
    ``undecodable`` / other permanent reasons, ``video_missing``."""
    cur = await conn.execute(
        """SELECT CASE
             WHEN v.missing_since IS NOT NULL THEN 'video_missing'
             WHEN t.permanent THEN
               CASE WHEN t.last_error LIKE 'undecodable%%' THEN 'undecodable'
                    ELSE 'thumbnail_gone' END
             WHEN t.video_id IS NOT NULL THEN 'retrying'
             WHEN EXISTS (SELECT 1 FROM vector_skips k WHERE k.video_id = v.id
                          AND k.stage = 'embed') THEN 'skipped'
             ELSE 'pending' END AS reason, count(*)
           FROM videos v JOIN watchlist w ON w.channel_id = v.channel_id
           LEFT JOIN thumbnail_attempts t ON t.video_id = v.id
           WHERE NOT EXISTS (SELECT 1 FROM video_vectors vv WHERE vv.video_id = v.id)
           GROUP BY 1 ORDER BY 1"""
    )
    return {str(r[0]): int(r[1]) for r in await cur.fetchall()}


def hunt_queue(dsn: str) -> tuple[int, str | None]:
    """(videos waiting for the hunt, a key that changes with the queue), over a short
    synchronous connection (for sensors): the queue of ``videos_without_vectors``."""
    with connect(dsn) as conn:
        row = conn.execute(
            f"SELECT count(*), min(v.id) || ':' || max(v.id) {_HUNT_QUEUE}"
        ).fetchone()
    return (int(row[0]), row[1]) if row else (0, None)
