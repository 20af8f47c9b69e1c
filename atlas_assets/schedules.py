"""Schedules, named for what they do: ``refresh_stats``, ``discover_uploads`` (hourly by
default) and ``export_closed_day`` (00:30 UTC, the day that just ended).

The cadences are module constants; a deployment (or ``atlas demo``) may override the two
hourly ones through ``REFRESH_CRON`` / ``DISCOVERY_CRON`` (and the channels per discovery run
through ``DISCOVERY_CHUNK_SIZE``), read once by ``definitions.py``
(:func:`schedules_from_env`), validated with Dagster's own cron parser. Importing this module
reads no environment.
Today's vault
partition is open (``partitions.daily`` ends today): any run for it rewrites it with the rows
so far; ``export_closed_day`` writes each day once more after it ends.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from dagster import (
    DagsterInvalidDefinitionError,
    DefaultScheduleStatus,
    RunRequest,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    SkipReason,
    schedule,
)

from atlas_assets import partitions
from atlas_assets.jobs import discover_job, export_job, refresh_job
from atlas_assets.resources import DatabaseResource
from atlas_assets.runtime import AS_OF_TAG
from atlas_core.pipeline.planning import due_channels
from atlas_core.utils import as_utc, run_sync

REFRESH_CRON = "0 * * * *"  # channels + video stats + anomalies + vectors
DISCOVERY_CRON = "15 * * * *"  # new uploads of every watched channel
EXPORT_CRON = "30 0 * * *"  # yesterday's vault partition, once the day has closed


def cron_from_env(environ: Mapping[str, str], name: str, default: str) -> str:
    """``environ[name]`` if set, else ``default``; raises ValueError naming the variable
    when the value is not a cron string Dagster accepts."""
    value = environ.get(name, "").strip() or default
    try:  # Dagster's own parser, through its public API
        ScheduleDefinition(name="cron_check", cron_schedule=value, job_name="cron_check")
    except DagsterInvalidDefinitionError:
        raise ValueError(
            f"{name}={value!r} is not a valid cron schedule; expected five fields such as "
            f"{default!r} (minute hour day-of-month month day-of-week)"
        ) from None
    return value


def chunk_from_env(environ: Mapping[str, str]) -> int:
    """``DISCOVERY_CHUNK_SIZE`` (channels per scheduled discovery run), else the default;
    raises ValueError naming the variable when it is not a positive integer."""
    raw = environ.get("DISCOVERY_CHUNK_SIZE", "").strip()
    if not raw:
        return partitions.DISCOVERY_CHUNK
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"DISCOVERY_CHUNK_SIZE={raw!r} must be a positive number of channels")
    return int(raw)


def as_of(context: ScheduleEvaluationContext) -> dict[str, str]:
    """Stamp the run with its tick, so a re-execution writes the same snapshot rows."""
    return {AS_OF_TAG: context.scheduled_execution_time.isoformat()}


def build_schedules(
    refresh_cron: str = REFRESH_CRON,
    discovery_cron: str = DISCOVERY_CRON,
    discovery_chunk: int = partitions.DISCOVERY_CHUNK,
) -> list[ScheduleDefinition]:
    """The three schedules, with the given hourly cadences and channels per discovery run."""

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
    def discovery_schedule(
        context: ScheduleEvaluationContext, database: DatabaseResource
    ) -> list[RunRequest] | SkipReason:
        """The planner's due channels (learned cadence, inside today's budget), in runs of
        ``discovery_chunk`` channels: a tick is a bounded number of runs, not one per
        channel."""
        keys = context.instance.get_dynamic_partitions(partitions.channels.name)  # type: ignore[arg-type]
        if not keys:
            return SkipReason("no channels on the watchlist yet")
        tick = context.scheduled_execution_time
        now = as_utc(tick)
        due = run_sync(lambda: _due(database, now))
        if not due:
            return SkipReason(f"no channel due a discovery check ({len(keys)} watched)")
        return partitions.channel_range_requests(
            keys, due, discovery_chunk, run_key=f"discovery@{tick.isoformat()}", tags=as_of(context)
        )

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


def schedules_from_env(environ: Mapping[str, str]) -> list[ScheduleDefinition]:
    """The three schedules with the deployment's cadences (``atlas demo`` sets faster ones);
    ``definitions.py`` calls this once. Raises ValueError naming a bad variable."""
    return build_schedules(
        cron_from_env(environ, "REFRESH_CRON", REFRESH_CRON),
        cron_from_env(environ, "DISCOVERY_CRON", DISCOVERY_CRON),
        chunk_from_env(environ),
    )


async def _due(database: DatabaseResource, now: datetime) -> list[str]:
    db = database.get_manager()
    try:
        return await due_channels(db, database.settings(), now)
    finally:
        await db.close()
