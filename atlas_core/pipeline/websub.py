"""YouTube push notifications, end to end: keep the hub subscribed to every watched channel,
and receive its pushes into the queue the ``websub_pushes`` sensor turns into discovery runs.
In Dagster, the hub requests are the ``sync_websub_subscriptions`` job's work (launched by the
``websub_subscriptions`` sensor when :func:`subscription_requests_due` says some are owed).

    result = await sync_subscriptions(db, settings, now)   # subscribe/renew/unsubscribe
    owed = subscription_requests_due(dsn, now)             # sync: is a sync pass worth a run?
    with WebSubReceiver(settings, host="0.0.0.0", port=8090) as receiver:   # or .serve()
        ...                                                  # receiver.url is the callback

Pushes cost no quota and arrive seconds after an upload; the planner's scheduled checks stay
the safety net for anything a hub drops. ``atlas websub serve`` runs the receiver; the
public URL that reaches it is ``WEBSUB_CALLBACK_URL``.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import TracebackType

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from atlas_core.config import Settings
from atlas_core.database import DatabaseManager
from atlas_core.factories import build_database
from atlas_core.store.watchlist import is_watched
from atlas_core.store.websub import (
    confirm_intent,
    count_subscription_changes,
    record_intents,
    record_pushes,
    record_verified,
    subscription_changes,
    token_digest,
)
from atlas_core.utils import utc_now
from atlas_core.youtube.websub import (
    MAX_ENTRIES_PER_PUSH,
    MAX_NOTIFICATION_BYTES,
    Mode,
    WebSubError,
    WebSubHub,
    channel_of_topic,
    clamp_lease,
    new_verify_token,
    parse_feed,
    signature_ok,
)

logger = logging.getLogger(__name__)

RENEW_WITHIN = timedelta(days=1)  # renew a lease this long before it ends
RETRY_AFTER = timedelta(hours=1)  # re-request a subscription the hub never verified
PENDING_FOR = timedelta(days=1)  # a request's verification is accepted this long after it
SYNC_LIMIT = 200  # hub requests per pass (one job run), at most
BAD_SIGNATURE_SUMMARY_SECONDS = 60.0  # one summary line per period, however many arrive
Clock = Callable[[], datetime]


@dataclass
class SubscriptionSync:
    """What one pass asked of the hub; ``failed`` maps channel ids to the hub's error."""

    subscribed: list[str] = field(default_factory=list)
    unsubscribed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    pending: int = 0  # channels still needing a request after this pass (over ``limit``)


async def sync_subscriptions(
    db: DatabaseManager,
    settings: Settings,
    now: datetime,
    *,
    limit: int = SYNC_LIMIT,
    concurrency: int = 8,
) -> SubscriptionSync:
    """Subscribe watched channels that have no live lease (or one ending within a day),
    unsubscribe channels taken off the watchlist; at most ``limit`` requests a pass, so a
    10,000-channel watchlist is subscribed over a few passes (``pending`` says how many
    requests are left for the next). The hub verifies each
    request at the callback (``WebSubReceiver``), which records the lease it grants."""
    async with db.get_connection() as conn:
        subscribe, unsubscribe = await subscription_changes(conn, now, RENEW_WITHIN, RETRY_AFTER)
    result = SubscriptionSync(pending=max(0, len(subscribe) + len(unsubscribe) - limit))
    work: list[tuple[Mode, str]] = [("unsubscribe", c) for c in unsubscribe]
    work = [*work, *(("subscribe", c) for c in subscribe)][:limit]
    if not work:
        return result
    # Recorded before asking, with the sha256 of the verify token each request carries: the
    # hub may verify at the callback before it answers us, and the callback echoes only a
    # pending intent with its token. A failed request is retried after RETRY_AFTER; an
    # unsubscribe drops the row when the hub verifies it.
    tokens = {(mode, c): new_verify_token() for mode, c in work}
    async with db.get_connection() as conn:
        wanted: Mode
        for wanted in ("unsubscribe", "subscribe"):
            digests = {c: token_digest(t) for (mode, c), t in tokens.items() if mode == wanted}
            await record_intents(conn, wanted, digests, now)
    gate = asyncio.Semaphore(concurrency)
    async with WebSubHub(settings) as hub:

        async def one(mode: Mode, channel_id: str) -> None:
            async with gate:
                try:
                    await hub.request(mode, channel_id, verify_token=tokens[(mode, channel_id)])
                except WebSubError as exc:
                    result.failed[channel_id] = str(exc)
                    return
            (result.subscribed if mode == "subscribe" else result.unsubscribed).append(channel_id)

        await asyncio.gather(*(one(mode, c) for mode, c in work))
    result.subscribed.sort()
    result.unsubscribed.sort()
    if result.failed:
        logger.warning("websub: %d subscription requests failed", len(result.failed))
    return result


def subscription_requests_due(dsn: str, now: datetime) -> int:
    """How many hub requests a :func:`sync_subscriptions` pass at ``now`` would send (before its
    ``limit``), read over a short synchronous connection: a sensor's cheap question."""
    return count_subscription_changes(dsn, now, RENEW_WITHIN, RETRY_AFTER)


def receiver_app(settings: Settings, clock: Clock = utc_now) -> Starlette:
    """The callback: answers the hub's verification GETs and queues its signed pushes.
    Any path is the callback (the public URL's path is the proxy's business); ``/healthz``
    answers 200 for probes."""
    if settings.WEBSUB_SECRET is None:
        raise WebSubError("the receiver needs WEBSUB_SECRET (and WEBSUB_CALLBACK_URL) set")
    secret = settings.WEBSUB_SECRET.get_secret_value()
    db = build_database(settings, min_size=1, max_size=4)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await db.initialize()
        try:
            yield
        finally:
            await db.close()

    bad_signatures = _Throttled(
        "websub: ignored %d push(es) with a missing or wrong X-Hub-Signature (one summary line"
        " per %gs)",
        BAD_SIGNATURE_SUMMARY_SECONDS,
    )

    async def verify(request: Request) -> Response:
        params = request.query_params
        mode = params.get("hub.mode", "")
        if request.url.path == "/healthz" and not mode:
            return PlainTextResponse("ok")
        channel_id = channel_of_topic(params.get("hub.topic", ""))
        challenge = params.get("hub.challenge", "")
        if mode == "denied":
            logger.info("websub: the hub says it denied the subscription to %s", channel_id)
            return PlainTextResponse("", status_code=200)
        if mode not in ("subscribe", "unsubscribe") or channel_id is None or not challenge:
            return PlainTextResponse(
                "expected hub.mode=subscribe|unsubscribe, a YouTube uploads-feed hub.topic "
                "and hub.challenge",
                status_code=400,
            )
        token = params.get("hub.verify_token", "")
        now = clock()
        async with db.get_connection() as conn, conn.transaction():
            # Only an intent Atlas recorded as pending, with the token it issued, is ours.
            intent: Mode = "subscribe" if mode == "subscribe" else "unsubscribe"
            ours = bool(token) and await confirm_intent(
                conn, intent, channel_id, token, since=now - PENDING_FOR
            )
            if ours and intent == "subscribe":
                if not await is_watched(conn, channel_id):
                    ours = False  # taken off the watchlist since the request
                else:
                    lease = clamp_lease(
                        params.get("hub.lease_seconds"), settings.WEBSUB_LEASE_SECONDS
                    )
                    await record_verified(conn, channel_id, now, lease)
        if not ours:  # not a pending intent of this subscriber: a stale or forged request
            return PlainTextResponse("not an intent of this subscriber", status_code=404)
        return PlainTextResponse(challenge)

    async def notify(request: Request) -> Response:
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > MAX_NOTIFICATION_BYTES:
            return PlainTextResponse("notification too large", status_code=413)
        body = await _read_capped(request, MAX_NOTIFICATION_BYTES)
        if body is None:  # chunked (or lying about its length) and past the cap
            return PlainTextResponse("notification too large", status_code=413)
        if not signature_ok(secret, body, request.headers.get("x-hub-signature")):
            # WebSub: acknowledge, but ignore a message whose signature does not match.
            bad_signatures.count()
            return Response(status_code=202)
        try:
            pushes = parse_feed(body)
        except WebSubError as exc:
            logger.warning("websub: unreadable push: %s", exc)
            return PlainTextResponse(str(exc), status_code=400)
        dropped = max(0, len(pushes) - MAX_ENTRIES_PER_PUSH)
        if dropped:
            logger.warning(
                "websub: a push of %d entries; kept the first %d, dropped %d",
                len(pushes),
                MAX_ENTRIES_PER_PUSH,
                dropped,
            )
            pushes = pushes[:MAX_ENTRIES_PER_PUSH]
        async with db.get_connection() as conn:
            queued = await record_pushes(conn, pushes, clock())
        logger.info("websub: %d entries pushed, %d queued for discovery", len(pushes), queued)
        return Response(status_code=204)

    routes = [
        Route("/{path:path}", verify, methods=["GET"]),
        Route("/{path:path}", notify, methods=["POST"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


async def _read_capped(request: Request, limit: int) -> bytes | None:
    """The body, read as it streams; None as soon as it passes ``limit`` bytes (the rest is
    never read), whether or not it declared a length."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


class _Throttled:
    """A warning that may arrive in floods (unauthenticated callers): the first is logged at
    once, the rest as one summary line per ``period`` seconds."""

    def __init__(self, message: str, period: float, clock: Callable[[], float] = time.monotonic):
        self._message, self._period, self._clock = message, period, clock
        self._since: float | None = None
        self._count = 0

    def count(self) -> None:
        now = self._clock()
        self._count += 1
        if self._since is None or now - self._since >= self._period:
            logger.warning(self._message, self._count, self._period)
            self._since, self._count = now, 0


class WebSubReceiver:
    """``receiver_app`` served by uvicorn: in the foreground (:meth:`serve`, the CLI) or on a
    background thread (``with``: tests and ``atlas demo``). ``url`` is where it listens."""

    def __init__(
        self, settings: Settings, host: str = "127.0.0.1", port: int = 0, clock: Clock = utc_now
    ) -> None:
        self._socket = socket.create_server((host, port), reuse_port=False)
        bound_host, bound_port = self._socket.getsockname()[:2]
        shown = "127.0.0.1" if bound_host in ("0.0.0.0", "::") else bound_host
        self.url = f"http://{shown}:{bound_port}/websub"
        config = uvicorn.Config(
            receiver_app(settings, clock), log_level="warning", lifespan="on", access_log=False
        )
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    def serve(self) -> None:
        """Serve until interrupted (SIGINT/SIGTERM)."""
        self._server.run(sockets=[self._socket])

    def __enter__(self) -> WebSubReceiver:
        self._thread = threading.Thread(target=self.serve, name="websub-receiver", daemon=True)
        self._thread.start()
        while not self._server.started and self._thread.is_alive():
            time.sleep(0.02)
        if not self._server.started:
            raise WebSubError("the WebSub receiver failed to start; see the log")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._socket.close()
