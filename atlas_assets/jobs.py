"""Jobs the schedules and sensors launch."""

from __future__ import annotations

from dagster import AssetSelection, define_asset_job

from atlas_assets import partitions

discover_job = define_asset_job(
    "discover_videos",
    selection=AssetSelection.assets("videos"),
    partitions_def=partitions.channels,
    description="Discover new uploads of one watched channel.",
)

refresh_job = define_asset_job(
    "refresh_stats",
    selection=AssetSelection.assets(
        "channels", "channel_stats_log", "video_stats_log", "velocity_anomalies", "video_vectors"
    ),
    description="Refresh channels and all video statistics, scan for anomalies, embed new "
    "thumbnails.",
)

export_job = define_asset_job(
    "export_vault",
    selection=AssetSelection.assets("vault_partitions"),
    partitions_def=partitions.daily,
    description="Write one day's Parquet partitions to the vault.",
)
