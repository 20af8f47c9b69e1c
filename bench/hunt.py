"""Benchmark: new videos hunted per second against a million-vector index, as the product runs.

    python bench/hunt.py [--background 1000000] [--channels 8] [--videos 240]

The index is ``bench/ann.py``'s cached one (``/tmp/atlas-bench-cache/ann-<n>-<embedder>``:
``--background`` synthetic other-channel rows under the product's HNSW index; built here, the
same way, when missing), cloned to a scratch folder so the run leaves the cache as it was.
Every indexed video has its evidence in the vault (``BackgroundVault``: drawn thumbnails, a
few dozen reused), so a background candidate that passes the gate is prepared and compared
as a real stored video would be.

The YouTube simulator (``atlas_simulator``) serves a world of ``--channels`` channels and
``--videos`` videos with their thumbnails and re-uploads. The channels are watched, refreshed
and discovered; then ``pipeline.embed_new_videos`` runs: batches of 25 videos, the published
thumbnails fetched over HTTP, embedded with their mirror rows, stored (evidence, rows), stage
1 (HNSW, other channels) in one round trip per batch, stage 2 (``compare``) for candidates
within ``HUNT_GATE``. Prints the per-stage time, the comparisons, how near the simulator's
re-uploads were to their originals (the gate's margin), and stage 1's recall of them. Last
line: ``hunt_videos_per_s= embed_ms= ann_p50_ms= compare_ms= ann_copy_recall_at_20=``.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import psycopg
from pgvector.psycopg import register_vector_async

sys.path.insert(0, str(Path(__file__).parent))
import templates as tpl
from ann import cached_seeds
from atlas_simulator import ManualClock, SimulatorServer
from atlas_simulator.thumbnails import video_thumbnail
from index import (
    CACHE_ROOT,
    background,
    cached_server,
    copy_background,
    mark_ready,
    timed_candidates,
)
from reupload import jpeg

from atlas_core.config import load_settings
from atlas_core.database import DatabaseManager
from atlas_core.embedded import started_dsn, stop_server
from atlas_core.pipeline import (
    Services,
    discover_channels,
    embed_new_videos,
    refresh_channels,
)
from atlas_core.pipeline.vectors import HUNT_GATE, embed_rows
from atlas_core.pipeline.watch import watch_channels
from atlas_core.storage import LocalVault
from atlas_core.storage.evidence import evidence_prefix
from atlas_core.store.vectors import (
    CANDIDATES,
    Query,
    candidates_for,
    queries_of,
    videos_without_vectors,
    write_compare_frame,
)
from atlas_core.store.videos import video_origins
from atlas_core.vision.compare import FRAME_VERSION, Frame
from atlas_core.vision.embedder import PerceptualEmbedder
from atlas_core.vision.frames import fetch_frames_checked


class BackgroundVault(LocalVault):
    """A local vault in which every background video (``bg...``) has a frame 0 in its
    evidence: one of a few dozen drawn thumbnails (a million files would not fit the bench)."""

    def __init__(self, root: Path, frames: list[bytes]) -> None:
        super().__init__(root)
        self.frames = frames

    def fetch_bytes(self, path: str) -> bytes | None:
        if path.startswith("evidence/bg") and path.endswith("/0.jpg"):
            video = path.split("/")[1]
            assert path == f"{evidence_prefix(video)}0.jpg"
            return self.frames[int(video[2:]) % len(self.frames)]
        return super().fetch_bytes(path)


def ensure_index(args: argparse.Namespace, embedder: PerceptualEmbedder) -> Path:
    """The cached index's folder (built as bench/ann.py builds it when missing)."""
    key = f"ann-{args.background}-{embedder.name}"
    with cached_server(key, args.rebuild) as (dsn, home, ready):
        if not ready:
            seeds = cached_seeds(
                CACHE_ROOT / f"{key}.seeds.npy", embedder, args.groups, args.seed_index
            )
            bg = background(seeds, args.background, np.random.default_rng(args.seed_index))

            async def build() -> None:
                async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
                    await register_vector_async(conn)
                    await conn.execute("TRUNCATE channels, videos, video_vectors CASCADE")
                    took = await copy_background(conn, bg, embedder.name)
                    mark_ready(home, {"n": args.background, "embedder": embedder.name, **took})

            asyncio.run(build())
    return home


async def queries_by_video(svc: Services, video_ids: list[str]) -> dict[str, list[Query]]:
    """Each video's stage-1 queries as the hunt makes them: its published thumbnails fetched
    (the simulator's, over HTTP), embedded (``embed_rows``), the query rows kept."""
    async with svc.db.get_connection() as conn:
        origins = await video_origins(conn, video_ids)
    details = await svc.youtube.videos(video_ids)
    out: dict[str, list[Query]] = {}
    for video in details.found:
        frames, _ = await fetch_frames_checked(
            svc.http, video.thumbnails, svc.settings.COMPLIANCE_MODE
        )
        rows = embed_rows(svc.embedder, video.id, frames)
        channel = origins[video.id].channel_id if video.id in origins else None
        out[video.id] = queries_of(rows, channel)
    return out


async def warm_background_frames(svc: Services, vault: BackgroundVault) -> int:
    """Store the compare frames of the background videos stage 1 will offer the new videos.

    In production every hunted video's compare frame is stored when it is embedded, so a
    candidate's frame is read, not prepared. The million background rows were never hunted:
    the ones this run will meet (found by a dry stage 1 of the new videos, outside the timed
    run) get theirs now, as their embedding would have stored them."""
    async with svc.db.get_connection() as conn:
        pending = await videos_without_vectors(conn, 100_000)
    queries = [q for qs in (await queries_by_video(svc, pending)).values() for q in qs]
    async with svc.db.get_connection() as conn:
        found = await candidates_for(conn, queries, CANDIDATES, embedder=svc.embedder.name)
        wanted = sorted({c.match_video_id for c in found if c.match_video_id.startswith("bg")})
        blobs = [Frame.of(image).to_bytes() for image in vault.frames]
        for video_id in wanted:
            blob = blobs[int(video_id[2:]) % len(blobs)]
            await write_compare_frame(conn, video_id, 0, FRAME_VERSION, blob)
    return len(wanted)


async def hunt(dsn: str, args: argparse.Namespace, home: Path) -> None:
    start = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    clock = ManualClock(start)
    rng = np.random.default_rng(args.seed)
    frames = [jpeg(tpl.template_base(rng), 85) for _ in range(48)]
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
        vault = BackgroundVault(home / "vault", frames)
        async with Services.open(settings, db=db, vault=vault) as svc:
            channels = list(sim.world.channels)
            await watch_channels(svc.db, svc.youtube, channels)
            await refresh_channels(svc)
            await discover_channels(svc, channels)
            # YouTube serves thumbnails from its CDN: the simulator's drawing (cached per
            # image) is done before the clock starts, so the fetch stage times HTTP only.
            for v in sim.world.videos.values():
                name = "maxresdefault" if v.hd else "sddefault"
                video_thumbnail(v.frame_source, name, seed=sim.world.seed, alteration=v.alteration)
            if not args.cold:
                warmed = await warm_background_frames(svc, vault)
                print(f"background compare frames stored beforehand (steady state): {warmed}")
            t0 = time.perf_counter()
            run = await embed_new_videos(svc, limit=100_000)
            elapsed = time.perf_counter() - t0
            copies = {
                h.video_id: h.detail.removeprefix("copy of ")
                for h in sim.world.happenings
                if h.kind == "reupload"
            }
            # For stage 1 alone, below: the queries of up to 200 hunted videos and the copies.
            async with svc.db.get_connection() as conn:
                cur = await conn.execute(
                    "SELECT DISTINCT video_id FROM video_vectors"
                    " WHERE video_id NOT LIKE 'bg%%' LIMIT 200"
                )
                sample = [r[0] for r in await cur.fetchall()]
            probes = await queries_by_video(svc, sorted(set(sample) | set(copies)))
        await db.close()
    found = {frozenset((m.video_id, m.match_video_id)) for m in run.matches}
    hunted = sum(1 for c, o in copies.items() if frozenset((c, o)) in found)
    n = max(1, run.videos)
    print(
        f"videos hunted={run.videos} in {elapsed:.1f}s; comparisons={run.comparisons}"
        f" (candidates beyond HUNT_GATE, not compared: {run.gated})"
    )
    for stage, seconds in run.stages.items():
        print(f"  {stage:8s} {1000 * seconds / n:7.1f} ms/video  ({seconds:.1f}s)")
    print(f"simulator re-uploads={len(copies)} alerted={hunted} suspected pairs={len(found)}")
    # Stage 1 alone on the same index: each new video's query, timed, and whether each
    # copy's original is among its candidates (and how near: the gate's margin).
    embedder = PerceptualEmbedder()
    hits, per_query, near = [], [], []
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        await register_vector_async(conn)
        for vid in (v for v in sample if probes.get(v)):
            _, ms, queried = await timed_candidates(conn, probes[vid], embedder.name)
            per_query.append(ms / queried)
        for copy, original in copies.items():
            ids, _, _ = await timed_candidates(conn, probes.get(copy, []), embedder.name)
            hits.append(original in ids)
            cur = await conn.execute(
                """SELECT min(a.vector <=> b.vector) FROM video_vectors a, video_vectors b
                   WHERE a.video_id = %s AND a.frame_index < 1000 AND b.video_id = %s""",
                (copy, original),
            )
            row = await cur.fetchone()
            if row and row[0] is not None:
                near.append(float(row[0]))
    if near:
        print(
            f"copy-original cosine distance: max={max(near):.3f} "
            f"(HUNT_GATE={HUNT_GATE}, margin {HUNT_GATE - max(near):.3f})"
        )
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
    parser.add_argument("--background", type=int, default=1_000_000, help="rows in the index")
    parser.add_argument("--channels", type=int, default=8)
    parser.add_argument("--videos", type=int, default=240, help="videos in the simulated world")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--groups", type=int, default=150, help="as bench/ann.py's")
    parser.add_argument("--seed-index", type=int, default=1, help="bench/ann.py's --seed")
    parser.add_argument("--rebuild", action="store_true", help="build the cached index again")
    parser.add_argument(
        "--cold",
        action="store_true",
        help="background videos have no stored compare frame (each is prepared when met)",
    )
    args = parser.parse_args()
    embedder = PerceptualEmbedder()
    cached = ensure_index(args, embedder)
    with tempfile.TemporaryDirectory(prefix="atlas-hunt-") as tmp:
        clone = Path(tmp) / "db"
        t0 = time.perf_counter()
        Path(tmp).chmod(0o755)  # the server may run as its own user
        subprocess.run(["cp", "-a", str(cached), str(clone)], check=True)  # keeps the owner
        (clone / "db.lock").unlink(missing_ok=True)
        print(f"index: {args.background:,} rows, cloned in {time.perf_counter() - t0:.0f}s")
        try:
            dsn = started_dsn(clone, "bench")
            asyncio.run(hunt(dsn, args, Path(tmp)))
        finally:
            stop_server(clone)


if __name__ == "__main__":
    main()
