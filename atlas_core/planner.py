"""Quota-aware refresh planning: which videos and channels one tick spends units on.

    policy = PlannerPolicy.from_settings(settings)
    plan = plan_refresh(videos, now=now, spent_today=units, channels=n, policy=policy)
    planner = RefreshPlanner(now=now, spent_today=units, channels=n, policy=policy)
    planner.add_all(batch)   # stream any number of batches: memory holds only what can be planned
    plan = planner.plan()    # the same plan as plan_refresh over all of them
    plan.video_ids            # refresh these (videos.list, 50 ids per unit)
    plan.metadata()           # videos per tier, units planned, units left today

    checks = plan_discovery(channels, now=now, units_available=plan.units_left_for_discovery)

Pure and deterministic: the same inputs give the same plan. Tiers, most urgent first:

* ``overdue``  - last snapshot older than the retention window (or never snapshotted);
* ``fresh``    - published less than ``fresh_hours`` ago: refreshed every tick (hourly);
* ``fast``     - recent view velocity at or above ``fast_views_per_hour``: every tick;
* ``daily``    - younger than ``daily_until_days``: once a day;
* ``weekly``   - everything else: once a week (always inside the retention window);
* ``spare``    - not due, refreshed anyway when refreshing everything every tick until the
  Pacific-day reset fits the budget (small watchlists).

A tier is refreshed only when due (its interval has passed since the last snapshot, less a
small tolerance so an hourly tick that runs a few seconds early still counts). Units are
``ceil(n / 50)`` per videos.list batch plus ``ceil(channels / 50)`` for channel statistics,
which are refreshed every tick. The plan never exceeds ``budget - reserve - spent_today``;
when even the ``overdue`` and ``fresh`` tiers do not fit, ``plan.shortfall`` says by how many
units, for an OPS alert.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from statistics import median
from typing import TYPE_CHECKING

from atlas_core.youtube.quota import PACIFIC

if TYPE_CHECKING:
    from atlas_core.config import Settings

IDS_PER_CALL = 50
TIERS = ("overdue", "fresh", "fast", "daily", "weekly", "spare")
MUST_TIERS = ("overdue", "fresh")


def batch_units(n: int) -> int:
    """Units of a list call over ``n`` ids, 50 ids per 1-unit call."""
    return math.ceil(n / IDS_PER_CALL) if n > 0 else 0


@dataclass(frozen=True)
class PlannerPolicy:
    budget: int = 10_000  # units per Pacific day
    reserve: int = 2_000  # kept for discovery and the hunt
    fresh_hours: float = 48.0
    daily_until_days: float = 30.0
    weekly_days: float = 7.0
    retention_days: float = 30.0
    fast_views_per_hour: float = 1_000.0
    tick_minutes: float = 60.0
    tolerance_minutes: float = 5.0
    # When refreshing every video every tick for the rest of the day fits the budget, do so
    # (small watchlists get the freshest data; "spare" counts the videos not otherwise due).
    refresh_all_when_affordable: bool = True

    def __post_init__(self) -> None:
        if self.budget < 0 or self.reserve < 0:
            raise ValueError(
                f"planner budget and reserve must be >= 0 units, got {self.budget}/{self.reserve}"
            )
        if self.retention_days < self.weekly_days:
            raise ValueError(
                f"retention window ({self.retention_days} days) must be at least the weekly "
                f"refresh interval ({self.weekly_days} days)"
            )

    @classmethod
    def from_settings(cls, settings: Settings) -> PlannerPolicy:
        retention = float(settings.PLANNER_RETENTION_DAYS)
        if settings.COMPLIANCE_MODE:
            retention = min(retention, 30.0)
        return cls(
            budget=settings.YOUTUBE_DAILY_UNIT_BUDGET,
            reserve=settings.PLANNER_RESERVE_UNITS,
            fast_views_per_hour=settings.PLANNER_FAST_VIEWS_PER_HOUR,
            retention_days=retention,
            refresh_all_when_affordable=settings.PLANNER_REFRESH_ALL_WHEN_AFFORDABLE,
        )


@dataclass(frozen=True, slots=True)
class VideoState:
    id: str
    published_at: datetime | None
    last_snapshot_at: datetime | None
    views_per_hour: float | None = None  # between the last two snapshots
    channel_id: str | None = None


@dataclass(frozen=True)
class RefreshPlan:
    video_ids: list[str]
    tiers: dict[str, int]  # planned videos per tier
    due: dict[str, int]  # due videos per tier (planned + deferred)
    units_planned: int  # video batches + channel statistics
    units_left_today: int  # budget - spent_today - units_planned
    shortfall: int = 0  # units the must tiers lacked (0 = all covered)
    channel_units: int = 0

    @property
    def deferred(self) -> int:
        return sum(self.due.values()) - len(self.video_ids)

    def metadata(self) -> dict[str, int]:
        out = {f"videos_{t}": self.tiers.get(t, 0) for t in TIERS}
        out.update(
            videos_planned=len(self.video_ids),
            videos_deferred=self.deferred,
            units_planned=self.units_planned,
            units_left_today=self.units_left_today,
            shortfall_units=self.shortfall,
        )
        return out


def classify(
    video: VideoState, now: datetime, policy: PlannerPolicy, hot: bool = False
) -> str | None:
    """The tier a video is due in now, or None when it is not due this tick. ``hot``: its
    channel's views jumped since the last tick, so it is treated as a fast mover."""
    last = video.last_snapshot_at
    if last is None or now - last >= timedelta(days=policy.retention_days):
        return "overdue"
    since = now - last + timedelta(minutes=policy.tolerance_minutes)
    age = now - video.published_at if video.published_at is not None else None
    hourly = timedelta(minutes=policy.tick_minutes)
    if age is not None and age < timedelta(hours=policy.fresh_hours):
        return "fresh" if since >= hourly else None
    fast = video.views_per_hour is not None and video.views_per_hour >= policy.fast_views_per_hour
    if fast or hot:
        return "fast" if since >= hourly else None
    if age is not None and age < timedelta(days=policy.daily_until_days):
        return "daily" if since >= timedelta(days=1) else None
    return "weekly" if since >= timedelta(days=policy.weekly_days) else None


def _urgency(video: VideoState, now: datetime) -> tuple[float, str]:
    """Stalest first; ties broken by id so plans are deterministic."""
    last = video.last_snapshot_at
    stale = (now - last).total_seconds() if last is not None else math.inf
    return (-stale, video.id)


class RefreshPlanner:
    """``plan_refresh`` fed in batches. It keeps, per tier, only the most urgent videos that
    today's units could possibly pay for (plus counts), so planning a million tracked videos
    holds a few hundred thousand (staleness, id) pairs at most, never every video."""

    def __init__(
        self,
        *,
        now: datetime,
        spent_today: int,
        channels: int,
        policy: PlannerPolicy,
        hot_channels: frozenset[str] = frozenset(),
    ) -> None:
        self.now, self.policy, self.hot = now, policy, hot_channels
        self.spent_today = spent_today
        self.channel_units = batch_units(channels)
        self.available = max(0, policy.budget - policy.reserve - spent_today - self.channel_units)
        self.room = self.available * IDS_PER_CALL  # the most videos any plan can hold
        self.ticks_left = ticks_left_today(now, policy.tick_minutes)
        self._due: dict[str, list[tuple[float, str]]] = {t: [] for t in TIERS}
        self._counts = dict.fromkeys(TIERS, 0)
        self._total = 0
        self._spare_possible = policy.refresh_all_when_affordable

    def add(self, video: VideoState) -> None:
        tier = classify(video, self.now, self.policy, video.channel_id in self.hot) or "spare"
        self._counts[tier] += 1
        self._total += 1
        if self._spare_possible and batch_units(self._total) * self.ticks_left > self.available:
            self._spare_possible = False  # refreshing everything can no longer be afforded
            self._due["spare"] = []
        if tier == "spare" and not self._spare_possible:
            return
        group = self._due[tier]
        group.append(_urgency(video, self.now))
        if len(group) > 2 * self.room + 1_000:  # keep the most urgent ``room`` of the tier
            group.sort()
            del group[self.room :]

    def add_all(self, videos: Iterable[VideoState]) -> None:
        for video in videos:
            self.add(video)

    def plan(self) -> RefreshPlan:
        policy = self.policy
        due = {t: self._counts[t] for t in TIERS}
        if not self._spare_possible:
            due["spare"] = 0
        channel_units = self.channel_units
        if policy.budget - self.spent_today < channel_units:
            channel_units = 0  # not even channel statistics fit: skip them too
        chosen: list[str] = []
        tiers: dict[str, int] = {}
        for tier in TIERS:
            group = sorted(self._due[tier]) if due[tier] else []
            take = group[: max(0, self.room - len(chosen))]
            chosen.extend(vid for _, vid in take)
            tiers[tier] = len(take)
        must = sum(due[t] for t in MUST_TIERS)
        units = batch_units(len(chosen)) + channel_units
        return RefreshPlan(
            video_ids=chosen,
            tiers=tiers,
            due=due,
            units_planned=units,
            units_left_today=policy.budget - self.spent_today - units,
            shortfall=max(0, batch_units(must) - self.available),
            channel_units=channel_units,
        )


def plan_refresh(
    videos: Iterable[VideoState],
    *,
    now: datetime,
    spent_today: int,
    channels: int,
    policy: PlannerPolicy,
    hot_channels: frozenset[str] = frozenset(),
) -> RefreshPlan:
    """Choose this tick's videos, most urgent tier first, within today's remaining units.
    Videos of ``hot_channels`` (channel views jumped) are refreshed as fast movers."""
    planner = RefreshPlanner(
        now=now,
        spent_today=spent_today,
        channels=channels,
        policy=policy,
        hot_channels=hot_channels,
    )
    planner.add_all(videos)
    return planner.plan()


def hot_channels(
    history: dict[str, list[tuple[datetime, int]]],
    min_views_per_hour: float,
    factor: float = 3.0,
    window: int = 2,
) -> frozenset[str]:
    """Channels whose views per hour jumped in one of their last ``window`` snapshot intervals:
    the rate reached ``min_views_per_hour`` and ``factor`` times the interval before it
    (history: newest first). A spike on any of their videos shows here first; staying hot for
    ``window`` ticks gives the spiking video the two fresh snapshots an anomaly needs."""

    def rate(a: tuple[datetime, int], b: tuple[datetime, int]) -> float | None:
        hours = (a[0] - b[0]).total_seconds() / 3600
        return (a[1] - b[1]) / hours if hours > 0 else None

    hot = set()
    for cid, points in history.items():
        rates = [rate(a, b) for a, b in itertools.pairwise(points)]
        for i in range(min(window, len(rates))):
            if i + 1 >= len(rates):
                break  # a jump needs the interval before it
            now_rate, before = rates[i], rates[i + 1]
            if now_rate is None or before is None:
                continue
            if now_rate >= min_views_per_hour and now_rate >= factor * max(before, 0.0):
                hot.add(cid)
                break
    return frozenset(hot)


def ticks_left_today(now: datetime, tick_minutes: float = 60.0) -> int:
    """Ticks until the Pacific-day quota reset, this one included."""
    local = now.astimezone(PACIFIC)
    midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1, math.ceil((midnight - local).total_seconds() / 60 / tick_minutes))


def discovery_allowance(
    budget: int, spent_today: int, now: datetime, keep: int = 0, tick_minutes: float = 60.0
) -> int:
    """Units discovery may spend this tick: what today leaves after ``keep`` (units held back
    for the stats refresh still to come), shared evenly over the ticks left today."""
    spare = budget - spent_today - keep
    return max(0, spare // ticks_left_today(now, tick_minutes))


# --- discovery ------------------------------------------------------------------------


@dataclass(frozen=True)
class ChannelState:
    id: str
    upload_times: Sequence[datetime] = field(default_factory=tuple)  # recent published_at
    last_checked_at: datetime | None = None


@dataclass(frozen=True)
class DiscoveryPolicy:
    min_interval_hours: float = 1.0
    max_interval_hours: float = 24.0
    checks_per_gap: float = 48.0  # a channel posting every G hours is checked every G/48 h
    dormant_gap_hours: float = 24.0 * 30  # gap assumed with fewer than two known uploads
    units_per_check: int = 1  # one playlistItems.list page when nothing is new
    # When checking every channel every hour costs at most this many units a day, every
    # channel is checked each tick (a small watchlist sees new uploads at the next tick,
    # whatever its learned cadence); 0 keeps to the learned cadences.
    check_all_within_units_per_day: int = 0


def cadence_hours(channel: ChannelState, policy: DiscoveryPolicy) -> float:
    """How often to check a channel, learned from the gaps between its recent uploads."""
    times = sorted(channel.upload_times)
    gaps = [(b - a).total_seconds() / 3600 for a, b in itertools.pairwise(times)]
    gap = median(gaps) if gaps else policy.dormant_gap_hours
    interval = gap / policy.checks_per_gap
    return min(policy.max_interval_hours, max(policy.min_interval_hours, interval))


def plan_discovery(
    channels: Iterable[ChannelState],
    *,
    now: datetime,
    units_available: int,
    policy: DiscoveryPolicy | None = None,
) -> list[str]:
    """Channels due a check, most overdue (relative to their cadence) first, within units;
    every channel when the policy's ``check_all_within_units_per_day`` affords it."""
    pol = policy or DiscoveryPolicy()
    channels = list(channels)
    check_all = 0 < len(channels) * pol.units_per_check * 24 <= pol.check_all_within_units_per_day
    due: list[tuple[float, str]] = []
    tolerance = 5 / 60
    for ch in channels:
        if ch.last_checked_at is None:
            due.append((-math.inf, ch.id))
            continue
        waited = (now - ch.last_checked_at).total_seconds() / 3600 + tolerance
        cadence = cadence_hours(ch, pol)
        if check_all or waited >= cadence:
            due.append((-(waited / cadence), ch.id))
    due.sort()
    limit = max(0, units_available) // max(1, pol.units_per_check)
    return [cid for _, cid in due[:limit]]
