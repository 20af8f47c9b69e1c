"""Data-quality queries and the velocity rule on hand-made series."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from atlas_core.analysis.quality import implausible_drops
from atlas_core.analysis.velocity import velocity_anomalies
from atlas_core.database import DatabaseManager
from atlas_core.store.planning import video_states
from atlas_core.store.stats import write_video_stats

T0 = datetime(2026, 11, 27, tzinfo=UTC)


async def _seed(db: DatabaseManager, series: dict[str, list[int]]) -> None:
    async with db.get_connection() as conn:
        await conn.execute("INSERT INTO channels (id, title) VALUES ('UCq', 'q')")
        await conn.execute("INSERT INTO watchlist (channel_id) VALUES ('UCq')")
        for video, views in series.items():
            await conn.execute(
                "INSERT INTO videos (id, channel_id, title) VALUES (%s, 'UCq', 't')", (video,)
            )
            for i, v in enumerate(views):  # each observed at its tick
                tick = T0 + timedelta(hours=i)
                await write_video_stats(conn, [(video, tick, v, None, None)], observed_at=tick)


async def test_drops_and_spikes_are_found_and_steady_series_are_not(db: DatabaseManager) -> None:
    await _seed(
        db,
        {
            "steady": [1000, 1100, 1200, 1300],
            "dropped": [5000, 5100, 1000, 1050],  # lost 80% between two snapshots
            "spiked": [100, 150, 200, 5200],  # +50/h, then +5000/h
        },
    )
    async with db.get_connection() as conn:
        drops = await implausible_drops(conn, max_drop=0.5)
        spikes = await velocity_anomalies(conn, factor=3.0, min_views_per_hour=100)
    assert drops == [("dropped", 5100, 1000)]
    assert [(a.video_id, round(a.rate), round(a.previous_rate)) for a in spikes] == [
        ("spiked", 5000, 50)
    ]
    # Restricted to videos snapshotted since a moment: the same spike, or nothing after it.
    async with db.get_connection() as conn:
        last = spikes[0].at
        recent = await velocity_anomalies(conn, 3.0, 100, since=last - timedelta(minutes=1))
        later = await velocity_anomalies(conn, 3.0, 100, since=last + timedelta(minutes=1))
    assert recent == spikes and later == []


async def test_old_drops_fall_outside_the_window(db: DatabaseManager) -> None:
    await _seed(db, {"old": [5000, 100], "new": [10, 20]})
    async with db.get_connection() as conn:
        await write_video_stats(conn, [("new", T0 + timedelta(days=5), 30, None, None)])
        assert await implausible_drops(conn, days=2) == []
        assert await implausible_drops(conn, days=10) == [("old", 5000, 100)]


async def test_a_spike_confirmed_by_its_channel_is_caught_on_its_first_snapshot(
    db: DatabaseManager,
) -> None:
    """A weekly video: snapshots a week apart, then one an hour after a spike began. Its
    two-interval rate is diluted over the week; the channel's hourly jump confirms it."""
    from atlas_core.analysis.velocity import channel_confirmed_spikes

    now = T0 + timedelta(days=14)
    async with db.get_connection() as conn:
        await conn.execute("INSERT INTO channels (id, title) VALUES ('UCq', 'q')")
        await conn.execute("INSERT INTO watchlist (channel_id) VALUES ('UCq')")
        for vid in ("spiked", "quiet"):
            await conn.execute(
                "INSERT INTO videos (id, channel_id, title) VALUES (%s, 'UCq', 't')", (vid,)
            )
        week = timedelta(days=7)
        series = {  # 10 views/hour for two weeks; "spiked" then gains 5,000 in its last hour
            "spiked": [(now - 2 * week, 0), (now - week, 1680), (now, 3360 + 5000)],
            "quiet": [(now - 2 * week, 0), (now - week, 1680), (now, 3360)],
        }
        for v, points in series.items():
            for t, n in points:
                await write_video_stats(conn, [(v, t, n, None, None)], observed_at=t)
    hour = timedelta(hours=1)
    jumped = {"UCq": [(now, 10_000 + 5_020), (now - hour, 10_000), (now - 2 * hour, 9_980)]}
    steady = {"UCq": [(now, 10_020), (now - hour, 10_000), (now - 2 * hour, 9_980)]}
    async with db.get_connection() as conn:
        before = await velocity_anomalies(conn, 3.0, 100, since=now - hour)
        caught = await channel_confirmed_spikes(conn, jumped, now - hour)
        unconfirmed = await channel_confirmed_spikes(conn, steady, now - hour)
    assert before == []  # 5,000 extra views over a week is no anomaly by the two-interval rule
    assert [(a.video_id, round(a.rate), round(a.previous_rate)) for a in caught] == [
        ("spiked", 5010, 10)
    ]
    assert unconfirmed == []


async def test_no_verdict_without_a_trustworthy_baseline(db: DatabaseManager) -> None:
    """Two ways a baseline misleads: a tick stamped after a later-observed one (the demo's
    first discovery racing the first refresh), and a baseline interval far shorter than the
    latest (rounding makes it look flat). Neither video is judged; a real spike still is."""
    async with db.get_connection() as conn:
        await conn.execute("INSERT INTO channels (id, title) VALUES ('UCq', 'q')")
        await conn.execute("INSERT INTO watchlist (channel_id) VALUES ('UCq')")
        for video in ("raced", "short", "spiked"):
            await conn.execute(
                "INSERT INTO videos (id, channel_id, title) VALUES (%s, 'UCq', 't')", (video,)
            )
        minute = timedelta(minutes=1)
        rows = [  # (video, tick, views, observed)
            ("raced", T0, 1010, T0 + 15 * minute / 60),  # tick 00:00, answer at 00:00:15
            ("raced", T0 + 10 * minute / 60, 1000, T0 + 10 * minute / 60),  # stamped later
            ("raced", T0 + 2 * minute, 1400, T0 + 2 * minute),
            ("short", T0, 1000, T0),
            ("short", T0 + minute / 60, 1000, T0 + minute / 60),  # one second: looks flat
            ("short", T0 + 2 * minute, 1400, T0 + 2 * minute),
            ("spiked", T0, 1000, T0),
            ("spiked", T0 + 2 * minute, 1010, T0 + 2 * minute),
            ("spiked", T0 + 4 * minute, 9000, T0 + 4 * minute),
        ]
        for video, tick, views, observed in rows:
            await write_video_stats(conn, [(video, tick, views, None, None)], observed_at=observed)
        spikes = await velocity_anomalies(conn, factor=3.0, min_views_per_hour=100)
    assert [a.video_id for a in spikes] == ["spiked"]


async def test_rates_run_over_observed_time_so_a_queued_run_is_no_spike(
    db: DatabaseManager,
) -> None:
    """A steady 600 views/hour. The 02:00 tick's run waited in the queue and asked YouTube at
    04:00: by ticks the last hour gained 1,800 views (x3, a spike); by the time that really
    passed the rate never changed."""
    hour = timedelta(hours=1)
    async with db.get_connection() as conn:
        await conn.execute("INSERT INTO channels (id, title) VALUES ('UCq', 'q')")
        await conn.execute("INSERT INTO watchlist (channel_id) VALUES ('UCq')")
        await conn.execute("INSERT INTO videos (id, channel_id, title) VALUES ('q', 'UCq', 't')")
        for tick, observed, views in (
            (T0, T0, 0),
            (T0 + hour, T0 + hour, 600),
            (T0 + 2 * hour, T0 + 4 * hour, 2400),
        ):
            await write_video_stats(conn, [("q", tick, views, None, None)], observed_at=observed)
        assert await velocity_anomalies(conn, factor=3.0, min_views_per_hour=100) == []
        [state] = await video_states(conn)
    assert state.last_snapshot_at == T0 + 2 * hour  # the planner schedules by ticks
    assert state.views_per_hour == pytest.approx(600)  # rates run over observed time
