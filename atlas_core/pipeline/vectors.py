"""Embed the thumbnails of videos that have no vectors yet, and hunt for re-uploads.

run = await embed_new_videos(svc, max_distance=0.05)
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import numpy as np

from atlas_core.notifications import Alert, AlertChannel, AlertLevel
from atlas_core.pipeline.services import Services
from atlas_core.storage.evidence import evidence_prefix
from atlas_core.store.outbox import enqueue_alert
from atlas_core.store.vectors import (
    Match,
    nearest_other_channel,
    videos_without_vectors,
    write_vectors,
)
from atlas_core.vision.embedder import Embedder
from atlas_core.vision.frames import fetch_frames


@dataclass(frozen=True)
class VectorsRun:
    videos: int
    vectors: int
    matches: list[Match] = field(default_factory=list)
    units: int = 0


async def embed_new_videos(
    svc: Services, max_distance: float = 0.05, limit: int = 500
) -> VectorsRun:
    before = svc.youtube.units_spent
    async with svc.db.get_connection() as conn:
        pending = await videos_without_vectors(conn, limit)
    # Thumbnail URLs come from the API (one call per 50 videos), never guessed.
    details = await svc.youtube.videos(pending)
    vectors = 0
    embedded: list[str] = []
    matches: list[Match] = []
    for video in details.found:
        frames = await fetch_frames(svc.http, video.thumbnails, svc.settings.COMPLIANCE_MODE)
        try:
            if not frames:
                raise ValueError("no thumbnail could be fetched")
            # Decoding and embedding is CPU work: keep it off the event loop.
            embedded_frames = await asyncio.to_thread(embed_all, svc.embedder, frames)
            rows = [
                (video.id, index, vec, f"thumbnail:{svc.embedder.name}")
                for (index, _), vec in zip(frames, embedded_frames, strict=True)
            ]
        except ValueError as exc:  # one bad video must not stall the queue for the others
            await svc.events.emit("vectors.skipped", video.id, {"reason": str(exc)})
            continue
        # Evidence first: a video only counts as done once its frames are in the vault.
        await asyncio.to_thread(svc.vault.store_visual_evidence, video.id, frames)
        # The vectors, the matches they reveal and their HUNT alerts: one transaction.
        async with svc.db.get_connection() as conn:
            vectors += await write_vectors(conn, rows)
            found = await nearest_other_channel(conn, video.id, max_distance)
            fresh = [
                match
                for match in {m.match_video_id: m for m in found}.values()
                if await enqueue_alert(conn, reupload_alert(match, frames[0][0]))
            ]
        embedded.append(video.id)
        matches += found
        for match in fresh:
            await svc.events.emit(
                "reupload.suspected",
                match.video_id,
                {
                    "matches": match.match_video_id,
                    "match_channel_id": match.match_channel_id,
                    "distance": round(match.distance, 5),
                },
            )
    return VectorsRun(
        videos=len(embedded),
        vectors=vectors,
        matches=matches,
        units=svc.youtube.units_spent - before,
    )


def embed_all(embedder: Embedder, frames: list[tuple[int, bytes]]) -> list[np.ndarray]:
    return [embedder.embed(jpeg) for _, jpeg in frames]


def reupload_alert(match: Match, frame_index: int = 0) -> Alert:
    """The HUNT alert of one suspected re-upload, with its thumbnail evidence attached."""
    return Alert(
        key=f"reupload:{match.video_id}:{match.match_video_id}",
        channel=AlertChannel.HUNT,
        level=AlertLevel.WARNING,
        title="Possible re-upload",
        description=(
            f"Video `{match.video_id}` looks like `{match.match_video_id}` "
            f"from channel `{match.match_channel_id}`."
        ),
        fields={
            "video_id": match.video_id,
            "match": match.match_video_id,
            "cosine_distance": f"{match.distance:.4f}",
        },
        image_path=f"{evidence_prefix(match.video_id)}{frame_index}.jpg",
    )
