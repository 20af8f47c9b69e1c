"""Atlas core library: YouTube -> PostgreSQL/pgvector -> Parquet vault, no Dagster inside.

    from atlas_core import db, vault, events, notifier, settings, AlertLevel, AlertChannel

Each singleton is built on first access from :func:`atlas_core.config.load_settings`, so
importing this package needs no environment. Call :func:`reset` to drop them (tests, or after
changing the environment).
"""

from __future__ import annotations

import threading
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

try:
    __version__ = version("atlas")
except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
    __version__ = "0.0.0"

if TYPE_CHECKING:
    from atlas_core.config import Settings
    from atlas_core.database import DatabaseManager
    from atlas_core.event_log import EventBus
    from atlas_core.notifications import AlertChannel, AlertLevel, DiscordNotifier
    from atlas_core.storage import VaultStrategy

    settings: Settings
    db: DatabaseManager
    events: EventBus
    vault: VaultStrategy
    notifier: DiscordNotifier

__all__ = [
    "AlertChannel",
    "AlertLevel",
    "__version__",
    "db",
    "events",
    "notifier",
    "reset",
    "settings",
    "vault",
]

_lock = threading.RLock()
_singletons: dict[str, Any] = {}


def _build(name: str) -> Any:
    if name == "settings":
        from atlas_core.config import load_settings

        return load_settings()
    current = _get("settings")
    if name == "db":
        from atlas_core.database import DatabaseManager

        return DatabaseManager(settings=current)
    if name == "events":
        from atlas_core.event_log import EventBus

        return EventBus(_get("db"))
    if name == "vault":
        from atlas_core.storage import build_vault

        return build_vault(current)
    if name == "notifier":
        from atlas_core.notifications import build_notifier

        return build_notifier(current)
    raise AssertionError(name)


def _get(name: str) -> Any:
    with _lock:
        if name not in _singletons:
            _singletons[name] = _build(name)
        return _singletons[name]


def reset() -> None:
    """Forget every singleton; the next access rebuilds it from the environment."""
    with _lock:
        _singletons.clear()


def __getattr__(name: str) -> Any:
    if name in ("settings", "db", "events", "vault", "notifier"):
        return _get(name)
    if name in ("AlertLevel", "AlertChannel"):
        from atlas_core import notifications

        return getattr(notifications, name)
    raise AttributeError(f"module 'atlas_core' has no attribute {name!r}")
