"""Schedules, named for what they do: ``refresh_stats``, ``discover_uploads`` (hourly by
default) and ``export_closed_day`` (00:30 UTC, the day that just ended).

The cadences are module constants; a deployment (or ``atlas demo``) may override the first
two through ``REFRESH_CRON`` / ``DISCOVERY_CRON``, read once by ``definitions.py`` via
:func:`cron_from_env`, which validates them with Dagster's own cron parser. Today's vault
partition is open (``partitions.daily`` ends today): any run for it rewrites it with the rows
so far; ``export_closed_day`` writes each day once more after it ends.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from dagster import (
    DefaultScheduleStatus,
    RunRequest,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    SkipReason,
    schedule,
)
from dagster._utils.schedules import is_valid_cron_string

from atlas_assets import partitions
from atlas_assets.jobs import discover_job, export_job, refresh_job
from atlas_assets.runtime import AS_OF_TAG

REFRESH_CRON = "0 * * * *"  # channels + video stats + anomalies + vectors
DISCOVERY_CRON = "15 * * * *"  # new uploads of every watched channel
EXPORT_CRON = "30 0 * * *"  # yesterday's vault partition, once the day has closed


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
) -> list[ScheduleDefinition]:
    """The three schedules, with the given refresh and discovery cadences."""

    @schedule(
        name="refresh_stats",
        job=refresh_job,
        cron_schedule=refresh_cron,
        default_status=DefaultScheduleStatus.RUNNING,
    )
    def refresh_schedule(context: ScheduleEvaluationContext) -> RunRequest:
        """Channels, video stats, anomalies and new thumbnails, stamped with the tick."""
        return RunRequest(run_key=context.scheduled_execution_time.isoformat(), tags=as_of(context))

    @schedule(
        name="discover_uploads",
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

    @schedule(
        name="export_closed_day",
        job=export_job,
        cron_schedule=EXPORT_CRON,
        execution_timezone="UTC",
        default_status=DefaultScheduleStatus.RUNNING,
    )
    def export_schedule(context: ScheduleEvaluationContext) -> RunRequest:
        """The vault partition of the UTC day before the tick, now that it is complete."""
        day = (context.scheduled_execution_time - timedelta(days=1)).date().isoformat()
        return RunRequest(partition_key=day, run_key=f"closed-{day}")

    return [refresh_schedule, discovery_schedule, export_schedule]


refresh_schedule, discovery_schedule, export_schedule = build_schedules()
