"""DiscordNotifier: alerts as Discord embeds, one webhook per channel, never raising.

    notifier = DiscordNotifier({AlertChannel.HUNT: "https://discord.com/api/webhooks/1/tok"})
    await notifier.send("Re-upload found", "abc123 matches xyz789", AlertChannel.HUNT,
                        AlertLevel.WARNING, fields={"similarity": "0.97"})
    await notifier.aclose()                # sends any pending digest, closes the HTTP client

Delivery posts ``?wait=true`` and counts as delivered only a 2xx whose JSON body is the
message Discord created (an object with an ``id``); a 204, an empty or HTML 200 (a proxy, a
captive portal) is a retryable failure. It retries through :func:`atlas_core.utils.retry_async`:
a 429 waits its ``retry_after`` (body, else ``Retry-After``); 5xx, timeouts and connection
errors back off; any other 4xx (a deleted webhook's 404) gives up at once. Failures are logged
at ERROR and swallowed. A channel without a webhook logs the alert at INFO instead.

Alert storms: per channel, a window opens at the first alert and lasts ``digest_window``
seconds. The first ``digest_threshold`` alerts in it go out one by one; the rest are held
and sent as ONE digest embed when the window closes (or on :meth:`flush` / :meth:`aclose`),
and ``send`` returns at once for them. ``digest_window=0`` turns folding off. Each webhook
also has a limiter: at most ``rate_limit[0]`` posts in any ``rate_limit[1]`` seconds, and
Discord's ``X-RateLimit-Remaining: 0`` / ``X-RateLimit-Reset-After`` and 429s pause it.
No single wait exceeds ``max_wait`` seconds: an alert that would wait longer is dropped
(logged at ERROR), so a send lasts at most about
``max_attempts * (timeout + max_wait)``.

Webhook URLs are secrets: they are kept as ``SecretStr``, logs name the channel
("webhook for channel 'hunt'"), and httpx's own request log lines are redacted. One notifier
belongs to one event loop: build one per :class:`~atlas_core.pipeline.Services` (per step)
and close it with :meth:`aclose` on that loop. It is not thread-safe.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from pydantic import SecretStr

from atlas_core.notifications.embeds import Alert, alert_embed, digest_embed, shorten
from atlas_core.notifications.levels import AlertChannel, AlertLevel
from atlas_core.notifications.ratelimit import WebhookLimiter
from atlas_core.notifications.redaction import REDACTOR
from atlas_core.utils import Sleep, retry_async

logger = logging.getLogger("atlas_core.notifications")

Clock = Callable[[], float]


class DiscordNotifier:
    """Sends alerts to Discord webhooks; see the module docstring for the rules."""

    def __init__(
        self,
        webhooks: Mapping[AlertChannel, str | SecretStr | None] | None = None,
        *,
        environment: str = "dev",
        timeout: float = 10.0,
        max_attempts: int = 4,
        digest_threshold: int = 5,
        digest_window: float = 10.0,
        rate_limit: tuple[int, float] = (5, 2.0),
        retry_delay: float = 0.5,
        max_wait: float = 15.0,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
        sleep: Sleep | None = None,
    ) -> None:
        problems = [
            text
            for bad, text in (
                (timeout <= 0, f"timeout must be > 0 seconds, got {timeout}"),
                (max_attempts < 1, f"max_attempts must be >= 1, got {max_attempts}"),
                (digest_threshold < 1, f"digest_threshold must be >= 1, got {digest_threshold}"),
                (digest_window < 0, f"digest_window must be >= 0 seconds, got {digest_window}"),
                (rate_limit[0] < 1 or rate_limit[1] <= 0, f"bad rate_limit {rate_limit}"),
                (retry_delay < 0 or max_wait < 0, "retry_delay and max_wait must be >= 0"),
            )
            if bad
        ]
        if problems:
            raise ValueError("invalid DiscordNotifier settings: " + "; ".join(problems))
        self._webhooks: dict[AlertChannel, SecretStr] = {}
        for key, raw in (webhooks or {}).items():
            channel = AlertChannel(key)
            url = _check_webhook(channel, raw)
            if url is not None:
                self._webhooks[channel] = url
                REDACTOR.register(url.get_secret_value())
        REDACTOR.install()
        self.environment = environment
        self._footer = f"Atlas · {environment}"
        self._timeout = timeout
        self._max_attempts = max_attempts
        self._threshold = digest_threshold
        self._window = digest_window
        self._rate_limit = rate_limit
        self._retry_delay = retry_delay
        self._max_wait = max_wait
        self._transport = transport
        self._clock = clock or time.monotonic
        self._sleep = sleep or asyncio.sleep
        self._limiters: dict[str, WebhookLimiter] = {}
        self._windows: dict[AlertChannel, _Window] = {}
        self._http: httpx.AsyncClient | None = None

    def __repr__(self) -> str:
        names = [channel.value for channel in self._webhooks]
        return f"DiscordNotifier(environment={self.environment!r}, webhooks={names})"

    @property
    def footer(self) -> str:
        """The footer every embed carries ("Atlas · <environment>")."""
        return self._footer

    @property
    def max_attempts(self) -> int:
        return self._max_attempts

    @property
    def channels(self) -> frozenset[AlertChannel]:
        """The channels that have a webhook (the others only log)."""
        return frozenset(self._webhooks)

    async def send(
        self,
        title: str,
        description: str,
        channel: AlertChannel = AlertChannel.ALERTS,
        level: AlertLevel = AlertLevel.INFO,
        fields: dict[str, str] | None = None,
    ) -> None:
        """Send one alert. Never raises: every failure is logged at ERROR and swallowed."""
        try:
            alert = Alert(
                title=str(title),
                description=str(description),
                channel=AlertChannel(channel),
                level=AlertLevel(level),
                fields=tuple((str(k), str(v)) for k, v in (fields or {}).items()),
            )
            if alert.channel not in self._webhooks:
                _log_only(alert)
                return
            await self._route(alert)
        except Exception as exc:
            logger.error(
                "Discord alert %r could not be sent: %s: %s",
                shorten(str(title), 100),
                type(exc).__name__,
                REDACTOR.redact(str(exc)),
            )

    async def flush(self) -> None:
        """Send every held digest now instead of when its window closes."""
        for channel, window in list(self._windows.items()):
            timer = window.timer
            if timer and not timer.done() and not window.closing:
                timer.cancel()
            await self._send_held(channel, window)
        current = asyncio.current_task()
        busy = [
            w.timer
            for w in self._windows.values()
            if w.timer and not w.timer.done()
            if w.timer is not current
        ]
        if busy:  # timers already delivering their digest: let them finish
            await asyncio.gather(*busy, return_exceptions=True)

    async def aclose(self) -> None:
        """Flush held digests and close the HTTP client (a later send opens a new one)."""
        try:
            await self.flush()
        finally:
            client, self._http = self._http, None
            if client is not None:
                await client.aclose()

    # -- routing: individual alerts and digests ------------------------------------------

    async def _route(self, alert: Alert) -> None:
        channel = alert.channel
        now = self._clock()
        window = self._windows.get(channel)
        if window is None or now - window.opened_at >= self._window:
            old, window = window, _Window(opened_at=now)
            self._windows[channel] = window
            if old is not None and old.held:  # its timer was cancelled
                await self._send_held(channel, old)
        window.count += 1
        if window.count <= self._threshold:
            await self._deliver(channel, alert_embed(alert, footer=self._footer), alert.title)
            return
        if not window.held:
            logger.info(
                "Alert storm on channel %r: more than %d alerts within %gs; "
                "holding the rest for one digest",
                channel.value,
                self._threshold,
                self._window,
            )
        window.held.append(alert)
        loop = asyncio.get_running_loop()
        timer = window.timer
        if timer is None or timer.done():
            window.timer = loop.create_task(self._close_later(channel, window))

    async def _close_later(self, channel: AlertChannel, window: _Window) -> None:
        await self._sleep(max(window.opened_at + self._window - self._clock(), 0.0))
        window.closing = True
        try:
            await self._send_held(channel, window)
        finally:
            window.closing = False

    async def _send_held(self, channel: AlertChannel, window: _Window) -> None:
        alerts, window.held = window.held, []
        if len(alerts) == 1:
            await self._deliver(
                channel, alert_embed(alerts[0], footer=self._footer), alerts[0].title
            )
        elif alerts:
            embed = digest_embed(alerts, footer=self._footer, now=datetime.now(UTC))
            await self._deliver(channel, embed, f"digest of {len(alerts)} alerts")

    # -- delivery ------------------------------------------------------------------------

    async def post(
        self,
        channel: AlertChannel,
        embed: dict[str, Any],
        attachment: tuple[str, bytes] | None = None,
    ) -> None:
        """Post one embed now (retries within :attr:`max_attempts`); raise
        :class:`DeliveryError` if it did not get through. A channel without a webhook logs it.
        ``attachment`` (file name, bytes) is sent multipart; point the embed's image at
        ``attachment://<file name>``. Used by the outbox drainer."""
        channel = AlertChannel(channel)
        if channel not in self._webhooks:
            logger.info(
                "No Discord webhook for channel %r; alert logged only: %s: %s",
                channel.value,
                embed.get("title", ""),
                embed.get("description", ""),
            )
            return
        post = retry_async(
            max_attempts=self._max_attempts,
            delay=self._retry_delay,
            backoff=2.0,
            exceptions=(_Retryable,),
            max_delay=self._max_wait,
            sleep=self._sleep,
        )(self._post_once)
        try:
            await post(channel, _payload(embed), attachment)
        except _Retryable as exc:
            raise DeliveryError(
                f"gave up after {self._max_attempts} attempt(s), last: {exc}",
                unreachable=isinstance(exc, _Unreachable),
            ) from None
        except _GiveUp as exc:
            raise DeliveryError(str(exc)) from None

    async def _deliver(self, channel: AlertChannel, embed: dict[str, Any], what: str) -> None:
        """Post one embed with retries; log and swallow any failure."""
        where = f"webhook for channel {channel.value!r}"
        try:
            await self.post(channel, embed)
        except DeliveryError as exc:
            sep = " " if str(exc).startswith("gave up") else ": "
            logger.error("Discord %s%s%s; dropped %r", where, sep, exc, shorten(what, 100))
        else:
            logger.debug("Discord %s: delivered %r", where, shorten(what, 100))

    async def _post_once(
        self,
        channel: AlertChannel,
        payload: dict[str, Any],
        attachment: tuple[str, bytes] | None = None,
    ) -> None:
        secret = self._webhooks[channel].get_secret_value()
        limiter = self._limiters.setdefault(secret, WebhookLimiter(*self._rate_limit))
        await self._wait_for_slot(limiter)
        url = httpx.URL(secret).copy_merge_params({"wait": "true"})
        try:
            if attachment is None:
                response = await self._client().post(url, json=payload)
            else:
                name, data = attachment
                response = await self._client().post(
                    url,
                    data={"payload_json": json.dumps(payload)},
                    files={"files[0]": (name, data, _image_type(name))},
                )
        except httpx.TimeoutException:
            raise _Unreachable(f"no answer within {self._timeout:g}s") from None
        except httpx.TransportError as exc:
            raise _Unreachable(f"connection failed ({type(exc).__name__})") from None
        except httpx.HTTPError as exc:
            raise _GiveUp(f"request failed ({type(exc).__name__})") from None
        now = self._clock()
        headers = response.headers
        if headers.get("x-ratelimit-remaining") == "0":
            reset_after = _seconds(headers.get("x-ratelimit-reset-after"))
            if reset_after is not None:
                limiter.pause(now, reset_after)
        status = response.status_code
        if 200 <= status < 300:
            if _is_message(response):
                return
            # With wait=true Discord answers the message it created; any other 2xx (a 204, a
            # proxy's or captive portal's HTML page) proves nothing reached the channel.
            body = _describe_body(response)
            raise _NotProven(f"HTTP {status} without a Discord message ({body})")
        if status < 300:
            raise _NotProven(f"HTTP {status}, not a Discord answer")
        if status == 429:
            wait = _retry_after(response)
            if wait is not None and wait > self._max_wait:
                raise _GiveUp(f"HTTP 429, asked to wait {wait:g}s (more than {self._max_wait:g}s)")
            if wait is not None:
                limiter.pause(now, wait)
            raise _RateLimited(f"HTTP 429 (retry after {wait}s)", retry_after=wait)
        if status >= 500:
            raise _ServerError(f"HTTP {status}")
        raise _GiveUp(f"HTTP {status}{_discord_error(response)}, not retried")

    async def _wait_for_slot(self, limiter: WebhookLimiter) -> None:
        wait = limiter.reserve(self._clock(), self._max_wait)
        if wait is None:
            raise _GiveUp(f"rate limit would hold the alert over {self._max_wait:g}s")
        if wait > 0:
            await self._sleep(wait)
        paused = limiter.paused_until - self._clock()  # a 429 may have arrived meanwhile
        if paused > self._max_wait:
            raise _GiveUp(f"webhook paused by Discord for {paused:g}s")
        if paused > 0:
            await self._sleep(paused)

    def _client(self) -> httpx.AsyncClient:
        """The HTTP client, opened on first use and closed by :meth:`aclose`."""
        if self._http is None:
            self._http = httpx.AsyncClient(
                timeout=httpx.Timeout(self._timeout),
                transport=self._transport,
                follow_redirects=False,
            )
        return self._http


@dataclass
class _Window:
    """One channel's digest window."""

    opened_at: float
    count: int = 0
    held: list[Alert] = field(default_factory=list)
    timer: asyncio.Task[None] | None = None
    closing: bool = False


class DeliveryError(Exception):
    """An embed did not reach Discord. ``unreachable``: no answer at all (timeout,
    connection), so later posts to that webhook in the same drain would likely hang too.
    Never carries the webhook URL."""

    def __init__(self, message: str, *, unreachable: bool = False) -> None:
        super().__init__(message)
        self.unreachable = unreachable


def _payload(embed: dict[str, Any]) -> dict[str, Any]:
    """The webhook body: one embed, and no mention ever pings anyone."""
    return {"embeds": [embed], "allowed_mentions": {"parse": []}}


def _image_type(name: str) -> str:
    lower = name.lower()
    if lower.endswith(".png"):
        return "image/png"
    if lower.endswith(".gif"):
        return "image/gif"
    if lower.endswith(".webp"):
        return "image/webp"
    return "image/jpeg"


class _GiveUp(Exception):
    """Not worth retrying (4xx other than 429, a wait too long). Never carries the URL."""


class _Retryable(Exception):
    """Worth retrying; ``retry_after`` (seconds) is honoured by retry_async."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class _RateLimited(_Retryable):
    pass


class _ServerError(_Retryable):
    pass


class _Unreachable(_Retryable):
    pass


class _NotProven(_Retryable):
    """A 2xx whose body is not the message Discord creates: not counted as delivered."""


def _is_message(response: httpx.Response) -> bool:
    """Whether the body is a Discord message object (JSON with a non-empty ``id``)."""
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and isinstance(body.get("id"), str | int) and bool(body["id"])


def _describe_body(response: httpx.Response) -> str:
    kind = response.headers.get("content-type", "no content type").split(";")[0]
    return f"{len(response.content)} bytes of {kind}"


def _check_webhook(channel: AlertChannel, raw: str | SecretStr | None) -> SecretStr | None:
    """The webhook as a SecretStr, None if blank; ValueError (without the URL) if malformed."""
    value = raw.get_secret_value() if isinstance(raw, SecretStr) else raw
    if value is None or not value.strip():
        return None
    expected = "expected https://discord.com/api/webhooks/<id>/<token>"
    try:
        url = httpx.URL(value.strip())
    except httpx.InvalidURL:
        raise ValueError(
            f"webhook for channel {channel.value!r} is not a URL; {expected}"
        ) from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"webhook for channel {channel.value!r} is not an http(s) URL; {expected}")
    return SecretStr(value.strip())


def _log_only(alert: Alert) -> None:
    extra = "".join(f"\n  {name}: {value}" for name, value in alert.fields)
    logger.info(
        "No Discord webhook for channel %r; alert logged only: [%s] %s: %s%s",
        alert.channel.value,
        alert.level.name,
        alert.title,
        alert.description,
        extra,
    )


def _seconds(text: str | None) -> float | None:
    try:
        return max(float(text), 0.0) if text is not None else None
    except ValueError:
        return None


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds to wait from a 429: the JSON body's ``retry_after``, else ``Retry-After``."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("retry_after"), int | float):
        return max(float(body["retry_after"]), 0.0)
    return _seconds(response.headers.get("retry-after"))


def _discord_error(response: httpx.Response) -> str:
    """Discord's error message and code, e.g. " (Unknown Webhook, code 10015)", if any."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict) or "message" not in body:
        return ""
    code = f", code {body['code']}" if "code" in body else ""
    return f" ({shorten(REDACTOR.redact(str(body['message'])), 200)}{code})"
