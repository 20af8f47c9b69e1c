"""Refresh every watched channel: metadata, a stats snapshot, title changes.

result = await refresh_channels(svc)   # one channels.list call per 50 channels
"""

from __future__ import annotations

from dataclasses import dataclass, field

from psycopg import AsyncConnection

from atlas_core.notifications import Alert, AlertChannel, AlertLevel, escape_markdown
from atlas_core.pipeline.services import Services
from atlas_core.store.channels import ChannelRow, Rename, upsert_channels
from atlas_core.store.outbox import enqueue_alert
from atlas_core.store.stats import write_channel_stats
from atlas_core.store.watchlist import remember_uploads_playlists, watchlist_ids
from atlas_core.youtube import Channel


@dataclass(frozen=True)
class ChannelsRefresh:
    refreshed: int
    snapshots: int
    renamed: list[Rename] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    units: int = 0
    titles: dict[str, str] = field(default_factory=dict)


def channel_row(channel: Channel) -> ChannelRow:
    return ChannelRow(
        id=channel.id,
        title=channel.title,
        country=channel.country,
        custom_url=channel.custom_url,
        created_at=channel.published_at,
    )


def rename_alert(rename: Rename, at: str) -> Alert:
    old, new = escape_markdown(rename.old_title), escape_markdown(rename.new_title)
    return Alert(
        key=f"channel.renamed:{rename.channel_id}:{at}",
        channel=AlertChannel.SURVEILLANCE,
        level=AlertLevel.WARNING,
        title="Channel renamed",
        description=f"**{old}** is now **{new}**",
        fields={"channel_id": rename.channel_id},
    )


async def store_channels(svc: Services, found: list[Channel]) -> list[Rename]:
    """Upsert channels (renames -> channel_history and the outbox, in one transaction) and
    remember their uploads playlists."""
    now = svc.clock()

    async def write(conn: AsyncConnection) -> list[Rename]:
        renames = await upsert_channels(conn, [channel_row(c) for c in found], now)
        for rename in renames:
            await enqueue_alert(conn, rename_alert(rename, now.isoformat()))
        await remember_uploads_playlists(
            conn, {c.id: c.uploads_playlist_id for c in found if c.uploads_playlist_id}
        )
        return renames

    # A database restart mid-write costs a retry of the write, not the paid-for answer.
    return await svc.db.in_transaction(write)


def missing_channel_alert(channel_id: str) -> Alert:
    return Alert(
        key=f"channel.missing:{channel_id}",
        channel=AlertChannel.SURVEILLANCE,
        level=AlertLevel.WARNING,
        title="Watched channels disappeared",
        description=(
            "A watched channel is deleted, terminated or private now; its data is kept. "
            "Remove it with `atlas watch remove`."
        ),
        fields={"channel_ids": channel_id},
    )


async def report_missing_channels(svc: Services, channel_ids: list[str]) -> list[str]:
    """Record and alert (once per channel: the outbox key) watched channels YouTube no
    longer returns."""
    new: list[str] = []
    async with svc.db.get_connection() as conn:
        for channel_id in channel_ids:
            if await enqueue_alert(conn, missing_channel_alert(channel_id)):
                new.append(channel_id)
    for channel_id in new:
        await svc.events.emit("channel.missing", channel_id, {"reason": "not returned by the API"})
    return new


async def refresh_channels(svc: Services) -> ChannelsRefresh:
    async with svc.db.get_connection() as conn:
        ids = await watchlist_ids(conn)
    result = await svc.youtube.channels(ids)
    observed = svc.youtube.observed_at()
    await svc.record_skipped_items(result.problems)
    renames = await store_channels(svc, result.found)
    now = svc.clock()
    rows = [(c.id, now, c.view_count, c.subscriber_count, c.video_count) for c in result.found]

    async def write(conn: AsyncConnection) -> int:
        return await write_channel_stats(conn, rows, observed_at=observed)

    snapshots = await svc.db.in_transaction(write)
    for rename in renames:
        await svc.events.emit(
            "channel.renamed",
            rename.channel_id,
            {"old_title": rename.old_title, "new_title": rename.new_title},
        )
    await report_missing_channels(svc, result.missing)
    return ChannelsRefresh(
        refreshed=len(result.found),
        snapshots=snapshots,
        renamed=renames,
        missing=result.missing,
        units=result.units,
        titles={c.id: c.title for c in result.found},
    )
