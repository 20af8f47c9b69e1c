"""Data-quality queries and the velocity rule on hand-made series."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from atlas_core.analysis.quality import implausible_drops
from atlas_core.analysis.velocity import velocity_anomalies
from atlas_core.database import DatabaseManager
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
            await write_video_stats(
                conn,
                [(video, T0 + timedelta(hours=i), v, None, None) for i, v in enumerate(views)],
            )


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
