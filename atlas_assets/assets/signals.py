"""Views-velocity anomalies -> SURVEILLANCE alerts."""

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from atlas_assets.assets.youtube import HOURLY, stopwatch
from atlas_assets.catalog import OWNERS, tags
from atlas_assets.resources import DatabaseResource, VaultResource
from atlas_assets.runtime import md_table, services
from atlas_core.pipeline import scan_anomalies


@asset(
    group_name="signals",
    deps=["video_stats_log"],
    owners=OWNERS,
    kinds={"postgres"},
    tags=tags("signals", "hourly"),
    freshness_policy=HOURLY,
    description="One entry per video whose views per hour jumped (x3 and at least 100/h) "
    "between its last snapshots; each anomaly alerts SURVEILLANCE once, with its chart "
    "(a PNG under evidence/ in the vault, named spike-VIDEO-TIME.png) attached.",
)
async def velocity_anomalies(
    context: AssetExecutionContext,
    database: DatabaseResource,
    vault: VaultResource,  # each alert's chart is stored in the vault (evidence/)
) -> MaterializeResult:  # type: ignore[type-arg]  # dagster matches the bare class
    with stopwatch() as took:
        async with services(context, database, vault=vault) as svc:
            scan = await scan_anomalies(svc)
    rows = [(a.video_id, f"{a.rate:,.0f}", f"{a.previous_rate:,.0f}") for a in scan.anomalies]
    return MaterializeResult(
        metadata={
            "anomalies": len(scan.anomalies),
            "alerts": len(scan.alerted),
            "seconds": took["seconds"],
            "preview": MetadataValue.md(md_table(("video", "views/h", "before"), rows)),
        }
    )
