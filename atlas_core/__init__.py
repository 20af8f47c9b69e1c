"""Atlas core library: YouTube -> PostgreSQL/pgvector -> Parquet vault, no Dagster inside.

    from atlas_core import db, vault, events, notifier, settings, AlertLevel, AlertChannel

A facade over :mod:`atlas_core.factories`, the one construction path: each name is built on
first access (``settings`` read from the environment once, unless a composition root such as
the CLI's ``main()`` installed its own with :func:`use_settings`), so importing this package
needs no environment. Call :func:`reset` to drop them (tests, or after changing the
environment).
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
    "use_settings",
    "vault",
]

_lock = threading.RLock()
_singletons: dict[str, Any] = {}


def _build(name: str) -> Any:
    from atlas_core import factories

    if name == "settings":
        return factories.read_settings()
    current = _get("settings")
    if name == "db":
        return factories.build_database(current)
    if name == "events":
        from atlas_core.event_log import EventBus  # a view over the pool, nothing to build

        return EventBus(_get("db"))
    if name == "vault":
        return factories.build_vault(current)
    if name == "notifier":
        return factories.build_notifier(current)
    raise AssertionError(name)


def _get(name: str) -> Any:
    with _lock:
        if name not in _singletons:
            _singletons[name] = _build(name)
        return _singletons[name]


def use_settings(settings: Settings) -> None:
    """Make ``settings`` the facade's (the CLI's ``main()`` reads them once); the other names
    are rebuilt from them on next access."""
    with _lock:
        _singletons.clear()
        _singletons["settings"] = settings


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
