"""YouTube push notifications (WebSub) in Dagster: the hub requests are a job's work, the
sensors only read the database.

- ``websub_subscriptions`` (sensor) asks the database how many hub requests are owed (new
  channels, leases ending within a day, channels taken off the watchlist) and, when some are
  and no run of the job is in flight, launches ``sync_websub_subscriptions``;
- ``sync_websub_subscriptions`` (job, lane ``websub``) sends at most ``limit`` requests
  (200 by default); what is left is the next run's;
- ``websub_pushes`` (sensor) turns the pushes the receiver queued into discovery runs over
  channel ranges.

All three are off (skip) unless ``WEBSUB_CALLBACK_URL`` is set; the planned discovery checks
stay the safety net.
"""

from dagster import (
    Config,
    DefaultSensorStatus,
    OpExecutionContext,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    job,
    op,
    sensor,
)
from pydantic import Field

from atlas_assets import partitions
from atlas_assets.jobs import LANE_TAG, discover_job
from atlas_assets.resources import DatabaseResource, WebSubResource, settings_from
from atlas_assets.runtime import active_run_id, database_only, sensor_dsn
from atlas_core.pipeline.websub import SYNC_LIMIT, subscription_requests_due, sync_subscriptions
from atlas_core.store.websub import read_pushes_after
from atlas_core.utils import utc_now

OFF = "push notifications off: WEBSUB_CALLBACK_URL is not set"


def _dsn_when_on(database: DatabaseResource, websub: WebSubResource) -> str | SkipReason:
    """The database a WebSub sensor reads, or why its tick is skipped (off, database down)."""
    if settings_from(database, websub).WEBSUB_CALLBACK_URL is None:
        return SkipReason(OFF)
    return sensor_dsn(database)


class SubscriptionSyncConfig(Config):
    limit: int = Field(default=SYNC_LIMIT, ge=1, description="Hub requests this run sends at most.")


@op(
    name="sync_subscriptions",
    description="Subscribe watched channels without a live lease (or one ending within a "
    "day) at the hub, unsubscribe channels taken off the watchlist: at most `limit` requests.",
)
async def sync_subscriptions_op(
    context: OpExecutionContext,
    config: SubscriptionSyncConfig,
    database: DatabaseResource,
    websub: WebSubResource,
) -> None:
    settings = settings_from(database, websub)
    if settings.WEBSUB_CALLBACK_URL is None:
        raise ValueError(f"{OFF}: the hub would have no callback to verify at")
    async with database_only(database) as db:
        sync = await sync_subscriptions(db, settings, utc_now(), limit=config.limit)
    context.log.info(
        "websub: %d subscribe and %d unsubscribe requests accepted, %d failed, %d left for "
        "the next run",
        len(sync.subscribed),
        len(sync.unsubscribed),
        len(sync.failed),
        sync.pending,
    )
    for channel_id, error in sorted(sync.failed.items())[:5]:
        context.log.warning("websub: %s: %s (retried after an hour)", channel_id, error)


@job(
    name="sync_websub_subscriptions",
    tags={LANE_TAG: "websub"},
    description="Keep the WebSub hub subscribed to every watched channel (bounded per run).",
)
def sync_websub_job() -> None:
    sync_subscriptions_op()


@sensor(
    name="websub_subscriptions",
    job=sync_websub_job,
    minimum_interval_seconds=60,
    default_status=DefaultSensorStatus.RUNNING,
    description="Launches sync_websub_subscriptions when hub requests are owed (a new "
    "channel, a lease ending within a day, a channel taken off the watchlist) and no run of "
    "it is in flight. Off (skips) unless WEBSUB_CALLBACK_URL is set.",
)
def websub_subscriptions(
    context: SensorEvaluationContext, database: DatabaseResource, websub: WebSubResource
) -> RunRequest | SkipReason:
    dsn = _dsn_when_on(database, websub)
    if isinstance(dsn, SkipReason):
        return dsn
    in_flight = active_run_id(context, sync_websub_job.name)
    if in_flight is not None:
        return SkipReason(f"subscription run {in_flight} is in flight")
    owed = subscription_requests_due(dsn, utc_now())
    if not owed:
        return SkipReason("no hub request owed: every watched channel holds a live lease")
    context.log.info("websub: %d hub requests owed", owed)
    return RunRequest()


@sensor(
    name="websub_pushes",
    job=discover_job,
    minimum_interval_seconds=15,
    default_status=DefaultSensorStatus.RUNNING,
    description="YouTube push notifications (WebSub, no quota): launches discovery of the "
    "channels whose new uploads were pushed, at once, in channel ranges. Off (skips) unless "
    "WEBSUB_CALLBACK_URL is set; the planned discovery checks stay the safety net.",
)
def websub_pushes(
    context: SensorEvaluationContext, database: DatabaseResource, websub: WebSubResource
) -> SensorResult | SkipReason:
    dsn = _dsn_when_on(database, websub)
    if isinstance(dsn, SkipReason):
        return dsn
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
