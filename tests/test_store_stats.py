"""Stats snapshots: COPY path, idempotent on (id, timestamp), stored as UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from atlas_core.database import DatabaseManager
from atlas_core.store.stats import write_channel_stats, write_video_stats

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


async def _seed(db: DatabaseManager) -> None:
    async with db.get_connection() as conn:
        await conn.execute("INSERT INTO channels (id, title) VALUES ('UCa', 'A')")
        await conn.execute(
            "INSERT INTO videos (id, channel_id, title)"
            " VALUES ('vidA', 'UCa', 'a'), ('vidB', 'UCa', 'b')"
        )


async def test_video_stats_write_is_idempotent(db: DatabaseManager) -> None:
    await _seed(db)
    rows = [("vidA", T0, 10, 1, 0), ("vidB", T0, 20, None, None)]
    async with db.get_connection() as conn:
        assert await write_video_stats(conn, rows) == 2
    async with db.get_connection() as conn:
        # Same snapshot again plus one new row: only the new row is added.
        more = [*rows, ("vidA", T0 + timedelta(hours=1), 15, 2, 1)]
        assert await write_video_stats(conn, more) == 1
        cur = await conn.execute(
            "SELECT video_id, timestamp, views, likes FROM video_stats_log ORDER BY 1, 2"
        )
        stored = await cur.fetchall()
    assert stored == [
        ("vidA", datetime(2026, 11, 27, 12, 0, tzinfo=UTC), 10, 1),
        ("vidA", datetime(2026, 11, 27, 13, 0, tzinfo=UTC), 15, 2),
        ("vidB", datetime(2026, 11, 27, 12, 0, tzinfo=UTC), 20, None),
    ]


async def test_timestamps_are_stored_as_utc(db: DatabaseManager) -> None:
    await _seed(db)
    tokyo = timezone(timedelta(hours=9))
    async with db.get_connection() as conn:
        await write_channel_stats(
            conn, [("UCa", datetime(2026, 11, 27, 21, 0, tzinfo=tokyo), 5, 6, 7)]
        )
        cur = await conn.execute("SELECT timestamp, video_count FROM channel_stats_log")
        rows = await cur.fetchall()
    assert rows == [(datetime(2026, 11, 27, 12, 0, tzinfo=UTC), 7)]
    assert rows[0][0].utcoffset() == timedelta(0)  # the session zone is UTC


async def test_empty_batch_writes_nothing(db: DatabaseManager) -> None:
    async with db.get_connection() as conn:
        assert await write_video_stats(conn, []) == 0


async def test_unknown_video_fails_loudly_and_keeps_existing_rows(db: DatabaseManager) -> None:
    import psycopg
    import pytest

    await _seed(db)
    async with db.get_connection() as conn:
        await write_video_stats(conn, [("vidA", T0, 1, 1, 1)])
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        async with db.get_connection() as conn:
            await write_video_stats(conn, [("nope", T0, 1, 1, 1)])
    async with db.get_connection() as conn:
        cur = await conn.execute("SELECT count(*) FROM video_stats_log")
        assert await cur.fetchone() == (1,)


async def test_observed_at_is_kept_apart_from_the_tick(db: DatabaseManager) -> None:
    """The tick keys the row; observed_at says when YouTube answered, and a re-run keeps it."""
    await _seed(db)
    arrived = T0 + timedelta(minutes=7, seconds=3)
    async with db.get_connection() as conn:
        await write_video_stats(conn, [("vidA", T0, 10, 1, 0)], observed_at=arrived)
        again = [("vidA", T0, 10, 1, 0), ("vidB", T0, 5, 0, 0)]
        await write_video_stats(conn, again, observed_at=arrived + timedelta(hours=2))
        cur = await conn.execute(
            "SELECT video_id, timestamp, observed_at FROM video_stats_log ORDER BY 1"
        )
        rows = await cur.fetchall()
    assert rows == [
        ("vidA", T0, arrived),
        ("vidB", T0, arrived + timedelta(hours=2)),
    ]
