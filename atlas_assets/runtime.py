"""Assemble atlas_core's pipeline Services from the step's resources."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from atlas_assets.resources import (
    DatabaseResource,
    NotifierResource,
    VaultResource,
    YouTubeResource,
)
from atlas_core.pipeline import Services


@asynccontextmanager
async def services(
    database: DatabaseResource,
    youtube: YouTubeResource,
    vault: VaultResource,
    notifier: NotifierResource,
) -> AsyncIterator[Services]:
    settings = youtube.settings(database.settings())
    async with Services.open(
        settings, db=database.manager, vault=vault.get(), notifier=notifier.notifier
    ) as svc:
        yield svc


def md_table(header: tuple[str, ...], rows: list[tuple[object, ...]], limit: int = 10) -> str:
    """A short markdown preview for asset metadata."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in rows[:limit]]
    if len(rows) > limit:
        lines.append(f"\n… and {len(rows) - limit} more")
    return "\n".join(lines) if rows else "_nothing new_"
