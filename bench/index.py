"""A scratch ``video_vectors`` index for the hunt's benches (ann, reupload, hunt).

    with scratch_index() as dsn:                       # embedded PostgreSQL, migrated
        await load_index(conn, videos)                 # COPY channels/videos/vectors, HNSW
        ids, ms, n = await timed_candidates(conn, queries_of(rows, channel), embedder_name)

Background vectors: a realistic index is mostly unrelated thumbnails. Embedding a million
generated thumbnails would take hours, so ``background`` embeds a few thousand drawn ones and
fills the rest with mixtures of them (two or three at random weights, plus noise): vectors on
the embedder's own manifold, none a near-copy of another.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import psycopg

sys.path.insert(0, str(Path(__file__).parent))
from ingest import scratch_database

from atlas_core.embedded import started_dsn, stop_server
from atlas_core.migrate import migrate
from atlas_core.store.vectors import CANDIDATES, Query, candidates_for
from atlas_core.vision.embedder import MIRROR_OFFSET


@dataclass(frozen=True)
class Video:
    video_id: str
    channel_id: str
    vectors: Sequence[tuple[int, np.ndarray]]  # (frame index, unit vector)


@contextmanager
def scratch_index(database_url: str | None = None) -> Iterator[str]:
    """A migrated scratch database on ``database_url`` or on a throwaway embedded server."""
    with tempfile.TemporaryDirectory(prefix="atlas-bench-") as tmp:
        server = database_url or started_dsn(Path(tmp), "postgres")
        try:
            with scratch_database(server) as dsn:
                migrate(dsn)
                yield dsn
        finally:
            if not database_url:
                stop_server(Path(tmp))


def background(seeds: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` unit vectors mixed from ``seeds`` (embedder vectors of drawn thumbnails)."""
    out = np.empty((n, seeds.shape[1]), np.float32)
    for start in range(0, n, 50_000):
        m = min(50_000, n - start)
        idx = rng.integers(0, len(seeds), (m, 3))
        w = rng.dirichlet([1.0, 1.0, 0.5], m).astype(np.float32)
        v = np.einsum("mk,mkd->md", w, seeds[idx])
        v += 0.25 * rng.normal(size=v.shape).astype(np.float32) / np.sqrt(v.shape[1])
        v -= v.mean(axis=1, keepdims=True)
        out[start : start + m] = v / np.linalg.norm(v, axis=1, keepdims=True)
    return out


async def load_index(
    conn: psycopg.AsyncConnection, videos: Sequence[Video], embedder: str
) -> dict[str, float]:
    """COPY the videos (and their channels) and their vectors, then build the HNSW index as
    migrated. Returns the seconds each part took."""
    t0 = time.perf_counter()
    cur = await conn.execute(
        "SELECT indexdef FROM pg_indexes WHERE indexname = 'video_vectors_vector_hnsw'"
    )
    (definition,) = await cur.fetchone()  # type: ignore[misc]
    await conn.execute("DROP INDEX video_vectors_vector_hnsw")
    async with conn.cursor() as cur:
        async with cur.copy("COPY channels (id, title) FROM STDIN") as copy:
            for cid in sorted({v.channel_id for v in videos}):
                await copy.write_row((cid, cid))
        async with cur.copy("COPY videos (id, channel_id, title) FROM STDIN") as copy:
            for v in videos:
                await copy.write_row((v.video_id, v.channel_id, v.video_id))
        async with cur.copy(
            "COPY video_vectors (video_id, embedder, frame_index, vector, source_type) FROM STDIN"
        ) as copy:
            for v in videos:
                for frame, vec in v.vectors:
                    await copy.write_row((v.video_id, embedder, frame, vec, "bench"))
    await conn.commit()
    t1 = time.perf_counter()
    await conn.execute("SET maintenance_work_mem = '1GB'")
    await conn.execute(definition)
    await conn.execute("ANALYZE")
    await conn.commit()
    return {"load_s": t1 - t0, "hnsw_s": time.perf_counter() - t1}


def with_mirror(vec: np.ndarray, mirror: np.ndarray) -> list[tuple[int, np.ndarray]]:
    return [(0, vec), (MIRROR_OFFSET, mirror)]


async def timed_candidates(
    conn: psycopg.AsyncConnection,
    queries: Sequence[Query],
    embedder: str,
    ef_search: int | None = None,
) -> tuple[list[str], float, int]:
    """The other-channel videos stage 1 returns for one video's ``queries``
    (``store.vectors.queries_of`` its rows, as the hunt queries; product settings; nearest
    first), the milliseconds it took and the number of index queries it ran."""
    kwargs = {"ef_search": ef_search} if ef_search else {}
    t0 = time.perf_counter()
    found = await candidates_for(conn, queries, CANDIDATES, embedder=embedder, **kwargs)
    ms = 1000 * (time.perf_counter() - t0)
    ids: list[str] = []
    for c in found:
        if c.match_video_id not in ids:
            ids.append(c.match_video_id)
    return ids, ms, max(1, len(queries))


CACHE_ROOT = Path("/tmp/atlas-bench-cache")
READY = "ready.json"


@contextmanager
def cached_server(key: str, rebuild: bool = False) -> Iterator[tuple[str, Path, bool]]:
    """An embedded PostgreSQL kept between runs under ``CACHE_ROOT/key`` (database ``bench``,
    migrated): (dsn, its folder, whether a previous run finished building it). ``rebuild``
    starts from an empty folder. The server is stopped on exit; the data stays."""
    home = CACHE_ROOT / key
    if rebuild and home.exists():
        stop_server(home)
        shutil.rmtree(home)
    home.mkdir(parents=True, exist_ok=True)
    dsn = started_dsn(home, "bench")
    try:
        migrate(dsn)
        yield dsn, home, (home / READY).exists()
    finally:
        stop_server(home)


def mark_ready(home: Path, info: dict[str, object]) -> None:
    (home / READY).write_text(json.dumps(info, indent=1))


async def copy_background(
    conn: psycopg.AsyncConnection,
    vectors: np.ndarray,
    embedder: str,
    per_channel: int = 100,
    prefix: str = "bg",
) -> dict[str, float]:
    """Load ``vectors`` as one-frame videos (``per_channel`` a channel) with COPY ... (FORMAT
    BINARY), then build the HNSW index as migrated, in memory (maintenance_work_mem 6GB) with
    parallel workers. Returns the seconds each part took."""
    t0 = time.perf_counter()
    cur = await conn.execute(
        "SELECT indexdef FROM pg_indexes WHERE indexname = 'video_vectors_vector_hnsw'"
    )
    row = await cur.fetchone()
    definition = row[0] if row else None
    if definition:
        await conn.execute("DROP INDEX video_vectors_vector_hnsw")
    n = len(vectors)
    channels = (n + per_channel - 1) // per_channel
    async with conn.cursor() as cur:
        async with cur.copy("COPY channels (id, title) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(["varchar", "text"])
            for c in range(channels):
                await copy.write_row((f"UC{prefix}{c:020d}", "bench"))
        async with cur.copy(
            "COPY videos (id, channel_id, title) FROM STDIN (FORMAT BINARY)"
        ) as copy:
            copy.set_types(["varchar", "varchar", "text"])
            for j in range(n):
                await copy.write_row(
                    (f"{prefix}{j:09d}", f"UC{prefix}{j // per_channel:020d}", "b")
                )
        async with cur.copy(
            "COPY video_vectors (video_id, embedder, frame_index, vector, source_type)"
            " FROM STDIN (FORMAT BINARY)"
        ) as copy:
            copy.set_types(["varchar", "varchar", "int4", "vector", "varchar"])
            for j in range(n):
                await copy.write_row((f"{prefix}{j:09d}", embedder, 0, vectors[j], "bench"))
    await conn.commit()
    t1 = time.perf_counter()
    await conn.execute("SET maintenance_work_mem = '6GB'")
    await conn.execute("SET max_parallel_maintenance_workers = 2")
    if definition:
        await conn.execute(definition)
    await conn.execute("ANALYZE")
    await conn.execute("CHECKPOINT")
    await conn.commit()
    return {"load_s": t1 - t0, "hnsw_s": time.perf_counter() - t1}
