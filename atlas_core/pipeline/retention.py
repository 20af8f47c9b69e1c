"""Retention: every stored API datum is refreshed within the window or deleted.

run = await apply_retention(svc)      # uses svc.clock(); RETENTION_DAYS (30 in compliance mode)
run.counts                            # {"video_stats_log": 120, "videos": 3, "vault_files": 8, ...}

Stats snapshots older than the window are deleted. Channel and video metadata last refreshed
before the window is refreshed (50 ids per API call) when its channel is watched, deleted when
not. Vectors (with the compare frames made from the same thumbnails) and title history older
than the window are deleted (the vectors step re-embeds watched videos), and so are old events
except the audit trail. Channels and videos the API reports missing are purged once
MISSING_GRACE_DAYS have passed. In the vault (first, and strictly: an unreachable backend fails
the run before any row is deleted), partitions of days before the window are deleted, deleted
channels' and videos' rows are removed from the others, and their evidence frames go too. One
``retention.applied`` event records the counts.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from atlas_core.pipeline.channels import store_channels
from atlas_core.pipeline.forget import drop_orphan_evidence
from atlas_core.pipeline.services import Services
from atlas_core.pipeline.videos import video_row
from atlas_core.storage.scrub import drop_evidence, drop_partitions_before, scrub_partitions
from atlas_core.store.retention import (
    Counts,
    add_counts,
    channel_video_ids,
    delete_channels,
    delete_compare_frames,
    delete_events_before,
    delete_history_before,
    delete_outbox_before,
    delete_stats_before,
    delete_vectors_before,
    delete_videos,
    missing_past_grace,
    stale_metadata,
    vector_videos_before,
)
from atlas_core.store.stats import write_channel_stats, write_video_stats
from atlas_core.store.videos import upsert_videos

TABLES = (
    "channels",
    "videos",
    "video_stats_log",
    "channel_stats_log",
    "video_vectors",
    "compare_frames",
    "channel_history",
    "system_events",
    "reupload_pairs",
    "alert_outbox",
    "watchlist",
)


@dataclass(frozen=True)
class RetentionRun:
    applied: bool
    window_days: int | None = None
    cutoff: datetime | None = None
    counts: Counts = field(default_factory=dict)  # rows deleted per table, vault files
    refreshed: Counts = field(default_factory=dict)  # channels / videos refreshed
    purged_missing: Counts = field(default_factory=dict)  # source-deleted channels / videos
    units: int = 0


async def apply_retention(svc: Services) -> RetentionRun:
    days = svc.settings.retention_days
    if days is None:
        return RetentionRun(applied=False)
    now = svc.clock()
    cutoff = now - timedelta(days=days)
    async with svc.db.get_connection() as conn:
        stale = await stale_metadata(conn, cutoff)
    refreshed, gone_channels, gone_videos, units = await _refresh(
        svc, stale.watched_channels, stale.watched_videos, now
    )
    grace_cutoff = now - timedelta(days=svc.settings.MISSING_GRACE_DAYS)
    counts: Counts = dict.fromkeys(TABLES, 0)
    async with svc.db.get_connection() as conn:
        missing = await missing_past_grace(conn, grace_cutoff)
        drop_channels = sorted(
            set(stale.unwatched_channels) | set(gone_channels) | set(missing.channels)
        )
        drop_videos = sorted(set(stale.unwatched_videos) | set(gone_videos) | set(missing.videos))
        channel_videos = await channel_video_ids(conn, drop_channels)
        aged_vector_videos = await vector_videos_before(conn, cutoff)
    purged = {"channels": len(missing.channels), "videos": len(missing.videos)}
    all_videos = set(drop_videos) | set(channel_videos)
    # The vault first, strictly: an unreachable backend raises VaultError before any row is
    # deleted, so the next run finds the same work instead of losing track of the vault's copy.
    vault_files = await asyncio.to_thread(drop_partitions_before, svc.vault, cutoff.date())
    vault_files += await asyncio.to_thread(
        drop_evidence, svc.vault, sorted(all_videos | set(aged_vector_videos))
    )
    scrubbed_rows, _ = await asyncio.to_thread(
        scrub_partitions, svc.vault, drop_channels, sorted(all_videos)
    )
    vault_files += await drop_orphan_evidence(svc.db, svc.vault)  # e.g. written after a forget
    async with svc.db.get_connection() as conn:  # one transaction: all or nothing
        add_counts(counts, await delete_stats_before(conn, cutoff))
        add_counts(counts, await delete_videos(conn, drop_videos))
        add_counts(counts, await delete_channels(conn, drop_channels, channel_videos))
        vectors, aged = await delete_vectors_before(conn, cutoff)
        counts["video_vectors"] += vectors
        # Made from the same thumbnail as the vectors and the evidence: they go together.
        counts["compare_frames"] += await delete_compare_frames(conn, aged)
        counts["channel_history"] += await delete_history_before(conn, cutoff)
        counts["system_events"] += await delete_events_before(conn, cutoff)
        counts["alert_outbox"] += await delete_outbox_before(conn, cutoff)
    counts["vault_files"] = vault_files
    counts["vault_rows"] = scrubbed_rows
    run = RetentionRun(
        applied=True,
        window_days=days,
        cutoff=cutoff,
        counts=counts,
        refreshed=refreshed,
        purged_missing=purged,
        units=units,
    )
    if any(purged.values()):
        await svc.events.emit(
            "source_deleted.purged",
            None,
            {**purged, "grace_days": svc.settings.MISSING_GRACE_DAYS},
        )
    await svc.events.emit(
        "retention.applied",
        None,
        {
            "window_days": days,
            "cutoff": cutoff.isoformat(),
            "deleted": counts,
            "refreshed": refreshed,
            "purged_missing": purged,
        },
    )
    return run


async def _refresh(
    svc: Services, channel_ids: list[str], video_ids: list[str], now: datetime
) -> tuple[Counts, list[str], list[str], int]:
    """Refresh stale metadata of watched channels and videos (one call per 50 ids); returns
    (counts, channels the API no longer has, videos the API no longer has, units spent)."""
    units = 0
    refreshed: Counts = {"channels": 0, "videos": 0}
    gone_channels: list[str] = []
    gone_videos: list[str] = []
    if channel_ids:
        result = await svc.youtube.channels(channel_ids)
        units += result.units
        await store_channels(svc, result.found)
        async with svc.db.get_connection() as conn:
            await write_channel_stats(
                conn,
                [
                    (c.id, now, c.view_count, c.subscriber_count, c.video_count)
                    for c in result.found
                ],
            )
        refreshed["channels"] = len(result.found)
        gone_channels = list(result.missing)
    if video_ids:
        result_v = await svc.youtube.videos(video_ids)
        units += result_v.units
        async with svc.db.get_connection() as conn:
            await upsert_videos(conn, [video_row(v) for v in result_v.found], now)
            await write_video_stats(
                conn,
                [(v.id, now, v.view_count, v.like_count, v.comment_count) for v in result_v.found],
            )
        refreshed["videos"] = len(result_v.found)
        gone_videos = list(result_v.missing)
    return refreshed, gone_channels, gone_videos, units
