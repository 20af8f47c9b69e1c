"""Discover a channel's new uploads; snapshot every tracked video's statistics.

found = await discover_videos(svc, "UC...")      # incremental: stops at the first known id
sweep = await discover_channels(svc, ["UC...", ...])  # many channels in one step, checks recorded
snap = await snapshot_video_stats(svc)           # one videos.list call per 50 videos
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import datetime

from psycopg import AsyncConnection

from atlas_core.notifications import Alert, AlertChannel, AlertLevel
from atlas_core.pipeline.channels import report_missing_channels, store_channels
from atlas_core.pipeline.services import Services
from atlas_core.store.channels import channel_titles
from atlas_core.store.discovery_lock import discovery_lock
from atlas_core.store.outbox import enqueue_alert
from atlas_core.store.planning import mark_checked
from atlas_core.store.stats import write_video_stats
from atlas_core.store.videos import (
    VideoRow,
    known_video_ids,
    record_presence,
    tracked_video_ids,
    upsert_videos,
)
from atlas_core.store.watchlist import is_watched, uploads_playlist
from atlas_core.youtube import ChannelNotFound, QuotaExhausted, Video, VideosResult


@dataclass(frozen=True)
class Discovery:
    channel_id: str
    new_ids: list[str]
    missing: list[str] = field(default_factory=list)
    units: int = 0
    titles: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class StatsSnapshot:
    videos: int
    rows: int
    missing: list[str] = field(default_factory=list)
    units: int = 0


@dataclass(frozen=True)
class DiscoverySweep:
    """Discovery over many channels in one step (one Dagster run of a partition range)."""

    found: list[Discovery]
    checked: list[str]

    @property
    def new_ids(self) -> list[str]:
        return [v for d in self.found for v in d.new_ids]

    @property
    def missing(self) -> list[str]:
        return [m for d in self.found for m in d.missing]

    @property
    def units(self) -> int:
        return sum(d.units for d in self.found)

    @property
    def titles(self) -> dict[str, str]:
        return {k: v for d in self.found for k, v in d.titles.items()}


def video_row(video: Video) -> VideoRow:
    return VideoRow(
        id=video.id,
        channel_id=video.channel_id,
        title=video.title,
        published_at=video.published_at,
        duration=video.duration_seconds,
        wiki_topics=list(video.wiki_topics),
    )


async def discover_videos(svc: Services, channel_id: str) -> Discovery:
    """New uploads of one channel; a second discovery of the same channel (another run, a
    backfill) waits for this one, then finds only what arrived since."""
    async with discovery_lock(svc.db, channel_id):
        return await _discover_videos(svc, channel_id)


async def _discover_videos(svc: Services, channel_id: str) -> Discovery:
    units = 0
    async with svc.db.get_connection() as conn:
        known = await known_video_ids(conn, channel_id)
        have_channel = bool(await channel_titles(conn, [channel_id]))
        playlist = await uploads_playlist(conn, channel_id)
        watched = await is_watched(conn, channel_id)
    if svc.settings.COMPLIANCE_MODE and not watched:  # never store an unwatched channel's data
        return Discovery(channel_id, [])
    try:
        if not have_channel:  # first sight of this channel: store it before its videos
            channels = await svc.youtube.channels([channel_id])
            units += channels.units
            await svc.record_skipped_items(channels.problems)
            if not channels.found:
                raise ChannelNotFound(channel_id)
            await store_channels(svc, channels.found)
        uploads = await svc.youtube.uploads(channel_id, known, playlist)
    except ChannelNotFound as exc:
        await report_missing_channels(svc, [channel_id])
        return Discovery(channel_id, [], missing=[channel_id], units=units + exc.units)
    details = await svc.youtube.videos(uploads.ids)
    units += uploads.units + details.units
    await svc.record_skipped_items(details.problems)
    observed, now = svc.youtube.observed_at(), svc.clock()
    # A video listed in the uploads playlist belongs to this channel even if a re-fetch
    # reports another owner; only keep the ones that do.
    mine = [v for v in details.found if v.channel_id == channel_id]

    async def write(conn: AsyncConnection) -> list[str]:
        added = await upsert_videos(conn, [video_row(v) for v in mine], now)
        await write_video_stats(
            conn,
            [(v.id, now, v.view_count, v.like_count, v.comment_count) for v in mine],
            observed_at=observed,
        )
        return added

    # A database restart mid-write costs a retry of the write, not the paid-for answer.
    added = await svc.db.in_transaction(write)
    for video in mine:
        if video.id in added:
            await svc.events.emit(
                "video.discovered",
                video.id,
                {"title": video.title, "channel_id": channel_id, "views": video.view_count},
            )
    return Discovery(
        channel_id=channel_id,
        new_ids=added,
        missing=details.missing,
        units=units,
        titles={v.id: v.title for v in mine},
    )


async def discover_channels(svc: Services, channel_ids: Sequence[str]) -> DiscoverySweep:
    """``discover_videos`` for each channel in turn (memory holds one channel's new uploads
    at a time), recording each check in ``channel_discovery_checks`` as it completes so the
    planner's cadence sees it even when a later channel stops the sweep."""
    found: list[Discovery] = []
    for channel_id in channel_ids:
        found.append(await discover_videos(svc, channel_id))
        async with svc.db.get_connection() as conn:
            await mark_checked(conn, [channel_id], svc.clock())
    return DiscoverySweep(found=found, checked=list(channel_ids))


async def snapshot_video_stats(svc: Services, ids: Sequence[str] | None = None) -> StatsSnapshot:
    """Statistics of the given videos (a plan from ``plan_video_refresh``), or of every tracked
    video; the same call refreshes titles, durations and topics, so stored metadata never goes
    stale."""
    units = 0
    if ids is None:
        async with svc.db.get_connection() as conn:
            ids = await tracked_video_ids(conn)
    now = svc.clock()
    rows = fetched = 0
    missing: list[str] = []
    newly_missing: list[str] = []
    batches = svc.youtube.video_batches(ids)
    try:
        async with aclosing(batches):  # a failed write cancels the calls still in flight
            async for batch in batches:
                observed = svc.youtube.observed_at()
                units += batch.units
                await svc.record_skipped_items(batch.problems)

                async def write(
                    conn: AsyncConnection,
                    batch: VideosResult = batch,
                    observed: datetime = observed,
                ) -> tuple[int, list[str]]:
                    await upsert_videos(conn, [video_row(v) for v in batch.found], now)
                    written = await write_video_stats(
                        conn,
                        [
                            (v.id, now, v.view_count, v.like_count, v.comment_count)
                            for v in batch.found
                        ],
                        observed_at=observed,
                    )
                    await record_presence(
                        conn, [v.id for v in batch.found], batch.missing, observed
                    )
                    alerted = [  # once per video: the outbox key
                        video_id
                        for video_id in batch.missing
                        if await enqueue_alert(conn, missing_video_alert(video_id))
                    ]
                    return written, alerted

                # A database restart mid-run costs a retry of this write, not the paid batch.
                written, alerted = await svc.db.in_transaction(write)
                rows += written
                newly_missing += alerted
                missing += batch.missing
                fetched += len(batch.found) + len(batch.missing)
    except QuotaExhausted as exc:
        for video_id in newly_missing:
            await svc.events.emit("video.missing", video_id, {"reason": "deleted or private"})
        raise QuotaExhausted(
            f"video stats snapshot stopped by quota after {fetched} of {len(ids)} videos "
            f"(their snapshots are kept; a re-run with the same as_of completes it). {exc}",
            resets_at=exc.resets_at,
        ) from None
    for video_id in newly_missing:
        await svc.events.emit("video.missing", video_id, {"reason": "deleted or private"})
    return StatsSnapshot(
        videos=len(ids),
        rows=rows,
        missing=missing,
        units=units,
    )


def missing_video_alert(video_id: str) -> Alert:
    return Alert(
        key=f"video.missing:{video_id}",
        channel=AlertChannel.SURVEILLANCE,
        level=AlertLevel.WARNING,
        title="Videos disappeared",
        description=f"Tracked video `{video_id}` is deleted or private now.",
        fields={"video_ids": video_id},
    )
