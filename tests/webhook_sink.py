"""A Discord webhook stand-in on 127.0.0.1: records every request, replays scripted replies.
Bodies are read with the demo inbox's parser (``atlas_simulator.inbox.parse_post``).

    with WebhookSink() as sink:
        url = sink.url()                           # http://127.0.0.1:PORT/api/webhooks/123/secret-token
        sink.script(rate_limited(0.05), Reply(500))  # then the default reply
        ...                                        # post to url
        [request] = sink.delivered()               # requests answered 2xx
        request.json["embeds"][0]["title"]

Replies are taken in order from the queue of the request's path (``script(..., path=...)``),
else from the shared queue, else the default: like Discord, 200 with the message object
(JSON with an ``id``) when the query has ``wait=true``, else 204. A scripted ``Reply(200)``
without a body answers the same way (keeping its delay and headers); script
``Reply(200, b"")`` or ``Reply(200, "<html>...")`` for a 200 that is not Discord's. A
reply's ``delay`` holds the answer back (for timeouts); closing the sink ends such waits at once.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from atlas_simulator.background import BackgroundServer
from atlas_simulator.inbox import parse_post

DEFAULT_PATH = "/api/webhooks/123/secret-token"


@dataclass(frozen=True)
class Reply:
    """One scripted answer. ``body`` is sent as JSON unless it is bytes or str."""

    status: int = 200
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0


def rate_limited(retry_after: float, *, in_header: bool = False, is_global: bool = False) -> Reply:
    """Discord's 429: ``retry_after`` seconds in the JSON body, or only in ``Retry-After``."""
    if in_header:
        return Reply(429, headers={"Retry-After": f"{retry_after:g}"})
    body = {"message": "You are being rate limited.", "retry_after": retry_after}
    return Reply(429, {**body, "global": is_global}, {"Retry-After": f"{retry_after:g}"})


NOT_FOUND = Reply(404, {"message": "Unknown Webhook", "code": 10015})


@dataclass(frozen=True)
class Recorded:
    """One request as the sink saw it (header names lower-cased)."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    status: int  # what the sink answered (or tried to)
    received_at: float  # time.monotonic() on arrival

    @property
    def json(self) -> Any:
        """The JSON body, or a multipart request's ``payload_json`` (Discord's attachments)."""
        return parse_post(self.headers.get("content-type", ""), self.body)[0]

    @property
    def files(self) -> dict[str, tuple[str, bytes]]:
        """A multipart request's files: form field -> (file name, bytes)."""
        return parse_post(self.headers.get("content-type", ""), self.body)[1]


class WebhookSink(BackgroundServer):
    """A real HTTP server in a background thread; use it as a context manager."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: list[Recorded] = []
        self._queues: dict[str | None, deque[Reply]] = {}
        self._arrived = threading.Condition(self._lock)
        self._closing = threading.Event()
        self._message_ids = 0
        server = _QuietServer(("127.0.0.1", 0), _handler_for(self))
        super().__init__(server, name="webhook-sink", poll_interval=0.02)

    def url(self, path: str = DEFAULT_PATH) -> str:
        """A webhook URL on this sink, e.g. ``http://127.0.0.1:PORT/api/webhooks/123/secret-token``."""
        return f"{self.address}/{path.lstrip('/')}"

    def script(self, *replies: Reply, path: str | None = None) -> None:
        """Queue replies for requests to ``path`` (any path if None), used in order."""
        with self._lock:
            self._queues.setdefault(path, deque()).extend(replies)

    @property
    def requests(self) -> list[Recorded]:
        with self._lock:
            return list(self._requests)

    def delivered(self, path: str | None = None) -> list[Recorded]:
        """Requests answered with a 2xx, optionally only those to ``path``."""
        return [
            r for r in self.requests if 200 <= r.status < 300 and (path is None or r.path == path)
        ]

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Recorded]:
        """Block until at least ``count`` requests arrived; AssertionError after ``timeout``."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self._requests) >= count, timeout):
                raise AssertionError(f"expected {count} requests, got {len(self._requests)}")
            return list(self._requests)

    def stop(self) -> None:
        self._closing.set()  # replies held back by a scripted delay end at once
        super().stop()

    close = stop  # bench/soak.py's name for it

    def _next_reply(
        self, path: str, query: dict[str, list[str]], body: bytes, headers: Mapping[str, str]
    ) -> Reply:
        with self._lock:
            for key in (path, None):
                queue = self._queues.get(key)
                if queue:
                    reply = queue.popleft()
                    if reply.body is not None or reply.status != 200:
                        return reply
                    break  # a scripted bare 200 answers like Discord (with its delay/headers)
            else:
                reply = Reply(200)
            if query.get("wait") != ["true"]:
                return Reply(204, headers=reply.headers, delay=reply.delay)
            self._message_ids += 1
            content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
            embeds = parse_post(content_type, body)[0].get("embeds", [])
            message = {"id": str(self._message_ids), "type": 0, "channel_id": "1", "embeds": embeds}
            return Reply(200, message, reply.headers, reply.delay)

    def _record(self, request: Recorded) -> None:
        with self._arrived:
            self._requests.append(request)
            self._arrived.notify_all()


def _handler_for(sink: WebhookSink) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        wbufsize = 1 << 16  # headers and body in one write: no Nagle/delayed-ACK stalls

        def do_POST(self) -> None:
            now = time.monotonic()
            parts = urlsplit(self.path)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            query = parse_qs(parts.query)
            headers = {k.lower(): v for k, v in self.headers.items()}
            reply = sink._next_reply(parts.path, query, body, headers)
            received = Recorded("POST", parts.path, query, headers, body, reply.status, now)
            sink._record(received)
            if reply.delay and sink._closing.wait(reply.delay):
                return
            if isinstance(reply.body, bytes | str):
                data = reply.body.encode() if isinstance(reply.body, str) else reply.body
                content_type = "text/plain"
            else:
                data = b"" if reply.body is None else json.dumps(reply.body).encode()
                content_type = "application/json"
            self.send_response(reply.status)
            if data:
                self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            """Silent: the request line carries the webhook token."""

    return Handler


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default 5 drops concurrent connects (1s SYN retry)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that gave up (timeouts) break the pipe; that is expected here."""
