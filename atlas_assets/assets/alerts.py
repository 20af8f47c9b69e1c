"""The alert outbox's retry path: an asset, its job and the sensor that launches it.

A step posts the alerts it wrote right after its work (``atlas_assets.runtime.services``,
:func:`atlas_core.pipeline.alerts.deliver_new_alerts`). What it could not post stays due in
the outbox; ``alert_deliveries`` posts it (:func:`atlas_core.pipeline.alerts.deliver_alerts`).
``alerts_sensor`` requests a run only when alerts are due that no step is posting, and never
while a delivery run is queued or running.
"""

from dagster import (
    AssetExecutionContext,
    AssetSelection,
    DefaultSensorStatus,
    MaterializeResult,
    RunRequest,
    SensorEvaluationContext,
    SkipReason,
    asset,
    define_asset_job,
    sensor,
)

from atlas_assets.catalog import OWNERS, tags
from atlas_assets.resources import DatabaseResource, NotifierResource
from atlas_assets.runtime import active_run_id, sensor_dsn, services
from atlas_core.pipeline.alerts import INLINE_BUDGET_SECONDS, deliver_alerts
from atlas_core.store.outbox import due_alert_count


@asset(
    group_name="signals",
    owners=OWNERS,
    kinds={"postgres", "discord"},
    tags=tags("signals", "on-demand"),
    description="The retry path of alert delivery: due alerts of the outbox that the steps "
    "writing them could not post, posted to Discord (digests when many are pending; failed "
    "posts retried by later runs with backoff).",
)
async def alert_deliveries(
    context: AssetExecutionContext,
    database: DatabaseResource,
    notifier: NotifierResource,
) -> MaterializeResult:  # type: ignore[type-arg]  # dagster matches the bare class
    async with services(context, database, notifier=notifier) as svc:
        result = await deliver_alerts(svc)
    return MaterializeResult(
        metadata={
            "delivered": result.delivered,
            "posts": result.posts,
            "digests": result.digests,
            "failed": result.failed,
            "given_up": result.given_up,
        }
    )


deliver_alerts_job = define_asset_job(
    "deliver_alerts",
    selection=AssetSelection.assets("alert_deliveries"),
    description="Post the due alerts of the outbox to Discord.",
)


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
