"""Weekly channel reports: one partition per ISO week (Monday to Monday, UTC).

The ``weekly_channel_report`` schedule runs each Monday at 06:00 UTC for the week that just
ended; the current week is a partition too (open, like today's vault partition), so it can be
materialized from the UI at any time and rewritten later.
"""

from datetime import timedelta

from dagster import (
    AssetExecutionContext,
    DefaultScheduleStatus,
    FreshnessPolicy,
    MaterializeResult,
    MetadataValue,
    RunRequest,
    ScheduleEvaluationContext,
    WeeklyPartitionsDefinition,
    asset,
    define_asset_job,
    schedule,
)

from atlas_assets.assets.youtube import stopwatch
from atlas_assets.catalog import OWNERS, tags
from atlas_assets.resources import DatabaseResource, VaultResource
from atlas_assets.runtime import md_table, services
from atlas_core.pipeline.reports import REPORT_DAYS, weekly_reports

# ISO weeks: day_offset=1 starts them on Monday. end_offset=1: the current week is a key.
weekly = WeeklyPartitionsDefinition(
    start_date="2026-01-05", day_offset=1, timezone="UTC", end_offset=1
)


@asset(
    group_name="reports",
    partitions_def=weekly,
    deps=["channel_stats_log", "video_stats_log", "velocity_anomalies"],
    owners=OWNERS,
    kinds={"python", "markdown"},
    tags=tags("reports", "weekly"),
    # Written every Monday for the week before: a report older than 8 days is late.
    freshness_policy=FreshnessPolicy.time_window(
        fail_window=timedelta(days=8), warn_window=timedelta(days=7, hours=12)
    ),
    description=f"Per watched channel, reports/WEEK/CHANNEL.png (subscribers, views and "
    f"uploads over the last {REPORT_DAYS} days) and .md (growth, top videos, alerts of the "
    "week) in the vault, and one SURVEILLANCE digest of the week's three biggest movers.",
)
async def weekly_channel_reports(
    context: AssetExecutionContext, database: DatabaseResource, vault: VaultResource
) -> MaterializeResult:  # type: ignore[type-arg]  # dagster matches the bare class
    week_start = context.partition_time_window.start.date()
    with stopwatch() as took:
        async with services(context, database, vault=vault) as svc:
            run = await weekly_reports(svc, week_start)
    files = [(w.channel_id, f"`{w.png_path}`", f"`{w.md_path}`") for w in run.channels]
    return MaterializeResult(
        metadata={
            "week": run.week,
            "channels": len(run.channels),
            "digest_alerted": run.alerted,
            "seconds": took["seconds"],
            "digest": MetadataValue.md(run.digest),
            "files": MetadataValue.md(md_table(("channel", "chart", "summary"), files)),
        }
    )


weekly_report_job = define_asset_job(
    "weekly_channel_reports_job",
    selection=["weekly_channel_reports"],
    description="Write the weekly channel reports of one week.",
)


@schedule(
    name="weekly_channel_report",
    job=weekly_report_job,
    cron_schedule="0 6 * * 1",
    execution_timezone="UTC",
    default_status=DefaultScheduleStatus.RUNNING,
)
def weekly_report_schedule(context: ScheduleEvaluationContext) -> RunRequest:
    """The week that ended at the tick's Monday 00:00 UTC."""
    week = (context.scheduled_execution_time - timedelta(days=7)).date().isoformat()
    return RunRequest(partition_key=week, run_key=f"week-{week}")
