"""The watchlist from a user's point of view: add by id, @handle or URL; list; remove.

outcomes = await watch_channels(db, youtube, ["@somehandle", "UC..."])
for o in outcomes: print(o.ref, o.status, o.channel_id, o.message)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from atlas_core.database import DatabaseManager
from atlas_core.event_log import EventBus
from atlas_core.pipeline.channels import channel_row
from atlas_core.store.channels import upsert_channels
from atlas_core.store.retention import unforget
from atlas_core.store.watchlist import add_to_watchlist, remove_from_watchlist
from atlas_core.utils import validate_channel_id
from atlas_core.youtube import ChannelNotFound, YouTubeClient


@dataclass(frozen=True)
class WatchOutcome:
    ref: str
    status: str  # "added" | "already watched" | "invalid" | "not found"
    channel_id: str | None = None
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.status in ("added", "already watched")


async def watch_channels(
    db: DatabaseManager, youtube: YouTubeClient, refs: list[str]
) -> list[WatchOutcome]:
    """Resolve each reference through the API and track the channel. Bad references are
    reported one by one; the good ones are still added."""
    resolved: dict[str, str] = {}
    outcomes: dict[str, WatchOutcome] = {}
    for ref in refs:
        try:
            resolved[ref] = await youtube.resolve_channel(ref)
        except ValueError as exc:
            outcomes[ref] = WatchOutcome(ref, "invalid", message=str(exc))
        except ChannelNotFound as exc:
            outcomes[ref] = WatchOutcome(ref, "not found", message=str(exc))
    found = (await youtube.channels(sorted(set(resolved.values())))).found
    titles = {c.id: c.title for c in found}
    async with db.get_connection() as conn:
        for ref, channel_id in resolved.items():
            if channel_id not in titles:
                outcomes[ref] = WatchOutcome(ref, "not found", channel_id, "no longer available")
                continue
            await unforget(conn, channel_id)  # watching again lifts a forget's fence
            added = await add_to_watchlist(conn, channel_id, ref)
            status = "added" if added else "already watched"
            outcomes[ref] = WatchOutcome(ref, status, channel_id, titles[channel_id])
        renames = await upsert_channels(conn, [channel_row(c) for c in found], datetime.now(UTC))
    events = EventBus(db)
    for rename in renames:  # a channel seen before under another title
        await events.emit(
            "channel.renamed",
            rename.channel_id,
            {"old_title": rename.old_title, "new_title": rename.new_title},
        )
    for outcome in outcomes.values():
        if outcome.status == "added" and outcome.channel_id:
            await events.emit("watchlist.added", outcome.channel_id, {"ref": outcome.ref})
    return [outcomes[ref] for ref in refs]


async def unwatch_channel(db: DatabaseManager, channel_id: str) -> bool:
    """Stop tracking ``channel_id`` (stored data stays). ValueError for a malformed id."""
    if not validate_channel_id(channel_id):
        raise ValueError(
            f"{channel_id!r} is not a channel id; expected 'UC' followed by 22 characters "
            "(see `atlas watch list`)"
        )
    async with db.get_connection() as conn:
        removed = await remove_from_watchlist(conn, channel_id)
    if removed:
        await EventBus(db).emit("watchlist.removed", channel_id, {})
    return removed
