"""Embed the thumbnails of videos that have no vectors yet, and hunt for re-uploads.

run = await embed_new_videos(svc)

The hunt: stage 1 takes each new video's nearest frames from other channels (HNSW top-k,
``store.vectors.candidates_other_channel``); stage 2 is ``vision.compare`` on the original's
stored frame and the new video's: it alone decides.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import numpy as np

from atlas_core.notifications import Alert, AlertChannel, AlertLevel, escape_markdown
from atlas_core.pipeline.services import Services
from atlas_core.storage.evidence import evidence_prefix, reupload_evidence_path, side_by_side
from atlas_core.store.outbox import enqueue_alert
from atlas_core.store.vectors import (
    CANDIDATES,
    Candidate,
    Match,
    VectorRow,
    candidates_other_channel,
    drop_other_embedders,
    record_reupload_pair,
    record_vector_skip,
    reupload_pair_known,
    videos_needing_embedder,
    videos_without_vectors,
    write_vectors,
)
from atlas_core.store.videos import video_origins
from atlas_core.vision.compare import Comparison, compare
from atlas_core.vision.embedder import MIRROR_OFFSET, Embedder, mirrored
from atlas_core.vision.frames import fetch_frames


@dataclass(frozen=True)
class VectorsRun:
    videos: int
    vectors: int
    matches: list[Match] = field(default_factory=list)
    units: int = 0


async def embed_new_videos(svc: Services, limit: int = 500) -> VectorsRun:
    before = svc.youtube.units_spent
    async with svc.db.get_connection() as conn:
        pending = await videos_without_vectors(conn, limit)
    # Thumbnail URLs come from the API (one call per 50 videos), never guessed.
    details = await svc.youtube.videos(pending)
    vectors = 0
    embedded: list[str] = []
    frames_of: dict[str, list[tuple[int, bytes]]] = {}
    for video in details.found:
        frames = await fetch_frames(svc.http, video.thumbnails, svc.settings.COMPLIANCE_MODE)
        try:
            if not frames:
                raise ValueError("no thumbnail could be fetched")
            # Decoding and embedding is CPU work: keep it off the event loop.
            rows = await asyncio.to_thread(embed_rows, svc.embedder, video.id, frames)
        except ValueError as exc:  # one bad video must not stall the queue for the others
            async with svc.db.get_connection() as conn:
                await record_vector_skip(conn, video.id, "embed", svc.embedder.name, str(exc))
            await svc.events.emit("vectors.skipped", video.id, {"reason": str(exc)})
            continue
        # Evidence first: a video only counts as done once its frames are in the vault.
        await asyncio.to_thread(svc.vault.store_visual_evidence, video.id, frames)
        # The vectors, the matches they reveal and their HUNT alerts: one transaction.
        async with svc.db.get_connection() as conn:
            vectors += await write_vectors(conn, rows, svc.embedder.name)
        embedded.append(video.id)
        frames_of[video.id] = frames
    matches: list[Match] = []
    for video_id in embedded:
        matches += await hunt_reuploads(svc, video_id, dict(frames_of[video_id]))
    return VectorsRun(
        videos=len(embedded),
        vectors=vectors,
        matches=matches,
        units=svc.youtube.units_spent - before,
    )


def embed_all(embedder: Embedder, frames: list[tuple[int, bytes]]) -> list[np.ndarray]:
    return [embedder.embed(jpeg) for _, jpeg in frames]


def embed_rows(
    embedder: Embedder, video_id: str, frames: list[tuple[int, bytes]]
) -> list[VectorRow]:
    """Each frame's row, plus its mirror image's at ``MIRROR_OFFSET + index``."""
    source = f"thumbnail:{embedder.name}"
    rows: list[VectorRow] = []
    for index, image in frames:
        rows.append((video_id, index, embedder.embed(image), source))
        rows.append((video_id, MIRROR_OFFSET + index, embedder.embed(mirrored(image)), source))
    return rows


async def hunt_reuploads(
    svc: Services, video_id: str, frames: dict[int, bytes], k: int = CANDIDATES
) -> list[Match]:
    """Stage 1: other channels' nearest frames (HNSW, top-k). Stage 2: ``compare`` decides.
    The original is the video published first (this one, when its date is earlier, though it
    was stored later: a channel added to the watchlist after its copier); each pair alerts
    once, ever."""
    async with svc.db.get_connection() as conn:
        candidates = await candidates_other_channel(conn, video_id, k, embedder=svc.embedder.name)
    best: dict[str, Candidate] = {}
    for c in candidates:  # sorted by distance: keep each other video's nearest frame
        best.setdefault(c.match_video_id, c)
    found: list[Match] = []
    for c in best.values():
        async with svc.db.get_connection() as conn:
            if await reupload_pair_known(conn, video_id, c.match_video_id):
                continue
        original = await asyncio.to_thread(
            svc.vault.fetch_bytes, f"{evidence_prefix(c.match_video_id)}0.jpg"
        )
        mine = frames.get(0) or next(iter(frames.values()), None)
        if original is None or mine is None:
            continue
        try:
            result = await asyncio.to_thread(compare, original, mine)
        except ValueError:
            continue
        if not result.duplicate:
            continue
        match = Match(video_id, c.frame_index, c.match_video_id, c.match_channel_id, c.distance)
        async with svc.db.get_connection() as conn:
            origins = await video_origins(conn, [video_id, c.match_video_id])
        me, other = origins.get(video_id), origins.get(c.match_video_id)
        if me and other and me.published_at and other.published_at:
            if me.published_at < other.published_at:
                # This video is the original: the one stored before it is the copy.
                match = Match(
                    c.match_video_id, c.match_frame_index, video_id, me.channel_id, c.distance
                )
                original, mine = mine, original
        titles = {v: o.title for v, o in origins.items()}
        await report_reupload(svc, match, original, mine, result, titles)
        found.append(match)
    return found


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
