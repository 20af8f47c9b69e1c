"""Benchmark: the quota planner and the YouTube client over 7 simulated days of 1,000 channels
and 100,000 videos, every API call answered (and charged) by the simulator.

    .venv/bin/python bench/planner.py [--channels 1000] [--videos 100000] [--days 7]
                                      [--budget 10000] [--spikes 40] [--seed 1]
                                      [--concurrency 4]

Starts a YouTube simulator (``atlas_simulator.SimulatorServer``, a compact world, driven by a
ManualClock that ticks hourly from a Pacific midnight: no real waiting) and a throwaway
embedded PostgreSQL for the client's quota ledger. The world, scripted through
``World.shape_backlog`` / ``add_video`` / ``schedule_spike``: a few daily posters (3%), some
posting every ~3 days (10%), many weekly (40%) and the rest dormant (one upload per ~60 days),
each channel with its 8 latest uploads at jittered gaps of its cadence and its older videos
(the generated backlog) before them; the uploads due during the run appear in the simulator
when their time comes; ``--spikes`` videos over 30 days old get a view spike (+20,000
views/h) at a random time. Atlas's stored state at the start (the videos, steady-state
snapshot ages per tier, the two snapshots before the last, the last three channel snapshots)
is read from the world.

Each tick does what the Dagster tick does, through the real ``YouTubeClient``, the planner
choosing: (1) ``client.channels`` for every channel (channels.list, 50 ids a call); the views
it returns feed ``hot_channels`` (views per hour >= the fast threshold and 3x the interval
before, in either of the last two intervals); (2) ``client.uploads`` for the channels
``plan_discovery`` picks within ``discovery_allowance`` (one playlistItems.list page per
check), then ``client.videos`` for what is new; (3) ``client.video_batches`` for the stats
refresh ``plan_refresh`` picks (videos.list, 50 ids a call), with hot channels' videos as
fast movers and each video's views per hour between its last two snapshots (as
``store.planning.iter_video_states`` gives them). Discovery checks run concurrently, up to
``--concurrency`` calls in flight. Each refreshed video is then scanned with the rules of
``atlas_core.pipeline.signals`` over the views the simulator served: the two-interval rule
(``velocity_anomalies``) and the channel-confirmed rule (``channel_confirmed_spikes``); a
spike's alert time is the first tick either rule fires for its video after the spike began.

Units per Pacific day are what the simulator charged (checked against the client's quota
ledger); the planner is told today's spend from the ledger, as in the pipeline. The simulator
charges but never refuses, so an overspend shows in the figures rather than stopping the run.
It runs in this process (the simulator answers with TCP_NODELAY); the default run
takes about 6 minutes on 2 cores, mostly HTTP on both sides and the planner itself.

Prints, per Pacific day, ``units`` (simulator), ``ledger_units`` and each phase's units; then
the API calls per resource and how many failed; then the uploads discovered, the spikes
alerted and the videos alerted without a spike. Last line: ``units_per_day_max=<u>
budget=<b> fresh_hourly_coverage=<c> max_snapshot_age_days=<d> discovery_delay_p50_min=<q>
spike_alert_p50_min=<m>``.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import json
import random
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from statistics import median

from atlas_simulator import ManualClock, SimulatorServer

from atlas_core.analysis.velocity import excess_views
from atlas_core.config import load_settings
from atlas_core.database import DatabaseManager
from atlas_core.embedded import started_dsn, stop_server
from atlas_core.migrate import migrate
from atlas_core.planner import (
    ChannelState,
    PlannerPolicy,
    VideoState,
    discovery_allowance,
    hot_channels,
    plan_discovery,
    plan_refresh,
)
from atlas_core.youtube import YouTubeClient
from atlas_core.youtube.quota import quota_day

KEY = "bench-planner-key"
START = datetime(2026, 11, 2, 8, tzinfo=UTC)  # midnight in Los Angeles (PST)
CLASSES = [("daily", 0.03, 24.0), ("frequent", 0.10, 72.0), ("weekly", 0.40, 168.0)]
DORMANT_GAP = 24.0 * 60
RECENT = 8  # uploads per channel at their cadence; older videos are the generated backlog
SPIKE_RATE = 20_000  # extra views per hour on a spiking video
FACTOR, MIN_RATE = 3.0, 100.0  # the anomaly scan's defaults (scan_anomalies)
HOUR = timedelta(hours=1)

Point = tuple[datetime, int]  # (observed at, views)


@dataclass
class Known:
    """A video as Atlas has stored it, and what the planner reads of it."""

    id: str
    published: datetime
    channel: str
    snaps: list[Point]  # the last three snapshots, newest first
    state: VideoState | None = None

    def snapshot(self, point: Point) -> None:
        self.snaps = [point, *self.snaps[:2]]
        self.state = None

    def planner_state(self) -> VideoState:
        """Publish time, last snapshot and views per hour between the last two (as
        ``store.planning.iter_video_states`` reads them)."""
        if self.state is None:
            rate = None
            if len(self.snaps) >= 2:
                (t1, v1), (t2, v2) = self.snaps[:2]
                hours = (t1 - t2).total_seconds() / 3600
                rate = (v1 - v2) / hours if hours > 0 else None
            self.state = VideoState(self.id, self.published, self.snaps[0][0], rate, self.channel)
        return self.state


def next_gap(rng: random.Random, gap: float) -> timedelta:
    hours = rng.expovariate(1 / gap) if gap >= DORMANT_GAP else gap * rng.uniform(0.7, 1.3)
    return timedelta(hours=hours)


def script_world(sim: SimulatorServer, args: argparse.Namespace, rng: random.Random) -> int:
    """Give each channel a cadence, its recent uploads, the uploads due during the run and a
    quiet backlog; returns how many uploads the run will see."""
    world = sim.world
    end = START + timedelta(days=args.days)
    upcoming = 0
    for cid in world.channels:
        roll, gap, acc = rng.random(), DORMANT_GAP, 0.0
        for _, share, g in CLASSES:
            acc += share
            if roll < acc:
                gap = g
                break
        recent, t = [], START - timedelta(hours=rng.uniform(0, gap))
        for _ in range(RECENT):
            recent.append(t)
            t -= next_gap(rng, gap)
        # the backlog: older than the recent uploads, together 10-800 views an hour
        world.shape_backlog(cid, newest=t, views_per_hour=rng.uniform(10, 800))
        for published in recent:
            world.add_video(cid, published, views_per_hour=rng.uniform(1, 100))
        t = recent[0] + next_gap(rng, gap)
        while t < end:
            if t > START:
                world.add_video(cid, t, views_per_hour=rng.uniform(1, 100))
                upcoming += 1
            t += next_gap(rng, gap)
    return upcoming


def stored_state(sim: SimulatorServer, rng: random.Random) -> dict[str, Known]:
    """Atlas's videos at the start, with steady-state snapshot ages per tier: the last
    snapshot within the tier's interval, the two before it one interval apart."""
    world, known = sim.world, {}
    for cid in world.channels:
        for video in world.visible_videos(cid, START):
            age = START - video.published_at
            span = 1 if age < timedelta(hours=48) else 24 if age < timedelta(days=30) else 24 * 7
            last = START - timedelta(hours=rng.uniform(0, span))
            times = [last - k * timedelta(hours=span) for k in range(3)]
            snaps = [(t, video.views_at(t)) for t in times]
            known[video.id] = Known(video.id, video.published_at, cid, snaps)
    return known


def anomaly(snaps: list[Point], jump: tuple[float, float] | None) -> bool:
    """Whether the scan of ``atlas_core.pipeline.signals`` flags a video with these last three
    snapshots (newest first) whose channel jumped by ``jump`` (excess views, hours) in its
    last interval: the two-interval rule, else the channel-confirmed rule."""
    if len(snaps) < 3:
        return False
    (t1, v1), (t2, v2), (t3, v3) = snaps
    h12, h23 = (t1 - t2).total_seconds() / 3600, (t2 - t3).total_seconds() / 3600
    if h12 > 0 and h23 > 0 and h23 * 4 >= h12:  # velocity_anomalies
        rate, previous = (v1 - v2) / h12, max((v2 - v3) / h23, 0.0)
        if rate >= MIN_RATE and rate >= FACTOR * max(previous, 1.0):
            return True
    found = excess_views(snaps) if jump is not None else None
    if jump is None or found is None:  # channel_confirmed_spikes
        return False
    video_excess, _, before = found
    channel_excess, channel_hours = jump
    rate = before + video_excess / channel_hours
    return (
        channel_excess >= 0.5 * video_excess
        and rate >= MIN_RATE
        and rate >= FACTOR * max(before, 1.0)
    )


async def run(
    args: argparse.Namespace, dsn: str, sim: SimulatorServer, clock: ManualClock
) -> dict[str, float]:
    rng = random.Random(args.seed)
    t0 = time.perf_counter()
    upcoming = script_world(sim, args, rng)
    known = stored_state(sim, rng)
    world = sim.world
    channel_ids = list(world.channels)
    by_channel: dict[str, set[str]] = defaultdict(set)
    uploads: dict[str, list[datetime]] = defaultdict(list)  # recent publish times, ascending
    for vid, k in known.items():
        by_channel[k.channel].add(vid)
        bisect.insort(uploads[k.channel], k.published)
    for cid in channel_ids:
        del uploads[cid][:-RECENT]
    last_checked = {c: START - timedelta(minutes=rng.uniform(0, 60)) for c in channel_ids}
    history: dict[str, list[Point]] = {  # channel views, newest first: the last four
        c: [(START - k * HOUR, world.channel_views(c, START - k * HOUR)) for k in (1, 2, 3)]
        for c in channel_ids
    }
    old = sorted(v for v, k in known.items() if k.published < START - timedelta(days=30))
    spikes = {
        v: START + timedelta(hours=rng.uniform(1, args.days * 24 - 2))
        for v in rng.sample(old, min(args.spikes, len(old)))
    }
    for v, at in spikes.items():
        world.schedule_spike(v, at, views_per_hour=SPIKE_RATE)
    print(
        f"world: {len(channel_ids)} channels, {len(known)} videos (+{upcoming} to be uploaded), "
        f"built in {time.perf_counter() - t0:.1f}s"
    )

    settings = load_settings(
        _env_file=None,
        DATABASE_URL=dsn,
        YOUTUBE_API_BASE_URL=sim.base_url,
        YOUTUBE_API_KEY_POOL_JSON=json.dumps([KEY]),
        YOUTUBE_MAX_CONCURRENCY=args.concurrency,
    )
    db = DatabaseManager(dsn, min_size=1, max_size=args.concurrency + 1)
    policy = PlannerPolicy(budget=args.budget, reserve=args.reserve)
    units: dict[date, int] = {}  # charged by the simulator
    phases: dict[date, Counter[str]] = defaultdict(Counter)

    def spend(day: date, phase: str, before: int) -> int:
        """Charge what the simulator charged since ``before`` to ``phase``."""
        after = sim.units_used()
        phases[day][phase] += after - before
        return after

    ledger: dict[date, int] = {}  # the client's quota ledger
    delays: list[float] = []
    spike_alerted: dict[str, datetime] = {}
    false_alerts: set[str] = set()
    fresh_due = fresh_hit = 0
    young = [k for k in known.values() if START - k.published < timedelta(hours=48)]
    max_age = timedelta(0)
    t1 = time.perf_counter()
    async with YouTubeClient(settings, db, clock=clock) as yt:
        for _ in range(args.days * 24):
            now = clock()
            day = quota_day(now)
            charged = sim.units_used()
            # 1. channel statistics, every channel every tick: a spike shows here first
            channels = await yt.channels(channel_ids)
            observed = yt.observed_at()
            for c in channels.found:
                if c.view_count is not None:
                    history[c.id] = [(observed, c.view_count), *history[c.id][:3]]
            hot = hot_channels(history, policy.fast_views_per_hour)
            charged = spend(day, "channels", charged)

            # 2. discovery, planned within the day's even share of what is left
            spent = await yt.units_spent_today()
            allowance = discovery_allowance(args.budget, spent, now, keep=args.stats_keep)
            states = [ChannelState(c, uploads[c], last_checked[c]) for c in channel_ids]
            due = plan_discovery(states, now=now, units_available=allowance)

            async def discover(cid: str, now: datetime = now) -> None:
                new_ids = (await yt.uploads(cid, by_channel[cid])).ids
                last_checked[cid] = now
                if not new_ids:
                    return
                details = await yt.videos(new_ids)
                for v in details.found:
                    if v.published_at is None or v.view_count is None or v.id in known:
                        continue
                    known[v.id] = Known(v.id, v.published_at, cid, [(now, v.view_count)])
                    young.append(known[v.id])
                    by_channel[cid].add(v.id)
                    bisect.insort(uploads[cid], v.published_at)
                    del uploads[cid][:-RECENT]
                    delays.append((now - v.published_at).total_seconds() / 60)

            await asyncio.gather(*(discover(c) for c in due))
            charged = spend(day, "discovery", charged)

            # 3. the planned stats refresh
            spent = await yt.units_spent_today()
            plan = plan_refresh(
                (k.planner_state() for k in known.values()),
                now=now,
                spent_today=spent,
                channels=0,
                policy=policy,
                hot_channels=hot,
            )
            refreshed: list[str] = []
            async for batch in yt.video_batches(plan.video_ids):
                observed = yt.observed_at()
                for v in batch.found:
                    if v.view_count is not None:
                        known[v.id].snapshot((observed, v.view_count))
                        refreshed.append(v.id)
            spend(day, "refresh", charged)

            # 4. the anomaly scan over what the refresh wrote
            jumps: dict[str, tuple[float, float]] = {}
            for cid, points in history.items():
                found = excess_views(points) if len(points) >= 3 else None
                if found is not None and found[0] / found[1] >= MIN_RATE:
                    jumps[cid] = (found[0], found[1])
            for v in refreshed:
                k = known[v]
                if not anomaly(k.snaps, jumps.get(k.channel)):
                    continue
                at = spikes.get(v)
                if at is not None and at <= now:
                    spike_alerted.setdefault(v, now)
                else:
                    false_alerts.add(v)

            young[:] = [k for k in young if now - k.published < timedelta(hours=48)]
            for k in young:
                if now - k.published >= HOUR:
                    fresh_due += 1
                    fresh_hit += now - k.snaps[0][0] <= timedelta(minutes=60)
            max_age = max(max_age, now - min(k.snaps[0][0] for k in known.values()))
            units[day] = sim.units_used()
            ledger[day] = await yt.units_spent_today()
            clock.advance(hours=1)
    await db.close()
    elapsed = time.perf_counter() - t1

    calls = Counter(r.resource for r in sim.api_requests())
    failed = sum(1 for r in sim.api_requests() if r.status != 200)
    for day in sorted(units):
        split = " ".join(f"{p}={phases[day][p]}" for p in ("channels", "discovery", "refresh"))
        print(f"pacific_day={day} units={units[day]} ledger_units={ledger[day]} {split}")
    spike_delays = [
        (spike_alerted[v] - at).total_seconds() / 60
        for v, at in spikes.items()
        if v in spike_alerted
    ]
    print(
        f"api_calls={sum(calls.values())} "
        + " ".join(f"{name}={n}" for name, n in sorted(calls.items()))
        + f" failed={failed}"
    )
    print(
        f"ticks={args.days * 24} elapsed_s={elapsed:.1f} discovered={len(delays)} "
        f"spikes={len(spikes)} spikes_alerted={len(spike_delays)} "
        f"false_alert_videos={len(false_alerts)}"
    )
    if units != ledger:
        print("WARNING: the client's quota ledger disagrees with the simulator's charges")
    return {
        "units_per_day_max": max(units.values()),
        "budget": args.budget,
        "fresh_hourly_coverage": fresh_hit / fresh_due if fresh_due else 1.0,
        "max_snapshot_age_days": max_age.total_seconds() / 86400,
        "discovery_delay_p50_min": median(delays) if delays else 0.0,
        "spike_alert_p50_min": median(spike_delays) if spike_delays else float("inf"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
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
    parser.add_argument("--concurrency", type=int, default=4, help="YOUTUBE_MAX_CONCURRENCY")
    args = parser.parse_args()
    if args.videos < RECENT * args.channels + args.channels:
        parser.error(f"--videos must be at least {RECENT + 1} per channel")
    clock = ManualClock(START)
    with tempfile.TemporaryDirectory(prefix="atlas-bench-planner-") as home:
        Path(home).chmod(0o755)  # the embedded server may run as another user
        dsn = started_dsn(Path(home))
        try:
            migrate(dsn)
            sim = SimulatorServer(
                seed=args.seed,
                keys=[KEY],
                clock=clock,
                channels=args.channels,
                videos=args.videos - RECENT * args.channels,  # the backlog
                happenings=False,
                compact=True,
                daily_quota=10**9,  # charge, never refuse: the bench measures the spend
            )
            with sim:
                r = asyncio.run(run(args, dsn, sim, clock))
        finally:
            stop_server(Path(home))  # stop the server before its folder is removed
    print(
        f"units_per_day_max={r['units_per_day_max']} budget={r['budget']} "
        f"fresh_hourly_coverage={r['fresh_hourly_coverage']:.4f} "
        f"max_snapshot_age_days={r['max_snapshot_age_days']:.2f} "
        f"discovery_delay_p50_min={r['discovery_delay_p50_min']:.0f} "
        f"spike_alert_p50_min={r['spike_alert_p50_min']:.0f}"
    )


if __name__ == "__main__":
    main()
