"""What every asset step does first: its resources become ``Settings``, the run's clock is
read from its tags, and ``atlas_core.pipeline.Services`` opens on the step's event loop."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from dagster import AssetExecutionContext, SkipReason

from atlas_assets.resources import (
    DatabaseResource,
    NotifierResource,
    VaultResource,
    YouTubeResource,
    settings_from,
)
from atlas_core.database import DatabaseConnectionError, DatabaseManager, resolve_dsn
from atlas_core.pipeline import Services
from atlas_core.pipeline.alerts import deliver_new_alerts
from atlas_core.utils import utc_now

AS_OF_TAG = "atlas/as_of"


def run_clock(context: AssetExecutionContext) -> Callable[[], datetime]:
    """The run's tick: the ``atlas/as_of`` tag (schedules set it to their tick; a re-executed
    run inherits it, so it rewrites the same rows), else now. It is the snapshots' idempotency
    key, not the moment they were observed."""
    stamp = context.run.tags.get(AS_OF_TAG)
    if not stamp:
        return utc_now
    moment = datetime.fromisoformat(stamp)
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return lambda: moment


@asynccontextmanager
async def services(
    context: AssetExecutionContext,
    database: DatabaseResource,
    *,
    youtube: YouTubeResource | None = None,
    vault: VaultResource | None = None,
    notifier: NotifierResource | None = None,
) -> AsyncIterator[Services]:
    """``Services`` for one step, built only from the resources the asset asked for. After
    the step's work, the alerts it committed are posted at once (a few seconds at most; the
    ``deliver_alerts`` job retries what is left) when a Discord webhook is configured."""
    settings = settings_from(database, youtube, vault, notifier)
    async with Services.open(settings, clock=run_clock(context)) as svc:
        yield svc
        if any(settings.discord_webhooks.values()):
            await deliver_new_alerts(svc)


@asynccontextmanager
async def database_only(database: DatabaseResource) -> AsyncIterator[DatabaseManager]:
    """A pool on this step's loop, for steps (exports, checks) that need nothing else."""
    manager = DatabaseManager(settings=database.settings())
    try:
        yield manager
    finally:
        await manager.close()


def sensor_dsn(database: DatabaseResource) -> str | SkipReason:
    """The database a sensor reads, or, when it is down (the embedded server not started),
    a ``SkipReason`` saying what to run: the tick is skipped with that one line, not failed.
    Sensors only connect; they never start the embedded server."""
    try:
        return resolve_dsn(database.settings())
    except DatabaseConnectionError as exc:
        return SkipReason(f"database unavailable: {exc}")


def md_table(header: tuple[str, ...], rows: Sequence[tuple[object, ...]], limit: int = 10) -> str:
    """A short markdown preview for asset metadata."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in rows[:limit]]
    if len(rows) > limit:
        lines.append(f"\n… and {len(rows) - limit} more")
    return "\n".join(lines) if rows else "_nothing new_"
