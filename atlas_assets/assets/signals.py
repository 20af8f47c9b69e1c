"""Views-velocity anomalies -> SURVEILLANCE alerts."""

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from atlas_assets.resources import (
    DatabaseResource,
    NotifierResource,
    VaultResource,
    YouTubeResource,
)
from atlas_assets.runtime import md_table, services
from atlas_core.pipeline import scan_anomalies


@asset(
    group_name="signals",
    deps=["video_stats_log"],
    description="Videos whose views per hour jumped (x3 and at least 100/h) since the previous "
    "snapshots; each anomaly alerts SURVEILLANCE once.",
)
async def velocity_anomalies(
    context: AssetExecutionContext,
    database: DatabaseResource,
    youtube: YouTubeResource,
    vault: VaultResource,
    notifier: NotifierResource,
) -> MaterializeResult:
    async with services(context, database, youtube, vault, notifier) as svc:
        scan = await scan_anomalies(svc)
    rows = [(a.video_id, f"{a.rate:,.0f}", f"{a.previous_rate:,.0f}") for a in scan.anomalies]
    return MaterializeResult(
        metadata={
            "anomalies": len(scan.anomalies),
            "alerted": len(scan.alerted),
            "preview": MetadataValue.md(md_table(("video", "views/h", "before"), rows)),
        }
    )
