"""Sensors: the watchlist becomes channel partitions; YouTube's pushes become discovery
runs; failed runs alert OPS."""

import hashlib
from datetime import UTC, datetime

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
from atlas_assets.resources import (
    DatabaseResource,
    NotifierResource,
    WebSubResource,
    settings_from,
)
from atlas_assets.runtime import sensor_dsn
from atlas_core.config import Settings
from atlas_core.factories import build_database
from atlas_core.notifications import AlertChannel, AlertLevel
from atlas_core.pipeline.websub import SubscriptionSync, sync_subscriptions
from atlas_core.store.watchlist import read_watchlist_ids
from atlas_core.store.websub import read_pushes_after
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


@sensor(
    name="websub_pushes",
    job=discover_job,
    minimum_interval_seconds=15,
    default_status=DefaultSensorStatus.RUNNING,
    description="YouTube push notifications (WebSub, no quota): keeps the hub subscribed to "
    "every watched channel and launches discovery of the channels whose new uploads were "
    "pushed, at once, in channel ranges. Off (skips) unless WEBSUB_CALLBACK_URL is set; the "
    "planned discovery checks stay the safety net.",
)
def websub_sensor(
    context: SensorEvaluationContext, database: DatabaseResource, websub: WebSubResource
) -> SensorResult | SkipReason:
    settings = settings_from(database, websub)
    if settings.WEBSUB_CALLBACK_URL is None:
        return SkipReason("push notifications off: WEBSUB_CALLBACK_URL is not set")
    dsn = sensor_dsn(database)
    if isinstance(dsn, SkipReason):
        return dsn
    sync = run_sync(lambda: _sync_subscriptions(settings, dsn))
    if sync.subscribed or sync.unsubscribed or sync.failed:
        context.log.info(
            "websub: %d subscribe and %d unsubscribe requests accepted, %d failed, %d pending",
            len(sync.subscribed),
            len(sync.unsubscribed),
            len(sync.failed),
            sync.pending,
        )
    for channel_id, error in sorted(sync.failed.items())[:5]:
        context.log.warning("websub: %s: %s", channel_id, error)
    pushes = read_pushes_after(dsn, int(context.cursor or 0))
    if not pushes:
        return SkipReason("no new pushes")
    pushed = sorted({p.channel_id for p in pushes if not p.deleted})
    keys = context.instance.get_dynamic_partitions(partitions.channels.name)  # type: ignore[arg-type]
    last = pushes[-1].id
    context.log.info("websub: pushes %d..%d name %d channels", pushes[0].id, last, len(pushed))
    return SensorResult(
        run_requests=partitions.channel_range_requests(
            keys, pushed, partitions.DISCOVERY_CHUNK, run_key=f"websub-{last}"
        ),
        cursor=str(last),
    )


async def _sync_subscriptions(settings: Settings, dsn: str) -> SubscriptionSync:
    db = build_database(settings, dsn=dsn, min_size=1, max_size=1)
    try:
        return await sync_subscriptions(db, settings, datetime.now(UTC))
    finally:
        await db.close()


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


sensors = [watchlist_sensor, websub_sensor, ops_failure_alert]
