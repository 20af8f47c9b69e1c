"""YouTube's error bodies, exactly as the real API sends them, for the simulator.

status, body = ERRORS["quotaExceeded"]()
status, body = bad_request("invalidPageToken", "The request specifies an invalid page token.")
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Body = dict[str, Any]
Response = tuple[int, Body]


def error(
    code: int,
    message: str,
    reason: str,
    domain: str = "youtube.parameter",
    *,
    status: str | None = None,
    location: str | None = None,
    details: list[Body] | None = None,
) -> Response:
    """A Google API error envelope: ``{"error": {"code", "message", "errors": [...]}}``."""
    item: Body = {"message": message, "domain": domain, "reason": reason}
    if location:
        item.update(location=location, locationType="parameter")
    body: Body = {"code": code, "message": message, "errors": [item]}
    if status:
        body["status"] = status
    if details:
        body["details"] = details
    return code, {"error": body}


def bad_request(reason: str, message: str, location: str | None = None) -> Response:
    return error(400, message, reason, status="INVALID_ARGUMENT", location=location)


_QUOTA = (
    "The request cannot be completed because you have exceeded your "
    '<a href="/youtube/v3/getting-started#quota">quota</a>.'
)
_PROJECT = "1045862837251"


def _error_info(reason: str, metadata: dict[str, str]) -> list[Body]:
    return [
        {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": reason,
            "domain": "googleapis.com",
            "metadata": metadata,
        }
    ]


ERRORS: dict[str, Callable[[], Response]] = {
    "quotaExceeded": lambda: error(403, _QUOTA, "quotaExceeded", "youtube.quota"),
    "rateLimitExceeded": lambda: error(
        403, "Rate Limit Exceeded", "rateLimitExceeded", "usageLimits"
    ),
    "userRateLimitExceeded": lambda: error(
        403, "User Rate Limit Exceeded", "userRateLimitExceeded", "usageLimits"
    ),
    "429": lambda: error(
        429,
        "Resource has been exhausted (e.g. check quota).",
        "rateLimitExceeded",
        "global",
        status="RESOURCE_EXHAUSTED",
    ),
    "500": lambda: error(
        500, "Internal error encountered.", "backendError", "global", status="INTERNAL"
    ),
    "503": lambda: error(
        503,
        "The service is currently unavailable.",
        "backendError",
        "global",
        status="UNAVAILABLE",
    ),
    "keyInvalid": lambda: error(
        400,
        "API key not valid. Please pass a valid API key.",
        "badRequest",
        "global",
        status="INVALID_ARGUMENT",
        details=_error_info("API_KEY_INVALID", {"service": "youtube.googleapis.com"}),
    ),
    "forbidden": lambda: error(
        403,
        "The request is missing a valid API key.",
        "forbidden",
        "global",
        status="PERMISSION_DENIED",
    ),
    "accessNotConfigured": lambda: error(
        403,
        f"YouTube Data API v3 has not been used in project {_PROJECT} before or it is "
        "disabled. Enable it by visiting https://console.developers.google.com/apis/api/"
        f"youtube.googleapis.com/overview?project={_PROJECT} then retry. If you enabled this "
        "API recently, wait a few minutes for the action to propagate to our systems and retry.",
        "accessNotConfigured",
        "usageLimits",
        status="PERMISSION_DENIED",
        details=_error_info(
            "SERVICE_DISABLED",
            {"service": "youtube.googleapis.com", "consumer": f"projects/{_PROJECT}"},
        ),
    ),
    "videoNotFound": lambda: error(
        404,
        'The video identified by the <code><a href="/youtube/v3/docs/videos/list#id">id</a>'
        "</code> parameter could not be found.",
        "videoNotFound",
        "youtube.video",
        location="id",
    ),
    "playlistNotFound": lambda: error(
        404,
        "The playlist identified with the request's <code>playlistId</code> parameter "
        "cannot be found.",
        "playlistNotFound",
        "youtube.playlistItem",
        location="playlistId",
    ),
    "notFound": lambda: error(404, "Method not found.", "notFound", "global", status="NOT_FOUND"),
    "search": lambda: error(
        403,
        "The YouTube simulator does not serve search.list (100 quota units a call); "
        "discover uploads through playlistItems.list on the channel's uploads playlist.",
        "forbidden",
        "youtube.search",
        status="PERMISSION_DENIED",
    ),
}
