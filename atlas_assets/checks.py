"""Asset checks: the data is plausible and whole."""

from dagster import AssetCheckResult, AssetCheckSeverity, asset_check

from atlas_assets.resources import DatabaseResource
from atlas_core.analysis.quality import implausible_drops, orphan_rows, wrong_dimension_vectors


@asset_check(
    asset="video_stats_log",
    description="No video lost over half its views between "
    "two snapshots (views only grow, bar YouTube's spam corrections).",
)
async def no_implausible_view_drops(database: DatabaseResource) -> AssetCheckResult:
    async with database.manager.get_connection() as conn:
        drops = await implausible_drops(conn)
    return AssetCheckResult(
        passed=not drops,
        severity=AssetCheckSeverity.WARN,
        metadata={
            "drops": len(drops),
            "examples": "; ".join(f"{v}: {a}->{b}" for v, a, b in drops[:5]) or "none",
        },
    )


@asset_check(asset="video_vectors", description="Every vector has 512 dimensions.")
async def vectors_are_512_d(database: DatabaseResource) -> AssetCheckResult:
    async with database.manager.get_connection() as conn:
        wrong = await wrong_dimension_vectors(conn)
    return AssetCheckResult(passed=wrong == 0, metadata={"wrong_dimension": wrong})


@asset_check(
    asset="video_stats_log",
    description="No orphan rows: every video, stats row and vector has its parent.",
)
async def no_orphan_rows(database: DatabaseResource) -> AssetCheckResult:
    async with database.manager.get_connection() as conn:
        orphans = await orphan_rows(conn)
    return AssetCheckResult(passed=not any(orphans.values()), metadata=dict(orphans))


checks = [no_implausible_view_drops, vectors_are_512_d, no_orphan_rows]
