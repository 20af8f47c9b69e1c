"""YouTube Data API v3: the async client and its typed results.

    from atlas_core.youtube import YouTubeClient
    async with YouTubeClient(settings, db) as yt:
        result = await yt.videos(["dQw4w9WgXcQ"])

A local YouTube for tests and the demo is its own package, ``atlas_simulator``.
"""

from atlas_core.youtube.client import YouTubeClient
from atlas_core.youtube.errors import (
    ChannelNotFound,
    QuotaExhausted,
    YouTubeConfigError,
    YouTubeError,
    YouTubeRequestError,
    YouTubeResponseError,
    YouTubeUnavailable,
)
from atlas_core.youtube.models import Channel, ChannelsResult, Video, VideosResult
from atlas_core.youtube.parsing import parse_channel_ref, parse_duration, wiki_topic

__all__ = [
    "Channel",
    "ChannelNotFound",
    "ChannelsResult",
    "QuotaExhausted",
    "Video",
    "VideosResult",
    "YouTubeClient",
    "YouTubeConfigError",
    "YouTubeError",
    "YouTubeRequestError",
    "YouTubeResponseError",
    "YouTubeUnavailable",
    "parse_channel_ref",
    "parse_duration",
    "wiki_topic",
]
