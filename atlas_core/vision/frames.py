"""Fetching frames: only the thumbnail images the YouTube API publishes, never the video.

    frames, failures = await fetch_frames_checked(http, video.thumbnails, compliance=True)
    frames                       # [(index, image bytes)], frame 0 the best published thumbnail
    failures                     # [FrameFailure]: why each missing frame is missing

A body is read as it streams and never past MAX_FRAME_BYTES: the thumbnail's URL comes from
the API, but what answers it is not ours to trust.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import httpx

# Best first. Frame 0 is the best published thumbnail.
PREFERRED = ("maxres", "standard", "high", "medium", "default")
# YouTube's largest thumbnail (maxresdefault, 1280x720 JPEG) is a few hundred kB; a body past
# this is no thumbnail, and is not read further.
MAX_FRAME_BYTES = 2 * 1024 * 1024


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
    http: httpx.AsyncClient,
    thumbnails: Mapping[str, str],
    compliance: bool = True,
    max_bytes: int = MAX_FRAME_BYTES,
) -> tuple[list[tuple[int, bytes]], list[FrameFailure]]:
    """Download the frames (``frame_urls``): those fetched, and why each other one is
    missing. A body over ``max_bytes`` (by its Content-Length, or as it streams) is dropped,
    unread past that point."""
    frames: list[tuple[int, bytes]] = []
    failures: list[FrameFailure] = []
    for index, url in frame_urls(thumbnails, compliance):
        try:
            async with http.stream("GET", url) as response:
                if response.status_code != 200:
                    status = response.status_code
                    failures.append(FrameFailure(index, status, f"HTTP {status}"))
                    continue
                body = await _read_at_most(response, max_bytes)
        except httpx.HTTPError as exc:
            failures.append(FrameFailure(index, None, type(exc).__name__))
            continue
        if body is None:
            failures.append(FrameFailure(index, 200, f"larger than {max_bytes} bytes"))
            continue
        frames.append((index, body))
    return frames, failures


async def _read_at_most(response: httpx.Response, limit: int) -> bytes | None:
    """The body, or None as soon as it is known to pass ``limit`` bytes."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)
