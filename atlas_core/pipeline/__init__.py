"""Pipeline steps: each combines the YouTube client, the store, the vault, events and alerts.

    async with Services.open(settings) as svc:
        result = await refresh_channels(svc)

The Dagster assets (``atlas_assets``) are thin wrappers around these functions; a script or
a notebook can call them directly.
"""

from atlas_core.pipeline.channels import ChannelsRefresh, refresh_channels
from atlas_core.pipeline.exports import export_day
from atlas_core.pipeline.services import Services
from atlas_core.pipeline.signals import AnomalyScan, scan_anomalies
from atlas_core.pipeline.vectors import VectorsRun, embed_new_videos
from atlas_core.pipeline.videos import (
    Discovery,
    DiscoverySweep,
    StatsSnapshot,
    discover_channels,
    discover_videos,
    snapshot_video_stats,
)

__all__ = [
    "AnomalyScan",
    "ChannelsRefresh",
    "Discovery",
    "DiscoverySweep",
    "Services",
    "StatsSnapshot",
    "VectorsRun",
    "discover_channels",
    "discover_videos",
    "embed_new_videos",
    "export_day",
    "refresh_channels",
    "scan_anomalies",
    "snapshot_video_stats",
]
