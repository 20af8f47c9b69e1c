"""The alert outbox's retry path: the ``deliver_alerts`` job (one op) and the sensor that
launches it.

A step posts the alerts it wrote right after its work (``atlas_assets.runtime.services``,
:func:`atlas_core.pipeline.alerts.deliver_new_alerts`). What it could not post stays due in
the outbox; the ``deliver_alerts`` job posts it (:func:`atlas_core.pipeline.alerts.
deliver_alerts`). Posting stores no table of its own (the outbox rows it marks belong to the
steps that wrote them), so it is an op, not an asset: nothing to be fresh, nothing in the
lineage; what it did is the op's output metadata. ``alerts_sensor`` requests a run only when
alerts are due that no step is posting, and never while a delivery run is queued or running.
"""

from dagster import (
    DefaultSensorStatus,
    OpExecutionContext,
    Output,
    RunRequest,
    SensorEvaluationContext,
    SkipReason,
    in_process_executor,
    job,
    op,
    sensor,
)

from atlas_assets.resources import DatabaseResource, NotifierResource
from atlas_assets.runtime import active_run_id, sensor_dsn, services
from atlas_core.pipeline.alerts import INLINE_BUDGET_SECONDS, deliver_alerts
from atlas_core.store.outbox import due_alert_count


@op(
    name="post_due_alerts",
    description="Posts the due alerts of the outbox that the steps writing them could not "
    "post (digests when many are pending; failed posts retried by later runs with backoff).",
)
async def post_due_alerts(
    context: OpExecutionContext, database: DatabaseResource, notifier: NotifierResource
) -> Output[None]:
    async with services(context, database, notifier=notifier) as svc:
        result = await deliver_alerts(svc)
    context.log.info(
        "alerts: %d delivered in %d posts, %d to retry, %d given up",
        result.delivered,
        result.posts,
        result.failed,
        result.given_up,
    )
    return Output(
        None,
        metadata={
            "delivered": result.delivered,
            "posts": result.posts,
            "digests": result.digests,
            "failed": result.failed,
            "given_up": result.given_up,
        },
    )


# A few HTTP posts: the op runs in the run's own process (no step subprocess to start).
@job(
    name="deliver_alerts",
    executor_def=in_process_executor,
    description="Post the due alerts of the outbox to Discord (the retry path: a step posts "
    "its own alerts right after its work).",
)
def deliver_alerts_job() -> None:
    post_due_alerts()


# A step posts its new alerts within INLINE_BUDGET_SECONDS of its work; an alert never tried
# is the sensor's only once it is older than this (a slow step's lease covers the rest).
FRESH_GRACE_SECONDS = 4 * INLINE_BUDGET_SECONDS + 60


@sensor(
    name="alerts_sensor",
    job=deliver_alerts_job,
    minimum_interval_seconds=30,
    default_status=DefaultSensorStatus.RUNNING,
    description="Requests a delivery run when the alert outbox has due alerts that no step "
    "is posting, and never while a delivery run is queued or running.",
)
def alerts_sensor(
    context: SensorEvaluationContext, database: DatabaseResource
) -> RunRequest | SkipReason:
    dsn = sensor_dsn(database)
    if isinstance(dsn, SkipReason):
        return dsn
    due = due_alert_count(dsn, grace_seconds=FRESH_GRACE_SECONDS)
    if not due:
        return SkipReason("no alert due")
    active = active_run_id(context, deliver_alerts_job.name)
    if active:
        return SkipReason(f"{due} alert(s) due; delivery run {active} is on it")
    return RunRequest(tags={"atlas/alerts_due": str(due)})
