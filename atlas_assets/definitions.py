"""The one Definitions object Dagster loads (see workspace.yaml).

    dagster dev -w workspace.yaml          # or: atlas demo

Where configuration comes from: the resources below. Each secret is an ``EnvVar`` (the UI
shows the variable's name, never its value); any setting not set here falls back to
``atlas_core.config.Settings``, i.e. the same-named environment variable or its default.
"""

from __future__ import annotations

import os

from dagster import Definitions, EnvVar

from atlas_assets.assets.alerts import alert_deliveries, alerts_sensor, deliver_alerts_job
from atlas_assets.assets.reports import (
    weekly_channel_reports,
    weekly_report_job,
    weekly_report_schedule,
)
from atlas_assets.assets.retention import retention, retention_job, retention_schedule
from atlas_assets.assets.signals import velocity_anomalies
from atlas_assets.assets.vault import vault_partitions
from atlas_assets.assets.vision import video_vectors
from atlas_assets.assets.youtube import channels_and_stats, video_stats_log, videos
from atlas_assets.checks import checks
from atlas_assets.jobs import discover_job, export_job, refresh_job
from atlas_assets.resources import (
    DatabaseResource,
    NotifierResource,
    VaultResource,
    YouTubeResource,
)
from atlas_assets.schedules import (
    DISCOVERY_CRON,
    REFRESH_CRON,
    build_schedules,
    chunk_from_env,
    cron_from_env,
)
from atlas_assets.sensors import sensors

assets = [
    channels_and_stats,
    videos,
    video_stats_log,
    video_vectors,
    velocity_anomalies,
    vault_partitions,
    alert_deliveries,
    retention,
    weekly_channel_reports,
]


def secret(name: str) -> EnvVar | None:
    """``EnvVar(name)`` when the variable is set; None lets Settings apply its default
    (an unset ``EnvVar`` would fail the whole code location)."""
    return EnvVar(name) if os.environ.get(name) else None


def resources() -> dict[str, object]:
    """The deployment's resources: secrets by reference, the rest from Settings."""
    return {
        "database": DatabaseResource(database_url=secret("DATABASE_URL")),
        "youtube": YouTubeResource(api_key_pool_json=secret("YOUTUBE_API_KEY_POOL_JSON")),
        "vault": VaultResource(hf_token=secret("HF_TOKEN")),
        "notifier": NotifierResource(
            webhook_alerts=secret("DISCORD_WEBHOOK_ALERTS"),
            webhook_hunt=secret("DISCORD_WEBHOOK_HUNT"),
            webhook_surveillance=secret("DISCORD_WEBHOOK_SURVEILLANCE"),
            webhook_ops=secret("DISCORD_WEBHOOK_OPS"),
        ),
    }


defs = Definitions(
    assets=assets,
    asset_checks=checks,
    jobs=[
        discover_job,
        export_job,
        refresh_job,
        deliver_alerts_job,
        retention_job,
        weekly_report_job,
    ],
    schedules=[
        *build_schedules(
            cron_from_env(os.environ, "REFRESH_CRON", REFRESH_CRON),
            cron_from_env(os.environ, "DISCOVERY_CRON", DISCOVERY_CRON),
            chunk_from_env(os.environ),
        ),
        retention_schedule,
        weekly_report_schedule,
    ],
    sensors=[*sensors, alerts_sensor],
    resources=resources(),
)
