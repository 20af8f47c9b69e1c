"""Dagster resources wrapping atlas_core. Configuration comes from Settings (the environment);
each field here is an optional override, and secrets are passed as ``EnvVar`` so run config
and metadata show the variable's name, never its value.

The database pool is opened inside ``yield_for_execution`` on the step's own event loop and
closed there; async assets run on that same loop.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from dagster import ConfigurableResource, InitResourceContext
from pydantic import PrivateAttr

from atlas_core.config import Settings, load_settings
from atlas_core.database import DatabaseManager
from atlas_core.notifications import DiscordNotifier, build_notifier
from atlas_core.storage import VaultStrategy, build_vault


def _settings(**overrides: Any) -> Settings:
    return load_settings(**{k: v for k, v in overrides.items() if v is not None})


class DatabaseResource(ConfigurableResource):  # type: ignore[type-arg]
    """Atlas's PostgreSQL. Unset ``database_url`` means DATABASE_URL or the embedded server;
    a URL with a password belongs in the environment (``EnvVar("DATABASE_URL")``)."""

    database_url: str | None = None
    atlas_home: str | None = None

    _manager: DatabaseManager | None = PrivateAttr(default=None)

    def settings(self) -> Settings:
        return _settings(DATABASE_URL=self.database_url, ATLAS_HOME=self.atlas_home)

    @asynccontextmanager
    async def yield_for_execution(
        self, context: InitResourceContext
    ) -> AsyncIterator["DatabaseResource"]:
        manager = DatabaseManager(settings=self.settings())
        await manager.initialize()
        self._manager = manager
        try:
            yield self
        finally:
            await manager.close()
            self._manager = None

    @property
    def manager(self) -> DatabaseManager:
        if self._manager is None:
            raise RuntimeError("DatabaseResource is used outside a Dagster step")
        return self._manager


class YouTubeResource(ConfigurableResource):  # type: ignore[type-arg]
    """YouTube Data API settings; the client itself opens per step with the database.
    The API keys come only from YOUTUBE_API_KEY_POOL_JSON, never from run config."""

    api_base_url: str | None = None
    compliance_mode: bool | None = None

    def settings(self, base: Settings) -> Settings:
        overrides = {
            "YOUTUBE_API_BASE_URL": self.api_base_url,
            "COMPLIANCE_MODE": self.compliance_mode,
        }
        merged = {k: v for k, v in overrides.items() if v is not None}
        return base.model_copy(update=_settings(**merged).model_dump(include=set(merged)))


class VaultResource(ConfigurableResource):  # type: ignore[type-arg]
    """The vault backend chosen by VAULT_PROVIDER (or ``provider``)."""

    provider: str | None = None
    local_path: str | None = None

    def get(self) -> VaultStrategy:
        return build_vault(
            _settings(VAULT_PROVIDER=self.provider, LOCAL_VAULT_PATH=self.local_path)
        )


class NotifierResource(ConfigurableResource):  # type: ignore[type-arg]
    """Discord alerts; pending digests are flushed when the step ends. The webhooks (secrets)
    come only from DISCORD_WEBHOOK_*, never from run config."""

    _notifier: DiscordNotifier | None = PrivateAttr(default=None)

    def build(self) -> DiscordNotifier:
        return build_notifier(load_settings())

    @asynccontextmanager
    async def yield_for_execution(
        self, context: InitResourceContext
    ) -> AsyncIterator["NotifierResource"]:
        self._notifier = self.build()
        try:
            yield self
        finally:
            await self._notifier.aclose()
            self._notifier = None

    @property
    def notifier(self) -> DiscordNotifier:
        if self._notifier is None:
            raise RuntimeError("NotifierResource is used outside a Dagster step")
        return self._notifier
