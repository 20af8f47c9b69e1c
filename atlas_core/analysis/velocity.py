"""Views-velocity anomalies from ``video_stats_log``.

    async with db.get_connection() as conn:
        spikes = await velocity_anomalies(conn, factor=3.0, min_views_per_hour=100)

For each video, the views per hour between its last two snapshots is compared with the rate
between the two before; a rate ``factor`` times the earlier one (and at least
``min_views_per_hour``) is an anomaly. Snapshots are ordered by their tick (``timestamp``, the
run's key) but rates are measured over the time between their observations (``observed_at``,
when YouTube served them), so a queued or retried run does not skew them.

A video is not judged (no baseline yet) when its snapshots' ticks disagree with the order in
which they were observed (an unscheduled run, such as a channel's first discovery, stamped
after a scheduled tick whose response came later), or when the earlier interval is under a
quarter of the latest one: a baseline that short says little, and rounding alone can make it
look like nothing happened.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from psycopg import AsyncConnection

from atlas_core.store.velocity import VideoSeries, recent_video_series
from atlas_core.utils import views_per_hour


@dataclass(frozen=True)
class Anomaly:
    video_id: str
    at: datetime
    rate: float
    previous_rate: float
    channel_confirmed: bool = False  # found by channel_confirmed_spikes

    @property
    def ratio(self) -> float:
        return self.rate / self.previous_rate if self.previous_rate > 0 else float("inf")


async def velocity_anomalies(
    conn: AsyncConnection,
    factor: float = 3.0,
    min_views_per_hour: float = 100.0,
    since: datetime | None = None,
) -> list[Anomaly]:
    """``since``: only videos with a snapshot at or after it (the ones this tick refreshed;
    an anomaly needs a new snapshot), found through the BRIN index on ``timestamp`` instead
    of visiting every tracked video."""
    found = []
    for series in await recent_video_series(conn, 3, since=since):
        judged = _two_interval_rates(series)
        if judged is None:
            continue
        rate, previous = judged
        if rate >= min_views_per_hour and rate >= factor * max(previous, 1.0):
            found.append(Anomaly(series.video_id, series.ticks[0], rate, previous))
    return sorted(found, key=lambda a: a.rate, reverse=True)


def _two_interval_rates(series: VideoSeries) -> tuple[float, float] | None:
    """(views per hour over the last interval, over the one before), or None when the video
    is not judged: ticks out of observation order, or a baseline under a quarter of the
    latest interval."""
    (t1, t2, t3), (o1, o2, o3), (v1, v2, v3) = series.ticks, series.observed, series.views
    if not (t1 > t2 > t3 and o1 > o2 > o3) or (o2 - o3) * 4 < (o1 - o2):
        return None
    rate, previous = views_per_hour(o1, o2, v1, v2), views_per_hour(o2, o3, v2, v3)
    assert rate is not None and previous is not None  # both intervals are positive
    return rate, max(previous, 0.0)


def excess_views(points: Sequence[tuple[datetime, int]]) -> tuple[float, float, float] | None:
    """(views gained in the last interval beyond the interval before's rate, that interval's
    hours, the rate before) from the newest three (time, views) points, newest first."""
    (t1, v1), (t2, v2), (t3, v3) = points[:3]
    h12, h23 = (t1 - t2).total_seconds() / 3600, (t2 - t3).total_seconds() / 3600
    if h12 <= 0 or h23 <= 0:
        return None
    before = max((v2 - v3) / h23, 0.0)
    return (v1 - v2) - before * h12, h12, before


async def channel_confirmed_spikes(
    conn: AsyncConnection,
    channel_history: dict[str, list[tuple[datetime, int]]],
    since: datetime,
    factor: float = 3.0,
    min_views_per_hour: float = 100.0,
) -> list[Anomaly]:
    """Spikes caught on their first snapshot. A weekly-refreshed video's first snapshot after
    a spike spreads the new views over a week, so the two-interval rule needs a second
    snapshot an hour later. But when the video's channel (refreshed every tick) jumped in its
    last interval by at least half of what the video gained beyond its usual rate, those
    views arrived within that interval: the video's rate there is its usual rate plus the
    excess over the channel's interval. ``channel_history``: newest first, as
    ``store.planning.channel_view_history`` returns it."""
    jumps: dict[str, tuple[float, float]] = {}
    for cid, points in channel_history.items():
        found = excess_views(points) if len(points) >= 3 else None
        if found is not None and found[0] / found[1] >= min_views_per_hour:
            jumps[cid] = (found[0], found[1])
    if not jumps:
        return []
    spikes = []
    for series in await recent_video_series(conn, 3, since=since, channels=sorted(jumps)):
        found = excess_views(list(zip(series.observed, series.views, strict=True)))
        if found is None:
            continue
        excess, _, before = found
        channel_excess, channel_hours = jumps[series.channel_id]
        rate = before + excess / channel_hours
        if (
            channel_excess >= 0.5 * excess
            and rate >= min_views_per_hour
            and rate >= factor * max(before, 1.0)
        ):
            spikes.append(
                Anomaly(series.video_id, series.ticks[0], rate, before, channel_confirmed=True)
            )
    return sorted(spikes, key=lambda a: a.rate, reverse=True)
