"""Benchmark: the hunt's stage-1 query (HNSW, other channels only) vs exact search.

    .venv/bin/python bench/ann.py [--vectors 100000] [--queries 200] [--database-url URL]

Loads N unit vectors (512-d) into ``video_vectors`` of a throwaway embedded PostgreSQL (or a
scratch database beside --database-url), builds the HNSW index the migrations define, and
runs ``store.vectors.candidates_other_channel`` (the product's settings: k, ef_search,
iterative scan) for random videos. Vectors cluster by channel, so most of a video's nearest
neighbours are on its own channel and the filter must keep the scan going. Prints the plan
(it must be an index scan), recall@10 against exact search (index disabled) and median/p95
latency. Last line: ``ann_recall_at_10=<x> p50_ms=<y>``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psycopg
from pgvector.psycopg import register_vector_async

sys.path.insert(0, str(Path(__file__).parent))
from ingest import scratch_database

from atlas_core.embedded import started_dsn, stop_server
from atlas_core.migrate import migrate
from atlas_core.store.vectors import (
    DEFAULT_EMBEDDER,
    EF_SEARCH,
    MAX_SCAN_TUPLES,
    NEAREST_SQL,
    candidates_other_channel,
)

PER_CHANNEL = 100
K = 10


def make_vectors(n: int, seed: int) -> tuple[list[str], list[str], np.ndarray]:
    rng = np.random.default_rng(seed)
    channels = max(1, n // PER_CHANNEL)
    centres = rng.normal(size=(channels, 512)).astype(np.float32)
    owner = np.arange(n) % channels
    vectors = centres[owner] + 0.9 * rng.normal(size=(n, 512)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    video_ids = [f"v{i:010d}" for i in range(n)]
    channel_ids = [f"UC{c:022d}" for c in owner]
    return video_ids, channel_ids, vectors


async def load(conn: psycopg.AsyncConnection, n: int, seed: int) -> list[str]:
    video_ids, channel_ids, vectors = make_vectors(n, seed)
    t0 = time.perf_counter()
    cur = await conn.execute(
        "SELECT indexdef FROM pg_indexes WHERE indexname = 'video_vectors_vector_hnsw'"
    )
    (definition,) = await cur.fetchone()  # type: ignore[misc]
    await conn.execute("DROP INDEX video_vectors_vector_hnsw")  # rebuilt as migrated, below
    async with conn.cursor() as cur:
        async with cur.copy("COPY channels (id, title) FROM STDIN") as copy:
            for cid in sorted(set(channel_ids)):
                await copy.write_row((cid, cid))
        async with cur.copy("COPY videos (id, channel_id, title) FROM STDIN") as copy:
            for vid, cid in zip(video_ids, channel_ids, strict=True):
                await copy.write_row((vid, cid, vid))
        async with cur.copy(
            "COPY video_vectors (video_id, embedder, frame_index, vector, source_type) FROM STDIN"
        ) as copy:
            for vid, vec in zip(video_ids, vectors, strict=True):
                await copy.write_row((vid, DEFAULT_EMBEDDER, 0, vec, "bench"))
    await conn.commit()
    t1 = time.perf_counter()
    await conn.execute("SET maintenance_work_mem = '1GB'")
    print(definition)
    await conn.execute(definition)
    await conn.execute("ANALYZE")
    await conn.commit()
    print(f"loaded {n:,} vectors in {t1 - t0:.1f}s; HNSW built in {time.perf_counter() - t1:.1f}s")
    return video_ids


async def exact(conn: psycopg.AsyncConnection, video_id: str) -> list[str]:
    async with conn.transaction():
        await conn.execute("SET LOCAL enable_indexscan = off")
        cur = await conn.execute(
            """SELECT q.vector, v.channel_id FROM video_vectors q JOIN videos v
               ON v.id = q.video_id WHERE q.video_id = %s""",
            (video_id,),
        )
        vector, channel = await cur.fetchone()  # type: ignore[misc]
        rows = await (
            await conn.execute(NEAREST_SQL, (vector, channel, DEFAULT_EMBEDDER, vector, K))
        ).fetchall()
    return [r[0] for r in rows]


async def run(dsn: str, n: int, queries: int, seed: int, ef: int) -> None:
    # Autocommit, as the product's pool: each conn.transaction() is a real transaction, so
    # the exact search's SET LOCAL enable_indexscan = off ends with it.
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        await register_vector_async(conn)
        video_ids = await load(conn, n, seed)
        rng = np.random.default_rng(seed + 1)
        sample = [video_ids[i] for i in rng.choice(len(video_ids), queries, replace=False)]
        cur = await conn.execute(
            "SELECT q.vector, v.channel_id FROM video_vectors q JOIN videos v "
            "ON v.id = q.video_id WHERE q.video_id = %s",
            (sample[0],),
        )
        vector, channel = await cur.fetchone()  # type: ignore[misc]
        async with conn.transaction():
            await conn.execute(f"SET LOCAL hnsw.ef_search = {ef}")
            await conn.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
            await conn.execute(f"SET LOCAL hnsw.max_scan_tuples = {MAX_SCAN_TUPLES}")
            plan = await (
                await conn.execute(
                    "EXPLAIN (ANALYZE, BUFFERS) " + NEAREST_SQL,
                    (vector, channel, DEFAULT_EMBEDDER, vector, K),
                )
            ).fetchall()
        text = "\n".join(r[0] for r in plan)
        print("\n".join(line[:110] for line in text.splitlines()))
        uses_index = "video_vectors_vector_hnsw" in text
        recalls, latencies = [], []
        for vid in sample:
            t0 = time.perf_counter()
            found = await candidates_other_channel(conn, vid, k=K, ef_search=ef)
            latencies.append(1000 * (time.perf_counter() - t0))
            truth = await exact(conn, vid)
            got = {c.match_video_id for c in found}
            recalls.append(len(got & set(truth)) / max(1, len(truth)))
            if len(found) < K:
                print(f"  {vid}: only {len(found)} rows")
        recall = float(np.mean(recalls))
        p50, p95 = np.percentile(latencies, [50, 95])
        print(f"queries={queries} index_scan={'yes' if uses_index else 'NO'}")
        print(f"recall_at_10={recall:.4f} p50_ms={p50:.2f} p95_ms={p95:.2f}")
        print(f"ann_recall_at_10={recall:.4f} p50_ms={p50:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vectors", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--ef-search", type=int, default=EF_SEARCH, help="default: the product's setting"
    )
    parser.add_argument("--database-url", help="a PostgreSQL server (default: embedded)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="atlas-bench-") as tmp:
        server = args.database_url or started_dsn(Path(tmp), "postgres")
        try:
            with scratch_database(server) as dsn:
                migrate(dsn)
                asyncio.run(run(dsn, args.vectors, args.queries, args.seed, args.ef_search))
        finally:
            stop_server(Path(tmp))


if __name__ == "__main__":
    main()
