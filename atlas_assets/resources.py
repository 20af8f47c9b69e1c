"""Dagster resources: where the Dagster layer's configuration comes from.

Each resource holds the settings of one concern (database, YouTube, vault, Discord) as plain
fields; ``definitions.py`` fills the secret ones with ``dagster.EnvVar`` so the UI and run
config show the variable's name, never its value. A field left ``None`` falls back to
``atlas_core.config.Settings`` (the same variable in the environment, or its default).

Resources are configuration only: a step turns the resources it was given into one
``Settings`` (:func:`settings_from`) and opens ``atlas_core.pipeline.Services`` from it on its
own event loop (``atlas_assets.runtime.services``), the same constructor scripts use.
"""

from __future__ import annotations

from typing import Any, ClassVar

from dagster import ConfigurableResource

from atlas_core.config import Settings, load_settings


class _SettingsResource(ConfigurableResource):  # type: ignore[type-arg]
    """A resource whose fields map to ``Settings`` names (see ``_FIELDS``)."""

    _FIELDS: ClassVar[dict[str, str]] = {}

    def overrides(self) -> dict[str, Any]:
        """The Settings values this resource sets (fields left ``None`` are not set)."""
        values = {name: getattr(self, attr) for attr, name in self._FIELDS.items()}
        return {name: value for name, value in values.items() if value is not None}

    def settings(self) -> Settings:
        """Settings with only this resource's fields applied."""
        return settings_from(self)


class DatabaseResource(_SettingsResource):
    """Atlas's PostgreSQL. ``database_url`` unset means the embedded server under
    ``atlas_home``; a URL carries a password, so set it as ``EnvVar("DATABASE_URL")``."""

    database_url: str | None = None
    atlas_home: str | None = None
    pool_max_size: int | None = None

    _FIELDS: ClassVar[dict[str, str]] = {
        "database_url": "DATABASE_URL",
        "atlas_home": "ATLAS_HOME",
        "pool_max_size": "DB_POOL_MAX_SIZE",
    }


class YouTubeResource(_SettingsResource):
    """YouTube Data API v3: the key pool (``EnvVar("YOUTUBE_API_KEY_POOL_JSON")``), the
    endpoint and the compliance mode (one key only)."""

    api_key_pool_json: str | None = None
    api_base_url: str | None = None
    compliance_mode: bool | None = None
    max_concurrency: int | None = None

    _FIELDS: ClassVar[dict[str, str]] = {
        "api_key_pool_json": "YOUTUBE_API_KEY_POOL_JSON",
        "api_base_url": "YOUTUBE_API_BASE_URL",
        "compliance_mode": "COMPLIANCE_MODE",
        "max_concurrency": "YOUTUBE_MAX_CONCURRENCY",
    }


class VaultResource(_SettingsResource):
    """The Parquet vault: ``provider`` is local, huggingface or gcs; the Hub token is
    ``EnvVar("HF_TOKEN")``."""

    provider: str | None = None
    local_path: str | None = None
    hf_dataset_id: str | None = None
    hf_token: str | None = None
    hf_endpoint: str | None = None
    gcs_bucket_name: str | None = None
    gcs_project: str | None = None
    gcs_endpoint: str | None = None

    _FIELDS: ClassVar[dict[str, str]] = {
        "provider": "VAULT_PROVIDER",
        "local_path": "LOCAL_VAULT_PATH",
        "hf_dataset_id": "HF_DATASET_ID",
        "hf_token": "HF_TOKEN",
        "hf_endpoint": "HF_ENDPOINT",
        "gcs_bucket_name": "GCS_BUCKET_NAME",
        "gcs_project": "GCS_PROJECT",
        "gcs_endpoint": "GCS_ENDPOINT",
    }


class NotifierResource(_SettingsResource):
    """Discord: one webhook per alert channel, each a secret (``EnvVar("DISCORD_WEBHOOK_...")``);
    an unset webhook means that channel's alerts are only logged."""

    webhook_alerts: str | None = None
    webhook_hunt: str | None = None
    webhook_surveillance: str | None = None
    webhook_ops: str | None = None

    _FIELDS: ClassVar[dict[str, str]] = {
        "webhook_alerts": "DISCORD_WEBHOOK_ALERTS",
        "webhook_hunt": "DISCORD_WEBHOOK_HUNT",
        "webhook_surveillance": "DISCORD_WEBHOOK_SURVEILLANCE",
        "webhook_ops": "DISCORD_WEBHOOK_OPS",
    }


def settings_from(*resources: _SettingsResource | None) -> Settings:
    """One ``Settings`` from the given resources' fields (later resources win; none overlap).
    Raises ``ConfigError`` naming each bad variable, never its value."""
    overrides: dict[str, Any] = {}
    for resource in resources:
        if resource is not None:
            overrides.update(resource.overrides())
    return load_settings(**overrides)
