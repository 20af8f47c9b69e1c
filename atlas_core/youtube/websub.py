"""YouTube push notifications over WebSub (PubSubHubbub): the protocol, no database.

YouTube publishes each channel's uploads feed through Google's hub. A subscriber asks the
hub to push a topic to its callback URL; the hub verifies the intent with a GET carrying
``hub.challenge`` (echo it back), then POSTs an Atom feed whenever a video is published or
its title or description changes, signed ``X-Hub-Signature: sha1=<hex HMAC of the body>``
with the subscriber's secret. A removed video arrives as an ``at:deleted-entry``. Pushes
cost no API quota. See https://developers.google.com/youtube/v3/guides/push_notifications
and https://www.w3.org/TR/websub/.

    hub = WebSubHub(settings)
    token = new_verify_token()
    await hub.request("subscribe", "UC...", verify_token=token)   # 202: the hub will verify
    pushes = parse_feed(body)                 # what a notification announces
    lease = clamp_lease(params.get("hub.lease_seconds"), default=432000)

Atlas trusts only what it asked for: each request carries a fresh ``hub.verify_token``
(PubSubHubbub 0.3, which Google's hub follows), and the callback echoes a verification only
for a pending request with that token. Leases are clamped to 1 hour .. 10 days.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Literal
from urllib.parse import parse_qs, urlsplit
from xml.etree.ElementTree import Element  # the type only; parsing is defusedxml's

import httpx
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

from atlas_core.config import Settings
from atlas_core.utils import validate_channel_id, validate_youtube_id
from atlas_core.youtube.parsing import parse_timestamp

TOPIC_BASE = "https://www.youtube.com/xml/feeds/videos.xml?channel_id="
MAX_NOTIFICATION_BYTES = 1_000_000  # a feed announces a handful of entries
MAX_ENTRIES_PER_PUSH = 50  # entries past this in one notification are dropped (and counted)
LEASE_MIN_SECONDS = 3600  # a lease the hub grants is clamped to 1 hour ..
LEASE_MAX_SECONDS = 10 * 86400  # .. 10 days
Mode = Literal["subscribe", "unsubscribe"]

_ATOM = "{http://www.w3.org/2005/Atom}"
_YT = "{http://www.youtube.com/xml/schemas/2015}"
_TOMBSTONE = "{http://purl.org/atompub/tombstones/1.0}"
_CHANNEL_IN_URI = re.compile(r"/channel/(UC[0-9A-Za-z_-]{22})$")
_VIDEO_REF = re.compile(r"^yt:video:([0-9A-Za-z_-]{11})$")
_DIGESTS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}


class WebSubError(Exception):
    """A hub refused a request, or a notification could not be read. The message says why."""


@dataclass(frozen=True)
class Push:
    """One entry of a notification: an upload (or its update), or a removal."""

    channel_id: str
    video_id: str
    deleted: bool = False
    published_at: datetime | None = None
    title: str | None = None
    updated_at: datetime | None = None  # the entry's <updated> (a removal's ``when``)


def new_verify_token() -> str:
    """A fresh per-request secret for ``hub.verify_token``."""
    return secrets.token_urlsafe(24)


def clamp_lease(raw: str | None, default: int) -> int:
    """``hub.lease_seconds`` as a number of seconds within 1 hour .. 10 days (a longer one,
    however many digits, is 10 days). Absent or not a whole number counts as ``default`` (the
    lease Atlas asked for); never raises."""
    text = (raw or "").strip()
    if not (text.isascii() and text.isdigit()):
        seconds = default
    else:
        seconds = LEASE_MAX_SECONDS if len(text) > 12 else int(text)
    return max(LEASE_MIN_SECONDS, min(LEASE_MAX_SECONDS, seconds))


def topic_url(channel_id: str) -> str:
    """The feed YouTube publishes a channel's uploads on (the WebSub topic)."""
    if not validate_channel_id(channel_id):
        raise ValueError(f"not a channel id: {channel_id!r}; expected UC followed by 22 chars")
    return TOPIC_BASE + channel_id


def channel_of_topic(topic: str) -> str | None:
    """The channel id a topic URL names, or None when it is not a YouTube uploads feed."""
    parts = urlsplit(topic)
    if parts.netloc != "www.youtube.com" or parts.path != "/xml/feeds/videos.xml":
        return None
    ids = parse_qs(parts.query).get("channel_id", [])
    return ids[0] if len(ids) == 1 and validate_channel_id(ids[0]) else None


def signature_ok(secret: str, body: bytes, header: str | None) -> bool:
    """Whether ``X-Hub-Signature`` (``sha1=<hex>``, or sha256/sha512) is the body's HMAC
    under ``secret``. Constant-time; a missing or malformed header is not ok."""
    if not header or "=" not in header:
        return False
    method, _, given = header.partition("=")
    digest = _DIGESTS.get(method.strip().lower())
    if digest is None:
        return False
    expected = hmac.new(secret.encode(), body, digest).hexdigest()
    return hmac.compare_digest(expected, given.strip().lower())


def sign(secret: str, body: bytes) -> str:
    """The ``X-Hub-Signature`` value a hub sends for ``body`` (sha1, as Google's hub does)."""
    return "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()


def parse_feed(body: bytes) -> list[Push]:
    """The uploads and removals a notification announces, in document order.

    Raises WebSubError naming what is wrong when the body is not an Atom feed (or is an
    XML bomb, or over MAX_NOTIFICATION_BYTES). Entries without a video or channel id are
    skipped: a feed is YouTube's to extend."""
    if len(body) > MAX_NOTIFICATION_BYTES:
        raise WebSubError(
            f"notification of {len(body)} bytes exceeds {MAX_NOTIFICATION_BYTES}; expected "
            "an Atom feed of a few entries"
        )
    try:
        root = fromstring(body)
    except (ParseError, DefusedXmlException) as exc:
        raise WebSubError(f"notification is not well-formed XML ({exc}); expected Atom") from None
    if root.tag != _ATOM + "feed":
        raise WebSubError(f"notification root is {root.tag!r}; expected an Atom <feed>")
    pushes: list[Push] = []
    for element in root:
        if element.tag == _ATOM + "entry":
            push = _entry(element)
        elif element.tag == _TOMBSTONE + "deleted-entry":
            push = _deleted(element)
        else:
            continue
        if push is not None:
            pushes.append(push)
    return pushes


def _text(element: Element, path: str) -> str | None:
    found = element.find(path)
    return found.text.strip() if found is not None and found.text else None


def _entry(entry: Element) -> Push | None:
    video_id = _text(entry, _YT + "videoId")
    channel_id = _text(entry, _YT + "channelId")
    if not validate_youtube_id(video_id or "") or not validate_channel_id(channel_id or ""):
        return None
    assert video_id is not None and channel_id is not None
    published = _timestamp(_text(entry, _ATOM + "published"))
    return Push(
        channel_id,
        video_id,
        published_at=published,  # the video id is what matters; discovery reads the real time
        title=_text(entry, _ATOM + "title"),
        updated_at=_timestamp(_text(entry, _ATOM + "updated")),
    )


def _timestamp(text: str | None) -> datetime | None:
    try:
        return parse_timestamp(_fit_fraction(text)) if text else None
    except ValueError:
        return None


def _fit_fraction(text: str) -> str:
    """YouTube's <updated> has nanoseconds (``.552394234+00:00``); Python reads 6 digits."""
    return re.sub(r"(\.\d{6})\d+", r"\1", text)


def _deleted(entry: Element) -> Push | None:
    match = _VIDEO_REF.match(entry.get("ref", ""))
    channel = _CHANNEL_IN_URI.search(_text(entry, f"{_TOMBSTONE}by/{_ATOM}uri") or "")
    if match is None or channel is None or not validate_channel_id(channel.group(1)):
        return None
    when = _timestamp(entry.get("when"))
    return Push(channel.group(1), match.group(1), deleted=True, updated_at=when)


class WebSubHub:
    """Subscription requests to the configured hub (``WEBSUB_HUB_URL``) for the configured
    callback (``WEBSUB_CALLBACK_URL``), signed with ``WEBSUB_SECRET``."""

    def __init__(self, settings: Settings, transport: httpx.AsyncBaseTransport | None = None):
        if settings.WEBSUB_CALLBACK_URL is None or settings.WEBSUB_SECRET is None:
            raise WebSubError("push notifications are off: set WEBSUB_CALLBACK_URL")
        self._settings = settings
        self._http = httpx.AsyncClient(timeout=settings.WEBSUB_TIMEOUT_SECONDS, transport=transport)

    async def __aenter__(self) -> WebSubHub:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def request(self, mode: Mode, channel_id: str, verify_token: str | None = None) -> None:
        """Ask the hub to (un)subscribe the callback to a channel's uploads, with
        ``verify_token`` for the hub to echo in its verification. The hub answers 202 and
        verifies at the callback later; raises WebSubError on any other answer."""
        settings = self._settings
        assert settings.WEBSUB_CALLBACK_URL is not None and settings.WEBSUB_SECRET is not None
        form = {
            "hub.mode": mode,
            "hub.topic": topic_url(channel_id),
            "hub.callback": settings.WEBSUB_CALLBACK_URL,
            "hub.verify": "async",
            "hub.lease_seconds": str(settings.WEBSUB_LEASE_SECONDS),
            "hub.secret": settings.WEBSUB_SECRET.get_secret_value(),
        }
        if verify_token is not None:
            form["hub.verify_token"] = verify_token
        try:
            response = await self._http.post(settings.WEBSUB_HUB_URL, data=form)
        except httpx.HTTPError as exc:
            raise WebSubError(
                f"hub {settings.WEBSUB_HUB_URL} unreachable for {mode} {channel_id}: "
                f"{type(exc).__name__}"
            ) from None
        if response.status_code not in (202, 204):
            raise WebSubError(
                f"hub {settings.WEBSUB_HUB_URL} answered {response.status_code} to {mode} "
                f"{channel_id}: {response.text[:200]!r}; expected 202 Accepted"
            )
