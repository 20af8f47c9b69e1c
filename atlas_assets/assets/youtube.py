"""Channels, their stats, videos per channel, and video stats snapshots."""

from dagster import (
    AssetExecutionContext,
    AssetSpec,
    MaterializeResult,
    MetadataValue,
    asset,
    multi_asset,
)

from atlas_assets import partitions
from atlas_assets.resources import (
    DatabaseResource,
    NotifierResource,
    VaultResource,
    YouTubeResource,
)
from atlas_assets.runtime import md_table, services
from atlas_core.pipeline import discover_videos, refresh_channels, snapshot_video_stats
from atlas_core.pipeline.planning import plan_video_refresh

GROUP = "youtube"
POOL = "youtube_api"  # run-queue pool limiting concurrent API use (see dagster.yaml)


@multi_asset(
    specs=[
        AssetSpec(
            "channels",
            group_name=GROUP,
            description="Metadata of every watched channel; title changes go to channel_history.",
        ),
        AssetSpec(
            "channel_stats_log",
            group_name=GROUP,
            deps=["channels"],
            description="One statistics snapshot per watched channel per run.",
        ),
    ],
    pool=POOL,
)
async def channels_and_stats(
    context: AssetExecutionContext,
    database: DatabaseResource,
    youtube: YouTubeResource,
    vault: VaultResource,
    notifier: NotifierResource,
):  # yields one MaterializeResult per asset
    async with services(context, database, youtube, vault, notifier) as svc:
        result = await refresh_channels(svc)
    context.log.info(
        "refreshed %d channels, %d renamed, %d missing",
        result.refreshed,
        len(result.renamed),
        len(result.missing),
    )
    yield MaterializeResult(
        asset_key="channels",
        metadata={
            "channels": result.refreshed,
            "renamed": len(result.renamed),
            "missing": len(result.missing),
            "quota_units": result.units,
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
    yield MaterializeResult(asset_key="channel_stats_log", metadata={"rows": result.snapshots})


@asset(
    group_name=GROUP,
    partitions_def=partitions.channels,
    deps=["channels"],
    pool=POOL,
    description="Uploads of one watched channel, discovered incrementally (stops at the first "
    "known video), with details from videos.list.",
)
async def videos(
    context: AssetExecutionContext,
    database: DatabaseResource,
    youtube: YouTubeResource,
    vault: VaultResource,
    notifier: NotifierResource,
) -> MaterializeResult:
    channel_id = context.partition_key
    async with services(context, database, youtube, vault, notifier) as svc:
        found = await discover_videos(svc, channel_id)
    context.log.info("%s: %d new videos", channel_id, len(found.new_ids))
    return MaterializeResult(
        metadata={
            "new_videos": len(found.new_ids),
            "missing": len(found.missing),
            "quota_units": found.units,
            "preview": MetadataValue.md(
                md_table(("video", "title"), [(v, found.titles.get(v, "")) for v in found.new_ids])
            ),
        }
    )


@asset(
    group_name=GROUP,
    deps=["videos"],
    pool=POOL,
    description="A statistics snapshot of the videos the quota planner chose this tick "
    "(newest hourly, then daily, then weekly; fast movers hourly), 50 ids per API call, "
    "written with COPY.",
)
async def video_stats_log(
    context: AssetExecutionContext,
    database: DatabaseResource,
    youtube: YouTubeResource,
    vault: VaultResource,
    notifier: NotifierResource,
) -> MaterializeResult:
    async with services(context, database, youtube, vault, notifier) as svc:
        plan = await plan_video_refresh(svc)
        snap = await snapshot_video_stats(svc, plan.video_ids)
    return MaterializeResult(
        metadata={
            **plan.metadata(),
            "videos": snap.videos,
            "rows": snap.rows,
            "missing": len(snap.missing),
            "quota_units": snap.units,
            "preview": MetadataValue.md(
                md_table(("deleted or private",), [(v,) for v in snap.missing])
                if snap.missing
                else f"{snap.rows} snapshots written, no video missing"
            ),
        }
    )
