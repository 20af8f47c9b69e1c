"""One tick's plan from the stored state and today's ledger spend.

plan = await plan_video_refresh(svc)          # RefreshPlan; OPS alert on a shortfall
snap = await snapshot_video_stats(svc, plan.video_ids)
due = await plan_channel_checks(svc)          # channel ids for discovery this tick
due = await due_channels(db, settings, now)   # the same, from a schedule (no client, no mark)
"""

from __future__ import annotations

from datetime import datetime

from atlas_core.config import Settings
from atlas_core.database import DatabaseManager
from atlas_core.notifications import Alert, AlertChannel, AlertLevel
from atlas_core.pipeline.services import Services
from atlas_core.planner import (
    DiscoveryPolicy,
    PlannerPolicy,
    RefreshPlan,
    RefreshPlanner,
    discovery_allowance,
    hot_channels,
    plan_discovery,
)
from atlas_core.store.outbox import enqueue_alert
from atlas_core.store.planning import (
    channel_states,
    channel_view_history,
    iter_video_states,
    mark_checked,
)
from atlas_core.store.watchlist import watchlist_ids
from atlas_core.youtube.quota import QuotaLedger, quota_day


async def plan_video_refresh(svc: Services) -> RefreshPlan:
    """Which tracked videos to refresh this tick; alerts OPS when the minimum does not fit."""
    policy = PlannerPolicy.from_settings(svc.settings)
    spent = await svc.youtube.units_spent_today()
    async with svc.db.get_connection() as conn:
        channels = len(await watchlist_ids(conn))
        hot = hot_channels(await channel_view_history(conn), policy.fast_views_per_hour)
        planner = RefreshPlanner(
            now=svc.clock(),
            spent_today=spent,
            channels=channels,
            policy=policy,
            hot_channels=hot,
        )
        async for batch in iter_video_states(conn):  # never every video in memory at once
            planner.add_all(batch)
    plan = planner.plan()
    if plan.shortfall:
        # One OPS alert per Pacific day (the outbox key): the shortfall repeats every tick.
        day = quota_day(svc.clock())
        alert = Alert(
            key=f"planner.shortfall:{day}",
            channel=AlertChannel.OPS,
            level=AlertLevel.WARNING,
            title="Quota budget cannot cover the minimum refresh",
            description=(
                f"Fresh and overdue videos need {plan.shortfall} more unit(s) than today's "
                "budget leaves; the stalest were deferred. Raise YOUTUBE_DAILY_UNIT_BUDGET or "
                "lower PLANNER_RESERVE_UNITS."
            ),
            fields={
                "budget": str(policy.budget),
                "reserve": str(policy.reserve),
                "spent_today": str(spent),
                "due_fresh": str(plan.due["fresh"]),
                "due_overdue": str(plan.due["overdue"]),
                "deferred": str(plan.deferred),
                "shortfall_units": str(plan.shortfall),
            },
        )
        async with svc.db.get_connection() as conn:
            await enqueue_alert(conn, alert)
    return plan


async def plan_channel_checks(svc: Services, mark: bool = True) -> list[str]:
    """Channels due a discovery check this tick, within what today's budget leaves
    shared evenly over the ticks left before the Pacific-day reset."""
    spent = await svc.youtube.units_spent_today()
    return await _due(svc.db, svc.settings, svc.clock(), spent, mark)


async def due_channels(
    db: DatabaseManager, settings: Settings, now: datetime, mark: bool = False
) -> list[str]:
    """``plan_channel_checks`` without a YouTube client (today's spend straight from the
    ledger): what a schedule evaluates to decide which channels its runs check."""
    spent = await QuotaLedger(db).units(quota_day(now))
    return await _due(db, settings, now, spent, mark)


async def _due(
    db: DatabaseManager, settings: Settings, now: datetime, spent: int, mark: bool
) -> list[str]:
    policy = PlannerPolicy.from_settings(settings)
    async with db.get_connection() as conn:
        channels = await channel_states(conn)
        units = discovery_allowance(policy.budget, spent, now)
        # Small watchlists: every channel each tick while that fits the discovery reserve.
        within = policy.reserve if policy.refresh_all_when_affordable else 0
        due = plan_discovery(
            channels,
            now=now,
            units_available=units,
            policy=DiscoveryPolicy(check_all_within_units_per_day=within),
        )
        if mark:
            await mark_checked(conn, due, now)
    return due
