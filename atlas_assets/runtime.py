"""Assemble atlas_core's pipeline Services from the step's resources."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from dagster import AssetExecutionContext

from atlas_assets.resources import (
    DatabaseResource,
    NotifierResource,
    VaultResource,
    YouTubeResource,
)
from atlas_core.pipeline import Services
from atlas_core.pipeline.services import utcnow

AS_OF_TAG = "atlas/as_of"


def run_clock(context: AssetExecutionContext) -> Callable[[], datetime]:
    """The time snapshots are stamped with: the run's ``atlas/as_of`` tag (schedules set it
    to their tick; a re-executed run inherits it, so it rewrites the same rows), else now."""
    stamp = context.run.tags.get(AS_OF_TAG)
    if not stamp:
        return utcnow
    moment = datetime.fromisoformat(stamp)
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return lambda: moment


@asynccontextmanager
async def services(
    context: AssetExecutionContext,
    database: DatabaseResource,
    youtube: YouTubeResource,
    vault: VaultResource,
    notifier: NotifierResource,
) -> AsyncIterator[Services]:
    settings = youtube.settings(database.settings())
    async with Services.open(
        settings,
        db=database.manager,
        vault=vault.get(),
        # No notifier: Services builds one on this step's event loop and closes it.
        clock=run_clock(context),
    ) as svc:
        yield svc


def md_table(header: tuple[str, ...], rows: list[tuple[object, ...]], limit: int = 10) -> str:
    """A short markdown preview for asset metadata."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in rows[:limit]]
    if len(rows) > limit:
        lines.append(f"\n… and {len(rows) - limit} more")
    return "\n".join(lines) if rows else "_nothing new_"
