"""Schedules: hourly stats refresh and discovery, daily export.

The cadences are module constants; a deployment (or ``atlas demo``) may override the two
hourly ones through ``REFRESH_CRON`` / ``DISCOVERY_CRON``, read once by ``definitions.py``
via :func:`cron_from_env`, which validates them with Dagster's own cron parser.
"""

from __future__ import annotations

from collections.abc import Mapping

from dagster import (
    DefaultScheduleStatus,
    RunRequest,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    SkipReason,
    build_schedule_from_partitioned_job,
    schedule,
)
from dagster._core.definitions.partitions.partitioned_schedule import (
    UnresolvedPartitionedAssetScheduleDefinition,
)
from dagster._utils.schedules import is_valid_cron_string

from atlas_assets import partitions
from atlas_assets.jobs import discover_job, export_job, refresh_job
from atlas_assets.runtime import AS_OF_TAG

REFRESH_CRON = "0 * * * *"  # channels + video stats + anomalies + vectors
DISCOVERY_CRON = "15 * * * *"  # new uploads of every watched channel


def cron_from_env(environ: Mapping[str, str], name: str, default: str) -> str:
    """``environ[name]`` if set, else ``default``; raises ValueError naming the variable
    when the value is not a cron string Dagster accepts."""
    value = environ.get(name, "").strip() or default
    if not is_valid_cron_string(value):
        raise ValueError(
            f"{name}={value!r} is not a valid cron schedule; expected five fields such as "
            f"{default!r} (minute hour day-of-month month day-of-week)"
        )
    return value


def as_of(context: ScheduleEvaluationContext) -> dict[str, str]:
    """Stamp the run with its tick, so a re-execution writes the same snapshot rows."""
    return {AS_OF_TAG: context.scheduled_execution_time.isoformat()}


def build_schedules(
    refresh_cron: str = REFRESH_CRON, discovery_cron: str = DISCOVERY_CRON
) -> list[ScheduleDefinition | UnresolvedPartitionedAssetScheduleDefinition]:
    """The three schedules, with the given hourly cadences."""

    @schedule(
        name="refresh_stats_hourly",
        job=refresh_job,
        cron_schedule=refresh_cron,
        default_status=DefaultScheduleStatus.RUNNING,
    )
    def refresh_schedule(context: ScheduleEvaluationContext) -> RunRequest:
        """Channels, video stats, anomalies and new thumbnails, stamped with the tick."""
        return RunRequest(run_key=context.scheduled_execution_time.isoformat(), tags=as_of(context))

    @schedule(
        name="discover_videos_hourly",
        job=discover_job,
        cron_schedule=discovery_cron,
        default_status=DefaultScheduleStatus.RUNNING,
    )
    def discovery_schedule(context: ScheduleEvaluationContext) -> list[RunRequest] | SkipReason:
        """One discovery run per watched channel."""
        keys = context.instance.get_dynamic_partitions(partitions.channels.name)  # type: ignore[arg-type]
        if not keys:
            return SkipReason("no channels on the watchlist yet")
        stamp = context.scheduled_execution_time.isoformat()
        return [
            RunRequest(partition_key=k, run_key=f"{k}@{stamp}", tags=as_of(context)) for k in keys
        ]

    export_schedule = build_schedule_from_partitioned_job(
        export_job,
        name="export_vault_daily",
        hour_of_day=0,
        minute_of_hour=30,
        default_status=DefaultScheduleStatus.RUNNING,
    )
    return [refresh_schedule, discovery_schedule, export_schedule]


refresh_schedule, discovery_schedule, export_schedule = build_schedules()
