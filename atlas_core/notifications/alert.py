"""One alert as the pipeline writes it to the outbox (see :mod:`atlas_core.store.outbox`).

    from atlas_core.notifications import Alert, AlertChannel, AlertLevel
    alert = Alert("channel.renamed:UC...:2026-11-28T12:00:00", AlertChannel.SURVEILLANCE,
                  AlertLevel.WARNING, "Channel renamed", "**Old** is now **New**",
                  fields={"channel_id": "UC..."})

``key`` is unique per alert: enqueueing the same key twice (a re-run, a concurrent run)
stores it once. ``image_path`` is a vault path of an image attached to the embed.
Text that comes from YouTube must go through :func:`escape_markdown` before it lands in
``title``/``description``/``fields``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from atlas_core.notifications.levels import AlertChannel, AlertLevel

KEY_LIMIT = 400

# Discord markdown: emphasis, code, spoilers, quotes, headings, lists, links, masked links.
_MARKDOWN = re.compile(r"([\\*_~`|>#\-\[\]()<:])")


@dataclass(frozen=True)
class Alert:
    """An alert waiting in the outbox; ``key`` makes it unique."""

    key: str
    channel: AlertChannel
    level: AlertLevel
    title: str
    description: str
    fields: dict[str, str] = field(default_factory=dict)
    image_path: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.key, str) or not self.key.strip():
            raise ValueError(f"Alert.key must be a non-empty string, got {self.key!r}")
        if len(self.key) > KEY_LIMIT:
            raise ValueError(
                f"Alert.key must be at most {KEY_LIMIT} characters, got {len(self.key)}"
            )
        try:
            object.__setattr__(self, "channel", AlertChannel(self.channel))
            object.__setattr__(self, "level", _level(self.level))
        except (ValueError, KeyError):
            raise ValueError(
                f"Alert {self.key!r}: channel must be one of "
                f"{[c.value for c in AlertChannel]} and level one of "
                f"{[lv.name for lv in AlertLevel]}; got {self.channel!r}, {self.level!r}"
            ) from None
        object.__setattr__(self, "fields", {str(k): str(v) for k, v in self.fields.items()})
        if self.image_path is not None and not str(self.image_path).strip():
            object.__setattr__(self, "image_path", None)


def _level(value: AlertLevel | str) -> AlertLevel:
    if isinstance(value, AlertLevel):
        return value
    return AlertLevel[str(value)]


def escape_markdown(text: str) -> str:
    """``text`` shown literally by Discord: markdown characters are backslash-escaped and
    ``@`` gets a zero-width space so ``@everyone``/``@here`` never read as mentions (the
    embeds also set ``allowed_mentions``, so nothing pings in any case)."""
    return _MARKDOWN.sub(r"\\\1", str(text)).replace("@", "@\u200b")
