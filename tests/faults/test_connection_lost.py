"""The connection dies in the middle of a write that follows a paid-for API answer.

A trigger kills its own backend the first time a row reaches the table (a sequence per table
counts the firings, since a sequence is not rolled back with the transaction): the write is retried
on a fresh connection, and the answer YouTube was paid for is stored without a second call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from drills import count, ledger_units, open_services, sim_settings, simulator, stats_rows

from atlas_core.pipeline import discover_videos, refresh_channels


@pytest.fixture
def kill_first_write(drill_dsn: str) -> Iterator[Callable[[str], None]]:
    """``arm(table)``: the first row written to ``table`` kills its connection."""
    armed: list[str] = []

    def arm(table: str) -> None:
        with psycopg.connect(drill_dsn, autocommit=True) as conn:
            conn.execute(f"CREATE SEQUENCE drill_kill_{table}")
            conn.execute(
                """CREATE OR REPLACE FUNCTION drill_kill_once() RETURNS trigger AS $$
                   BEGIN
                       IF nextval('drill_kill_' || TG_TABLE_NAME) = 1 THEN
                           PERFORM pg_terminate_backend(pg_backend_pid());
                       END IF;
                       RETURN NEW;
                   END $$ LANGUAGE plpgsql"""
            )
            conn.execute(
                f"CREATE TRIGGER drill_kill BEFORE INSERT ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION drill_kill_once()"
            )
        armed.append(table)

    yield arm
    with psycopg.connect(drill_dsn, autocommit=True) as conn:
        for table in armed:
            conn.execute(f"DROP TRIGGER IF EXISTS drill_kill ON {table}")
            conn.execute(f"DROP SEQUENCE IF EXISTS drill_kill_{table}")
        conn.execute("DROP FUNCTION IF EXISTS drill_kill_once()")


def fired(dsn: str, table: str) -> int:
    """How many rows the trigger on ``table`` saw, the killed attempt's included."""
    return count(dsn, f"SELECT last_value FROM drill_kill_{table}")


async def test_discovery_keeps_its_paid_answer_when_the_connection_dies(
    drill_dsn: str, tmp_path: Path, kill_first_write: Callable[[str], None]
) -> None:
    with simulator(60) as sim:
        settings = sim_settings(drill_dsn, sim, tmp_path)
        channel_id = sorted(sim.world.channels)[0]
        uploads = len(sim.world.channels[channel_id].video_ids)
        with psycopg.connect(drill_dsn) as conn:
            conn.execute("INSERT INTO watchlist (channel_id) VALUES (%s)", (channel_id,))
        kill_first_write("videos")
        async with open_services(settings, tmp_path) as svc:
            found = await discover_videos(svc, channel_id)
        units = sim.units_used()
    assert uploads > 1
    # The first row's write died; the retry stored them all.
    assert fired(drill_dsn, "videos") == uploads + 1
    assert len(found.new_ids) == uploads == count(drill_dsn, "SELECT count(*) FROM videos")
    assert stats_rows(drill_dsn) == uploads
    assert ledger_units(drill_dsn) == units == found.units  # nothing fetched twice


async def test_the_channel_refresh_keeps_its_paid_answer_when_the_connection_dies(
    drill_dsn: str, tmp_path: Path, kill_first_write: Callable[[str], None]
) -> None:
    with simulator(6, channels=3) as sim:
        settings = sim_settings(drill_dsn, sim, tmp_path)
        with psycopg.connect(drill_dsn) as conn:
            for cid in sim.world.channels:
                conn.execute("INSERT INTO watchlist (channel_id) VALUES (%s)", (cid,))
        kill_first_write("channels")
        kill_first_write("channel_stats_log")
        async with open_services(settings, tmp_path) as svc:
            refreshed = await refresh_channels(svc)
        units = sim.units_used()
    assert fired(drill_dsn, "channels") == 4 and fired(drill_dsn, "channel_stats_log") == 4
    assert count(drill_dsn, "SELECT count(*) FROM channels") == 3
    assert refreshed.snapshots == 3 == count(drill_dsn, "SELECT count(*) FROM channel_stats_log")
    assert units == 1 == ledger_units(drill_dsn)  # one channels.list call, not two
