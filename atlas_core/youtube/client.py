"""The YouTube Data API v3 client: batched, quota-counted, retrying, async on httpx.

    async with YouTubeClient(settings, db) as yt:
        channel_id = await yt.resolve_channel("@SomeHandle")
        channels = await yt.channels([channel_id])          # .found, .missing
        new = await yt.uploads(channel_id, known_ids=set())  # .ids, .units
        videos = await yt.videos(new.ids)                   # .found, .missing, .units
        spent = await yt.units_spent_today()

Every id lookup goes 50 to a call; uploads come from the channel's uploads playlist, never
search.list. Each call is written to the quota ledger at its documented cost BEFORE it is
sent (write-ahead) and refunded when YouTube did not charge it; a result carries its cost
(``.units``; a :class:`ChannelNotFound` too; ``last_call_units`` for any public call) and the
malformed items it skipped (``.problems``), so concurrent callers sharing one client each
count only their own. Transient
faults (429, 5xx, rateLimitExceeded, timeouts, dropped connections) are retried with
exponential backoff and jitter; quotaExceeded moves to the next key when compliance mode
is off; a rejected key raises :class:`YouTubeConfigError`. The key travels in the
``X-Goog-Api-Key`` header, so it never appears in a URL or a log line.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import json
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any, TypeVar

import httpx

from atlas_core.config import Settings
from atlas_core.database import DatabaseManager
from atlas_core.utils import Sleep, retry_async, utc_now
from atlas_core.youtube.errors import (
    ChannelNotFound,
    KeyQuotaSpent,
    NotFoundResponse,
    TransientError,
    YouTubeConfigError,
    YouTubeRequestError,
    YouTubeResponseError,
    YouTubeUnavailable,
)
from atlas_core.youtube.models import ChannelsResult, Uploads, VideosResult
from atlas_core.youtube.parsing import parse_channel, parse_channel_ref, parse_video
from atlas_core.youtube.quota import Clock, KeyPool, QuotaLedger, Reservation, quota_day

logger = logging.getLogger(__name__)

BATCH = 50
CHANNEL_PARTS = "snippet,contentDetails,statistics"
VIDEO_PARTS = "snippet,contentDetails,statistics,topicDetails,status"
_PATHS = {
    "channels.list": "/channels",
    "videos.list": "/videos",
    "playlistItems.list": "/playlistItems",
}
_QUOTA_REASONS = {"quotaExceeded", "dailyLimitExceeded", "dailyLimitExceededUnreg"}
_RATE_REASONS = {"rateLimitExceeded", "userRateLimitExceeded", "backendError", "internalError"}
_NOT_FOUND_REASONS = {"videoNotFound", "channelNotFound", "playlistNotFound"}
_CONFIG_HINTS = {
    "keyInvalid": "the key is not valid; check YOUTUBE_API_KEY_POOL_JSON",
    "keyExpired": "the key has expired; renew it and update YOUTUBE_API_KEY_POOL_JSON",
    "accessNotConfigured": (
        "the YouTube Data API v3 is not enabled for the key's Google Cloud project; enable it "
        "under APIs & Services in the Cloud console"
    ),
    "forbidden": (
        "the key may not call this API; check its API, IP and referrer restrictions in the "
        "Cloud console and YOUTUBE_API_KEY_POOL_JSON"
    ),
    "ipRefererBlocked": (
        "the key's IP or referrer restriction blocks this machine; relax it in the Cloud console"
    ),
}

_T = TypeVar("_T")


_F = TypeVar("_F", bound=Callable[..., Awaitable[Any]])

# The units charged by the public call running in this context (its tasks share the list).
_NOT_JSON = object()
_COST: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar("cost", default=None)


def _flushing(method: _F) -> _F:
    """Flush the quota refunded during ``method`` when it ends, whether it succeeded or not,
    and keep what the call cost in :attr:`YouTubeClient.last_call_units`."""

    @functools.wraps(method)
    async def wrapper(self: YouTubeClient, *args: Any, **kwargs: Any) -> Any:
        tally = [0]
        token = _COST.set(tally)
        try:
            return await method(self, *args, **kwargs)
        except ChannelNotFound as exc:
            exc.units = tally[0]
            raise
        finally:
            _COST.reset(token)
            self.last_call_units = tally[0]
            await self.flush_quota()

    return wrapper  # type: ignore[return-value]


def _count_cost(units: int) -> None:
    tally = _COST.get()
    if tally is not None:
        tally[0] += units


class YouTubeClient:
    """Async client for channels.list, videos.list and playlistItems.list.

    ``transport`` (an httpx transport) and ``clock`` (-> aware datetime, used for the quota
    day) and ``sleep`` (the backoff wait) are injectable for tests.
    """

    def __init__(
        self,
        settings: Settings,
        db: DatabaseManager,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
        sleep: Sleep | None = None,
    ) -> None:
        self._base = settings.YOUTUBE_API_BASE_URL.rstrip("/")
        self._clock = clock or utc_now
        self._ledger = QuotaLedger(db)
        self._pool = KeyPool(
            settings.api_keys,
            self._ledger,
            clock=self._clock,
            compliance_mode=settings.COMPLIANCE_MODE,
        )
        concurrency = settings.YOUTUBE_MAX_CONCURRENCY
        self._timeout = settings.YOUTUBE_TIMEOUT_SECONDS
        self._attempts = settings.YOUTUBE_MAX_ATTEMPTS
        self._max_retry_after = settings.YOUTUBE_MAX_RETRY_AFTER_SECONDS
        self._http = httpx.AsyncClient(
            transport=transport,
            timeout=self._timeout,
            limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
            headers={"Accept": "application/json", "User-Agent": "atlas-youtube-client"},
        )
        self._semaphore = asyncio.Semaphore(concurrency)
        self._send = retry_async(
            max_attempts=self._attempts,
            delay=settings.YOUTUBE_RETRY_DELAY_SECONDS,
            backoff=2.0,
            exceptions=(TransientError,),
            jitter=0.5,
            max_delay=64.0,
            sleep=sleep,
        )(self._attempt)
        self._uploads_playlists: dict[str, str] = {}
        self.requests_sent = 0  # HTTP requests, retries included
        self._served_at: datetime | None = None
        self.last_call_units = 0  # what the latest public call cost (results carry it too)

    def observed_at(self) -> datetime:
        """When YouTube served this client's latest answer, by the ``Date`` header its front
        ends stamp on every response (this client's clock if the answer had none, or before
        the first answer). Statistics are stored as observed at this moment, so a queued or
        retried run's rates are computed over the time that really passed."""
        return self._served_at or self._clock()

    def __repr__(self) -> str:
        return f"<YouTubeClient {self._base} keys={len(self._pool)}>"

    async def __aenter__(self) -> YouTubeClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Write any quota not yet in the ledger, close the connection pool."""
        try:
            await self.flush_quota()
        finally:
            await self._http.aclose()

    async def flush_quota(self) -> None:
        """Write the refunds counted since the last flush to the quota ledger. Each call's
        units are written before it is sent (write-ahead); a call YouTube did not charge is
        refunded in memory and the refund written here, after each public call, each batch of
        :meth:`video_batches` and on close. A database failure here is logged and the refund
        kept for the next flush (until then the ledger over-counts, never under-counts)."""
        if not self._pool.unflushed_units:
            return
        try:
            await self._pool.flush()
        except Exception as exc:
            logger.warning(
                "quota ledger not updated (%d unit(s) kept for the next flush): %s: %s",
                self._pool.unflushed_units,
                type(exc).__name__,
                str(exc).splitlines()[0] if str(exc) else "",
            )

    # --- public calls -------------------------------------------------------------------

    @_flushing
    async def channels(self, ids: Iterable[str]) -> ChannelsResult:
        """Channels by id, 50 a call (1 unit each). Ids YouTube does not return are missing."""
        wanted = _unique(ids)
        items = await self._batched("channels.list", CHANNEL_PARTS, wanted)
        parsed, skipped, problems = self._parse_items(items, parse_channel)
        found = {c.id: c for c in parsed}
        for channel in found.values():
            if channel.uploads_playlist_id:
                self._uploads_playlists[channel.id] = channel.uploads_playlist_id
        return ChannelsResult(
            found=[found[i] for i in wanted if i in found],
            missing=[i for i in wanted if i not in found and i not in skipped],
            skipped=[i for i in wanted if i in skipped and i not in found],
            units=_cost_so_far(),
            problems=problems,
        )

    @_flushing
    async def videos(self, ids: Iterable[str]) -> VideosResult:
        """Videos by id, 50 a call (1 unit each). Deleted or private ids come back missing."""
        wanted = _unique(ids)
        items = await self._batched("videos.list", VIDEO_PARTS, wanted)
        return self._videos_result(wanted, items, _cost_so_far())

    async def video_batches(self, ids: Iterable[str]) -> AsyncGenerator[VideosResult, None]:
        """Videos by id, one :class:`VideosResult` per 50-id call as soon as it arrives (in
        whatever order the calls finish), so the caller can store each batch before the
        next one lands: a failure at batch k leaves batches already yielded with the caller.
        On a failure the calls still in flight are cancelled and the error is raised."""
        wanted = _unique(ids)
        batches = [wanted[i : i + BATCH] for i in range(0, len(wanted), BATCH)]

        async def one(batch: list[str]) -> VideosResult:
            tally = [0]
            _COST.set(tally)  # this task's own context: its batch's cost
            items = await self._fetch_batch("videos.list", VIDEO_PARTS, batch)
            return self._videos_result(batch, items, tally[0])

        tasks = [asyncio.create_task(one(b)) for b in batches]
        try:
            for done in asyncio.as_completed(tasks):
                result = await done
                await self.flush_quota()  # the ledger keeps up batch by batch
                yield result
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self.flush_quota()

    @_flushing
    async def uploads(
        self, channel_id: str, known_ids: set[str], playlist_id: str | None = None
    ) -> Uploads:
        """Video ids of the channel's uploads, newest first, up to the first id in ``known_ids``.

        Pages the uploads playlist 50 at a time (1 unit a page); pass ``playlist_id`` when it
        is known (from an earlier channels() call) to save the lookup. Raises ChannelNotFound
        when the channel or its uploads playlist does not exist.
        """
        if playlist_id:
            self._uploads_playlists.setdefault(channel_id, playlist_id)
        playlist = await self._uploads_playlist(channel_id)
        new: list[str] = []
        token: str | None = None
        while True:
            params = {"part": "contentDetails", "playlistId": playlist, "maxResults": str(BATCH)}
            if token:
                params["pageToken"] = token
            try:
                page = await self._get("playlistItems.list", params)
            except NotFoundResponse:
                self._uploads_playlists.pop(channel_id, None)
                raise ChannelNotFound(channel_id) from None
            for item in page.get("items") or []:
                video_id = _playlist_video_id(item) if isinstance(item, dict) else None
                if video_id is None:
                    continue
                if video_id in known_ids:
                    return Uploads(new, _cost_so_far())
                if video_id not in new:
                    new.append(video_id)
            token = page.get("nextPageToken")
            if not token:
                return Uploads(new, _cost_so_far())

    @_flushing
    async def resolve_channel(self, ref: str) -> str:
        """A channel id, ``@handle`` or channel URL -> the channel id (1 unit).

        Raises ValueError for input that is none of those, ChannelNotFound when YouTube
        has no such channel.
        """
        kind, value = parse_channel_ref(ref)
        params = {"part": "id,contentDetails"}
        params[{"id": "id", "handle": "forHandle", "username": "forUsername"}[kind]] = value
        try:
            page = await self._get("channels.list", params)
        except NotFoundResponse:
            raise ChannelNotFound(ref) from None
        items = page.get("items") or []
        if not items:
            raise ChannelNotFound(ref)
        channel_id = str(items[0]["id"])
        uploads = ((items[0].get("contentDetails") or {}).get("relatedPlaylists") or {}).get(
            "uploads"
        )
        if uploads:
            self._uploads_playlists[channel_id] = uploads
        return channel_id

    def _settle_reservation(self, held: Reservation, charged: bool) -> None:
        """Keep a charged call's reserved units (and count them for the running call), or
        refund an uncharged one."""
        if charged:
            _count_cost(held.units)
        else:
            self._pool.refund(held)

    async def units_spent_today(self) -> int:
        """Quota units spent today (Pacific day), all keys and all processes, from the ledger."""
        await self.flush_quota()
        return await self._ledger.units(quota_day(self._clock()))

    # --- plumbing -----------------------------------------------------------------------

    def _parse_items(
        self, items: list[Any], parse: Callable[[Any], _T]
    ) -> tuple[list[_T], set[str], list[str]]:
        """(each item parsed, ids of the items skipped, why each was skipped). A malformed
        item (no id, a count that is not one) is skipped and logged, and its problem returned
        (the pipeline records a ``youtube.item_skipped`` event); the rest of the batch is kept."""
        parsed: list[_T] = []
        skipped: set[str] = set()
        problems: list[str] = []
        for item in items:
            try:
                parsed.append(parse(item))
            except YouTubeResponseError as exc:
                logger.warning("%s; item skipped", exc)
                problems.append(str(exc))
                raw = item.get("id") if isinstance(item, dict) else None
                if isinstance(raw, str):
                    skipped.add(raw)
        return parsed, skipped, problems

    def _videos_result(self, wanted: list[str], items: list[Any], units: int) -> VideosResult:
        parsed, skipped, problems = self._parse_items(items, parse_video)
        found = {v.id: v for v in parsed}
        return VideosResult(
            found=[found[i] for i in wanted if i in found],
            missing=[i for i in wanted if i not in found and i not in skipped],
            skipped=[i for i in wanted if i in skipped and i not in found],
            units=units,
            problems=problems,
        )

    async def _uploads_playlist(self, channel_id: str) -> str:
        cached = self._uploads_playlists.get(channel_id)
        if cached:
            return cached
        params = {"part": "contentDetails", "id": channel_id}
        try:
            page = await self._get("channels.list", params)
        except NotFoundResponse:
            raise ChannelNotFound(channel_id) from None
        for item in page.get("items") or []:
            channel = parse_channel(item)
            if channel.id == channel_id and channel.uploads_playlist_id:
                self._uploads_playlists[channel_id] = channel.uploads_playlist_id
                return channel.uploads_playlist_id
        raise ChannelNotFound(channel_id)

    async def _fetch_batch(self, method: str, parts: str, batch: list[str]) -> list[dict[str, Any]]:
        params = {"part": parts, "id": ",".join(batch), "maxResults": str(BATCH)}
        try:
            page = await self._get(method, params)
        except NotFoundResponse as exc:
            logger.warning("%s answered %s for %d ids", method, exc.reason, len(batch))
            return []
        return list(page.get("items") or [])

    async def _batched(self, method: str, parts: str, ids: list[str]) -> list[dict[str, Any]]:
        async def one(batch: list[str]) -> list[dict[str, Any]]:
            return await self._fetch_batch(method, parts, batch)

        batches = [ids[i : i + BATCH] for i in range(0, len(ids), BATCH)]
        # A TaskGroup cancels the other batches as soon as one fails (quota, bad key), so no
        # call keeps spending quota for a result nobody will read.
        try:
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(one(b)) for b in batches]
        except BaseExceptionGroup as failed:
            raise failed.exceptions[0] from None  # the first failure, as gather would raise
        return [item for task in tasks for item in task.result()]

    async def _get(self, method: str, params: dict[str, str]) -> dict[str, Any]:
        """One API call: pick a key, send with retries, move to the next key on quotaExceeded."""
        while True:
            index, key = await self._pool.current()
            try:
                return await self._send(method, params, index, key)
            except KeyQuotaSpent as exc:
                logger.warning("YouTube API key #%d is out of quota (%s)", index, exc.reason)
                await self._pool.mark_spent(index)
            except TransientError as exc:
                raise YouTubeUnavailable(
                    f"YouTube {method} still failing after {self._attempts} attempts "
                    f"(last: {exc}); YouTube or the network is having trouble, try again "
                    "later or raise YOUTUBE_MAX_ATTEMPTS"
                ) from None

    async def _settle(self, request: asyncio.Future[httpx.Response], key: str) -> bool:
        """Whether a request abandoned mid-flight was charged, once it answers."""
        try:
            response = await asyncio.wait_for(request, self._timeout)
        except Exception:
            return False  # no answer: nothing charged
        return response.status_code == 200 or _charged_error(response, key)

    async def _attempt(
        self, method: str, params: dict[str, str], index: int, key: str
    ) -> dict[str, Any]:
        url = self._base + _PATHS[method]
        async with self._semaphore:
            # Write-ahead: the units are in the ledger before the request can reach the API.
            held = await self._pool.reserve(index, method)
            charged = False
            try:
                self.requests_sent += 1
                request = asyncio.ensure_future(
                    self._http.get(url, params=params, headers={"X-Goog-Api-Key": key})
                )
                try:
                    response = await asyncio.shield(request)
                except asyncio.CancelledError:
                    # Cancelled (another batch failed): the request is already at the API,
                    # which charges it if it answers normally; let it finish to know.
                    charged = await self._settle(request, key)
                    raise
                except httpx.ReadTimeout:
                    charged = True  # it reached the API, which will answer late
                    raise TransientError(f"no answer within {self._timeout:g}s") from None
                except httpx.TimeoutException:
                    raise TransientError(f"no answer within {self._timeout:g}s") from None
                except httpx.TransportError as exc:
                    raise TransientError(f"connection failed ({type(exc).__name__})") from None
                body: Any = _NOT_JSON
                if response.status_code == 200:
                    try:
                        body = response.json()
                    except json.JSONDecodeError:
                        pass  # a fault on the way (a proxy's page): not charged, retried
                    charged = body is not _NOT_JSON
                else:
                    charged = _charged_error(response, key)
            finally:
                self._settle_reservation(held, charged)
        status = response.status_code
        if status == 200:
            if body is _NOT_JSON:
                raise TransientError("HTTP 200 with a body that is not JSON")
            self._served_at = _served_at(response) or self._clock()
            if not isinstance(body, dict):
                raise YouTubeResponseError(
                    method, f"the body is a JSON {type(body).__name__}, not an object"
                )
            items = body.get("items")
            if items is not None and not isinstance(items, list):
                raise YouTubeResponseError(method, "'items' is not a list")
            return body
        reason, message = _error_of(response, key)
        logger.debug("%s answered HTTP %d %s with API key #%d", method, status, reason, index)
        if reason in _QUOTA_REASONS:
            raise KeyQuotaSpent(index, reason)
        if status == 429 or status >= 500 or reason in _RATE_REASONS:
            wait = _retry_after(response)
            if wait is not None and wait > self._max_retry_after:
                raise YouTubeUnavailable(
                    f"YouTube {method} answered HTTP {status} {reason} asking to wait {wait:g}s, "
                    f"more than YOUTUBE_MAX_RETRY_AFTER_SECONDS={self._max_retry_after:g}; "
                    "try again later or raise that setting"
                )
            raise TransientError(f"HTTP {status} {reason}", retry_after=wait)
        if reason in _CONFIG_HINTS or status in (401, 403):
            hint = _CONFIG_HINTS.get(reason, _CONFIG_HINTS["forbidden"])
            raise YouTubeConfigError(
                f"YouTube rejected API key #{index} ({reason}): {hint}. YouTube said: {message}"
            )
        if status == 404 and reason in _NOT_FOUND_REASONS:
            raise NotFoundResponse(reason)
        raise YouTubeRequestError(
            f"YouTube {method} rejected the request: HTTP {status} {reason}: {message}",
            status=status,
            reason=reason,
        )


def _cost_so_far() -> int:
    tally = _COST.get()
    return tally[0] if tally is not None else 0


def _charged_error(response: httpx.Response, key: str) -> bool:
    """Whether YouTube charges this error answer (a 4xx it processed, not quota, rate or
    key problems, which it refuses before doing any work)."""
    status = response.status_code
    reason, _ = _error_of(response, key)
    if reason in _QUOTA_REASONS or reason in _RATE_REASONS or reason in _CONFIG_HINTS:
        return False
    return not (status == 429 or status >= 500 or status in (401, 403))


def _unique(ids: Iterable[str]) -> list[str]:
    if isinstance(ids, str):
        raise TypeError("expected a collection of ids, got a single string")
    return list(dict.fromkeys(i.strip() for i in ids if i and i.strip()))


def _playlist_video_id(item: dict[str, Any]) -> str | None:
    video_id = (item.get("contentDetails") or {}).get("videoId") or (
        (item.get("snippet") or {}).get("resourceId") or {}
    ).get("videoId")
    return str(video_id) if video_id else None


def _error_of(response: httpx.Response, key: str) -> tuple[str, str]:
    """(reason, message) of a YouTube error body, with the key scrubbed from the message."""
    reason, message = f"http{response.status_code}", response.reason_phrase or "error"
    try:
        error = response.json().get("error") or {}
    except (json.JSONDecodeError, AttributeError):
        return reason, message
    if isinstance(error, dict):
        errors = error.get("errors") or [{}]
        first = errors[0] if isinstance(errors[0], dict) else {}
        reason = str(first.get("reason") or error.get("status") or reason)
        message = str(error.get("message") or first.get("message") or message)
        for detail in error.get("details") or []:
            if isinstance(detail, dict) and detail.get("reason") == "API_KEY_INVALID":
                reason = "keyInvalid"
            elif isinstance(detail, dict) and detail.get("reason") == "SERVICE_DISABLED":
                reason = "accessNotConfigured"
    return reason, message.replace(key, "<key>") if key else message


def _served_at(response: httpx.Response) -> datetime | None:
    """The response's ``Date`` header as an aware datetime; None if absent or malformed."""
    value = response.headers.get("Date")
    try:
        served = parsedate_to_datetime(value) if value else None
    except (TypeError, ValueError):
        return None
    return served if served is None or served.tzinfo else served.replace(tzinfo=UTC)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
