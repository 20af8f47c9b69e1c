"""What every asset step (and op) does first: its resources give ``Settings`` and their clients, the
run's clock is read from its tags, and ``atlas_core.pipeline.Services`` opens on the step's
event loop."""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime

from dagster import (
    AssetExecutionContext,
    BetaWarning,
    DagsterRunStatus,
    OpExecutionContext,
    RunsFilter,
    SensorEvaluationContext,
    SkipReason,
)

from atlas_assets.resources import (
    DatabaseResource,
    NotifierResource,
    VaultResource,
    YouTubeResource,
    settings_from,
)
from atlas_core.database import DatabaseManager
from atlas_core.db_errors import DatabaseConnectionError
from atlas_core.pipeline import Services
from atlas_core.pipeline.alerts import posting_new_alerts
from atlas_core.utils import as_utc, utc_now

AS_OF_TAG = "atlas/as_of"

# Dagster 1.13 noise we cannot fix: when the definitions are resolved (the code server, each
# run worker), ``SensorDefinition.with_attributes`` re-creates every sensor that targets an
# asset job and passes ``owners=[]`` itself, which trips the beta notice for a parameter no
# Atlas sensor sets. Only that notice is silenced (partitions.py silences backfill_policy's).
warnings.filterwarnings(
    "ignore",
    message=r"Parameter `owners` of initializer `SensorDefinition.__init__`",
    category=BetaWarning,
)


def run_clock(context: AssetExecutionContext | OpExecutionContext) -> Callable[[], datetime]:
    """The run's tick: the ``atlas/as_of`` tag (schedules set it to their tick; a re-executed
    run inherits it, so it rewrites the same rows), else now. It is the snapshots' idempotency
    key, not the moment they were observed."""
    stamp = context.run.tags.get(AS_OF_TAG)
    if not stamp:
        return utc_now
    moment = as_utc(datetime.fromisoformat(stamp))
    return lambda: moment


@asynccontextmanager
async def services(
    context: AssetExecutionContext | OpExecutionContext,
    database: DatabaseResource,
    *,
    youtube: YouTubeResource | None = None,
    vault: VaultResource | None = None,
    notifier: NotifierResource | None = None,
) -> AsyncIterator[Services]:
    """``Services`` for one step: the database resource's pool and, when the asset asked for
    it, the vault resource's vault; the other clients are built through the same factories
    only if the step uses them. The pool of this step's loop is closed at the end."""
    settings = settings_from(database, youtube, vault, notifier)
    db = database.get_manager()
    try:
        async with Services.open(
            settings,
            db=db,
            vault=vault.get() if vault is not None else None,
            clock=run_clock(context),
        ) as svc:
            if any(settings.discord_webhooks.values()):
                # Alerts the step commits are posted seconds after their commit, while the
                # step goes on (a few seconds per look at most; the ``deliver_alerts`` job
                # retries what is left).
                async with posting_new_alerts(svc):
                    yield svc
            else:
                yield svc
    finally:
        await db.close()


@asynccontextmanager
async def database_only(database: DatabaseResource) -> AsyncIterator[DatabaseManager]:
    """The database resource's pool manager, for steps (exports, checks) that need nothing
    else; this loop's pool is closed at the end."""
    manager = database.get_manager()
    try:
        yield manager
    finally:
        await manager.close()


def sensor_dsn(database: DatabaseResource) -> str | SkipReason:
    """The database a sensor reads, or, when it is down (the embedded server not started),
    a ``SkipReason`` saying what to run: the tick is skipped with that one line, not failed.
    Sensors only connect; they never start the embedded server."""
    try:
        return database.dsn()
    except DatabaseConnectionError as exc:
        return SkipReason(f"database unavailable: {exc}")


def md_table(header: tuple[str, ...], rows: Sequence[tuple[object, ...]], limit: int = 10) -> str:
    """A short markdown preview for asset metadata."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in rows[:limit]]
    if len(rows) > limit:
        lines.append(f"\n… and {len(rows) - limit} more")
    return "\n".join(lines) if rows else "_nothing new_"


# A run in one of these states holds its job's work: a sensor launches no second one.
ACTIVE_RUN_STATUSES = [
    DagsterRunStatus.QUEUED,
    DagsterRunStatus.NOT_STARTED,
    DagsterRunStatus.STARTING,
    DagsterRunStatus.STARTED,
    DagsterRunStatus.CANCELING,
]


def active_run_id(context: SensorEvaluationContext, job_name: str) -> str | None:
    """The id of a queued or running run of ``job_name``, if there is one."""
    records = context.instance.get_run_records(
        RunsFilter(job_name=job_name, statuses=ACTIVE_RUN_STATUSES), limit=1
    )
    return records[0].dagster_run.run_id if records else None
