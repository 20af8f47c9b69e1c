"""Benchmark: the quota planner over 7 simulated days of 1,000 channels / 100,000 videos.

    .venv/bin/python bench/planner.py [--channels 1000] [--videos 100000] [--days 7]
                                      [--budget 10000] [--spikes 40] [--seed 1]

A ManualClock ticks hourly (no real waiting) from a Pacific midnight. The world: a few daily
posters (3%), some posting every ~3 days (10%), many weekly (40%) and the rest dormant (one
upload per ~60 days), each with jittered gaps; existing videos have steady-state snapshot
ages; ``--spikes`` old videos get a view spike at a random time. Each tick does what the
Dagster tick does, with the planner choosing: channel statistics for every channel
(channels.list, 50 ids a unit), discovery of the channels ``plan_discovery`` picks within
``discovery_allowance`` (1 unit per uploads-playlist page, +1 videos.list unit when something
is new), and the stats refresh ``plan_refresh`` picks (videos.list, 50 ids a unit). A spike
shows in its channel's view count at the next channel refresh (``hot_channels``: views per
hour >= the fast threshold and 3x the hour before, for two ticks); its videos are refreshed
those ticks, and the anomaly alert fires on the first snapshot after the spike began when the
channel's jump confirms it (the scan's channel-confirmed rule), else on the second.

Units are charged at the client's documented costs inside this process: this bench measures
the planner's choices, not HTTP (bench/quota.py measures the client against the simulator).
Last line: ``units_per_day_max=<u> budget=<b> fresh_hourly_coverage=<c>
max_snapshot_age_days=<d> discovery_delay_p50_min=<q> spike_alert_p50_min=<m>``.
"""

from __future__ import annotations

import argparse
import random
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from statistics import median
from typing import Any

from atlas_simulator import ManualClock

from atlas_core.planner import (
    ChannelState,
    PlannerPolicy,
    VideoState,
    batch_units,
    discovery_allowance,
    hot_channels,
    plan_discovery,
    plan_refresh,
)
from atlas_core.youtube.quota import quota_day

START = datetime(2026, 11, 2, 8, tzinfo=UTC)  # midnight in Los Angeles (PST)
CLASSES = [("daily", 0.03, 24.0), ("frequent", 0.10, 72.0), ("weekly", 0.40, 168.0)]
DORMANT_GAP = 24.0 * 60
SPIKE_RATE = 20_000  # extra views per hour on a spiking video


@dataclass
class Channel:
    id: str
    gap: float
    uploads: list[datetime] = field(default_factory=list)  # known to Atlas
    future: list[datetime] = field(default_factory=list)  # published during the run
    last_checked: datetime | None = None


def next_gap(rng: random.Random, gap: float) -> timedelta:
    hours = rng.expovariate(1 / gap) if gap >= DORMANT_GAP else gap * rng.uniform(0.7, 1.3)
    return timedelta(hours=hours)


def build(args: argparse.Namespace, rng: random.Random) -> tuple[list[Channel], dict[str, Any]]:
    channels: list[Channel] = []
    for i in range(args.channels):
        roll, gap, acc = rng.random(), DORMANT_GAP, 0.0
        for _, share, g in CLASSES:
            acc += share
            if roll < acc:
                gap = g
                break
        ch = Channel(f"UC{i:06d}", gap)
        t = START - timedelta(hours=rng.uniform(0, gap))
        for _ in range(8):
            ch.uploads.append(t)
            t -= next_gap(rng, gap)
        ch.uploads.sort()
        t = ch.uploads[-1] + next_gap(rng, gap)
        while t < START + timedelta(days=args.days):
            if t > START:
                ch.future.append(t)
            t += next_gap(rng, gap)
        ch.last_checked = START - timedelta(minutes=rng.uniform(0, 60))
        channels.append(ch)
    videos: dict[str, Any] = {}  # id -> [published, last_snapshot, channel]
    for ch in channels:
        for k, pub in enumerate(ch.uploads):
            videos[f"{ch.id}-u{k}"] = [pub, None, ch.id]
    n = 0
    while len(videos) < args.videos:
        ch = channels[n % len(channels)]
        pub = ch.uploads[0] - timedelta(days=rng.uniform(1, 1000))
        videos[f"{ch.id}-o{n}"] = [pub, None, ch.id]
        n += 1
    for row in videos.values():  # steady-state snapshot ages per tier
        age = START - row[0]
        span = 1 if age < timedelta(hours=48) else 24 if age < timedelta(days=30) else 24 * 7
        row[1] = START - timedelta(hours=rng.uniform(0, span))
    return channels, videos


def run(args: argparse.Namespace) -> dict[str, float]:
    rng = random.Random(args.seed)
    t0 = time.perf_counter()
    channels, videos = build(args, rng)
    by_id = {c.id: c for c in channels}
    old = [v for v, row in videos.items() if row[0] < START - timedelta(days=30)]
    spikes = {
        v: START + timedelta(hours=rng.uniform(1, args.days * 24 - 2))
        for v in rng.sample(old, min(args.spikes, len(old)))
    }
    spike_alerted: dict[str, datetime] = {}
    spikes_of: dict[str, list[datetime]] = defaultdict(list)
    post_spike: dict[str, int] = defaultdict(int)
    for v, at in spikes.items():
        spikes_of[videos[v][2]].append(at)
    base = {c.id: rng.uniform(10, 800) for c in channels}  # views per hour, all videos
    hour = timedelta(hours=1)

    def channel_views(cid: str, at: datetime) -> int:
        """Total channel views: a steady rate plus SPIKE_RATE for each spike under way."""
        hours = (at - START).total_seconds() / 3600
        extra = sum(max(0.0, (at - s).total_seconds() / 3600) for s in spikes_of.get(cid, ()))
        return int(1_000_000 + base[cid] * hours + SPIKE_RATE * extra)

    print(
        f"world: {len(channels)} channels, {len(videos)} videos, built in "
        f"{time.perf_counter() - t0:.1f}s"
    )
    policy = PlannerPolicy(budget=args.budget, reserve=args.reserve)
    clock = ManualClock(START)
    units: dict[object, int] = defaultdict(int)
    delays: list[float] = []
    fresh_due = fresh_hit = 0
    max_age = timedelta(0)
    t1 = time.perf_counter()
    for _ in range(args.days * 24):
        now = clock()
        day = quota_day(now)
        # 1. channel statistics, every channel every tick; a spike shows here
        units[day] += batch_units(len(channels))
        history = {
            c.id: [(now - k * hour, channel_views(c.id, now - k * hour)) for k in range(4)]
            for c in channels
        }
        hot = hot_channels(history, policy.fast_views_per_hour)
        # 2. discovery, planned within the day's even share
        allowance = discovery_allowance(args.budget, units[day], now, keep=args.stats_keep)
        states = [ChannelState(c.id, c.uploads[-8:], c.last_checked) for c in channels]
        for cid in plan_discovery(states, now=now, units_available=allowance):
            ch = by_id[cid]
            ch.last_checked = now
            units[day] += 1
            new = [t for t in ch.future if t <= now]
            if new:
                units[day] += batch_units(len(new))
                for t in new:
                    videos[f"{cid}-n{t.timestamp():.0f}"] = [t, now, cid]
                    delays.append((now - t).total_seconds() / 60)
                    ch.uploads.append(t)
                ch.future = [t for t in ch.future if t > now]
        # 3. planned stats refresh
        vstates = [VideoState(v, r[0], r[1], None, r[2]) for v, r in videos.items()]
        plan = plan_refresh(
            vstates,
            now=now,
            spent_today=units[day],
            channels=0,
            policy=policy,
            hot_channels=hot,
        )
        units[day] += plan.units_planned
        chosen = set(plan.video_ids)
        previous = {v: videos[v][1] for v in chosen if v in spikes}
        for v in chosen:
            videos[v][1] = now
        for v, at in spikes.items():
            if at <= now and v in chosen and v not in spike_alerted:
                # The anomaly scan (atlas_core.pipeline.signals): the channel-confirmed rule
                # fires on the first snapshot after the spike began when the channel's jump
                # in its last hour covers at least half the video's extra views; otherwise
                # the two-interval rule fires on the second snapshot.
                cid = videos[v][2]
                (_, c0), (_, c1), (_, c2) = history[cid][:3]
                channel_excess = (c0 - c1) - max(c1 - c2, 0)
                since = max(at, previous[v] or at)
                video_excess = SPIKE_RATE * (now - since).total_seconds() / 3600
                rate, before = base[cid] + video_excess, base[cid]
                confirmed = (
                    channel_excess >= 0.5 * video_excess
                    and rate >= 100
                    and rate >= 3 * max(before, 1.0)
                )
                post_spike[v] += 1
                if confirmed or post_spike[v] == 2:
                    spike_alerted[v] = now
        for _vid, (pub, last, _) in videos.items():
            age = now - pub
            if timedelta(hours=1) <= age < timedelta(hours=48):
                fresh_due += 1
                fresh_hit += now - last <= timedelta(minutes=60)
            max_age = max(max_age, now - last)
        clock.advance(hours=1)
    elapsed = time.perf_counter() - t1
    for day in sorted(units, key=str):
        print(f"pacific_day={day} units={units[day]}")
    spike_delays = [
        (spike_alerted[v] - at).total_seconds() / 60
        for v, at in spikes.items()
        if v in spike_alerted
    ]
    print(
        f"ticks={args.days * 24} elapsed_s={elapsed:.1f} discovered={len(delays)} "
        f"spikes={len(spikes)} spikes_alerted={len(spike_delays)}"
    )
    return {
        "units_per_day_max": max(units.values()),
        "budget": args.budget,
        "fresh_hourly_coverage": fresh_hit / fresh_due if fresh_due else 1.0,
        "max_snapshot_age_days": max_age.total_seconds() / 86400,
        "discovery_delay_p50_min": median(delays) if delays else 0.0,
        "spike_alert_p50_min": median(spike_delays) if spike_delays else float("inf"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--channels", type=int, default=1_000)
    parser.add_argument("--videos", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--budget", type=int, default=10_000)
    parser.add_argument("--reserve", type=int, default=2_000)
    parser.add_argument(
        "--stats-keep",
        type=int,
        default=600,
        help="units discovery leaves for the rest of the day's stats refresh",
    )
    parser.add_argument("--spikes", type=int, default=40)
    parser.add_argument("--seed", type=int, default=1)
    r = run(parser.parse_args())
    print(
        f"units_per_day_max={r['units_per_day_max']} budget={r['budget']} "
        f"fresh_hourly_coverage={r['fresh_hourly_coverage']:.4f} "
        f"max_snapshot_age_days={r['max_snapshot_age_days']:.2f} "
        f"discovery_delay_p50_min={r['discovery_delay_p50_min']:.0f} "
        f"spike_alert_p50_min={r['spike_alert_p50_min']:.0f}"
    )


if __name__ == "__main__":
    main()
