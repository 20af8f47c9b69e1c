"""Benchmark: new videos hunted per second, the whole hunt as the product runs it.

    python bench/hunt.py [--background 20000] [--channels 8] [--videos 240]

A throwaway embedded PostgreSQL (migrated) holds ``--background`` vectors (``index.
background``: other channels' thumbnails, HNSW-indexed) and the YouTube simulator
(``atlas_simulator``) serves a world of ``--channels`` channels and ``--videos`` videos with
their thumbnails and re-uploads. The channels are watched, refreshed and discovered; then
``pipeline.embed_new_videos`` runs: for each new video it fetches the published thumbnail
over HTTP, embeds it and its mirror, stores the evidence, the rows and the compare frame,
queries stage 1 (HNSW, other channels) and compares every candidate. Prints the per-stage
time from the run, and the stage-1 recall of the simulator's re-uploads. Last line:
``hunt_videos_per_s= embed_ms= ann_p50_ms= compare_ms= ann_copy_recall_at_20=``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import psycopg
from pgvector.psycopg import register_vector_async

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent / "tests" / "simulator"))
import templates as tpl
from atlas_simulator import ManualClock, SimulatorServer
from index import Video, background, load_index, scratch_index, timed_candidates
from reupload import jpeg

from atlas_core.config import load_settings
from atlas_core.database import DatabaseManager
from atlas_core.pipeline import Services, discover_videos, embed_new_videos, refresh_channels
from atlas_core.storage import LocalVault
from atlas_core.vision.compare import FRAME_VERSION, Frame
from atlas_core.vision.embedder import PerceptualEmbedder
from atlas_core.vision.preprocess import decode


async def seed_index(dsn: str, rows: int, seed: int) -> float:
    rng = np.random.default_rng(seed)
    embedder = PerceptualEmbedder()
    seeds = []
    for _ in range(200):
        for img in tpl.template_group(rng, str(rng.choice(tpl.KINDS))):
            rgb = decode(jpeg(img, 85), at_least=320)
            seeds += [
                embedder.embed_rgb(rgb),
                embedder.embed_rgb(np.ascontiguousarray(rgb[:, ::-1])),
            ]
    bg = background(np.array(seeds), rows, rng)
    videos = [Video(f"bg{j:09d}", f"UCbgbench{j // 100:013d}", [(0, bg[j])]) for j in range(rows)]
    # Every indexed video has its compare frame, as in the product: real frames of drawn
    # thumbnails, a few dozen reused.
    blobs = [Frame.of(jpeg(tpl.template_base(rng), 85)).to_bytes() for _ in range(48)]
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        await register_vector_async(conn)
        took = await load_index(conn, videos, embedder.name)
        async with conn.cursor() as cur:
            async with cur.copy(
                "COPY compare_frames (video_id, frame_index, version, data) FROM STDIN"
            ) as copy:
                for j, v in enumerate(videos):
                    await copy.write_row((v.video_id, 0, FRAME_VERSION, blobs[j % len(blobs)]))
    return took["hnsw_s"]


async def hunt(dsn: str, args: argparse.Namespace, home: Path) -> None:
    start = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    clock = ManualClock(start)
    with SimulatorServer(
        seed=args.seed, keys=["pk"], clock=clock, channels=args.channels, videos=args.videos
    ) as sim:
        clock.advance(hours=24 * 30)
        settings = load_settings(
            _env_file=None,
            DATABASE_URL=dsn,
            YOUTUBE_API_BASE_URL=sim.base_url,
            YOUTUBE_API_KEY_POOL_JSON='["pk"]',
            ATLAS_HOME=home,
        )
        db = DatabaseManager(settings=settings)
        async with Services.open(settings, db=db, vault=LocalVault(home / "vault")) as svc:
            async with svc.db.get_connection() as conn:
                for cid in sim.world.channels:
                    await conn.execute("INSERT INTO watchlist (channel_id) VALUES (%s)", (cid,))
            await refresh_channels(svc)
            for cid in sim.world.channels:
                await discover_videos(svc, cid)
            t0 = time.perf_counter()
            run = await embed_new_videos(svc, limit=100_000)
            elapsed = time.perf_counter() - t0
        await db.close()
        copies = {
            h.video_id: h.detail.removeprefix("copy of ")
            for h in sim.world.happenings
            if h.kind == "reupload"
        }
    found = {frozenset((m.video_id, m.match_video_id)) for m in run.matches}
    hunted = sum(1 for c, o in copies.items() if frozenset((c, o)) in found)
    n = max(1, run.videos)
    print(f"videos hunted={run.videos} in {elapsed:.1f}s; comparisons={run.comparisons}")
    for stage, seconds in run.stages.items():
        print(f"  {stage:8s} {1000 * seconds / n:7.1f} ms/video  ({seconds:.1f}s)")
    print(f"simulator re-uploads={len(copies)} alerted={hunted} suspected pairs={len(found)}")
    # Stage 1 alone on the same index: each copy's query, timed, and whether its original
    # is among the candidates.
    embedder = PerceptualEmbedder()
    hits, per_query = [], []
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        await register_vector_async(conn)
        cur = await conn.execute("SELECT id FROM videos WHERE id NOT LIKE 'bg%%' LIMIT 200")
        for (vid,) in await cur.fetchall():
            _, ms, frames = await timed_candidates(conn, vid, embedder.name)
            per_query.append(ms / frames)
        for copy, original in copies.items():
            ids, _, _ = await timed_candidates(conn, copy, embedder.name)
            hits.append(original in ids)
    recall = float(np.mean(hits)) if hits else float("nan")
    ann_p50 = float(np.percentile(per_query, 50)) if per_query else float("nan")
    print(
        f"hunt_videos_per_s={run.videos / elapsed:.2f} "
        f"embed_ms={1000 * run.stages['embed'] / n:.1f} ann_p50_ms={ann_p50:.1f} "
        f"compare_ms={1000 * run.stages['compare'] / max(1, run.comparisons):.1f} "
        f"ann_copy_recall_at_20={recall:.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--background", type=int, default=5_000, help="vectors in the index")
    parser.add_argument("--channels", type=int, default=8)
    parser.add_argument("--videos", type=int, default=240, help="videos in the simulated world")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--database-url", help="a PostgreSQL server (default: embedded)")
    args = parser.parse_args()
    with scratch_index(args.database_url) as dsn, tempfile.TemporaryDirectory() as tmp:
        hnsw = asyncio.run(seed_index(dsn, args.background, args.seed))
        print(f"index: {args.background:,} background vectors, HNSW built in {hnsw:.0f}s")
        asyncio.run(hunt(dsn, args, Path(tmp)))


if __name__ == "__main__":
    main()
