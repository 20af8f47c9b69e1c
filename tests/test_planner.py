"""The quota planner: pure properties with a fake clock, then its SQL and pipeline wiring."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from atlas_simulator import SimulatorServer
from webhook_sink import WebhookSink

from atlas_core.config import Settings, load_settings
from atlas_core.database import DatabaseManager
from atlas_core.notifications import AlertChannel, DiscordNotifier
from atlas_core.pipeline import Services, discover_videos, snapshot_video_stats
from atlas_core.pipeline.alerts import deliver_alerts
from atlas_core.pipeline.planning import plan_channel_checks, plan_video_refresh
from atlas_core.planner import (
    ChannelState,
    DiscoveryPolicy,
    PlannerPolicy,
    VideoState,
    batch_units,
    cadence_hours,
    discovery_allowance,
    hot_channels,
    plan_discovery,
    plan_refresh,
    ticks_left_today,
)
from atlas_core.storage import LocalVault
from atlas_core.store.planning import (
    channel_states,
    channel_view_history,
    mark_checked,
    video_states,
)
from atlas_core.store.stats import write_channel_stats, write_video_stats

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def world(n: int, seed: int, now: datetime) -> list[VideoState]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        age = timedelta(hours=rng.choice([1, 5, 30, 60, 24 * 10, 24 * 100, 24 * 400]))
        last = rng.choice([None, timedelta(minutes=30), timedelta(hours=3), timedelta(days=8)])
        out.append(
            VideoState(
                id=f"v{i:06d}",
                published_at=now - age,
                last_snapshot_at=None if last is None else now - last,
                views_per_hour=rng.choice([None, 5.0, 50_000.0]),
            )
        )
    return out


@pytest.mark.parametrize("spent", [0, 5_000, 7_990, 9_999, 12_000])
def test_never_over_budget(spent: int) -> None:
    policy = PlannerPolicy(budget=10_000, reserve=2_000)
    videos = world(30_000, seed=spent, now=T0)
    plan = plan_refresh(videos, now=T0, spent_today=spent, channels=120, policy=policy)
    video_units = batch_units(len(plan.video_ids))
    assert video_units <= max(0, policy.budget - policy.reserve - spent - batch_units(120))
    assert plan.units_planned <= max(0, policy.budget - spent)
    assert plan.units_left_today == policy.budget - spent - plan.units_planned
    assert len(set(plan.video_ids)) == len(plan.video_ids)


def test_newest_first_under_a_tight_budget() -> None:
    policy = PlannerPolicy(budget=40, reserve=10)
    videos = world(5_000, seed=7, now=T0)
    plan = plan_refresh(videos, now=T0, spent_today=0, channels=10, policy=policy)
    assert plan.tiers["daily"] + plan.tiers["weekly"] < plan.due["daily"] + plan.due["weekly"]
    # overdue and fresh come before anything else
    assert plan.tiers["overdue"] == plan.due["overdue"] or plan.tiers["fresh"] == 0
    order = [t for t in ("overdue", "fresh", "fast", "daily", "weekly") if plan.tiers[t]]
    first_short = next(
        (t for t in ("overdue", "fresh", "fast", "daily", "weekly") if plan.tiers[t] < plan.due[t]),
        None,
    )
    assert first_short is not None
    later = ("overdue", "fresh", "fast", "daily", "weekly")
    for tier in later[later.index(first_short) + 1 :]:
        assert plan.tiers[tier] == 0, order


def test_shortfall_when_the_minimum_does_not_fit() -> None:
    now = T0
    videos = [VideoState(f"n{i}", now - timedelta(hours=2), None) for i in range(1_000)]
    plan = plan_refresh(
        videos, now=now, spent_today=0, channels=0, policy=PlannerPolicy(budget=15, reserve=5)
    )
    assert plan.shortfall == batch_units(1_000) - 10
    assert len(plan.video_ids) == 500
    assert plan.metadata()["videos_deferred"] == 500


def test_deterministic_whatever_the_input_order() -> None:
    policy = PlannerPolicy(budget=100, reserve=20)
    videos = world(8_000, seed=3, now=T0)
    shuffled = videos[:]
    random.Random(1).shuffle(shuffled)
    a = plan_refresh(videos, now=T0, spent_today=10, channels=5, policy=policy)
    b = plan_refresh(shuffled, now=T0, spent_today=10, channels=5, policy=policy)
    assert a == b


def test_forty_days_hourly_keeps_every_video_inside_its_windows() -> None:
    """Fake clock, 40 simulated days: fresh videos every hour, every video within retention."""
    policy = PlannerPolicy(
        budget=10_000, reserve=2_000, retention_days=30, refresh_all_when_affordable=False
    )
    rng = random.Random(11)
    published = {f"v{i}": T0 - timedelta(days=rng.uniform(0, 400)) for i in range(3_000)}
    last: dict[str, datetime | None] = {v: None for v in published}
    max_age = timedelta(0)
    fresh_misses = 0
    for hour in range(40 * 24):
        now = T0 + timedelta(hours=hour)
        if hour % 6 == 0:  # a new upload every six hours
            vid = f"new{hour}"
            published[vid] = now - timedelta(minutes=10)
            last[vid] = now - timedelta(minutes=10)  # discovery snapshotted it
        states = [VideoState(v, published[v], last[v]) for v in published]
        plan = plan_refresh(states, now=now, spent_today=0, channels=10, policy=policy)
        chosen = set(plan.video_ids)
        for v in published:
            if now - published[v] < timedelta(hours=48) and now - published[v] >= timedelta(
                hours=1
            ):
                fresh_misses += v not in chosen
        for v in chosen:
            last[v] = now
        for v, seen in last.items():
            if seen is not None:
                max_age = max(max_age, now - seen)
    assert fresh_misses == 0
    assert max_age <= timedelta(days=30)


def test_hot_channel_videos_refresh_hourly_and_allowance_spreads_the_day() -> None:
    old = VideoState("old", T0 - timedelta(days=300), T0 - timedelta(hours=2), None, "UChot")
    cold = VideoState("cold", T0 - timedelta(days=300), T0 - timedelta(hours=2), None, "UCx")
    policy = PlannerPolicy(refresh_all_when_affordable=False)
    plan = plan_refresh(
        [old, cold],
        now=T0,
        spent_today=0,
        channels=2,
        policy=policy,
        hot_channels=frozenset({"UChot"}),
    )
    assert plan.video_ids == ["old"] and plan.tiers["fast"] == 1
    # 2026-11-01 00:00 UTC is 17:00 Pacific (PDT): 7 hourly ticks left in the quota day
    assert ticks_left_today(T0) == 7
    assert discovery_allowance(10_000, 3_000, T0) == 1_000
    assert discovery_allowance(10_000, 10_500, T0) == 0


def test_hot_channels_from_channel_view_jumps() -> None:
    h = timedelta(hours=1)
    history = {
        "spike": [(T0, 60_000), (T0 - h, 10_000), (T0 - 2 * h, 9_000)],
        "steady_big": [(T0, 300_000), (T0 - h, 200_000), (T0 - 2 * h, 100_000)],
        "small": [(T0, 500), (T0 - h, 100), (T0 - 2 * h, 99)],
        "new": [(T0, 5_000), (T0 - h, 0)],
        "one": [(T0, 5)],
    }
    assert hot_channels(history, min_views_per_hour=1_000) == {"spike"}
    history["spike"].insert(0, (T0 + h, 110_000))  # one tick later it is still hot ...
    assert hot_channels(history, min_views_per_hour=1_000) == {"spike"}
    history["spike"].insert(0, (T0 + 2 * h, 160_000))  # ... but not two ticks later
    assert hot_channels(history, min_views_per_hour=1_000) == frozenset()


def test_small_watchlists_refresh_everything_every_tick() -> None:
    videos = world(500, seed=5, now=T0)
    plan = plan_refresh(videos, now=T0, spent_today=0, channels=5, policy=PlannerPolicy())
    assert sorted(plan.video_ids) == sorted(v.id for v in videos)
    assert plan.tiers["spare"] > 0 and plan.units_planned == batch_units(500) + 1
    strict = PlannerPolicy(refresh_all_when_affordable=False)
    plan = plan_refresh(videos, now=T0, spent_today=0, channels=5, policy=strict)
    assert plan.tiers["spare"] == 0 and len(plan.video_ids) < 500


def test_policy_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="retention window"):
        PlannerPolicy(retention_days=3)
    with pytest.raises(ValueError, match="budget and reserve"):
        PlannerPolicy(budget=-1)


def test_discovery_cadence_follows_upload_history() -> None:
    daily = ChannelState("d", [T0 - timedelta(days=k) for k in range(8)], T0)
    weekly = ChannelState("w", [T0 - timedelta(days=7 * k) for k in range(8)], T0)
    dormant = ChannelState("z", [T0 - timedelta(days=300)], T0)
    pol = DiscoveryPolicy()
    assert cadence_hours(daily, pol) == 1.0
    assert cadence_hours(weekly, pol) == 3.5
    assert cadence_hours(dormant, pol) == 15.0
    later = T0 + timedelta(hours=2)
    assert plan_discovery([daily, weekly, dormant], now=later, units_available=10) == ["d"]
    never = ChannelState("new")
    due = plan_discovery([weekly, never, daily], now=T0 + timedelta(hours=8), units_available=2)
    assert due == ["new", "d"]  # never checked first, then the most overdue for its cadence


def test_a_small_watchlist_has_every_channel_checked_each_tick() -> None:
    """A weekly channel checked 3 minutes ago is not due by its cadence (3.5 h), but while
    checking every channel hourly fits the units set aside, every channel is due each tick,
    most overdue first, still within the tick's units."""
    weekly = ChannelState("w", [T0 - timedelta(days=7 * k) for k in range(8)], T0)
    daily = ChannelState("d", [T0 - timedelta(days=k) for k in range(8)], T0 - timedelta(hours=1))
    soon = T0 + timedelta(minutes=3)
    assert plan_discovery([weekly, daily], now=soon, units_available=10) == ["d"]
    roomy = DiscoveryPolicy(check_all_within_units_per_day=48)  # 2 channels x 24 ticks
    assert plan_discovery([weekly, daily], now=soon, units_available=10, policy=roomy) == [
        "d",
        "w",
    ]
    assert plan_discovery([weekly, daily], now=soon, units_available=1, policy=roomy) == ["d"]
    tight = DiscoveryPolicy(check_all_within_units_per_day=47)
    assert plan_discovery([weekly, daily], now=soon, units_available=10, policy=tight) == ["d"]


async def test_states_from_the_database(db: DatabaseManager) -> None:
    now = datetime(2026, 11, 20, 12, tzinfo=UTC)
    async with db.get_connection() as conn:
        await conn.execute(
            "INSERT INTO channels (id, title) VALUES ('UCa', 'A'), ('UCb', 'B');"
            "INSERT INTO watchlist (channel_id) VALUES ('UCa');"
            "INSERT INTO videos (id, channel_id, title, published_at) VALUES"
            " ('va1', 'UCa', 't', '2026-11-20 01:00'), ('va2', 'UCa', 't', '2026-11-10 00:00'),"
            " ('vb1', 'UCb', 't', '2026-11-19 00:00')"
        )
        for row in (
            ("va1", now - timedelta(hours=2), 100, 1, 0),
            ("va1", now - timedelta(hours=1), 1_100, 2, 0),
            ("va1", now - timedelta(hours=5), 0, 0, 0),
        ):
            await write_video_stats(conn, [row], observed_at=row[1])  # observed at its tick
        states = {s.id: s for s in await video_states(conn, batch=1)}
        assert set(states) == {"va1", "va2"}  # only watched channels
        assert states["va1"].last_snapshot_at == now - timedelta(hours=1)
        assert states["va1"].views_per_hour == pytest.approx(1_000.0)
        assert states["va1"].channel_id == "UCa"
        assert states["va2"].last_snapshot_at is None and states["va2"].views_per_hour is None
        (chan,) = await channel_states(conn)
        assert chan.id == "UCa" and chan.last_checked_at is None
        assert len(chan.upload_times) == 2 and chan.upload_times[0] < chan.upload_times[1]
        await mark_checked(conn, ["UCa"], now)
        await mark_checked(conn, ["UCa"], now + timedelta(hours=1))
        (chan,) = await channel_states(conn)
        assert chan.last_checked_at == now + timedelta(hours=1)
        queued = timedelta(minutes=20)  # every run asked YouTube 20 minutes after its tick
        for k in range(5):
            tick = now - timedelta(hours=k)
            row = ("UCa", tick, 1_000 - k, None, None)
            await write_channel_stats(conn, [row], observed_at=tick + queued)
        await write_channel_stats(conn, [("UCb", now, 5, None, None)])
        history = await channel_view_history(conn)
        assert list(history) == ["UCa"]  # watched channels only
        # newest tick first, as (observed at, views): rates run over observed time
        expected = [(now - timedelta(hours=k) + queued, 1_000 - k) for k in range(4)]
        assert history["UCa"] == expected


START = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("budget", [10_000, 1])
async def test_planned_refresh_against_the_simulator(
    database_dsn: str, tmp_path: Path, budget: int
) -> None:
    clock = {"now": START}
    with (
        SimulatorServer(
            seed=4, keys=["pk"], clock=lambda: clock["now"], channels=2, videos=6
        ) as sim,
        WebhookSink() as sink,
    ):
        settings = load_settings(
            _env_file=None,
            DATABASE_URL=database_dsn,
            YOUTUBE_API_BASE_URL=sim.base_url,
            YOUTUBE_API_KEY_POOL_JSON='["pk"]',
            ATLAS_HOME=tmp_path,
            YOUTUBE_DAILY_UNIT_BUDGET=budget,
            PLANNER_RESERVE_UNITS=0,
            PLANNER_REFRESH_ALL_WHEN_AFFORDABLE=False,
        )
        db = DatabaseManager(settings=settings)
        notifier = DiscordNotifier({AlertChannel.OPS: sink.url("/api/webhooks/9/ops")})
        async with Services.open(
            settings,
            db=db,
            vault=LocalVault(tmp_path / "v"),
            notifier=notifier,
            clock=lambda: clock["now"],
        ) as svc:
            async with db.get_connection() as conn:
                for cid in sim.world.channels:
                    await conn.execute("INSERT INTO watchlist (channel_id) VALUES (%s)", (cid,))
            for cid in sim.world.channels:
                await discover_videos(svc, cid)
            async with db.get_connection() as conn:
                tracked = len(await video_states(conn))
            assert tracked > 0
            if budget > 1:  # discovery: never-checked channels first, then by cadence
                assert sorted(await plan_channel_checks(svc)) == sorted(sim.world.channels)
                assert await plan_channel_checks(svc) == []  # all checked a moment ago
            clock["now"] = START + timedelta(days=31)  # every video is overdue now
            plan = await plan_video_refresh(svc)
            if budget == 1:
                assert plan.video_ids == [] and plan.shortfall >= 1
                await plan_video_refresh(svc)  # the next tick's shortfall: same day, same alert
                await deliver_alerts(svc)
                (alert,) = [r.json["embeds"][0] for r in sink.delivered()]
                assert alert["title"] == "Quota budget cannot cover the minimum refresh"
                assert "shortfall_units" in json.dumps(alert)
            else:
                assert plan.tiers["overdue"] == tracked and plan.shortfall == 0
                snap = await snapshot_video_stats(svc, plan.video_ids)
                assert snap.rows + len(snap.missing) == tracked
                again = await plan_video_refresh(svc)
                assert again.video_ids == sorted(snap.missing)  # the rest was just refreshed
                await deliver_alerts(svc)
                assert [r.json["embeds"][0]["title"] for r in sink.delivered()] == []
        await notifier.aclose()
        await db.close()


@pytest.mark.parametrize("spent", [0, 7_900, 7_985])
def test_streamed_planner_keeps_little_and_plans_the_same(spent: int) -> None:
    """Batches through RefreshPlanner give plan_refresh's plan while holding at most the
    videos today's units could pay for (7,985 spent: 15 units, 750 videos, of 30,000)."""
    from atlas_core.planner import TIERS, RefreshPlanner

    policy = PlannerPolicy(budget=10_000, reserve=2_000)
    videos = world(30_000, seed=3, now=T0)
    whole = plan_refresh(videos, now=T0, spent_today=spent, channels=10, policy=policy)
    planner = RefreshPlanner(now=T0, spent_today=spent, channels=10, policy=policy)
    for start in range(0, len(videos), 1_000):
        planner.add_all(videos[start : start + 1_000])
        held = sum(len(g) for g in planner._due.values())
        assert held <= len(TIERS) * (2 * planner.room + 1_001)
    assert planner.plan() == whole
    if spent == 7_985:
        assert planner.room == 50 * (10_000 - 2_000 - spent - 1)
        assert sum(len(g) for g in planner._due.values()) < len(videos) // 4


async def test_the_schedule_checks_a_small_watchlist_every_tick(
    database_dsn: str, tmp_path: Path
) -> None:
    """What the discovery schedule evaluates: with the defaults, two channels checked a
    minute ago are due again (every channel every tick fits the reserve); with the flag off,
    their learned cadence says not yet."""
    from atlas_core.pipeline.planning import due_channels

    def settings(**extra: object) -> Settings:
        values = {"_env_file": None, "DATABASE_URL": database_dsn, "ATLAS_HOME": tmp_path}
        return load_settings(**{**values, **extra})

    db = DatabaseManager(settings=settings())
    try:
        async with db.get_connection() as conn:
            await conn.execute(
                "INSERT INTO channels (id, title) VALUES ('UCa', 'A'), ('UCb', 'B');"
                "INSERT INTO watchlist (channel_id) VALUES ('UCa'), ('UCb');"
                "INSERT INTO videos (id, channel_id, title, published_at) VALUES"
                " ('a1', 'UCa', 't', '2026-11-01'), ('a2', 'UCa', 't', '2026-11-08'),"
                " ('b1', 'UCb', 't', '2026-11-02'), ('b2', 'UCb', 't', '2026-11-09')"
            )
            await mark_checked(conn, ["UCa", "UCb"], START)
        later = START + timedelta(minutes=1)
        assert await due_channels(db, settings(), later) == ["UCa", "UCb"]
        off = settings(PLANNER_REFRESH_ALL_WHEN_AFFORDABLE=False)
        assert await due_channels(db, off, later) == []
    finally:
        await db.close()
