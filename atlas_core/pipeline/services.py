"""Everything a pipeline step may need, built when first used and closed together on one loop.

async with Services.open(settings) as svc:   # the db pool; clients built when first used
    await refresh_channels(svc)
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

from atlas_core import factories
from atlas_core.config import Settings
from atlas_core.database import DatabaseManager
from atlas_core.event_log import EventBus
from atlas_core.notifications import AlertChannel, AlertLevel
from atlas_core.utils import utc_now

if TYPE_CHECKING:
    import httpx

    from atlas_core.storage import VaultStrategy
    from atlas_core.vision.embedder import Embedder
    from atlas_core.youtube import YouTubeClient


T = TypeVar("T")


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


class Services:
    """What a step may use. Only ``settings``, ``db`` and ``clock`` exist up front; the YouTube
    client, the vault, the notifier, the HTTP client and the embedder are built through
    :mod:`atlas_core.factories` the first time a step asks for one, so a step that never
    embeds never loads a vision model (and a bad model path fails only the step that
    embeds)."""

    def __init__(
        self,
        settings: Settings,
        db: DatabaseManager,
        *,
        vault: VaultStrategy | None = None,
        notifier: Notifier | None = None,
        youtube: YouTubeClient | None = None,
        embedder: Embedder | None = None,
        # The run's tick: the snapshots' key, so a re-run rewrites the same rows. When they
        # were observed is the API's own clock (``youtube.observed_at()``).
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.settings = settings
        self.db = db
        self.clock = clock
        given = {"vault": vault, "notifier": notifier, "youtube": youtube, "embedder": embedder}
        self._clients: dict[str, Any] = {k: v for k, v in given.items() if v is not None}
        self._owned: list[Callable[[], Awaitable[None]]] = []  # closers, in build order

    def _client(self, name: str, build: Callable[[], T], *, closes: bool = False) -> T:
        """The client ``name``, built on first use; ``closes``: ``aclose`` it on exit."""
        if name not in self._clients:
            client = build()
            if closes:
                self._owned.append(getattr(client, "aclose"))  # noqa: B009 - any client type
            self._clients[name] = client
        return cast(T, self._clients[name])

    @property
    def built(self) -> set[str]:
        """The names of the clients built or given so far."""
        return set(self._clients)

    @property
    def youtube(self) -> YouTubeClient:
        return self._client(
            "youtube", lambda: factories.build_youtube(self.settings, self.db), closes=True
        )

    @property
    def vault(self) -> VaultStrategy:
        return self._client("vault", lambda: factories.build_vault(self.settings))

    @property
    def notifier(self) -> Notifier:
        return self._client(
            "notifier", lambda: factories.build_notifier(self.settings), closes=True
        )

    @property
    def http(self) -> httpx.AsyncClient:
        return self._client("http", lambda: factories.build_http(self.settings), closes=True)

    @property
    def embedder(self) -> Embedder:
        return self._client("embedder", lambda: factories.build_embedder(self.settings))

    @property
    def events(self) -> EventBus:
        return EventBus(self.db)

    async def record_skipped_items(self, problems: Sequence[str]) -> None:
        """Record a ``youtube.item_skipped`` event for each malformed API item a call skipped
        (its result's ``problems``)."""
        for problem in problems:
            await self.events.emit("youtube.item_skipped", None, {"problem": problem})

    async def aclose(self) -> None:
        """Close what this object built (the YouTube client flushes its quota count)."""
        owned, self._owned = self._owned, []
        errors: list[BaseException] = []
        for close in reversed(owned):
            try:
                await close()
            except Exception as exc:  # close the rest, then raise the first problem
                errors.append(exc)
        if errors:
            raise errors[0]

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
        """Services for one step; what they build is closed on exit (the pool too, unless
        ``db`` was given)."""
        database = db or factories.build_database(settings)
        services = cls(settings, database, vault=vault, notifier=notifier, clock=clock)
        try:
            yield services
        finally:
            try:
                await services.aclose()
            finally:
                if db is None:
                    await database.close()
