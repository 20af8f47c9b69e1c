"""Jobs the schedules and sensors launch."""

from __future__ import annotations

from dagster import AssetSelection, define_asset_job, in_process_executor

# Every run of a job carries its job's tags. deploy/dagster.yaml allows one run per lane at a
# time: discovery runs cover channel ranges (no dagster/partition tag) that can share a channel
# across ticks, and two refreshes of the same tables would do the work twice.
LANE_TAG = "atlas/lane"

# Runs of these jobs execute their steps in the run's own process (in_process_executor): the
# default multiprocess executor starts a process per step, and each imports the code location
# again (seconds idle, tens of seconds on a loaded machine) for steps that mostly wait on the
# API and the database. Steps run one after another; a refresh's four are a chain anyway.

discover_job = define_asset_job(
    "discover_videos",
    selection=AssetSelection.assets("videos"),
    tags={LANE_TAG: "discovery"},
    executor_def=in_process_executor,
    description="Discover new uploads of a range of watched channels (the due ones when "
    "launched by the discovery schedule).",
)

refresh_job = define_asset_job(
    "refresh_stats",
    selection=AssetSelection.assets(
        "channels", "channel_stats_log", "video_stats_log", "velocity_anomalies"
    ),
    tags={LANE_TAG: "refresh"},
    executor_def=in_process_executor,
    description="Refresh channels and all video statistics, scan for anomalies (new "
    "thumbnails are hunted by hunt_reuploads, launched by hunt_sensor).",
)

export_job = define_asset_job(
    "export_vault",
    selection=AssetSelection.assets("vault_partitions"),
    description="Write one day's Parquet partitions to the vault.",
)
