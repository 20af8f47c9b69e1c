"""Fetching frames: only the thumbnail images the YouTube API publishes, never the video.

frames = await fetch_frames(http, video.thumbnails, compliance=True)  # [(index, jpeg)]
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

logger = logging.getLogger(__name__)

# Best first. Frame 0 is the best published thumbnail.
PREFERRED = ("maxres", "standard", "high", "medium", "default")


def frame_urls(thumbnails: Mapping[str, str], compliance: bool) -> list[tuple[int, str]]:
    """(frame index, URL) to fetch: the best published thumbnail; outside compliance mode
    also YouTube's three auto-generated frame thumbnails (1.jpg, 2.jpg, 3.jpg) beside it."""
    best = next((thumbnails[k] for k in PREFERRED if thumbnails.get(k)), None)
    if best is None:
        return []
    urls = [(0, best)]
    if not compliance:
        folder = best.rsplit("/", 1)[0]
        urls += [(i, f"{folder}/{i}.jpg") for i in (1, 2, 3)]
    return urls


async def fetch_frames(
    http: httpx.AsyncClient, thumbnails: Mapping[str, str], compliance: bool = True
) -> list[tuple[int, bytes]]:
    """Download the frames; a frame that cannot be fetched is skipped and logged."""
    frames: list[tuple[int, bytes]] = []
    for index, url in frame_urls(thumbnails, compliance):
        try:
            response = await http.get(url)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            logger.warning("frame %d unavailable: %s", index, type(exc).__name__)
            continue
        frames.append((index, response.content))
    return frames


@dataclass(frozen=True)
class FrameFailure:
    index: int
    status: int | None  # the HTTP status, None when no answer came (network, timeout)
    error: str

    @property
    def gone(self) -> bool:
        """YouTube answered that the thumbnail does not exist (404/410)."""
        return self.status in (404, 410)


async def fetch_frames_checked(
    http: httpx.AsyncClient, thumbnails: Mapping[str, str], compliance: bool = True
) -> tuple[list[tuple[int, bytes]], list[FrameFailure]]:
    """``fetch_frames`` that also says why each missing frame is missing."""
    frames: list[tuple[int, bytes]] = []
    failures: list[FrameFailure] = []
    for index, url in frame_urls(thumbnails, compliance):
        try:
            response = await http.get(url)
        except httpx.HTTPError as exc:
            failures.append(FrameFailure(index, None, type(exc).__name__))
            continue
        if response.status_code != 200:
            failures.append(
                FrameFailure(index, response.status_code, f"HTTP {response.status_code}")
            )
            continue
        frames.append((index, response.content))
    return frames, failures
