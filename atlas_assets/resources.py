"""Dagster resources: each owns one client and hands it out when an asset asks for it.

    async with database.get_connection() as conn: ...     # DatabaseResource
    store = vault.get()                                   # VaultResource
    async with youtube.client(db) as yt: ...              # YouTubeResource
    notifier = notifier_resource.get()                    # NotifierResource (close it)

A field is one setting of ``atlas_core.config.Settings``, named by :func:`setting`; left
``None`` it is the environment's value (or the default). ``definitions.py`` sets the secret
ones to ``dagster.EnvVar`` so the UI and run config show the variable's name, never its value.
Clients are built through ``atlas_core.factories``, the same functions the CLI and scripts
use, and only when first asked for; the ``Settings`` behind them are read once per process
for each distinct set of field values.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from dagster import ConfigurableResource
from pydantic import Field, PrivateAttr

from atlas_core import factories
from atlas_core.config import Settings
from atlas_core.database import DatabaseManager

if TYPE_CHECKING:
    from psycopg import AsyncConnection

    from atlas_core.notifications import DiscordNotifier
    from atlas_core.storage import VaultStrategy
    from atlas_core.youtube import YouTubeClient

SETTING = "atlas_setting"  # the key, in a field's schema extras, naming its Settings field


def setting(name: str) -> Any:
    """A resource field standing for the ``Settings`` field ``name`` (unset: the environment's
    value or the default). ``tests/test_settings.py`` checks every name exists."""
    if name not in Settings.model_fields:
        raise ValueError(f"{name} is not a Settings field; expected one of Settings.model_fields")
    return Field(
        default=None,
        description=f"{name}; unset means the environment's {name} or its default",
        json_schema_extra={SETTING: name},
    )


def setting_name(resource: type[ConfigurableResource], field: str) -> str:  # type: ignore[type-arg]
    """The Settings field a resource field stands for."""
    extra = resource.model_fields[field].json_schema_extra
    assert isinstance(extra, dict), f"{resource.__name__}.{field} is not declared with setting()"
    return str(extra[SETTING])


_settings_lock = threading.Lock()
_settings_cache: dict[tuple[tuple[str, Any], ...], Settings] = {}


def settings_from(*resources: AtlasResource | None) -> Settings:
    """One ``Settings`` from the given resources' fields (later resources win; none overlap),
    read from the environment once per process for each distinct set of values. Raises
    ``ConfigError`` naming each bad variable, never its value."""
    overrides: dict[str, Any] = {}
    for resource in resources:
        if resource is not None:
            overrides.update(resource.overrides())
    key = tuple(sorted(overrides.items()))
    with _settings_lock:
        if key not in _settings_cache:
            _settings_cache[key] = factories.read_settings(**overrides)
        return _settings_cache[key]


def forget_settings() -> None:
    """Forget the Settings read so far: the next use reads the environment again (tests)."""
    with _settings_lock:
        _settings_cache.clear()


class AtlasResource(ConfigurableResource):  # type: ignore[type-arg]
    """A resource whose fields are Settings (declared with :func:`setting`)."""

    def overrides(self) -> dict[str, Any]:
        """The Settings values this resource sets (fields left ``None`` are not set)."""
        values = {setting_name(type(self), f): getattr(self, f) for f in type(self).model_fields}
        return {name: value for name, value in values.items() if value is not None}

    def settings(self) -> Settings:
        """Settings with only this resource's fields applied."""
        return settings_from(self)


class DatabaseResource(AtlasResource):
    """Atlas's PostgreSQL. ``database_url`` unset means the embedded server under
    ``atlas_home``; a URL carries a password, so set it as ``EnvVar("DATABASE_URL")``."""

    database_url: str | None = setting("DATABASE_URL")
    atlas_home: str | None = setting("ATLAS_HOME")
    pool_max_size: int | None = setting("DB_POOL_MAX_SIZE")

    _manager: DatabaseManager | None = PrivateAttr(default=None)

    def get_manager(self) -> DatabaseManager:
        """The resource's pool manager, built on first use (one pool per event loop; close it
        from the loop that used it). Dagster processes never start the embedded server."""
        if self._manager is None:
            self._manager = factories.build_database(self.settings())
        return self._manager

    @asynccontextmanager
    async def get_connection(self) -> AsyncIterator[AsyncConnection]:
        """A connection from this event loop's pool; committed on success."""
        async with self.get_manager().get_connection() as conn:
            yield conn

    def dsn(self) -> str:
        """The connection string, for synchronous readers (sensors). Raises
        ``DatabaseConnectionError`` when the embedded server is not running."""
        return factories.database_dsn(self.settings())


class YouTubeResource(AtlasResource):
    """YouTube Data API v3: the key pool (``EnvVar("YOUTUBE_API_KEY_POOL_JSON")``), the
    endpoint and the compliance mode (one key only)."""

    api_key_pool_json: str | None = setting("YOUTUBE_API_KEY_POOL_JSON")
    api_base_url: str | None = setting("YOUTUBE_API_BASE_URL")
    compliance_mode: bool | None = setting("COMPLIANCE_MODE")
    max_concurrency: int | None = setting("YOUTUBE_MAX_CONCURRENCY")

    def client(self, db: DatabaseManager) -> YouTubeClient:
        """A new API client whose quota ledger writes through ``db`` (``async with`` it: closing
        flushes the quota count)."""
        return factories.build_youtube(self.settings(), db)


class VaultResource(AtlasResource):
    """The Parquet vault: ``provider`` is local, huggingface or gcs; the Hub token is
    ``EnvVar("HF_TOKEN")``."""

    provider: str | None = setting("VAULT_PROVIDER")
    local_path: str | None = setting("LOCAL_VAULT_PATH")
    hf_dataset_id: str | None = setting("HF_DATASET_ID")
    hf_token: str | None = setting("HF_TOKEN")
    hf_endpoint: str | None = setting("HF_ENDPOINT")
    gcs_bucket_name: str | None = setting("GCS_BUCKET_NAME")
    gcs_project: str | None = setting("GCS_PROJECT")
    gcs_endpoint: str | None = setting("GCS_ENDPOINT")

    _vault: VaultStrategy | None = PrivateAttr(default=None)

    def get(self) -> VaultStrategy:
        """The vault, built on first use (its SDK imported only then)."""
        if self._vault is None:
            self._vault = factories.build_vault(self.settings())
        return self._vault


class NotifierResource(AtlasResource):
    """Discord: one webhook per alert channel, each a secret (``EnvVar("DISCORD_WEBHOOK_...")``);
    an unset webhook means that channel's alerts are only logged."""

    webhook_alerts: str | None = setting("DISCORD_WEBHOOK_ALERTS")
    webhook_hunt: str | None = setting("DISCORD_WEBHOOK_HUNT")
    webhook_surveillance: str | None = setting("DISCORD_WEBHOOK_SURVEILLANCE")
    webhook_ops: str | None = setting("DISCORD_WEBHOOK_OPS")

    def get(self) -> DiscordNotifier:
        """A notifier bound to the calling event loop: ``await notifier.aclose()`` when done
        (it flushes pending digests)."""
        return factories.build_notifier(self.settings())


class WebSubResource(AtlasResource):
    """YouTube's push notifications (WebSub): the public callback URL (unset: off), the hub,
    and the secret the hub signs pushes with (``EnvVar("WEBSUB_SECRET")``)."""

    callback_url: str | None = setting("WEBSUB_CALLBACK_URL")
    hub_url: str | None = setting("WEBSUB_HUB_URL")
    secret: str | None = setting("WEBSUB_SECRET")


RESOURCES: tuple[type[AtlasResource], ...] = (
    DatabaseResource,
    YouTubeResource,
    VaultResource,
    NotifierResource,
    WebSubResource,
)
