"""Embed the thumbnails of videos that have no vectors yet, and hunt for re-uploads.

run = await embed_new_videos(svc)

The hunt: stage 1 takes each new video's nearest frames from other channels (HNSW top-k
for each of its query rows, ``store.vectors.candidates_for``); stage 2 is ``vision.compare``
on the original's stored frame and the new video's: it alone decides.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from psycopg import AsyncConnection

from atlas_core.notifications import Alert, AlertChannel, AlertLevel, escape_markdown
from atlas_core.pipeline.services import Services
from atlas_core.storage.evidence import evidence_prefix, reupload_evidence_path, side_by_side
from atlas_core.store.outbox import enqueue_alert
from atlas_core.store.vectors import (
    CANDIDATES,
    Candidate,
    Match,
    VectorRow,
    candidates_for,
    clear_thumbnail_attempts,
    compare_frames_of,
    drop_other_embedders,
    originals_of,
    queries_of,
    record_reupload_pair,
    record_thumbnail_failure,
    record_vector_skip,
    reupload_pairs_known,
    thumbnail_attempts,
    videos_needing_embedder,
    videos_without_vectors,
    write_compare_frame,
    write_vectors,
)
from atlas_core.store.videos import VideoOrigin, video_origins
from atlas_core.vision.compare import FRAME_VERSION, Comparison, Frame, compare_frames
from atlas_core.vision.embedder import EMBED_DECODE, Embedder, frame_rows
from atlas_core.vision.frames import FrameFailure, fetch_frames_checked
from atlas_core.vision.preprocess import decode

logger = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class VectorsRun:
    videos: int
    vectors: int
    matches: list[Match] = field(default_factory=list)
    units: int = 0
    # Seconds spent per stage: fetch (thumbnails), embed (decode, vectors, compare frame),
    # store (vault evidence, rows), ann (stage 1 queries), compare (stage 2, incl. reports).
    stages: dict[str, float] = field(default_factory=dict)
    comparisons: int = 0
    gated: int = 0  # candidate videos stage 2 skipped: farther than HUNT_GATE


# Thumbnail fetch failures: a transient one (no answer, 5xx, 429) is retried on a later run
# after RETRY_BASE_SECONDS x 2^(attempts-1) (at most RETRY_MAX_SECONDS); 404/410 ends the
# video's hunt after GONE_TRIES answers; an undecodable image ends it at once.
RETRY_BASE_SECONDS = 900.0
RETRY_MAX_SECONDS = 86400.0
GONE_TRIES = 3
PROGRESS_EVERY = 25


def retry_delay(attempts: int) -> float:
    return float(min(RETRY_MAX_SECONDS, RETRY_BASE_SECONDS * 2 ** max(0, attempts - 1)))


async def _thumbnail_failed(
    svc: Services, video_id: str, failures: list[FrameFailure], undecodable: str | None = None
) -> None:
    async with svc.db.get_connection() as conn:
        tries = await thumbnail_attempts(conn, video_id) + 1
        if undecodable is not None:
            error, permanent = f"undecodable: {undecodable}", True
        else:
            gone = bool(failures) and all(f.gone for f in failures)
            error = "; ".join(f"frame {f.index}: {f.error}" for f in failures) or "no thumbnail"
            permanent = gone and tries >= GONE_TRIES
        await record_thumbnail_failure(conn, video_id, error, permanent, retry_delay(tries))
    payload = {"reason": error, "attempts": tries, "permanent": permanent}
    await svc.events.emit("vectors.thumbnail_failed", video_id, payload)


# Videos fetched, embedded and stored together; their stage-1 queries go in one round trip.
BATCH = PROGRESS_EVERY
FETCHES_AT_ONCE = 8


async def embed_new_videos(svc: Services, limit: int = 500) -> VectorsRun:
    """Embed the frames of videos without vectors and hunt each for re-uploads, BATCH videos
    at a time: thumbnails fetched concurrently, embedded in a worker thread, stored in one
    transaction, then stage 1 for the whole batch in one round trip and stage 2 only for the
    candidates within ``HUNT_GATE`` (cosine distance). A batch's hunt runs while the next
    batch is fetched, embedded and stored. Logs its progress every PROGRESS_EVERY videos."""
    async with svc.db.get_connection() as conn:
        pending = await videos_without_vectors(conn, limit)
    # Thumbnail URLs come from the API (one call per 50 videos), never guessed.
    details = await svc.youtube.videos(pending) if pending else None
    found = details.found if details else []
    vectors = 0
    matches: list[Match] = []
    embedded = 0
    started = time.monotonic()
    stages = {
        "fetch": 0.0,
        "embed": 0.0,
        "evidence": 0.0,
        "store": 0.0,
        "ann": 0.0,
        "compare": 0.0,
    }
    counts = {"comparisons": 0, "gated": 0}
    gate = asyncio.Semaphore(FETCHES_AT_ONCE)

    async def fetch(video: Any) -> tuple[list[tuple[int, bytes]], list[FrameFailure]]:
        async with gate:
            return await fetch_frames_checked(
                svc.http, video.thumbnails, svc.settings.COMPLIANCE_MODE
            )

    hunting: asyncio.Task[list[Match]] | None = None
    hunted_upto = 0

    async def finish_hunt() -> None:
        nonlocal hunting
        if hunting is None:
            return
        task, hunting = hunting, None
        matches.extend(await task)
        logger.info(
            "hunt: %d/%d videos (%d embedded, %d suspected re-uploads, %.1fs)",
            hunted_upto,
            len(found),
            embedded,
            len(matches),
            time.monotonic() - started,
        )

    try:
        for start in range(0, len(found), BATCH):
            batch = found[start : start + BATCH]
            t0 = time.perf_counter()
            fetched = await asyncio.gather(*(fetch(v) for v in batch))
            stages["fetch"] += time.perf_counter() - t0
            ready: list[tuple[str, list[tuple[int, bytes]]]] = []
            failures_of = {v.id: failures for v, (_, failures) in zip(batch, fetched, strict=True)}
            for video, (frames, failures) in zip(batch, fetched, strict=True):
                if frames:
                    ready.append((video.id, frames))
                else:
                    await _thumbnail_failed(svc, video.id, failures)
            t0 = time.perf_counter()
            # Decoding, embedding and preparing the compare frame is CPU work: off the event
            # loop, a video per thread.
            made = await asyncio.gather(*(_embed_video(svc.embedder, v, f) for v, f in ready))
            t1 = time.perf_counter()
            stages["embed"] += t1 - t0
            done: list[tuple[str, dict[int, bytes], list[VectorRow]]] = []
            kept: dict[str, tuple[Frame, bytes]] = {}  # compare frames, and their stored bytes
            for (video_id, frames), embedded_video in zip(ready, made, strict=True):
                if isinstance(embedded_video, str):  # one bad video must not stall the others
                    await _thumbnail_failed(
                        svc, video_id, failures_of[video_id], undecodable=embedded_video
                    )
                    continue
                # Evidence first: a video only counts as done once its frames are in the vault.
                t2 = time.perf_counter()
                await asyncio.to_thread(svc.vault.store_visual_evidence, video_id, frames)
                stages["evidence"] += time.perf_counter() - t2
                rows, frame = embedded_video
                done.append((video_id, dict(frames), rows))
                if frame is not None:
                    kept[video_id] = frame
            t2 = time.perf_counter()
            async with svc.db.get_connection() as conn, conn.transaction():
                for video_id, _, rows in done:
                    vectors += await write_vectors(conn, rows, svc.embedder.name)
                    await clear_thumbnail_attempts(conn, video_id)
                    if video_id in kept:
                        # Its compare frame, for when it is another video's candidate.
                        await write_compare_frame(
                            conn, video_id, 0, FRAME_VERSION, kept[video_id][1]
                        )
            stages["store"] += time.perf_counter() - t2
            embedded += len(done)
            prepared = {video_id: frame for video_id, (frame, _) in kept.items()}
            # The previous batch's hunt ends before this one's starts (its rows are stored: each
            # batch's stage 1 sees the batches before it), and this batch's hunt runs while the
            # next batch is fetched, embedded and stored (index inserts are the database's work,
            # comparisons ours).
            await finish_hunt()
            hunting = asyncio.create_task(
                hunt_batch(svc, done, stages=stages, counts=counts, prepared=prepared)
            )
            hunted_upto = min(start + BATCH, len(found))
        await finish_hunt()
    finally:
        if hunting is not None:  # this run failed or was cancelled: so is the hunt in flight
            hunting.cancel()
            await asyncio.gather(hunting, return_exceptions=True)
    return VectorsRun(
        videos=embedded,
        vectors=vectors,
        matches=matches,
        units=details.units if details else 0,
        stages={k: round(v, 4) for k, v in stages.items()},
        comparisons=counts["comparisons"],
        gated=counts["gated"],
    )


# CPU work (embedding, preparing and comparing frames) runs on this many threads at once
# (OpenCV and NumPy release the GIL).
CPU_THREADS = max(1, os.cpu_count() or 1)
_CPU = ThreadPoolExecutor(CPU_THREADS, thread_name_prefix="atlas-hunt")


async def _on_cpu(fn: Callable[..., T], *args: Any) -> T:
    return await asyncio.get_running_loop().run_in_executor(_CPU, fn, *args)


def first_frame(frames: dict[int, bytes]) -> bytes:
    """The frame a video is compared by: frame 0 (its best thumbnail), else its first."""
    return frames.get(0) or next(iter(frames.values()))


Embedded = tuple[list[VectorRow], tuple[Frame, bytes] | None]


async def _embed_video(
    embedder: Embedder, video_id: str, frames: list[tuple[int, bytes]]
) -> Embedded | str:
    """A video's rows (``embed_rows``) and its frame 0 prepared for ``compare`` (with its
    mirror's keypoints) and serialised to keep, or why its frames could not be decoded."""

    def work() -> Embedded | str:
        try:
            rows = embed_rows(embedder, video_id, frames)
        except ValueError as exc:
            return str(exc)
        try:
            frame = Frame.of(first_frame(dict(frames)))
        except ValueError:
            return rows, None
        frame.mirror  # noqa: B018 - computed once here, not in every comparison's thread
        return rows, (frame, frame.to_bytes())

    return await _on_cpu(work)


def embed_rows(
    embedder: Embedder, video_id: str, frames: list[tuple[int, bytes]]
) -> list[VectorRow]:
    """Each frame's rows (``embedder.frame_rows``: its own at ``index``, the others at their
    offsets, such as its mirror at ``MIRROR_OFFSET + index``; the query-only shifted windows
    among them, which ``write_vectors`` leaves out): one decoding at a reduced scale (JPEG DCT
    scaling), never re-encoded."""
    source = f"thumbnail:{embedder.name}"
    rows: list[VectorRow] = []
    for index, image in frames:
        rgb = decode(image, at_least=EMBED_DECODE)
        rows += [(video_id, offset + index, v, source) for offset, v in frame_rows(embedder, rgb)]
    return rows


async def compare_frames_for(
    svc: Services,
    video_ids: list[str],
    own: dict[str, bytes] | None = None,
    ready: dict[str, Frame] | None = None,
) -> dict[str, Frame]:
    """The prepared compare frames of videos: ``ready`` ones as given, else from
    ``compare_frames``, else prepared from ``own`` (frame 0 bytes at hand) or the vault's
    evidence, once, then kept in the table."""
    ready = ready or {}
    out: dict[str, Frame] = {v: ready[v] for v in video_ids if v in ready}
    wanted = [v for v in dict.fromkeys(video_ids) if v not in out]
    if not wanted:
        return out
    async with svc.db.get_connection() as conn:
        blobs = await compare_frames_of(conn, wanted, FRAME_VERSION)
    missing: list[str] = []
    for video_id in wanted:
        blob = blobs.get(video_id)
        try:
            if blob is not None:
                out[video_id] = Frame.from_bytes(blob)
                continue
        except ValueError:
            pass
        missing.append(video_id)
    if not missing:
        return out

    def prepare_missing() -> dict[str, Frame]:
        made: dict[str, Frame] = {}
        for video_id in missing:
            image = (own or {}).get(video_id)
            if image is None:
                image = svc.vault.fetch_bytes(f"{evidence_prefix(video_id)}0.jpg")
            if image is None:
                continue
            try:
                made[video_id] = Frame.of(image)
            except ValueError:
                continue
        return made

    made = await asyncio.to_thread(prepare_missing)
    if made:
        async with svc.db.get_connection() as conn, conn.transaction():
            for video_id, frame in made.items():
                await write_compare_frame(conn, video_id, 0, FRAME_VERSION, frame.to_bytes())
    return out | made


# Stage 2 runs only on candidates within this cosine distance of the query (a cheap gate in
# front of ``compare``): on planted copies among template look-alikes (bench/ann.py's edits,
# eleven kinds and their combinations; embedder v4) every copy stage 1 kept in its top 20
# was within 0.31 of its original (99% within 0.23); the gate leaves room for edits unseen.
HUNT_GATE = 0.5
# ... and on at most this many other videos per new video, nearest first. Not fewer than
# stage 1's k: among look-alike templates the original can be the 9th-20th nearest video
# (bench/reupload.py end to end, 2,070 template images in the index: recall 0.81 comparing the
# nearest 8, 0.93 comparing all 20), and every comparison costs ~10 ms of CPU.
COMPARE_AT_MOST = CANDIDATES
# A video's neighbours that are recorded copies bring their originals in too, at most this
# many per video (nearest neighbour first): a video copied many times has its copies nearer to
# a new copy than itself, and they can fill stage 1's top k (bench/reupload.py seed 102: two
# of the three copies stage 1 lost, each beside copies of its original found before it).
# Every neighbour's roots come first (``_originals_of_copies``): copies recorded against each
# other filled these places before the video they all copy (bench/reupload.py's default run:
# 3 of the 7 copies never compared with their original).
ORIGINALS_AT_MOST = 4


async def hunt_reuploads(
    svc: Services,
    video_id: str,
    frames: dict[int, bytes],
    k: int = CANDIDATES,
    stages: dict[str, float] | None = None,
    counts: dict[str, int] | None = None,
) -> list[Match]:
    """Hunt one stored video: ``hunt_batch`` of one, its query rows embedded again from
    ``frames`` (the shifted windows are queried, never stored)."""
    rows = await _on_cpu(embed_rows, svc.embedder, video_id, sorted(frames.items()))
    return await hunt_batch(svc, [(video_id, frames, rows)], k, stages, counts)


async def hunt_batch(
    svc: Services,
    videos: list[tuple[str, dict[int, bytes], list[VectorRow]]],
    k: int = CANDIDATES,
    stages: dict[str, float] | None = None,
    counts: dict[str, int] | None = None,
    prepared: dict[str, Frame] | None = None,
) -> list[Match]:
    """Stage 1: other channels' nearest frames (HNSW, top-k per own frame, all the videos'
    queries in one round trip). Stage 2: ``compare`` decides, on prepared frames (``prepared``,
    else from ``compare_frames``, else prepared once and kept), for each video's nearest
    ``COMPARE_AT_MOST`` other videos within ``HUNT_GATE`` whose pair is not recorded yet, and
    the originals of those neighbours that are recorded copies, roots first
    (``ORIGINALS_AT_MOST``); the whole batch's comparisons run side by side on
    ``CPU_THREADS`` threads.
    The original is the video published first (this one, when its date is earlier, though it
    was stored later: a channel added to the watchlist after its copier); each pair alerts
    once, ever. ``stages``/``counts``: seconds per stage and comparisons, added to."""
    stages = stages if stages is not None else {}
    counts = counts if counts is not None else {}
    if not videos:
        return []
    t0 = time.perf_counter()
    ids = [v[0] for v in videos]
    async with svc.db.get_connection() as conn:
        channels = {o: v.channel_id for o, v in (await video_origins(conn, ids)).items()}
        queries = [
            q for video_id, _, rows in videos for q in queries_of(rows, channels.get(video_id))
        ]
        candidates = await candidates_for(conn, queries, k, embedder=svc.embedder.name)
        nearest: dict[tuple[str, str], Candidate] = {}
        for c in candidates:  # sorted by distance: each pair's nearest frames, nearest first
            nearest.setdefault((c.video_id, c.match_video_id), c)
        gated = [c for c in nearest.values() if c.distance <= HUNT_GATE]
        extra = await _originals_of_copies(conn, gated, channels)
        known = await reupload_pairs_known(
            conn, [(c.video_id, c.match_video_id) for c in gated + extra]
        )
    todo: dict[str, list[Candidate]] = {}
    for c in gated:
        mine = todo.setdefault(c.video_id, [])
        if tuple(sorted((c.video_id, c.match_video_id))) in known:
            continue
        if len(mine) < COMPARE_AT_MOST:
            mine.append(c)
    added: dict[str, int] = {}
    for c in extra:
        mine = todo.setdefault(c.video_id, [])
        if tuple(sorted((c.video_id, c.match_video_id))) in known:
            continue
        if any(m.match_video_id == c.match_video_id for m in mine):
            continue
        if added.get(c.video_id, 0) < ORIGINALS_AT_MOST:
            added[c.video_id] = added.get(c.video_id, 0) + 1
            mine.append(c)
    t1 = time.perf_counter()
    stages["ann"] = stages.get("ann", 0.0) + t1 - t0
    kept = sum(len(m) for m in todo.values()) - sum(added.values())  # stage 1's own
    counts["gated"] = counts.get("gated", 0) + len(nearest) - kept
    try:
        return await _verify(svc, videos, todo, prepared or {}, counts)
    finally:
        stages["compare"] = stages.get("compare", 0.0) + time.perf_counter() - t1


async def _originals_of_copies(
    conn: AsyncConnection, gated: list[Candidate], channels: dict[str, str]
) -> list[Candidate]:
    """The originals of the gated neighbours that are recorded copies, as candidates of the
    video that neighbour is near (on another channel than the video's own), at the
    neighbour's distance: first every neighbour's roots (nearest neighbour first), then their
    other originals. Copies of one video found side by side are recorded against each other
    too; the video they all copy is the root of their chain, and the one a new copy of it
    most needs to be compared with."""
    originals = await originals_of(conn, [c.match_video_id for c in gated])
    if not originals:
        return []
    wanted = sorted({o.video_id for found in originals.values() for o in found})
    origins = await video_origins(conn, wanted)
    extra = []
    for roots in (True, False):
        for c in gated:
            for original in originals.get(c.match_video_id, []):
                origin = origins.get(original.video_id)
                if original.root != roots or origin is None or original.video_id == c.video_id:
                    continue
                if origin.channel_id == channels.get(c.video_id):
                    continue
                extra.append(
                    Candidate(
                        c.video_id,
                        c.frame_index,
                        original.video_id,
                        origin.channel_id,
                        0,
                        c.distance,
                    )
                )
    return extra


async def _verify(
    svc: Services,
    videos: list[tuple[str, dict[int, bytes], list[VectorRow]]],
    todo: dict[str, list[Candidate]],
    prepared: dict[str, Frame],
    counts: dict[str, int],
) -> list[Match]:
    """Stage 2 for a batch: every (video, candidate) pair of ``todo`` compared side by side,
    then each duplicate reported."""
    own = {
        video_id: first_frame(frames)
        for video_id, frames, _ in videos
        if todo.get(video_id) and frames
    }
    if not own:
        return []
    wanted = list(own) + [c.match_video_id for v in own for c in todo[v]]
    frames_of = await compare_frames_for(svc, wanted, own=own, ready=prepared)
    async with svc.db.get_connection() as conn:
        origins = await video_origins(conn, wanted)
    # ``compare`` asks whether the candidate is an edited copy of the original, and looks
    # for the original's own content in the candidate: the earlier-published video is the
    # original (the new one, when a channel added later holds the source of a stored copy).
    # The video's other candidates are the look-alikes a duplicate is checked against: where
    # one differs from the original (its own title, face), another video of the same design
    # differs too, and a copy does not (``compare_frames``' references).
    near = {
        video_id: [
            frames_of[c.match_video_id] for c in todo[video_id] if c.match_video_id in frames_of
        ]
        for video_id in own
        if video_id in frames_of
    }
    pairs = [
        (c, frames_of[c.match_video_id], frames_of[video_id], near[video_id])
        if not _published_first(origins, video_id, c.match_video_id)
        else (c, frames_of[video_id], frames_of[c.match_video_id], near[video_id])
        for video_id in near
        for c in todo[video_id]
        if c.match_video_id in frames_of
    ]
    results = await asyncio.gather(
        *(_on_cpu(compare_frames, original, copy, others) for _, original, copy, others in pairs)
    )
    counts["comparisons"] = counts.get("comparisons", 0) + len(pairs)
    found: list[Match] = []
    for (c, _, _, _), result in zip(pairs, results, strict=True):
        if result.duplicate:
            match = await _report(svc, c, own[c.video_id], result, origins)
            found += [match] if match is not None else []
    return found


def _published_first(origins: dict[str, VideoOrigin], video_id: str, other_id: str) -> bool:
    """Whether ``video_id`` was published before ``other_id`` (False when either is unknown)."""
    me, other = origins.get(video_id), origins.get(other_id)
    if not (me and other and me.published_at and other.published_at):
        return False
    return me.published_at < other.published_at


async def _report(
    svc: Services,
    c: Candidate,
    mine: bytes,
    result: Comparison,
    origins: dict[str, VideoOrigin],
) -> Match | None:
    """Report one pair ``compare`` called duplicates, the earlier-published video (by
    ``origins``, the batch's) as the original; None when the other video's evidence is gone
    from the vault."""
    original = await asyncio.to_thread(
        svc.vault.fetch_bytes, f"{evidence_prefix(c.match_video_id)}0.jpg"
    )
    if original is None:
        return None
    copy = mine
    match = Match(c.video_id, c.frame_index, c.match_video_id, c.match_channel_id, c.distance)
    if _published_first(origins, c.video_id, c.match_video_id):
        # This video is the original: the one stored before it is the copy.
        me = origins[c.video_id]
        match = Match(c.match_video_id, c.match_frame_index, c.video_id, me.channel_id, c.distance)
        original, copy = copy, original
    titles = {v: origins[v].title for v in (c.video_id, c.match_video_id) if v in origins}
    await report_reupload(svc, match, original, copy, result, titles)
    return match


async def report_reupload(
    svc: Services,
    match: Match,
    original: bytes,
    copy: bytes,
    result: Comparison,
    titles: dict[str, str] | None = None,
) -> None:
    """Store the side-by-side evidence, then record the pair and its HUNT alert in one
    transaction: the pair's row makes it once per unordered pair, ever, and the outbox
    delivers the alert (with the evidence attached) even if Discord is down now."""
    path = reupload_evidence_path(match.video_id, match.match_video_id)
    image = await asyncio.to_thread(side_by_side, original, copy, result)
    await asyncio.to_thread(svc.vault.store_bytes, path, image, "image/jpeg")
    async with svc.db.get_connection() as conn:
        new = await record_reupload_pair(
            conn, match.match_video_id, match.video_id, result.score, path
        )
        if new:
            await enqueue_alert(conn, reupload_alert(match, result, path, titles))
    if not new:  # another run got there first
        return
    payload = {
        "matches": match.match_video_id,
        "match_channel_id": match.match_channel_id,
        "distance": round(match.distance, 5),
        "score": result.score,
        "evidence": path,
    }
    await svc.events.emit("reupload.suspected", match.video_id, payload)


def reupload_alert(
    match: Match, result: Comparison, evidence_path: str, titles: dict[str, str] | None = None
) -> Alert:
    """The HUNT alert of one suspected re-upload, its side-by-side evidence attached; the
    videos' titles (escaped: they come from YouTube) when known."""
    a, b = sorted((match.video_id, match.match_video_id))

    def named(video_id: str) -> str:
        title = (titles or {}).get(video_id)
        return f"`{video_id}` ({escape_markdown(title)})" if title else f"`{video_id}`"

    return Alert(
        key=f"reupload:{a}:{b}",
        channel=AlertChannel.HUNT,
        level=AlertLevel.WARNING,
        title="Possible re-upload",
        description=(
            f"Video {named(match.video_id)} looks like {named(match.match_video_id)} "
            f"from channel `{match.match_channel_id}`."
        ),
        fields={
            "video_id": match.video_id,
            "original": match.match_video_id,
            "score": f"{result.score:.3f}",
            "mirrored": "yes" if result.mirrored else "no",
            "evidence": evidence_path,
        },
        image_path=evidence_path,
    )


@dataclass(frozen=True)
class ReembedRun:
    embedder: str
    videos: int
    vectors: int
    skipped: int
    remaining: int


async def reembed(svc: Services, batch: int = 200, max_batches: int | None = None) -> ReembedRun:
    """Re-embed stored frames (the vault's evidence, no API calls) with the current embedder.

    Batch by batch; each video's new rows are written and its old embedder's rows deleted in
    one transaction, so a video always has vectors. Interrupted, it resumes where it stopped:
    the queue is the videos that have no rows from the current embedder yet."""
    if batch < 1:
        raise ValueError(f"batch must be >= 1, got {batch}")
    name = svc.embedder.name
    videos = vectors = skipped = batches = 0
    while max_batches is None or batches < max_batches:
        async with svc.db.get_connection() as conn:
            queue = await videos_needing_embedder(conn, name, batch)
        if not queue:
            break
        batches += 1
        for video_id in queue:
            try:
                frames = await asyncio.to_thread(stored_frames, svc, video_id)
                rows = await asyncio.to_thread(embed_rows, svc.embedder, video_id, frames)
                if not rows:
                    raise ValueError(f"no frames for {video_id}")
            except ValueError as exc:
                payload = {"embedder": name, "reason": str(exc)}
                async with svc.db.get_connection() as conn:
                    await record_vector_skip(conn, video_id, "reembed", name, str(exc))
                await svc.events.emit("vectors.reembed_skipped", video_id, payload)
                skipped += 1
                continue
            async with svc.db.get_connection() as conn, conn.transaction():
                vectors += await write_vectors(conn, rows, name)
                await drop_other_embedders(conn, video_id, keep=name)
            videos += 1
    async with svc.db.get_connection() as conn:
        remaining = len(await videos_needing_embedder(conn, name, 1_000_000))
    return ReembedRun(name, videos, vectors, skipped, remaining)


def stored_frames(svc: Services, video_id: str) -> list[tuple[int, bytes]]:
    """A video's frames from its evidence in the vault. ValueError if there are none."""
    prefix = evidence_prefix(video_id)
    manifest = svc.vault.fetch_json(prefix + "manifest.json")
    if not manifest or not manifest.get("frames"):
        raise ValueError(f"no stored frames for {video_id} (expected {prefix}manifest.json)")
    frames = []
    for entry in manifest["frames"]:
        data = svc.vault.fetch_bytes(str(entry["path"]))
        if data is None:
            raise ValueError(f"frame {entry['path']} is missing from the vault")
        frames.append((int(entry["index"]), data))
    return frames
