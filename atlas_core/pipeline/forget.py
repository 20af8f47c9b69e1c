"""Forget a channel: every trace of it, in the database and in the vault.

plan = await forget_channel(db, vault, "UC...", dry_run=True)   # what would go; changes nothing
done = await forget_channel(db, vault, "UC...")                 # counts per table and in the vault

Steps, each safe to repeat: (1) a ``forget_requests`` row records the channel and its video ids
and the channel leaves the watchlist; (2) its evidence folders and its rows inside every vault
partition go (partitions are rewritten); (3) every row about it is deleted in one transaction
together with the request row. An interrupted run resumes from the request when run again.
One ``forget.applied`` event keeps the counts, never the ids or the data. Dagster's channel
partition is deleted by the watchlist sensor once the channel is no longer watched.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from atlas_core.database import DatabaseManager
from atlas_core.event_log import EventBus
from atlas_core.storage import VaultStrategy
from atlas_core.storage.scrub import drop_evidence, scrub_partitions
from atlas_core.store.retention import (
    Counts,
    channel_footprint,
    close_forget_request,
    delete_channels,
    mark_forget_vault_done,
    open_forget_request,
)


@dataclass(frozen=True)
class Forgotten:
    channel_id: str
    dry_run: bool
    rows: Counts = field(default_factory=dict)  # per table
    vault_files: int = 0  # evidence files deleted
    vault_rows: int = 0  # rows removed from partitions
    partitions_rewritten: int = 0

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


async def forget_channel(
    db: DatabaseManager, vault: VaultStrategy, channel_id: str, *, dry_run: bool = False
) -> Forgotten:
    if dry_run:
        async with db.get_connection() as conn:
            rows = await channel_footprint(conn, channel_id)
        return Forgotten(channel_id, True, rows=rows)
    async with db.get_connection() as conn:
        video_ids, vault_done = await open_forget_request(conn, channel_id)
    files = vault_rows = rewritten = 0
    if not vault_done:
        files = await asyncio.to_thread(drop_evidence, vault, video_ids)
        vault_rows, rewritten = await asyncio.to_thread(
            scrub_partitions, vault, [channel_id], video_ids
        )
        async with db.get_connection() as conn:
            await mark_forget_vault_done(conn, channel_id)
    async with db.get_connection() as conn:
        rows = await delete_channels(conn, [channel_id], video_ids)
        await close_forget_request(conn, channel_id)
    result = Forgotten(channel_id, False, rows, files, vault_rows, rewritten)
    if not (result.total_rows or files or vault_rows):
        return result  # nothing was held: forgetting again leaves no new audit event
    await EventBus(db).emit(
        "forget.applied",
        None,  # the audit keeps counts only: no id, no title
        {
            "deleted": rows,
            "vault_files": files,
            "vault_rows": vault_rows,
            "partitions_rewritten": rewritten,
        },
    )
    return result
