"""The simulator's API endpoints: channels.list, videos.list, playlistItems.list.

    api = Api(world, media_url="http://127.0.0.1:8765")
    status, body = api.call("channels", {"part": "snippet", "id": "UC..."}, at=now)

Bodies follow YouTube's discovery document (resource kinds, etags, string counts,
``pageInfo``, ``nextPageToken``); parameter mistakes get YouTube's own 4xx errors.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from atlas_simulator.responses import ERRORS, Body, Response, bad_request, error
from atlas_simulator.thumbnails import AVATAR_SIZES, COVER_SIZES
from atlas_simulator.world import SimChannel, SimVideo, World, iso_duration, rfc3339

CHANNEL_PARTS = {"id", "snippet", "contentDetails", "statistics", "topicDetails", "status"}
VIDEO_PARTS = {"id", "snippet", "contentDetails", "statistics", "topicDetails", "status"}
PLAYLIST_ITEM_PARTS = {"id", "snippet", "contentDetails", "status"}
_THUMB_KEYS = {
    "default": "default",
    "medium": "mqdefault",
    "high": "hqdefault",
    "standard": "sddefault",
    "maxres": "maxresdefault",
}
MAX_RESULTS = 50


def etag(value: Any) -> str:
    digest = hashlib.sha1(json.dumps(value, sort_keys=True).encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:27]


def _page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"CAUQ:{offset}".encode()).decode().rstrip("=")


def _page_offset(token: str) -> int | None:
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        return int(text.removeprefix("CAUQ:")) if text.startswith("CAUQ:") else None
    except (ValueError, UnicodeDecodeError):
        return None


class Api:
    """Answers API calls from a :class:`World` at a given simulated time."""

    def __init__(self, world: World, media_url: str) -> None:
        self.world = world
        self.media_url = media_url.rstrip("/")
        self._handlers: dict[str, Callable[[dict[str, str], datetime], Response]] = {
            "channels": self.channels,
            "videos": self.videos,
            "playlistItems": self.playlist_items,
        }

    def call(self, resource: str, params: dict[str, str], at: datetime) -> Response:
        handler = self._handlers.get(resource)
        if handler is None:
            return ERRORS["search" if resource == "search" else "notFound"]()
        return handler(params, at)

    # --- endpoints ---------------------------------------------------------------------

    def channels(self, params: dict[str, str], at: datetime) -> Response:
        parts = _parts(params, CHANNEL_PARTS)
        if isinstance(parts, tuple):
            return parts
        found: list[SimChannel] = []
        if "id" in params:
            found = [self.world.channels[i] for i in _ids(params["id"]) if i in self.world.channels]
        elif "forHandle" in params:
            match = self.world.channel_by_handle(params["forHandle"])
            found = [match] if match else []
        elif "forUsername" in params:
            match = self.world.channel_by_handle(params["forUsername"])
            found = [match] if match else []
        else:
            return _missing_filter("forUsername, managedByMe, categoryId, mine, id, forHandle")
        if "id" in params and len(_ids(params["id"])) > MAX_RESULTS:
            return _too_many_ids()
        items = [self._channel(c, parts, at) for c in found]
        body = self._list("youtube#channelListResponse", items, len(items), len(items))
        if not items:
            del body["items"]  # YouTube omits "items" when no channel matched
        return 200, body

    def videos(self, params: dict[str, str], at: datetime) -> Response:
        parts = _parts(params, VIDEO_PARTS)
        if isinstance(parts, tuple):
            return parts
        if "id" not in params:
            return _missing_filter("chart, id, myRating")
        ids = _ids(params["id"])
        if len(ids) > MAX_RESULTS:
            return _too_many_ids()
        videos = [self.world.videos[i] for i in ids if i in self.world.videos]
        items = [self._video(v, parts, at) for v in videos if v.visible_at(at)]
        return 200, self._list("youtube#videoListResponse", items, len(items), len(items))

    def playlist_items(self, params: dict[str, str], at: datetime) -> Response:
        parts = _parts(params, PLAYLIST_ITEM_PARTS)
        if isinstance(parts, tuple):
            return parts
        if "playlistId" not in params:
            return _missing_filter("id, playlistId")
        channel = self.world.channel_by_playlist(params["playlistId"])
        if channel is None:
            return ERRORS["playlistNotFound"]()
        limit = _max_results(params.get("maxResults", "5"))
        if isinstance(limit, tuple):
            return limit
        offset = 0
        if params.get("pageToken"):
            parsed = _page_offset(params["pageToken"])
            if parsed is None:
                return bad_request(
                    "invalidPageToken", "The request specifies an invalid page token.", "pageToken"
                )
            offset = parsed
        videos = self.world.visible_videos(channel.id, at)
        page = videos[offset : offset + limit]
        items = [self._playlist_item(channel, v, offset + n, parts, at) for n, v in enumerate(page)]
        body = self._list("youtube#playlistItemListResponse", items, len(videos), limit)
        if offset + limit < len(videos):
            body["nextPageToken"] = _page_token(offset + limit)
        if offset > 0:
            body["prevPageToken"] = _page_token(max(0, offset - limit))
        return 200, body

    # --- resources ---------------------------------------------------------------------

    def _list(self, kind: str, items: list[Body], total: int, per_page: int) -> Body:
        return {
            "kind": kind,
            "etag": etag(items),
            "pageInfo": {"totalResults": total, "resultsPerPage": per_page},
            "items": items,
        }

    def _channel(self, channel: SimChannel, parts: set[str], at: datetime) -> Body:
        item: Body = {"kind": "youtube#channel", "id": channel.id}
        theme_topics = self.world.channel_topics(channel.id) if "topicDetails" in parts else []
        if "snippet" in parts:
            title = channel.title_at(at)
            snippet: Body = {
                "title": title,
                "description": channel.description,
                "customUrl": channel.handle.lower(),
                "publishedAt": rfc3339(channel.published_at),
                "thumbnails": {
                    name: {
                        "url": f"{self.media_url}/ch/{channel.id}/{name}.jpg",
                        "width": side,
                        "height": side,
                    }
                    for name, side in AVATAR_SIZES.items()
                },
                "localized": {"title": title, "description": channel.description},
            }
            if channel.country:
                snippet["country"] = channel.country
            item["snippet"] = snippet
        if "contentDetails" in parts:
            item["contentDetails"] = {
                "relatedPlaylists": {"likes": "", "uploads": channel.uploads_playlist_id}
            }
        if "statistics" in parts:
            stats: Body = {
                "viewCount": str(self.world.channel_views(channel.id, at)),
                "hiddenSubscriberCount": channel.hidden_subscribers,
                "videoCount": str(self.world.visible_count(channel.id, at)),
            }
            if not channel.hidden_subscribers:
                stats["subscriberCount"] = str(channel.subscribers_at(at, self.world.start))
            item["statistics"] = stats
        if "topicDetails" in parts and theme_topics:
            item["topicDetails"] = {"topicCategories": theme_topics}
        if "status" in parts:
            item["status"] = {
                "privacyStatus": "public",
                "isLinked": True,
                "longUploadsStatus": "longUploadsUnspecified",
                "madeForKids": False,
            }
        item["etag"] = etag(item)
        return item

    def _video_thumbnails(self, video: SimVideo) -> Body:
        return {
            key: {
                "url": f"{self.media_url}/vi/{video.id}/{name}.jpg",
                "width": COVER_SIZES[name][0],
                "height": COVER_SIZES[name][1],
            }
            for key, name in _THUMB_KEYS.items()
            if video.hd or key != "maxres"
        }

    def _video(self, video: SimVideo, parts: set[str], at: datetime) -> Body:
        channel = self.world.channels[video.channel_id]
        item: Body = {"kind": "youtube#video", "id": video.id}
        if "snippet" in parts:
            item["snippet"] = {
                "publishedAt": rfc3339(video.published_at),
                "channelId": video.channel_id,
                "title": video.title,
                "description": video.description,
                "thumbnails": self._video_thumbnails(video),
                "channelTitle": channel.title_at(at),
                "tags": [channel.title.split()[0].lower(), "atlas-sim"],
                "categoryId": video.category_id,
                "liveBroadcastContent": "none",
                "localized": {"title": video.title, "description": video.description},
                "defaultAudioLanguage": "en",
            }
        if "contentDetails" in parts:
            item["contentDetails"] = {
                "duration": iso_duration(video.duration_seconds),
                "dimension": "2d",
                "definition": "hd" if video.hd else "sd",
                "caption": "false",
                "licensedContent": True,
                "contentRating": {},
                "projection": "rectangular",
            }
        if "statistics" in parts:
            views = video.views_at(at)
            stats: Body = {"viewCount": str(views), "favoriteCount": "0"}
            if not video.likes_hidden:
                stats["likeCount"] = str(int(views * video.like_ratio))
            if not video.comments_disabled:
                stats["commentCount"] = str(int(views * video.comment_ratio))
            item["statistics"] = stats
        if "topicDetails" in parts and video.topics:
            item["topicDetails"] = {"topicCategories": list(video.topics)}
        if "status" in parts:
            item["status"] = {
                "uploadStatus": "processed",
                "privacyStatus": "public",
                "license": "youtube",
                "embeddable": True,
                "publicStatsViewable": True,
                "madeForKids": False,
            }
        item["etag"] = etag(item)
        return item

    def _playlist_item(
        self, channel: SimChannel, video: SimVideo, position: int, parts: set[str], at: datetime
    ) -> Body:
        raw = f"{channel.uploads_playlist_id}.{video.id}".encode()
        item: Body = {
            "kind": "youtube#playlistItem",
            "id": base64.urlsafe_b64encode(raw).decode().rstrip("="),
        }
        if "snippet" in parts:
            title = channel.title_at(at)
            item["snippet"] = {
                "publishedAt": rfc3339(video.published_at),
                "channelId": channel.id,
                "title": video.title,
                "description": video.description,
                "thumbnails": self._video_thumbnails(video),
                "channelTitle": title,
                "playlistId": channel.uploads_playlist_id,
                "position": position,
                "resourceId": {"kind": "youtube#video", "videoId": video.id},
                "videoOwnerChannelTitle": title,
                "videoOwnerChannelId": channel.id,
            }
        if "contentDetails" in parts:
            item["contentDetails"] = {
                "videoId": video.id,
                "videoPublishedAt": rfc3339(video.published_at),
            }
        if "status" in parts:
            item["status"] = {"privacyStatus": "public"}
        item["etag"] = etag(item)
        return item


def _ids(value: str) -> list[str]:
    return [i.strip() for i in value.split(",") if i.strip()]


def _parts(params: dict[str, str], allowed: set[str]) -> set[str] | Response:
    if not params.get("part"):
        return bad_request("required", "Required parameter: part", "part")
    parts = {p.strip() for p in params["part"].split(",") if p.strip()}
    unknown = sorted(parts - allowed)
    if unknown:
        return bad_request("unknownPart", f"'{unknown[0]}'", "part")
    return parts


def _max_results(value: str) -> int | Response:
    try:
        limit = int(value)
    except ValueError:
        limit = -1
    if not 0 <= limit <= MAX_RESULTS:
        return bad_request(
            "invalidParameter",
            f"Invalid value '{value}'. Values must be within the range: [0, {MAX_RESULTS}]",
            "maxResults",
        )
    return limit


def _missing_filter(expected: str) -> Response:
    return error(
        400,
        f"No filter selected. Expected one of: {expected}",
        "missingRequiredParameter",
        location="parameters.",
    )


def _too_many_ids() -> Response:
    return bad_request(
        "invalidFilters",
        f"The request specifies more than {MAX_RESULTS} ids; split it into batches.",
        "id",
    )
