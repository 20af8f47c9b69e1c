"""The one Definitions object Dagster loads (see workspace.yaml).

dagster dev -w workspace.yaml          # or: atlas demo
"""

from __future__ import annotations

from dagster import Definitions

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
from atlas_assets.schedules import schedules
from atlas_assets.sensors import sensors

assets = [
    channels_and_stats,
    videos,
    video_stats_log,
    video_vectors,
    velocity_anomalies,
    vault_partitions,
    retention,
]

defs = Definitions(
    assets=assets,
    asset_checks=checks,
    jobs=[discover_job, refresh_job, export_job, retention_job],
    schedules=[*schedules, retention_schedule],
    sensors=sensors,
    resources={
        "database": DatabaseResource(),
        "youtube": YouTubeResource(),
        "vault": VaultResource(),
        "notifier": NotifierResource(),
    },
)
