"""Asset checks that can fail and matter. (Export completeness is checked inside the vault
asset, blocking: see ``assets/vault.py``.)

- ``no_implausible_view_drops``: a video lost over half its views between two snapshots.
- ``stats_fresh_per_channel``: a watched channel has no snapshot in the last 3 hours.
- ``quota_headroom``: at today's spending rate the YouTube quota runs out before Pacific
  midnight.
- ``hunt_alert_rate``: re-upload alerts in the last 24 h far above the previous week's rate
  (a broken embedder or threshold floods HUNT).
"""

from __future__ import annotations

from datetime import timedelta

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetSelection,
    DefaultScheduleStatus,
    ScheduleDefinition,
    asset_check,
    define_asset_job,
)

from atlas_assets.resources import DatabaseResource, YouTubeResource
from atlas_assets.runtime import database_only
from atlas_core.analysis.health import (
    YOUTUBE_DAILY_UNITS_PER_KEY,
    alert_rate_is_anomalous,
    quota_headroom,
    stale_channels,
)
from atlas_core.analysis.quality import implausible_drops
from atlas_core.store.health import count_events, latest_channel_snapshots
from atlas_core.utils import utc_now
from atlas_core.youtube.quota import QuotaLedger, quota_day

STATS_MAX_AGE = timedelta(hours=3)
HUNT_EVENT = "reupload.suspected"


@asset_check(  # type: ignore[arg-type]  # async checks run; the stub expects sync
    asset="video_stats_log",
    description="No video lost over half its views between two snapshots in the last two "
    "days (views only grow, bar YouTube's spam corrections).",
)
async def no_implausible_view_drops(database: DatabaseResource) -> AssetCheckResult:
    async with database_only(database) as db, db.get_connection() as conn:
        drops = await implausible_drops(conn)
    return AssetCheckResult(
        passed=not drops,
        severity=AssetCheckSeverity.WARN,
        metadata={
            "drops": len(drops),
            "examples": "; ".join(f"{v}: {a}->{b}" for v, a, b in drops[:5]) or "none",
        },
    )


@asset_check(  # type: ignore[arg-type]  # async checks run; the stub expects sync
    asset="channel_stats_log",
    description="Every watched channel has a stats snapshot less than 3 hours old.",
)
async def stats_fresh_per_channel(database: DatabaseResource) -> AssetCheckResult:
    async with database_only(database) as db, db.get_connection() as conn:
        latest = await latest_channel_snapshots(conn)
    now = utc_now()
    stale = stale_channels(latest, now, STATS_MAX_AGE)
    return AssetCheckResult(
        passed=not stale,
        metadata={
            "watched_channels": len(latest),
            "stale_channels": len(stale),
            "examples": "; ".join(
                f"{c}: {'never' if t is None else t.isoformat()}"
                for c, t in list(stale.items())[:5]
            )
            or "none",
        },
    )


@asset_check(  # type: ignore[arg-type]  # async checks run; the stub expects sync
    asset="video_stats_log",
    description="At the rate spent so far today, the YouTube quota lasts until Pacific "
    "midnight (10,000 units per key per day).",
)
async def quota_headroom_today(
    database: DatabaseResource, youtube: YouTubeResource
) -> AssetCheckResult:
    keys = max(1, len(youtube.settings().api_keys))
    now = utc_now()
    day = quota_day(now)
    async with database_only(database) as db:
        used = await QuotaLedger(db).units(day)
    headroom = quota_headroom(used, keys * YOUTUBE_DAILY_UNITS_PER_KEY, now)
    return AssetCheckResult(
        passed=headroom.enough,
        metadata={
            "quota_day": day.isoformat(),
            "units_used": headroom.used,
            "units_projected": headroom.projected,
            "units_capacity": headroom.capacity,
            "hours_to_reset": round(headroom.hours_left, 2),
        },
    )


@asset_check(  # type: ignore[arg-type]  # async checks run; the stub expects sync
    asset="video_vectors",
    description="Re-upload (HUNT) alerts in the last 24 hours stay under 3x the previous "
    "7 days' daily average and under 10, whichever is higher.",
)
async def hunt_alert_rate(database: DatabaseResource) -> AssetCheckResult:
    now = utc_now()
    day = timedelta(days=1)
    async with database_only(database) as db, db.get_connection() as conn:
        recent = await count_events(conn, HUNT_EVENT, now - day, now)
        week = await count_events(conn, HUNT_EVENT, now - 8 * day, now - day)
    baseline = week / 7
    return AssetCheckResult(
        passed=not alert_rate_is_anomalous(recent, baseline),
        severity=AssetCheckSeverity.WARN,
        metadata={"alerts_last_24h": recent, "baseline_per_day": round(baseline, 2)},
    )


checks = [no_implausible_view_drops, stats_fresh_per_channel, quota_headroom_today, hunt_alert_rate]


# Freshness of channel stats is checked on its own cadence too, so a refresh that stopped
# running (its schedule off, its runs failing early) is caught, not only a slow one.
check_stats_freshness_job = define_asset_job(
    "check_stats_freshness",
    selection=AssetSelection.checks(stats_fresh_per_channel),
    description="Check that every watched channel has a recent stats snapshot.",
)
stats_freshness_schedule = ScheduleDefinition(
    name="check_stats_freshness",
    job=check_stats_freshness_job,
    cron_schedule="45 * * * *",
    default_status=DefaultScheduleStatus.RUNNING,
)
