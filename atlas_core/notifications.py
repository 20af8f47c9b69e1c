"""Discord notifications: levels, channels and the notifier (the notifier lands later)."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from atlas_core.config import Settings


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
    SURVEILLANCE = "watch"
    OPS = "ops"


def build_notifier(settings: Settings) -> Any:
    raise NotImplementedError("the Discord notifier is not built yet (atlas_core.notifications)")


class DiscordNotifier:
    """Placeholder until the notifier lands."""
