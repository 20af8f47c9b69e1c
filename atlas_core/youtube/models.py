"""Typed results of the YouTube client: frozen dataclasses built by :mod:`.parsing`.

    result = await client.videos(["dQw4w9WgXcQ"])
    video = result.found[0]
    video.duration_seconds, video.wiki_topics, video.like_count   # None when hidden

Counts that YouTube hides or disables are ``None``, never 0. Timestamps are aware (UTC).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Channel:
    """One channel from channels.list (parts snippet, contentDetails, statistics)."""

    id: str
    title: str
    description: str
    custom_url: str | None
    country: str | None
    published_at: datetime | None
    uploads_playlist_id: str | None
    view_count: int | None
    subscriber_count: int | None  # None when the channel hides it
    video_count: int | None
    thumbnails: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Video:
    """One video from videos.list (snippet, contentDetails, statistics, topicDetails, status)."""

    id: str
    channel_id: str
    title: str
    published_at: datetime | None
    duration_seconds: int | None
    wiki_topics: list[str]
    view_count: int | None
    like_count: int | None  # None when likes are hidden
    comment_count: int | None  # None when comments are disabled
    thumbnails: dict[str, str]
    privacy_status: str | None
    description: str = ""
    channel_title: str | None = None


@dataclass(frozen=True, slots=True)
class ChannelsResult:
    """channels(ids): the channels found, the ids YouTube did not return, the ids it returned
    malformed (skipped), why each malformed item was skipped (``problems``, a
    ``youtube.item_skipped`` event each), and the units the call cost."""

    found: list[Channel]
    missing: list[str]
    skipped: list[str] = field(default_factory=list)
    units: int = 0
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class VideosResult:
    """videos(ids): the videos found, the ids YouTube did not return (deleted or private), the
    ids it returned malformed (skipped: neither stored nor reported missing), why each
    malformed item was skipped (``problems``, a ``youtube.item_skipped`` event each), and the
    units the call cost."""

    found: list[Video]
    missing: list[str]
    skipped: list[str] = field(default_factory=list)
    units: int = 0
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Uploads:
    """uploads(channel_id, known_ids): the new video ids, newest first, and the units the
    call cost (the playlist pages, plus the channel lookup when the playlist was not known)."""

    ids: list[str]
    units: int = 0
