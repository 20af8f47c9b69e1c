"""What the YouTube client raises. Every message says what went wrong and what to do.

    from atlas_core.youtube import QuotaExhausted, YouTubeConfigError
    try:
        await client.videos(ids)
    except QuotaExhausted as exc:
        print(exc.resets_at)              # next Pacific midnight, aware UTC datetime

A key is always named by its index in the pool (``API key #0``), never shown.
"""

from __future__ import annotations

from datetime import datetime

__all__ = [
    "ChannelNotFound",
    "QuotaExhausted",
    "YouTubeConfigError",
    "YouTubeError",
    "YouTubeRequestError",
    "YouTubeResponseError",
    "YouTubeUnavailable",
]


class YouTubeError(Exception):
    """Base class of every error the YouTube client raises."""


class YouTubeConfigError(YouTubeError):
    """YouTube refused the configuration (bad, missing or disabled key): fix the settings."""


class QuotaExhausted(YouTubeError):
    """Every usable key has spent today's quota; ``resets_at`` says when it comes back."""

    def __init__(self, message: str, resets_at: datetime) -> None:
        super().__init__(message)
        self.resets_at = resets_at


class ChannelNotFound(YouTubeError, LookupError):
    """The channel does not exist (or is terminated or private)."""

    def __init__(self, ref: str) -> None:
        super().__init__(
            f"YouTube has no channel for {ref!r} (deleted, terminated or never existed); "
            "check the id, handle or URL"
        )
        self.ref = ref
        self.units = 0  # what the call that found out cost (set by the client)


class YouTubeRequestError(YouTubeError):
    """YouTube rejected a request as malformed (HTTP 4xx that retrying cannot fix)."""

    def __init__(self, message: str, *, status: int, reason: str) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason


class YouTubeResponseError(YouTubeError):
    """YouTube answered 200 with a body (or an item) that is not what the endpoint returns."""

    def __init__(self, endpoint: str, problem: str) -> None:
        super().__init__(f"YouTube {endpoint} returned a malformed response: {problem}")
        self.endpoint = endpoint


class YouTubeUnavailable(YouTubeError):
    """A request still failed transiently after every attempt (5xx, 429, rate limit, network)."""


class TransientError(YouTubeError):
    """One attempt failed in a way worth retrying; ``retry_after`` is honoured by retry_async."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class KeyQuotaSpent(YouTubeError):
    """Internal: the key in use hit its daily quota; the pool moves on or gives up."""

    def __init__(self, key_index: int, reason: str) -> None:
        super().__init__(f"API key #{key_index} is out of quota ({reason})")
        self.key_index = key_index
        self.reason = reason


class NotFoundResponse(YouTubeError):
    """Internal: YouTube answered 404 with videoNotFound/channelNotFound/playlistNotFound."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
