"""Channels, their stats, videos per channel, and video stats snapshots."""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from dagster import (
    AssetExecutionContext,
    AssetMaterialization,
    AssetSpec,
    BackfillPolicy,
    Config,
    FreshnessPolicy,
    MaterializeResult,
    MetadataValue,
    asset,
    multi_asset,
)
from pydantic import Field

from atlas_assets import partitions
from atlas_assets.catalog import OWNERS, table_definition, table_metadata, tags
from atlas_assets.resources import DatabaseResource, YouTubeResource
from atlas_assets.runtime import md_table, services
from atlas_core.pipeline import discover_channels, refresh_channels, snapshot_video_stats
from atlas_core.pipeline.planning import plan_video_refresh
from atlas_core.store.tables import row_count, row_counts

GROUP = "youtube"
POOL = "youtube_api"  # run-queue pool limiting concurrent API use (see dagster.yaml)
KINDS = {"youtube", "postgres"}
HOURLY = FreshnessPolicy.time_window(fail_window=timedelta(hours=3), warn_window=timedelta(hours=2))


@contextmanager
def stopwatch() -> Iterator[dict[str, float]]:
    """Measures the block; ``["seconds"]`` is set on exit (materialization metadata)."""
    timing: dict[str, float] = {}
    start = time.perf_counter()
    try:
        yield timing
    finally:
        timing["seconds"] = round(time.perf_counter() - start, 3)


@multi_asset(
    specs=[
        AssetSpec(
            "channels",
            group_name=GROUP,
            description="One row per watched channel: its current title, handle, country and "
            "verified badge. A title change also adds a row to channel_history.",
            owners=OWNERS,
            kinds=KINDS,
            tags=tags(GROUP, "hourly"),
            metadata=table_definition("channels"),
            freshness_policy=HOURLY,
        ),
        AssetSpec(
            "channel_stats_log",
            group_name=GROUP,
            deps=["channels"],
            description="One row per watched channel per refresh run: views, subscribers and "
            "uploads at that run's tick.",
            owners=OWNERS,
            kinds=KINDS,
            tags=tags(GROUP, "hourly"),
            metadata=table_definition("channel_stats_log"),
            freshness_policy=HOURLY,
        ),
    ],
    pool=POOL,
)
async def channels_and_stats(  # type: ignore[no-untyped-def]  # yields one MaterializeResult per asset
    context: AssetExecutionContext,
    database: DatabaseResource,
    youtube: YouTubeResource,
):
    with stopwatch() as took:
        async with services(context, database, youtube=youtube) as svc:
            result = await refresh_channels(svc)
            async with svc.db.get_connection() as conn:
                rows = await row_counts(conn, ["channels", "channel_stats_log"])
    context.log.info(
        "refreshed %d channels, %d renamed, %d missing",
        result.refreshed,
        len(result.renamed),
        len(result.missing),
    )
    yield MaterializeResult(
        asset_key="channels",
        metadata={
            **table_metadata("channels", rows["channels"]),
            "channels": result.refreshed,
            "renamed": len(result.renamed),
            "missing": len(result.missing),
            "quota_units": result.units,
            "seconds": took["seconds"],
            "preview": MetadataValue.md(
                md_table(("channel", "title"), sorted(result.titles.items()))
            ),
            "renames": MetadataValue.md(
                md_table(
                    ("channel", "old", "new"),
                    [(r.channel_id, r.old_title, r.new_title) for r in result.renamed],
                )
            ),
        },
    )
    yield MaterializeResult(
        asset_key="channel_stats_log",
        metadata={
            **table_metadata("channel_stats_log", rows["channel_stats_log"]),
            "rows_written": result.snapshots,
        },
    )


class DiscoveryConfig(Config):
    """Which channels of the run's partition range to check; empty = every one (a run
    launched from the UI). The discovery schedule names the planner's due channels."""

    channel_ids: list[str] = Field(default_factory=list)


@asset(
    group_name=GROUP,
    partitions_def=partitions.channels,
    # Many channels per run: a tick is ceil(due / chunk) runs, a UI backfill the same.
    backfill_policy=BackfillPolicy.multi_run(max_partitions_per_run=partitions.DISCOVERY_CHUNK),
    # Only the channels actually checked are materialized (one event each), not every
    # partition of the run's range: the range spans channels that were not due.
    output_required=False,
    deps=["channels"],
    pool=POOL,
    owners=OWNERS,
    kinds=KINDS,
    tags=tags(GROUP, "hourly"),
    metadata=table_definition("videos"),
    freshness_policy=HOURLY,  # asset-level: some channel's discovery ran within the window
    description="One row per upload of a watched channel (partition = channel id): title, "
    "publication time, duration, topics. Discovery is incremental: it stops at the first "
    "video already known. One run covers a range of channels and checks the planner's due "
    "ones; each checked channel is one materialization of its partition.",
)
async def videos(  # type: ignore[no-untyped-def]  # yields one AssetMaterialization per channel
    context: AssetExecutionContext,
    config: DiscoveryConfig,
    database: DatabaseResource,
    youtube: YouTubeResource,
):
    in_run = list(context.partition_keys)
    named = set(config.channel_ids)
    targets = [k for k in in_run if k in named] if named else in_run
    with stopwatch() as took:
        async with services(context, database, youtube=youtube) as svc:
            sweep = await discover_channels(svc, targets)
            async with svc.db.get_connection() as conn:
                rows = await row_count(conn, "videos")
    context.log.info(
        "%d of %d channels checked in %.1fs: %d new videos",
        len(targets),
        len(in_run),
        took["seconds"],
        len(sweep.new_ids),
    )
    for found in sweep.found:
        yield AssetMaterialization(
            asset_key=context.asset_key,
            partition=found.channel_id,
            metadata={
                **table_metadata("videos", rows),
                "new_videos": len(found.new_ids),
                "missing": len(found.missing),
                "quota_units": found.units,
                "channels_in_run": len(in_run),
                "channels_checked": len(sweep.checked),
                "run_seconds": took["seconds"],
                "preview": MetadataValue.md(
                    md_table(
                        ("video", "title"),
                        [(v, found.titles.get(v, "")) for v in found.new_ids],
                    )
                ),
            },
        )


@asset(
    group_name=GROUP,
    deps=["videos"],
    pool=POOL,
    owners=OWNERS,
    kinds=KINDS,
    tags=tags(GROUP, "hourly"),
    metadata=table_definition("video_stats_log"),
    freshness_policy=HOURLY,
    description="A statistics snapshot of the videos the quota planner chose this tick "
    "(newest hourly, then daily, then weekly; fast movers hourly), 50 ids per API call, "
    "written with COPY.",
)
async def video_stats_log(
    context: AssetExecutionContext,
    database: DatabaseResource,
    youtube: YouTubeResource,
) -> MaterializeResult:  # type: ignore[type-arg]  # dagster matches the bare class
    with stopwatch() as took:
        async with services(context, database, youtube=youtube) as svc:
            plan = await plan_video_refresh(svc)
            snap = await snapshot_video_stats(svc, plan.video_ids)
            async with svc.db.get_connection() as conn:
                rows = await row_count(conn, "video_stats_log")
    return MaterializeResult(
        metadata={
            **table_metadata("video_stats_log", rows),
            **plan.metadata(),
            "videos": snap.videos,
            "rows_written": snap.rows,
            "missing": len(snap.missing),
            "quota_units": snap.units,
            "seconds": took["seconds"],
            "preview": MetadataValue.md(
                md_table(("deleted or private",), [(v,) for v in snap.missing])
                if snap.missing
                else f"{snap.rows} snapshots written, no video missing"
            ),
        }
    )
