"""Small shared helpers: YouTube id validation, async retry, health checks.

from atlas_core.utils import validate_youtube_id, retry_async
validate_youtube_id("dQw4w9WgXcQ")   # True

@retry_async(max_attempts=5, delay=2.0, backoff=2.0, exceptions=(httpx.TransportError,))
async def fetch(): ...
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, ParamSpec, TypeVar

logger = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

# A video id is 64 bits in base64url: 10 full characters plus one carrying the last 4 bits,
# so the 11th is one of the 16 characters whose low 2 bits are zero.
_VIDEO_ID = re.compile(r"^[A-Za-z0-9_-]{10}[AEIMQUYcgkosw048]$")
# A channel id is "UC" + 128 bits in base64url: 21 full characters plus one carrying 2 bits.
_CHANNEL_ID = re.compile(r"^UC[A-Za-z0-9_-]{21}[AQgw]$")


def validate_youtube_id(video_id: str) -> bool:
    """True if ``video_id`` is a well-formed YouTube video id (11 characters)."""
    return isinstance(video_id, str) and bool(_VIDEO_ID.fullmatch(video_id))


def validate_channel_id(channel_id: str) -> bool:
    """True if ``channel_id`` is a well-formed channel id (``UC`` + 22 characters)."""
    return isinstance(channel_id, str) and bool(_CHANNEL_ID.fullmatch(channel_id))


Sleep = Callable[[float], Awaitable[Any]]  # an injectable asyncio.sleep


def utc_now() -> datetime:
    """The current time, aware, in UTC (what every TIMESTAMPTZ column is written with)."""
    return datetime.now(UTC)


def as_utc(ts: datetime) -> datetime:
    """The same moment, aware, in UTC; a naive time is taken as UTC. The one normaliser."""
    if ts.tzinfo is UTC:  # the common case, 10x cheaper than astimezone
        return ts
    if ts.tzinfo is None:
        return ts.replace(tzinfo=UTC)
    return ts.astimezone(UTC)


def views_per_hour(
    t1: datetime | None, t2: datetime | None, v1: int | None, v2: int | None
) -> float | None:
    """Views gained per hour from (t2, v2) to (t1, v1); None when a value is missing or the
    interval is not positive."""
    if t1 is None or t2 is None or v1 is None or v2 is None:
        return None
    hours = (t1 - t2).total_seconds() / 3600
    return (v1 - v2) / hours if hours > 0 else None


def run_sync(work: Callable[[], Awaitable[T]]) -> T:
    """``await work()`` on a fresh event loop, from synchronous code that has none (a sensor
    or schedule tick, a CLI command). The loop, and any pool opened on it, ends with it."""
    return asyncio.run(_awaited(work))


async def _awaited(work: Callable[[], Awaitable[T]]) -> T:
    return await work()


def retry_async(
    max_attempts: int = 3,
    delay: float = 1.0,
    backoff: float = 2.0,
    exceptions: tuple[type[BaseException], ...] = (Exception,),
    *,
    jitter: float = 0.0,
    max_delay: float | None = None,
    sleep: Sleep | None = None,
) -> Callable[[Callable[P, Awaitable[T]]], Callable[P, Awaitable[T]]]:
    """Retry an async function on ``exceptions`` with exponential backoff.

    Waits ``delay * backoff**(n-1)`` seconds after the n-th failure, plus up to ``jitter``
    times that at random, capped at ``max_delay``. An exception with a numeric
    ``retry_after`` attribute (seconds, as servers send on 429) waits at least that long.
    After ``max_attempts`` failures the last exception propagates. ``sleep`` is injectable
    for tests; it defaults to ``asyncio.sleep``.
    """
    if max_attempts < 1:
        raise ValueError(f"max_attempts must be at least 1, got {max_attempts}")
    if delay < 0 or backoff < 1:
        raise ValueError(f"expected delay >= 0 and backoff >= 1, got {delay} and {backoff}")

    def decorate(func: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
        @functools.wraps(func)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
            wait = delay
            for attempt in range(1, max_attempts + 1):
                try:
                    return await func(*args, **kwargs)
                except exceptions as exc:
                    if attempt == max_attempts:
                        raise
                    pause = wait + (random.uniform(0, jitter * wait) if jitter else 0.0)
                    if max_delay is not None:
                        pause = min(pause, max_delay)
                    retry_after = getattr(exc, "retry_after", None)
                    if isinstance(retry_after, int | float):
                        pause = max(pause, float(retry_after))
                    logger.warning(
                        "%s failed (attempt %d of %d): %s; retrying in %.2fs",
                        func.__qualname__,
                        attempt,
                        max_attempts,
                        type(exc).__name__,
                        pause,
                    )
                    await (sleep or asyncio.sleep)(pause)
                    wait *= backoff
            raise AssertionError("unreachable")  # pragma: no cover

        return wrapper

    return decorate


async def health_check_all() -> dict[str, bool]:
    """Each component Atlas depends on -> whether it answers. Never raises: a component that
    cannot even be built (say, a vault missing its settings) is down, and the reason logged."""
    import atlas_core

    async def database() -> bool:
        return await atlas_core.db.health_check()

    async def vault() -> bool:
        return await asyncio.to_thread(atlas_core.vault.health_check)

    results: dict[str, bool] = {}
    for name, check in (("database", database), ("vault", vault)):
        try:
            results[name] = bool(await check())
        except Exception as exc:
            logger.error("%s health check failed: %s", name, exc)
            results[name] = False
    return results
