"""Forget a channel: every trace of it, in the database and in the vault.

plan = await forget_channel(db, vault, "UC...", dry_run=True)   # what would go; changes nothing
done = await forget_channel(db, vault, "UC...")                 # counts per table and in the vault

Forget is a fence, not a sweep. Steps, each safe to repeat: (1) in one transaction under the
fence's lock (writers in flight commit first): a ``forget_requests`` row records the channel
and its video ids, their digests go to ``forgotten_ids`` (from then on every write of them is
skipped by the migration 0016 triggers, a run in flight included), and every row naming the
channel or its videos, in every table ``atlas_id_columns()`` lists (the watchlist included),
plus events and alerts naming them, is deleted; (2) its evidence folders, other videos'
side-by-side images naming its videos, evidence of videos no longer stored and its rows inside
every vault partition go (partitions are rewritten), reading the vault strictly: an unreachable
backend raises VaultError and the request stays pending (the audit's "forget requests
completed"); (3) the request row is deleted. An interrupted run resumes when run again.
``Forgotten.held`` is False for an id Atlas held nothing of ("unknown: nothing stored").
One ``forget.applied`` event keeps the counts, never the ids or the data. Dagster's channel
partition is deleted by the watchlist sensor once the channel is no longer watched.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from atlas_core.database import DatabaseManager
from atlas_core.event_log import EventBus
from atlas_core.storage import VaultStrategy
from atlas_core.storage.scrub import drop_evidence, evidence_videos, scrub_partitions
from atlas_core.store.retention import (
    Counts,
    channel_footprint,
    close_forget_request,
    delete_channels,
    mark_forget_vault_done,
    open_forget_request,
    pending_forget_requests,
    record_forget_counts,
    stored_video_ids,
)


@dataclass(frozen=True)
class Forgotten:
    channel_id: str
    dry_run: bool
    rows: Counts = field(default_factory=dict)  # per table
    vault_files: int = 0  # evidence files deleted
    vault_rows: int = 0  # rows removed from partitions
    partitions_rewritten: int = 0

    held: bool = True  # False: nothing of this channel was stored (and nothing was pending)

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


async def drop_orphan_evidence(db: DatabaseManager, vault: VaultStrategy) -> int:
    """Delete evidence folders of videos that are not stored (strict listing); returns files."""
    folders = await asyncio.to_thread(evidence_videos, vault)
    if not folders:
        return 0
    async with db.get_connection() as conn:
        stored = set(await stored_video_ids(conn, sorted(folders)))
    orphans = sorted(set(folders) - stored)
    return await asyncio.to_thread(drop_evidence, vault, orphans) if orphans else 0


async def forget_channel(
    db: DatabaseManager, vault: VaultStrategy, channel_id: str, *, dry_run: bool = False
) -> Forgotten:
    async with db.get_connection() as conn:
        rows = await channel_footprint(conn, channel_id)
        pending = channel_id in await pending_forget_requests(conn)
    held = pending or any(rows.values())
    if dry_run:
        return Forgotten(channel_id, True, rows=rows, held=held)
    async with db.get_connection() as conn:  # one transaction, under the fence's lock
        video_ids, vault_done = await open_forget_request(conn, channel_id)
        await record_forget_counts(
            conn, channel_id, await delete_channels(conn, [channel_id], video_ids)
        )
    files = vault_rows = rewritten = 0
    if not vault_done:  # strict: an unreachable vault raises here and the request stays
        files = await asyncio.to_thread(drop_evidence, vault, video_ids)
        vault_rows, rewritten = await asyncio.to_thread(
            scrub_partitions, vault, [channel_id], video_ids
        )
        async with db.get_connection() as conn:
            await mark_forget_vault_done(conn, channel_id)
    # Evidence a run in flight wrote meanwhile: folders of videos no longer stored.
    files += await drop_orphan_evidence(db, vault)
    async with db.get_connection() as conn:
        rows = await close_forget_request(conn, channel_id)
    vault_held = bool(files or vault_rows)
    result = Forgotten(
        channel_id, False, rows, files, vault_rows, rewritten, held=held or vault_held
    )
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
