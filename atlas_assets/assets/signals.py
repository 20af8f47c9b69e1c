"""Views-velocity anomalies: a table of the spikes found, each alerting SURVEILLANCE once."""

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from atlas_assets.assets.youtube import HOURLY, stopwatch
from atlas_assets.catalog import OWNERS, table_definition, table_metadata, tags
from atlas_assets.resources import DatabaseResource, VaultResource
from atlas_assets.runtime import md_table, services
from atlas_core.pipeline import scan_anomalies
from atlas_core.store.tables import row_count


@asset(
    group_name="signals",
    deps=["video_stats_log"],
    owners=OWNERS,
    kinds={"postgres", "table"},
    tags=tags("signals", "hourly"),
    freshness_policy=HOURLY,  # the scan runs with every refresh, spikes or not
    metadata=table_definition("velocity_anomalies"),
    description="One row per video whose views per hour jumped (x3 and at least 100/h) "
    "between its last snapshots, with whether it alerted: each spike alerts SURVEILLANCE "
    "once, with its chart (a PNG under evidence/ in the vault, named spike-VIDEO-TIME.png) "
    "attached.",
)
async def velocity_anomalies(
    context: AssetExecutionContext,
    database: DatabaseResource,
    vault: VaultResource,  # each alert's chart is stored in the vault (evidence/)
) -> MaterializeResult:  # type: ignore[type-arg]  # dagster matches the bare class
    with stopwatch() as took:
        async with services(context, database, vault=vault) as svc:
            scan = await scan_anomalies(svc)
            async with svc.db.get_connection() as conn:
                rows = await row_count(conn, "velocity_anomalies")
    found = [(a.video_id, f"{a.rate:,.0f}", f"{a.previous_rate:,.0f}") for a in scan.anomalies]
    return MaterializeResult(
        metadata={
            **table_metadata("velocity_anomalies", rows),
            "anomalies": len(scan.anomalies),
            "alerts": len(scan.alerted),
            "seconds": took["seconds"],
            "preview": MetadataValue.md(md_table(("video", "views/h", "before"), found)),
        }
    )
