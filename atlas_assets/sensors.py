"""Sensors: the watchlist becomes channel partitions; failed runs alert OPS. (YouTube's pushes
become discovery runs in :mod:`atlas_assets.websub`.)"""

import hashlib

from dagster import (
    AddDynamicPartitionsRequest,
    DefaultSensorStatus,
    DeleteDynamicPartitionsRequest,
    RunFailureSensorContext,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    run_failure_sensor,
    sensor,
)

from atlas_assets import partitions
from atlas_assets.jobs import discover_job
from atlas_assets.resources import DatabaseResource, NotifierResource
from atlas_assets.runtime import sensor_dsn
from atlas_core.notifications import AlertChannel, AlertLevel
from atlas_core.store.watchlist import read_watchlist_ids
from atlas_core.utils import run_sync


@sensor(
    name="watchlist_sensor",
    job=discover_job,
    minimum_interval_seconds=30,
    default_status=DefaultSensorStatus.RUNNING,
    description="Registers each channel added to the watchlist as a 'channels' partition and "
    "requests first discovery runs (channel ranges, not one run each); removes partitions "
    "of channels taken off it.",
)
def watchlist_sensor(
    context: SensorEvaluationContext, database: DatabaseResource
) -> SensorResult | SkipReason:
    dsn = sensor_dsn(database)
    if isinstance(dsn, SkipReason):
        return dsn
    watched = read_watchlist_ids(dsn)
    digest = hashlib.sha256(",".join(watched).encode()).hexdigest()[:16]
    if context.cursor == digest:
        return SkipReason(f"watchlist unchanged ({len(watched)} channels)")
    known = set(context.instance.get_dynamic_partitions(partitions.channels.name))  # type: ignore[arg-type]
    added = [c for c in watched if c not in known]
    removed = sorted(known - set(watched))
    requests: list[AddDynamicPartitionsRequest | DeleteDynamicPartitionsRequest] = []
    if added:
        requests.append(partitions.channels.build_add_request(added))
    if removed:
        requests.append(partitions.channels.build_delete_request(removed))
    context.log.info(
        "watchlist: %d channels, %d added, %d removed", len(watched), len(added), len(removed)
    )
    # First discovery of the added channels: ranges of DISCOVERY_CHUNK channels per run.
    # They are appended to the partitions in this order, so each range holds only new ones.
    order = [*(k for k in known if k not in removed), *added]
    first = partitions.channel_range_requests(
        order,
        added,
        partitions.DISCOVERY_CHUNK,
        run_key=f"first-discovery-{digest}",
        only_targets=False,
    )
    return SensorResult(
        run_requests=first,
        dynamic_partitions_requests=requests,
        cursor=digest,
    )


@run_failure_sensor(
    name="ops_failure_alert",
    default_status=DefaultSensorStatus.RUNNING,
    description="Sends an OPS alert with the run id and the error of every failed run.",
)
def ops_failure_alert(context: RunFailureSensorContext, notifier: NotifierResource) -> None:
    run = context.dagster_run
    lines = [context.failure_event.message or "the run failed"]
    for step in context.get_step_failure_events():
        data = step.step_failure_data
        error = data.error if data is not None else None
        while (
            error is not None and error.cause is not None
        ):  # the user's error, not Dagster's wrapper
            error = error.cause
        if error is not None:
            lines.append(f"{step.step_key}: {error.message.strip()}")
    run_sync(lambda: _alert(notifier, run.run_id, run.job_name, "\n".join(lines)))


async def _alert(resource: NotifierResource, run_id: str, job_name: str, error: str) -> None:
    notifier = resource.get()
    try:
        await notifier.send(
            f"Run failed: {job_name}",
            error,
            channel=AlertChannel.OPS,
            level=AlertLevel.CRITICAL,
            fields={"run_id": run_id, "job": job_name},
        )
    finally:
        await notifier.aclose()


sensors = [watchlist_sensor, ops_failure_alert]
