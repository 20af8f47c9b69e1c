"""Schedules: hourly stats refresh and discovery, daily export."""

from dagster import (
    DefaultScheduleStatus,
    RunRequest,
    ScheduleEvaluationContext,
    SkipReason,
    build_schedule_from_partitioned_job,
    schedule,
)

from atlas_assets import partitions
from atlas_assets.jobs import discover_job, export_job, refresh_job
from atlas_assets.runtime import AS_OF_TAG
from atlas_core.config import load_settings

_settings = load_settings()


def as_of(context: ScheduleEvaluationContext) -> dict[str, str]:
    """Stamp the run with its tick, so a re-execution writes the same snapshot rows."""
    return {AS_OF_TAG: context.scheduled_execution_time.isoformat()}


@schedule(
    name="refresh_stats_hourly",
    job=refresh_job,
    cron_schedule=_settings.REFRESH_CRON,
    default_status=DefaultScheduleStatus.RUNNING,
)
def refresh_schedule(context: ScheduleEvaluationContext) -> RunRequest:
    """Channels, video stats, anomalies and new thumbnails, stamped with the tick."""
    return RunRequest(run_key=context.scheduled_execution_time.isoformat(), tags=as_of(context))


@schedule(
    name="discover_videos_hourly",
    job=discover_job,
    cron_schedule=_settings.DISCOVERY_CRON,
    default_status=DefaultScheduleStatus.RUNNING,
)
def discovery_schedule(context: ScheduleEvaluationContext) -> list[RunRequest] | SkipReason:
    """One discovery run per watched channel."""
    keys = context.instance.get_dynamic_partitions(partitions.channels.name)  # type: ignore[arg-type]
    if not keys:
        return SkipReason("no channels on the watchlist yet")
    stamp = context.scheduled_execution_time.isoformat()
    return [RunRequest(partition_key=k, run_key=f"{k}@{stamp}", tags=as_of(context)) for k in keys]


export_schedule = build_schedule_from_partitioned_job(
    export_job,
    name="export_vault_daily",
    hour_of_day=0,
    minute_of_hour=30,
    default_status=DefaultScheduleStatus.RUNNING,
)

schedules = [refresh_schedule, discovery_schedule, export_schedule]
