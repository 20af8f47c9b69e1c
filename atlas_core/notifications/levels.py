"""Alert severities (the embed colour) and the Discord channels an alert can go to."""

from __future__ import annotations

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
