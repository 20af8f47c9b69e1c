"""The one place Atlas's clients are built from a ``Settings``.

    settings = read_settings()                    # the environment (and .env), read once
    db = build_database(settings)                 # async pool, opened on first use
    async with build_youtube(settings, db) as yt: ...

Every caller builds through these functions: the Dagster resources (``atlas_assets.resources``),
the CLI's ``main()``, ``Services.open`` and the module facade (``from atlas_core import db``).
Nothing here is built at import time, and no function reads the environment except
:func:`read_settings`, which the composition roots call once per process.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from atlas_core.config import Settings, load_settings
from atlas_core.database import DatabaseManager, resolve_dsn

if TYPE_CHECKING:
    import httpx

    from atlas_core.notifications import DiscordNotifier
    from atlas_core.storage import VaultStrategy
    from atlas_core.vision.embedder import Embedder
    from atlas_core.youtube import YouTubeClient

__all__ = [
    "build_database",
    "build_embedder",
    "build_http",
    "build_notifier",
    "build_vault",
    "build_youtube",
    "database_dsn",
    "read_settings",
]


def read_settings(**overrides: Any) -> Settings:
    """Settings from the environment (and ``.env``) with ``overrides`` on top. Composition roots
    call this once per process and hand the result down; raises ``ConfigError`` naming every
    bad variable."""
    return load_settings(**overrides)


def database_dsn(settings: Settings, *, start_embedded: bool = False) -> str:
    """``DATABASE_URL``, else the embedded server's DSN (started only with ``start_embedded``,
    plain CLI processes only)."""
    return resolve_dsn(settings, start_embedded=start_embedded)


def build_database(
    settings: Settings,
    *,
    dsn: str | None = None,
    start_embedded: bool = False,
    min_size: int | None = None,
    max_size: int | None = None,
) -> DatabaseManager:
    """The async pool configured by ``DATABASE_URL``/``ATLAS_HOME`` and ``DB_POOL_*``; it
    connects on first use."""
    return DatabaseManager(
        dsn,
        settings=settings,
        start_embedded=start_embedded,
        min_size=min_size,
        max_size=max_size,
    )


def build_vault(settings: Settings) -> VaultStrategy:
    """The vault ``VAULT_PROVIDER`` names (its SDK imported only when chosen)."""
    from atlas_core.storage import build_vault as vault_for

    return vault_for(settings)


def build_notifier(settings: Settings) -> DiscordNotifier:
    """The Discord notifier of the ``DISCORD_*`` settings (log-only channels when unset)."""
    from atlas_core.notifications import build_notifier as notifier_for

    return notifier_for(settings)


def build_youtube(
    settings: Settings, db: DatabaseManager, *, clock: Callable[[], datetime] | None = None
) -> YouTubeClient:
    """The YouTube Data API client; its quota ledger writes through ``db``."""
    from atlas_core.youtube import YouTubeClient

    return YouTubeClient(settings, db, clock=clock)


def build_embedder(settings: Settings) -> Embedder:
    """The frame embedder: the ONNX model at ``VISION_MODEL_PATH``, else the perceptual one.
    Loading a model is slow and can fail: only the vision step asks for it."""
    if not settings.VISION_MODEL_PATH:
        from atlas_core.vision.embedder import PerceptualEmbedder

        return PerceptualEmbedder()
    from atlas_core.vision.onnx_embedder import OnnxEmbedder

    return OnnxEmbedder(settings.VISION_MODEL_PATH)


def build_http(settings: Settings) -> httpx.AsyncClient:
    """A plain HTTP client (thumbnails) with the YouTube timeout."""
    import httpx

    return httpx.AsyncClient(timeout=settings.YOUTUBE_TIMEOUT_SECONDS)
