"""A local stand-in for Discord's webhooks, for ``atlas demo``: Atlas posts its alerts here
exactly as it would to Discord, and each message is handed to a callback (the demo prints it).

    with DiscordInbox(on_message=print_it, folder=Path(".atlas/alerts")) as inbox:
        env["DISCORD_WEBHOOK_HUNT"] = inbox.url("hunt")     # http://127.0.0.1:PORT/api/webhooks/1/hunt

Answers like Discord: 200 with the message object for ``?wait=true``, else 204. Attached
files (Discord's ``files[n]`` multipart fields) are saved under ``folder``.
"""

from __future__ import annotations

import email.policy
import itertools
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from atlas_simulator.background import BackgroundServer


@dataclass(frozen=True)
class InboxMessage:
    """One webhook post: the channel is the last part of its URL path."""

    channel: str
    payload: dict[str, Any]
    files: list[Path] = field(default_factory=list)

    @property
    def embeds(self) -> list[dict[str, Any]]:
        return list(self.payload.get("embeds") or [])


def parse_post(
    content_type: str, body: bytes
) -> tuple[dict[str, Any], dict[str, tuple[str, bytes]]]:
    """(payload, {form field: (file name, bytes)}) of a webhook post, as Discord reads it: a
    JSON body, or multipart/form-data with the JSON in ``payload_json`` and attachments in
    ``files[n]`` fields. The one parser of both Discord stand-ins (the tests' sink uses it).
    Raises ValueError when the JSON does not parse."""
    if not content_type.startswith("multipart/"):
        return (json.loads(body) if body else {}), {}
    message = BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    payload: dict[str, Any] = {}
    files: dict[str, tuple[str, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        decoded = part.get_payload(decode=True)
        data = decoded if isinstance(decoded, bytes) else b""
        filename = part.get_filename()
        if filename:
            files[str(name)] = (filename, data)
        elif name == "payload_json":
            payload = json.loads(data)
    return payload, files


class DiscordInbox(BackgroundServer):
    """A real HTTP server on 127.0.0.1 in a background thread."""

    def __init__(
        self,
        on_message: Callable[[InboxMessage], None],
        folder: Path,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.on_message = on_message
        self.folder = folder
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        super().__init__(
            ThreadingHTTPServer((host, port), _handler_for(self)), name="discord-inbox"
        )

    def url(self, channel: str) -> str:
        """A Discord-shaped webhook URL whose last part names the channel."""
        return f"{self.address}/api/webhooks/1/{channel}"

    def receive(self, channel: str, content_type: str, body: bytes) -> dict[str, Any]:
        """Store the post's files, hand it to the callback, return Discord's message object."""
        payload, files = parse_post(content_type, body)
        with self._lock:
            number = next(self._ids)
            saved = []
            for name, data in files.values():
                self.folder.mkdir(parents=True, exist_ok=True)
                path = self.folder / f"{number:04d}-{Path(name).name}"
                path.write_bytes(data)
                saved.append(path)
            self.on_message(InboxMessage(channel, payload, saved))
        return {"id": str(number), "type": 0, "channel_id": "1", "embeds": payload.get("embeds")}


def _handler_for(inbox: DiscordInbox) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            parts = urlsplit(self.path)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                message = inbox.receive(
                    parts.path.rstrip("/").rsplit("/", 1)[-1],
                    self.headers.get("Content-Type", ""),
                    body,
                )
            except ValueError as exc:  # not JSON: Discord answers 400
                self._answer(400, {"message": f"Cannot parse body: {exc}", "code": 50109})
                return
            if parse_qs(parts.query).get("wait") == ["true"]:
                self._answer(200, message)
            else:
                self._answer(204, None)

        def _answer(self, status: int, body: Any) -> None:
            data = b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            if data:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            """Silent: the demo prints the messages themselves."""

    return Handler
