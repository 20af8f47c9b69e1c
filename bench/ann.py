"""Benchmark: the hunt's stage 1 keeps re-uploads in view among a million vectors, fast.

    python bench/ann.py [--vectors 1000000] [--copies 200] [--ef 20,40,60,100,200] [--rebuild]

The index: ``--vectors`` other-channel rows in ``video_vectors`` (one frame a video, 100 videos
a channel) under the product's HNSW index (as migrated), on an embedded PostgreSQL whose data
is cached in ``/tmp/atlas-bench-cache/ann-<n>-<embedder>`` and reused by the next run
(``--rebuild`` starts it again). They are loaded with COPY (FORMAT BINARY) and indexed in
memory (maintenance_work_mem 6GB, parallel workers).

Background rows are SYNTHETIC with a realistic distribution (``index.background``): mixtures
of the embedder's own vectors of a few hundred drawn thumbnails (designed templates in
look-alike groups, YouTube-style thumbnails; each with its mirror), plus noise. Embedding a
million drawn thumbnails would take hours on two cores.

The planted copies are REAL: ``--copies`` originals (templates, thumbnails, photos) stored as
the product stores them (``pipeline.vectors.embed_rows``: the frame's own row and the rows that
are only matched, ``embedder.frame_rows``: its mirror, zoomed centre and zoomed mirror, and its
grey row for a frame in colour), and on other channels each one's edited copy (crop up to 15%,
rotation up to 5 degrees, borders, letterbox, text/logo/emoji overlays, colour and hue,
greyscale and sepia, blur, JPEG re-encoding, mirror and combinations), embedded the same way.
They are removed again at the end.

For each copy, ``store.vectors.candidates_for`` runs as the hunt runs it (k=20 per query row:
the copy's frame, zoomed centre and shifted windows, ``queries_of``; other channels only,
iterative scan) at each
``ef_search``: the copy recall@20 (the original among the candidates) and p50/p95
milliseconds per index query. ``exact`` is the
same ranking by brute force over every row: the embedder's own ceiling. The chosen ef_search
is the smallest with p50 <= 10 ms whose recall is within 0.005 of the best measured, else the
fastest within 0.02 of the best. Last line:
``ann_copy_recall_at_20=<r> p50_ms=<per query> ef_search=<ef> n=<rows> exact_recall_at_20=<e>``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

import numpy as np
import psycopg
from pgvector.psycopg import register_vector_async

sys.path.insert(0, str(Path(__file__).parent))
import reupload
import templates as tpl
from index import (
    CACHE_ROOT,
    background,
    cached_server,
    copy_background,
    mark_ready,
    timed_candidates,
)

from atlas_core.pipeline.vectors import COMPARE_AT_MOST, embed_rows
from atlas_core.store.vectors import (
    CANDIDATES,
    EF_SEARCH,
    is_query_row,
    is_stored_row,
    queries_of,
    write_vectors,
)
from atlas_core.vision.embedder import PerceptualEmbedder

PLANT = "plant"


def draw_bases(rng: np.random.Generator, count: int) -> list:
    photos = [reupload.fit_16x9(img) for _, img in reupload.load_photos(len(reupload.PHOTOS))]
    out = []
    for i in range(count):
        r = i % 10
        if r < 6:
            out.append(tpl.template_base(rng))
        elif r < 9:
            out.append(reupload.thumbnail(50_000 + i, reupload.title(rng)))
        else:
            out.append(reupload.e_crop(rng, photos[i % len(photos)]))
    return out


def seed_vectors(embedder: PerceptualEmbedder, groups: int, seed: int) -> np.ndarray:
    """The embedder's stored rows (frame, mirror, zoomed) of drawn thumbnails: the
    background's basis."""
    rng = np.random.default_rng(seed)
    rows = []
    for g in range(groups):
        images = tpl.template_group(rng, str(rng.choice(tpl.KINDS)))
        images.append(reupload.thumbnail(70_000 + g, reupload.title(rng)))
        for i, img in enumerate(images):
            made = embed_rows(embedder, "s", [(i, reupload.jpeg(img, 85))])
            rows += [r[2] for r in made if is_stored_row(r[1])]
    return np.array(rows, np.float32)


def planted(
    embedder: PerceptualEmbedder, copies: int, seed: int
) -> tuple[list[tuple[str, str, list]], list[tuple[str, str, str]]]:
    """(video id, channel id, rows) of the originals and copies; (copy, original, edit)."""
    rng = np.random.default_rng(seed + 1000)
    edits = {**reupload.EDITS, **reupload.TONE_EDITS}
    names = list(edits)
    videos, pairs = [], []
    for i, base in enumerate(draw_bases(rng, copies)):
        oid, cid = f"{PLANT}o{i:06d}", f"{PLANT}c{i:06d}"
        edit = names[i % len(names)]
        copy = edits[edit](rng, base)
        videos.append(
            (oid, f"UC{PLANT}o{i:018d}", embed_rows(embedder, oid, [(0, reupload.jpeg(base, 90))]))
        )
        jpeg = reupload.jpeg(copy, int(rng.integers(60, 90)))
        videos.append((cid, f"UC{PLANT}c{i:018d}", embed_rows(embedder, cid, [(0, jpeg)])))
        pairs.append((cid, oid, edit))
    return videos, pairs


def exact_hits(bg: np.ndarray, videos: list, pairs: list, k: int) -> list[bool]:
    """Brute force over every row: is the original among the k nearest other-channel videos
    of the copy's query rows (``is_query_row``: its frame, zoomed centre and shifted windows),
    as stage 1 asks? Only stored rows (``is_stored_row``) are searched."""
    ids = [v[0] for v in videos for r in v[2] if is_stored_row(r[1])]
    mat = np.array([r[2] for v in videos for r in v[2] if is_stored_row(r[1])], np.float32)
    rows = {v[0]: v[2] for v in videos}
    hits = []
    for cid, oid, _ in pairs:
        queries = np.array([r[2] for r in rows[cid] if is_query_row(r[1])], np.float32)
        # The k best background videos (one row each) by their best similarity to a query.
        best = np.full(k, -2.0, np.float32)
        for start in range(0, len(bg), 100_000):
            sims = (queries @ bg[start : start + 100_000].T).max(axis=0)
            part = np.partition(sims, -k)[-k:] if len(sims) > k else sims
            best = np.sort(np.concatenate([best, part]))[-k:]
        sims = (mat @ queries.T).max(axis=1)
        per_video: dict[str, float] = {}
        for vid, s in zip(ids, sims, strict=True):
            if vid != cid:
                per_video[vid] = max(per_video.get(vid, -2.0), float(s))
        others = sorted(list(per_video.values()) + list(best), reverse=True)[:k]
        hits.append(per_video[oid] >= others[-1])
    return hits


def cached_seeds(
    path: Path, embedder: PerceptualEmbedder, groups: int, seed: int, rebuild: bool = False
) -> np.ndarray:
    """The seed rows, kept beside the cached index (the background is made from them)."""
    if path.exists() and not rebuild:
        return np.load(path)
    seeds = seed_vectors(embedder, groups, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, seeds)
    return seeds


async def drop_planted(conn: psycopg.AsyncConnection) -> None:
    await conn.execute(f"DELETE FROM video_vectors WHERE video_id LIKE '{PLANT}%%'")
    await conn.execute(f"DELETE FROM videos WHERE id LIKE '{PLANT}%%'")
    await conn.execute(f"DELETE FROM channels WHERE id LIKE 'UC{PLANT}%%'")


async def run(args: argparse.Namespace) -> None:
    embedder = PerceptualEmbedder()
    key = f"ann-{args.vectors}-{embedder.name}"
    t0 = time.perf_counter()
    seeds = cached_seeds(
        CACHE_ROOT / f"{key}.seeds.npy", embedder, args.groups, args.seed, args.rebuild
    )
    bg = background(seeds, args.vectors, np.random.default_rng(args.seed))
    took = time.perf_counter() - t0
    print(f"{len(seeds)} seed rows, {len(bg):,} background rows in {took:.0f}s")
    videos, pairs = planted(embedder, args.copies, args.seed)
    with cached_server(key, args.rebuild) as (dsn, home, ready):
        async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
            await register_vector_async(conn)
            if not ready:
                await conn.execute("TRUNCATE channels, videos, video_vectors CASCADE")
                took = await copy_background(conn, bg, embedder.name)
                mark_ready(home, {"n": args.vectors, "embedder": embedder.name, **took})
                print(f"built: loaded in {took['load_s']:.0f}s, HNSW in {took['hnsw_s']:.0f}s")
            else:
                print(f"reused the cached index in {home}")
            await drop_planted(conn)
            for vid, channel, rows in videos:
                await conn.execute(
                    "INSERT INTO channels (id, title) VALUES (%s, 'p') ON CONFLICT DO NOTHING",
                    (channel,),
                )
                await conn.execute(
                    "INSERT INTO videos (id, channel_id, title) VALUES (%s, %s, 'p')",
                    (vid, channel),
                )
                await write_vectors(conn, rows, embedder.name)
            await conn.execute("ANALYZE video_vectors")
            n = int(
                (await (await conn.execute("SELECT count(*) FROM video_vectors")).fetchone())[0]
            )  # type: ignore[index]
            exact = float(np.mean(exact_hits(bg, videos, pairs, CANDIDATES)))
            print(f"index rows={n:,}; exact (brute force) copy recall@{CANDIDATES}: {exact:.4f}")
            efs = [int(e) for e in args.ef.split(",")]
            queries = {vid: queries_of(rows, channel) for vid, channel, rows in videos}
            for cid, _, _ in pairs:  # warm the cache as a running hunt has it
                await timed_candidates(conn, queries[cid], embedder.name, efs[0])
            results = []
            ranks: list[int] = []  # the original's place among the candidate videos, from 0
            try:
                for ef in efs:
                    hits, per_query = [], []
                    for cid, oid, _ in pairs:
                        ids, ms, frames = await timed_candidates(
                            conn, queries[cid], embedder.name, ef
                        )
                        hits.append(oid in ids)
                        per_query.append(ms / frames)
                        if oid in ids:
                            ranks.append(ids.index(oid))
                    recall = float(np.mean(hits))
                    p50, p95 = np.percentile(per_query, [50, 95])
                    print(
                        f"ef_search={ef:5d} copy_recall@{CANDIDATES}={recall:.4f} "
                        f"per_query p50={p50:.2f}ms p95={p95:.2f}ms"
                    )
                    results.append((ef, recall, float(p50), hits))
            finally:
                await drop_planted(conn)
    # The smallest ef_search within 0.005 of the best recall at p50 <= 10 ms; when none is
    # that fast (a loaded machine), the fastest within 0.02 of the best recall.
    best = max(r[1] for r in results)
    fast = [r for r in results if r[2] <= 10.0 and r[1] >= best - 0.005]
    chosen = (
        fast[0] if fast else min((r for r in results if r[1] >= best - 0.02), key=lambda r: r[2])
    )
    per_edit: dict[str, list[bool]] = {}
    for (_, _, edit), hit in zip(pairs, chosen[3], strict=True):
        per_edit.setdefault(edit, []).append(hit)
    print("per edit at the chosen ef_search:")
    for edit, hs in sorted(per_edit.items(), key=lambda kv: np.mean(kv[1])):
        print(f"  {edit:32s} {np.mean(hs):.3f} (n={len(hs)})")
    print(f"product EF_SEARCH={EF_SEARCH}; chosen ef_search={chosen[0]}")
    # Stage 2 compares each new video with its COMPARE_AT_MOST nearest other videos only.
    within = float(np.mean(np.array(ranks) < COMPARE_AT_MOST)) if ranks else float("nan")
    first = float(np.mean(np.array(ranks) == 0)) if ranks else float("nan")
    print(
        f"originals found (all ef_search): {len(ranks)}; the nearest other video: {first:.3f}; "
        f"within COMPARE_AT_MOST={COMPARE_AT_MOST}: {within:.4f}; "
        f"worst place {max(ranks, default=-1) + 1}"
    )
    print(
        f"ann_copy_recall_at_20={chosen[1]:.4f} p50_ms={chosen[2]:.2f} ef_search={chosen[0]} "
        f"n={n} exact_recall_at_20={exact:.4f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vectors", type=int, default=1_000_000, help="background rows")
    parser.add_argument("--copies", type=int, default=200, help="planted originals + copies")
    parser.add_argument("--groups", type=int, default=150, help="drawn template groups (seeds)")
    parser.add_argument("--ef", default="20,40,60,100,200", help="ef_search values to try")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rebuild", action="store_true", help="build the cached index again")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
