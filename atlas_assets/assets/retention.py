"""Daily retention (refresh or delete API data past the window) and the compliance audit."""

from datetime import timedelta

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    DefaultScheduleStatus,
    FreshnessPolicy,
    MaterializeResult,
    MetadataValue,
    ScheduleDefinition,
    asset,
    define_asset_job,
)

from atlas_assets.assets.youtube import stopwatch
from atlas_assets.catalog import OWNERS, tags
from atlas_assets.resources import DatabaseResource, VaultResource, YouTubeResource
from atlas_assets.runtime import md_table, services
from atlas_core.pipeline.compliance import BROKEN, audit
from atlas_core.pipeline.retention import apply_retention

# Runs daily at 03:00 UTC; a missed day is a compliance problem.
DAILY = FreshnessPolicy.time_window(
    fail_window=timedelta(hours=30), warn_window=timedelta(hours=26)
)


@asset(
    group_name="compliance",
    pool="youtube_api",
    owners=OWNERS,
    kinds={"postgres", "youtube", "parquet"},
    tags=tags("compliance", "daily"),
    freshness_policy=DAILY,
    check_specs=[AssetCheckSpec("compliance_audit", asset="retention", blocking=True)],
    description="YouTube API policy III.E.4: stats older than RETENTION_DAYS deleted, stale "
    "metadata refreshed (watched) or deleted (not watched), old vectors, history, events and "
    "vault partitions deleted, source-deleted channels and videos purged after the grace period.",
)
async def retention(
    context: AssetExecutionContext,
    database: DatabaseResource,
    youtube: YouTubeResource,
    vault: VaultResource,
) -> MaterializeResult:  # type: ignore[type-arg]  # dagster matches the bare class
    with stopwatch() as took:
        async with services(context, database, youtube=youtube, vault=vault) as svc:
            run = await apply_retention(svc)
            rules = await audit(svc.settings, svc.db, svc.vault, now=svc.clock())
    counts = {f"deleted_{k}": v for k, v in sorted(run.counts.items())}
    broken = [r for r in rules if r.status == BROKEN]
    audit_result = AssetCheckResult(
        check_name="compliance_audit",
        passed=not broken,
        severity=AssetCheckSeverity.ERROR,
        metadata={
            "broken": len(broken),
            "rules": MetadataValue.md(
                md_table(
                    ("rule", "status", "evidence"),
                    [(r.name, r.status, r.evidence) for r in rules],
                    limit=20,
                )
            ),
        },
    )
    return MaterializeResult(
        metadata={
            "applied": run.applied,
            "window_days": run.window_days or 0,
            **counts,
            "refreshed_channels": run.refreshed.get("channels", 0),
            "refreshed_videos": run.refreshed.get("videos", 0),
            "purged_missing_channels": run.purged_missing.get("channels", 0),
            "purged_missing_videos": run.purged_missing.get("videos", 0),
            "quota_units": run.units,
            "seconds": took["seconds"],
        },
        check_results=[audit_result],
    )


retention_job = define_asset_job("retention_job", selection=["retention"])

retention_schedule = ScheduleDefinition(
    name="apply_retention",
    job=retention_job,
    cron_schedule="0 3 * * *",
    default_status=DefaultScheduleStatus.RUNNING,
)
