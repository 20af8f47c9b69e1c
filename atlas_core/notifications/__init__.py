"""Discord notifications: alert levels, channels and the notifier.

    from atlas_core import notifier, AlertLevel, AlertChannel
    await notifier.send("Anomaly Detected", "Unusual velocity on video X",
                        channel=AlertChannel.SURVEILLANCE, level=AlertLevel.WARNING,
                        fields={"video_id": "abc123", "delta": "+500%"})

``atlas_core.notifier`` is built by :func:`build_notifier` from the ``DISCORD_*`` settings.
A channel without a webhook logs its alerts at INFO (the embedded default).

Pipeline steps do not send: they write an :class:`Alert` to the outbox
(:func:`atlas_core.store.outbox.enqueue_alert`) in the transaction of its cause, and
:func:`atlas_core.pipeline.alerts.deliver_alerts` posts it. How delivery,
retries, rate limits and digests work: :mod:`atlas_core.notifications.discord`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from atlas_core.notifications.alert import Alert, escape_markdown
from atlas_core.notifications.discord import DeliveryError, DiscordNotifier
from atlas_core.notifications.levels import AlertChannel, AlertLevel

if TYPE_CHECKING:
    from atlas_core.config import Settings

__all__ = [
    "Alert",
    "AlertChannel",
    "AlertLevel",
    "DeliveryError",
    "DiscordNotifier",
    "build_notifier",
    "escape_markdown",
]


def build_notifier(settings: Settings) -> DiscordNotifier:
    """The notifier configured by ``DISCORD_WEBHOOK_*``, ``DISCORD_*`` and ``ENV``."""
    return DiscordNotifier(
        {AlertChannel(name): url for name, url in settings.discord_webhooks.items()},
        environment=settings.ENV,
        timeout=settings.DISCORD_TIMEOUT_SECONDS,
        max_attempts=settings.DISCORD_MAX_ATTEMPTS,
        digest_threshold=settings.DISCORD_DIGEST_THRESHOLD,
        digest_window=settings.DISCORD_DIGEST_WINDOW_SECONDS,
    )
