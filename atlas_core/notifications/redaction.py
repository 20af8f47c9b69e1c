"""Keeps webhook URLs out of log lines, including httpx's own "HTTP Request: POST <url>".

    REDACTOR.register("https://discord.com/api/webhooks/1/token")
    REDACTOR.install()                       # filter on the "httpx" logger
    REDACTOR.redact("POST https://discord.com/api/webhooks/1/token")   # "POST <webhook>"

Any Discord-shaped ``/api/webhooks/<id>/<token>`` is masked too, registered or not.
"""

from __future__ import annotations

import logging
import re

import httpx


class Redactor(logging.Filter):
    """Rewrites httpx's log lines ("HTTP Request: POST <url> ...") without webhook secrets."""

    _DISCORD_TOKEN = re.compile(r"(/api/webhooks/[^/\s]+/)[^/?#\s\"']+")

    def __init__(self) -> None:
        super().__init__()
        self._secrets: tuple[str, ...] = ()  # longest first; replaced whole, never mutated

    def register(self, webhook: str) -> None:
        """Mask this URL, its path and its query wherever they appear."""
        url = httpx.URL(webhook)
        parts = {webhook, str(url), url.path, url.query.decode("ascii", "replace")}
        known = {*self._secrets, *(part for part in parts if len(part) > 1)}
        self._secrets = tuple(sorted(known, key=len, reverse=True))

    def install(self) -> None:
        """Filter the "httpx" logger (httpcore's loggers name only host and port)."""
        target = logging.getLogger("httpx")
        if self not in target.filters:
            target.addFilter(self)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "<webhook>")
        return self._DISCORD_TOKEN.sub(r"\1<token>", text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = self.redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


REDACTOR = Redactor()
