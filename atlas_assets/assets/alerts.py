"""The alert outbox drained to Discord: an asset, its job and the sensor that launches it.

Pipeline steps only write alerts to the outbox; ``alert_deliveries`` posts them
(:func:`atlas_core.pipeline.alerts.deliver_alerts`). ``alerts_sensor`` requests a run when
alerts are due.
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
from atlas_assets.runtime import sensor_dsn, services
from atlas_core.pipeline.alerts import deliver_alerts
from atlas_core.store.outbox import due_alert_count


@asset(
    group_name="signals",
    owners=OWNERS,
    kinds={"postgres", "discord"},
    tags=tags("signals", "on-demand"),
    description="Due alerts of the outbox posted to Discord (digests when many are pending; "
    "failed posts retried by later runs with backoff).",
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


@sensor(
    name="alerts_sensor",
    job=deliver_alerts_job,
    minimum_interval_seconds=30,
    default_status=DefaultSensorStatus.RUNNING,
    description="Requests a delivery run when the alert outbox has due alerts.",
)
def alerts_sensor(
    context: SensorEvaluationContext, database: DatabaseResource
) -> RunRequest | SkipReason:
    dsn = sensor_dsn(database)
    if isinstance(dsn, SkipReason):
        return dsn
    due = due_alert_count(dsn)
    if not due:
        return SkipReason("no alert due")
    return RunRequest(tags={"atlas/alerts_due": str(due)})
