"""Everything a pipeline step needs, opened together and closed together on one event loop.

async with Services.open(settings) as svc:          # db pool, YouTube client, notifier
    await refresh_channels(svc)
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import httpx

from atlas_core.config import Settings
from atlas_core.database import DatabaseManager
from atlas_core.event_log import EventBus
from atlas_core.notifications import AlertChannel, AlertLevel
from atlas_core.storage import VaultStrategy
from atlas_core.utils import utc_now
from atlas_core.vision.embedder import Embedder, PerceptualEmbedder, build_embedder
from atlas_core.youtube import YouTubeClient


class Notifier(Protocol):
    async def send(
        self,
        title: str,
        description: str,
        channel: AlertChannel = ...,
        level: AlertLevel = ...,
        fields: dict[str, str] | None = None,
    ) -> None: ...

    async def post(
        self,
        channel: AlertChannel,
        embed: dict[str, Any],
        attachment: tuple[str, bytes] | None = None,
    ) -> None: ...


@dataclass
class Services:
    settings: Settings
    db: DatabaseManager
    youtube: YouTubeClient
    vault: VaultStrategy
    notifier: Notifier
    http: httpx.AsyncClient
    embedder: Embedder = field(default_factory=PerceptualEmbedder)
    # The run's tick: the snapshots' key, so a re-run rewrites the same rows. When they were
    # observed is the API's own clock (``youtube.observed_at()``).
    clock: Callable[[], datetime] = utc_now

    @property
    def events(self) -> EventBus:
        return EventBus(self.db)

    async def record_skipped_items(self, since: int) -> int:
        """Record a ``youtube.item_skipped`` event for each malformed API item the client
        skipped after the first ``since``; returns the client's new count."""
        skipped = self.youtube.skipped_items
        for problem in skipped[since:]:
            await self.events.emit("youtube.item_skipped", None, {"problem": problem})
        return len(skipped)

    @classmethod
    @asynccontextmanager
    async def open(
        cls,
        settings: Settings,
        *,
        db: DatabaseManager | None = None,
        vault: VaultStrategy | None = None,
        notifier: Any | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> AsyncIterator[Services]:
        """Open the services for one step; closes what it opened, flushing alerts."""
        from atlas_core.notifications import build_notifier
        from atlas_core.storage import build_vault

        own_db = db is None
        database = db or DatabaseManager(settings=settings)
        alerts = notifier or build_notifier(settings)
        try:
            async with (
                YouTubeClient(settings, database) as youtube,
                httpx.AsyncClient(timeout=settings.YOUTUBE_TIMEOUT_SECONDS) as http,
            ):
                yield cls(
                    settings=settings,
                    db=database,
                    youtube=youtube,
                    vault=vault or build_vault(settings),
                    notifier=alerts,
                    http=http,
                    embedder=build_embedder(settings.VISION_MODEL_PATH),
                    clock=clock,
                )
        finally:
            if notifier is None:
                await alerts.aclose()
            if own_db:
                await database.close()
