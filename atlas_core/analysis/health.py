"""Rules behind the operational asset checks: stale channels, quota headroom, alert rate.
Pure functions over numbers and times, so each rule is tested without a database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from atlas_core.youtube.quota import PACIFIC

YOUTUBE_DAILY_UNITS_PER_KEY = 10_000  # YouTube Data API v3's default daily quota per project


def stale_channels(
    latest: dict[str, datetime | None], now: datetime, max_age: timedelta
) -> dict[str, datetime | None]:
    """The channels whose latest snapshot is older than ``max_age`` (or missing)."""
    return {c: t for c, t in latest.items() if t is None or now - t > max_age}


@dataclass(frozen=True)
class QuotaHeadroom:
    used: int  # units spent so far this Pacific day
    capacity: int  # units available in the whole day
    projected: int  # units the day ends with at the rate spent so far
    hours_left: float  # until Pacific midnight

    @property
    def enough(self) -> bool:
        return self.projected <= self.capacity


def quota_headroom(used: int, capacity: int, now: datetime) -> QuotaHeadroom:
    """Whether spending at today's rate so far would stay within ``capacity`` until
    midnight in Los Angeles (when YouTube resets quotas). ``now`` must be aware."""
    if now.tzinfo is None:
        raise ValueError("quota_headroom needs an aware datetime, e.g. datetime.now(UTC)")
    local = now.astimezone(PACIFIC)
    start = datetime.combine(local.date(), time(0), tzinfo=PACIFIC).astimezone(UTC)
    end = datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=PACIFIC)
    day = end.astimezone(UTC) - start  # 23 or 25 hours on DST changes
    elapsed = max(now - start, timedelta(minutes=30))  # no wild projection right after reset
    projected = round(used * min(day / elapsed, 48.0))
    left = (end.astimezone(UTC) - now).total_seconds() / 3600
    return QuotaHeadroom(used=used, capacity=capacity, projected=projected, hours_left=left)


def alert_rate_is_anomalous(
    recent: int, baseline_per_day: float, factor: float = 3.0, floor: int = 10
) -> bool:
    """True when the last day's alerts exceed ``factor`` times the daily baseline and
    ``floor`` (a handful of alerts on a quiet week is not an anomaly)."""
    return recent > max(floor, factor * baseline_per_day)
