"""What an alert is, shared by the store (the outbox rows) and the notifiers (the embeds):
its severity, the Discord channel it goes to, and the outbox's :class:`Alert`.

    from atlas_core.alerts_model import Alert, AlertChannel, AlertLevel
    alert = Alert("channel.renamed:UC...:2026-11-28T12:00:00", AlertChannel.SURVEILLANCE,
                  AlertLevel.WARNING, "Channel renamed", "**Old** is now **New**",
                  fields={"channel_id": "UC..."})

``key`` is unique per alert: enqueueing the same key twice (a re-run, a concurrent run)
stores it once. ``image_path`` is a vault path of an image attached to the embed.
Text that comes from YouTube must go through
:func:`atlas_core.notifications.escape_markdown` before it lands in
``title``/``description``/``fields``. Nothing here sends or stores anything: the store
imports this module, never the notification package.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class AlertLevel(Enum):
    """Embed colour per severity."""

    INFO = 0x3498DB
    SUCCESS = 0x2ECC71
    WARNING = 0xF1C40F
    CRITICAL = 0xE74C3C


class AlertChannel(Enum):
    """Discord channel an alert goes to."""

    ALERTS = "alerts"
    HUNT = "hunt"
    SURVEILLANCE = "surveillance"  # DISCORD_WEBHOOK_SURVEILLANCE (not the watchlist)
    OPS = "ops"


# Least to most severe: a digest takes the colour of its worst alert.
SEVERITY: tuple[AlertLevel, ...] = (
    AlertLevel.INFO,
    AlertLevel.SUCCESS,
    AlertLevel.WARNING,
    AlertLevel.CRITICAL,
)


KEY_LIMIT = 400


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
