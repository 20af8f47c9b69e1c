"""Turn YouTube JSON into :mod:`.models`, and parse the small formats it uses.

parse_duration("P1DT2H3M4S")                               # 93784
wiki_topic("https://en.wikipedia.org/wiki/Video_game_culture")  # "Video game culture"
parse_channel_ref("https://www.youtube.com/@LinusTechTips")    # ("handle", "@LinusTechTips")
"""

from __future__ import annotations

import logging
import re
import unicodedata
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from atlas_core.utils import validate_channel_id
from atlas_core.youtube.errors import YouTubeResponseError
from atlas_core.youtube.models import Channel, Video

logger = logging.getLogger(__name__)

_DURATION = re.compile(
    r"^P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)
# Handles may use letters and digits of any script (YouTube allows e.g. @Café or @日本語).
_HANDLE = re.compile(r"^@[\w.\-·]{3,30}$")
_YOUTUBE_HOSTS = {"youtube.com", "www.youtube.com", "m.youtube.com", "music.youtube.com"}

RefKind = Literal["id", "handle", "username"]

# The schema's column widths (migrations/0001_init.sql): text from the API is fitted here,
# once, so what is compared is what is stored.
CHANNEL_ID_LIMIT = 50
VIDEO_ID_LIMIT = 20
# One length policy for channel and video text (titles fit channels.title and
# channel_history's VARCHAR(255); YouTube itself allows 100 characters for a video title,
# 5,000 bytes for a description).
TITLE_LIMIT = 255
CHANNEL_TITLE_LIMIT = TITLE_LIMIT  # the same cap for both, kept under its old name
VIDEO_TITLE_LIMIT = TITLE_LIMIT
DESCRIPTION_LIMIT = 5000
CUSTOM_URL_LIMIT = 100
COUNTRY_LIMIT = 10
# Statistics are uint64 strings in YouTube's schema; PostgreSQL's BIGINT holds 0..2^63-1.
COUNT_MAX = 2**63 - 1
_COUNT_TEXT = re.compile(r"^[0-9]{1,19}$")
# Bidirectional controls: they reorder what a reader sees (U+202E makes "gnp.exe" read
# "exe.png"). Kept in stored text, neutralised wherever text is shown.
BIDI_CONTROLS = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def clean_text(value: Any, limit: int | None = None) -> str:
    """API text as Atlas stores it: a string without NUL (PostgreSQL text cannot hold it),
    cut to ``limit`` characters when the column has one."""
    text = "" if value is None else str(value)
    text = text.replace("\x00", "")
    return text[:limit] if limit is not None else text


def _optional(value: Any, limit: int) -> str | None:
    return clean_text(value, limit) or None if value else None


def _item_id(item: Any, endpoint: str, limit: int) -> str:
    if not isinstance(item, dict):
        raise YouTubeResponseError(endpoint, f"an item is a {type(item).__name__}, not an object")
    raw = item.get("id")
    if not isinstance(raw, str) or not raw or len(raw) > limit or "\x00" in raw:
        raise YouTubeResponseError(
            endpoint, f"an item has no usable id (expected 1-{limit} characters, got {raw!r:.60})"
        )
    return raw


def parse_duration(value: str) -> int:
    """ISO 8601 duration as YouTube sends it (``PT4M13S``, ``P1DT2H``, ``P0D``) -> seconds.

    Raises ValueError naming the value when it is not such a duration.
    """
    match = _DURATION.fullmatch(value.strip()) if isinstance(value, str) else None
    if not match or value.strip() in ("P", "PT") or value.strip().endswith("T"):
        raise ValueError(f"not an ISO 8601 duration such as 'PT4M13S' or 'P1DT2H': {value!r}")
    parts = {k: float(v) if v else 0.0 for k, v in match.groupdict().items()}
    total = (
        parts["weeks"] * 604800
        + parts["days"] * 86400
        + parts["hours"] * 3600
        + parts["minutes"] * 60
        + parts["seconds"]
    )
    return round(total)


def wiki_topic(url: str) -> str | None:
    """A ``topicCategories`` Wikipedia URL -> the topic name; None for any other URL."""
    parts = urlsplit(url)
    if not parts.netloc.endswith("wikipedia.org") or not parts.path.startswith("/wiki/"):
        return None
    name = clean_text(unquote(parts.path.removeprefix("/wiki/"))).replace("_", " ").strip()
    return name or None


def wiki_topics(urls: list[Any]) -> list[str]:
    """Topic names from ``topicCategories``, in order, without duplicates."""
    names: list[str] = []
    for url in urls:
        name = wiki_topic(url) if isinstance(url, str) else None
        if name and name not in names:
            names.append(name)
    return names


def parse_timestamp(value: Any) -> datetime | None:
    """An RFC 3339 timestamp (``2024-01-02T03:04:05Z``) -> aware UTC datetime; None if absent."""
    if not isinstance(value, str) or not value:
        return None
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def parse_count(value: Any) -> int | None:
    """A statistics count (YouTube sends uint64 as a string) -> int; None when absent.

    Raises ValueError naming the value when it is not a whole number in 0..2^63-1 (what
    PostgreSQL's BIGINT holds): a negative, fractional or absurd count is not a statistic."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and _COUNT_TEXT.fullmatch(value.strip()):
        number = int(value.strip())
    else:
        raise ValueError(f"count {value!r:.40} is not a whole number; expected 0..2^63-1")
    if not 0 <= number <= COUNT_MAX:
        raise ValueError(f"count {value!r:.40} is outside 0..2^63-1")
    return number


def _counts(endpoint: str, item_id: str, stats: dict[str, Any], *names: str) -> list[int | None]:
    """The named counts of an item's ``statistics``; YouTubeResponseError (the item is
    skipped, the rest of its batch kept) when one is not a count."""
    counts: list[int | None] = []
    for name in names:
        try:
            counts.append(parse_count(stats.get(name)))
        except ValueError as exc:
            raise YouTubeResponseError(
                endpoint, f"item {item_id}: statistics.{name}: {exc}"
            ) from None
    return counts


def _published(endpoint: str, item_id: str, snippet: dict[str, Any]) -> datetime | None:
    try:
        return parse_timestamp(snippet.get("publishedAt"))
    except ValueError:
        raise YouTubeResponseError(
            endpoint,
            f"item {item_id}: snippet.publishedAt {snippet.get('publishedAt')!r:.40} "
            "is not an RFC 3339 timestamp",
        ) from None


def display_text(text: str) -> str:
    """``text`` as shown to a reader (Discord, reports): bidirectional controls removed, so
    a title cannot reverse what follows it. Stored text keeps them as YouTube sent them."""
    return "".join(ch for ch in text if ch not in BIDI_CONTROLS)


def thumbnail_urls(thumbnails: Any) -> dict[str, str]:
    """``snippet.thumbnails`` -> {"default": url, "medium": url, ...}."""
    if not isinstance(thumbnails, dict):
        return {}
    return {
        name: str(item["url"])
        for name, item in thumbnails.items()
        if isinstance(item, dict) and item.get("url")
    }


def parse_channel(item: dict[str, Any]) -> Channel:
    """One ``youtube#channel`` resource -> :class:`Channel`."""
    channel_id = _item_id(item, "channels.list", CHANNEL_ID_LIMIT)
    snippet = _object(item.get("snippet"))
    stats = _object(item.get("statistics"))
    related = _object(_object(item.get("contentDetails")).get("relatedPlaylists"))
    hidden = bool(stats.get("hiddenSubscriberCount"))
    views, subscribers, videos = _counts(
        "channels.list", channel_id, stats, "viewCount", "subscriberCount", "videoCount"
    )
    return Channel(
        id=channel_id,
        title=clean_text(snippet.get("title", ""), TITLE_LIMIT),
        description=clean_text(snippet.get("description", ""), DESCRIPTION_LIMIT),
        custom_url=_optional(snippet.get("customUrl"), CUSTOM_URL_LIMIT),
        country=_optional(snippet.get("country"), COUNTRY_LIMIT),
        published_at=_published("channels.list", channel_id, snippet),
        uploads_playlist_id=related.get("uploads") or None,
        view_count=views,
        subscriber_count=None if hidden else subscribers,
        video_count=videos,
        thumbnails=thumbnail_urls(snippet.get("thumbnails")),
    )


def parse_video(item: dict[str, Any]) -> Video:
    """One ``youtube#video`` resource -> :class:`Video`."""
    video_id = _item_id(item, "videos.list", VIDEO_ID_LIMIT)
    snippet = _object(item.get("snippet"))
    stats = _object(item.get("statistics"))
    details = _object(item.get("contentDetails"))
    topics = _object(item.get("topicDetails")).get("topicCategories") or []
    if not isinstance(topics, list):
        topics = []
    views, likes, comments = _counts(
        "videos.list", video_id, stats, "viewCount", "likeCount", "commentCount"
    )
    duration: int | None = None
    if details.get("duration"):
        try:
            duration = parse_duration(details["duration"])
        except ValueError as exc:
            logger.warning("video %s: %s; duration left empty", item.get("id"), exc)
    return Video(
        id=video_id,
        channel_id=clean_text(snippet.get("channelId", ""), CHANNEL_ID_LIMIT),
        title=clean_text(snippet.get("title", ""), TITLE_LIMIT),
        published_at=_published("videos.list", video_id, snippet),
        duration_seconds=duration,
        wiki_topics=wiki_topics(topics),
        view_count=views,
        like_count=likes,
        comment_count=comments,
        thumbnails=thumbnail_urls(snippet.get("thumbnails")),
        privacy_status=_object(item.get("status")).get("privacyStatus"),
        description=clean_text(snippet.get("description", ""), DESCRIPTION_LIMIT),
        channel_title=(
            clean_text(snippet["channelTitle"], TITLE_LIMIT)
            if snippet.get("channelTitle")
            else None
        ),
    )


def printable(text: str) -> str:
    """``text`` safe for a terminal: control and format characters shown as escapes."""
    return "".join(
        ch.encode("unicode_escape").decode("ascii")
        if unicodedata.category(ch) in ("Cc", "Cf")
        else ch
        for ch in str(text)
    )


def _object(value: Any) -> dict[str, Any]:
    """A JSON object part of an item, or {} when absent or of the wrong type."""
    return value if isinstance(value, dict) else {}


def parse_channel_ref(ref: str) -> tuple[RefKind, str]:
    """A channel id, ``@handle`` or channel URL -> (kind, value) for the lookup to make.

    ``("id", "UC...")``, ``("handle", "@name")`` or ``("username", "name")`` (legacy
    ``/user/`` URLs). Raises ValueError saying what is accepted for anything else.
    """
    expected = (
        "expected a channel id (UC + 22 characters), an @handle, or a channel URL such as "
        "https://www.youtube.com/@handle or https://www.youtube.com/channel/UC..."
    )
    if not isinstance(ref, str) or not ref.strip():
        raise ValueError(f"empty channel reference; {expected}")
    text = ref.strip()
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in text):
        raise ValueError(f"{printable(text)} contains control characters; {expected}")
    if validate_channel_id(text):
        return "id", text
    if text.startswith("@"):
        if _HANDLE.fullmatch(text):
            return "handle", text
        raise ValueError(
            f"{text!r} is not a valid handle (3-30 letters, digits, . _ -); {expected}"
        )
    url = text if "://" in text else "https://" + text
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or parts.netloc.lower() not in _YOUTUBE_HOSTS:
        raise ValueError(
            f"{text!r} is neither a channel id, a handle nor a YouTube URL; {expected}"
        )
    segments = [unquote(s) for s in parts.path.split("/") if s]
    if segments and segments[0].startswith("@"):
        return parse_channel_ref(segments[0])
    if len(segments) >= 2 and segments[0] == "channel":
        if validate_channel_id(segments[1]):
            return "id", segments[1]
        raise ValueError(f"{segments[1]!r} in {text!r} is not a channel id; {expected}")
    if len(segments) >= 2 and segments[0] == "user":
        return "username", segments[1]
    if len(segments) >= 2 and segments[0] == "c":
        raise ValueError(
            f"{text!r} is a legacy /c/ custom URL, which only search.list (100 units) can "
            f"resolve; open the channel page and use its @handle or channel id instead; {expected}"
        )
    raise ValueError(f"{text!r} is a YouTube URL but not a channel URL; {expected}")
