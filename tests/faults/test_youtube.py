"""YouTube fails mid-run: 5xx, 429, rate limits, timeouts, dropped connections, malformed
bodies, items without ids and quotaExceeded. Every batch paid for is kept, every call is in
the ledger, and a re-run with the same as_of completes what a stopped run left."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from atlas_simulator import Faults, SimulatorServer
from drills import (
    START,
    WhenRows,
    ledger_units,
    open_services,
    sim_settings,
    simulator,
    stats_rows,
    watch_all,
)

from atlas_core.config import Settings
from atlas_core.pipeline import Services, snapshot_video_stats
from atlas_core.youtube import QuotaExhausted, YouTubeResponseError


def settle(sim: SimulatorServer) -> None:
    """Wait until the simulator has answered every call it received."""
    deadline = time.monotonic() + 30
    while sim.in_flight and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not sim.in_flight


@pytest.fixture
def sim() -> Iterator[SimulatorServer]:
    # 1 unit for channels.list, then two of the four videos.list batches fit in the quota.
    with simulator(daily_quota=3) as s:
        yield s


@pytest.fixture
def svc_settings(database_dsn: str, sim: SimulatorServer, tmp_path: Path) -> Settings:
    return sim_settings(database_dsn, sim, tmp_path)  # the shared svc on the drills' settings


@pytest.fixture
def svc_clock() -> Callable[[], datetime]:
    return lambda: START


async def test_quota_stop_mid_snapshot_keeps_the_batches_already_fetched(
    svc: Services, sim: SimulatorServer, database_dsn: str
) -> None:
    await watch_all(svc, sim)
    ids = sorted(sim.world.videos)
    assert len(ids) > 150
    with pytest.raises(QuotaExhausted) as info:
        await snapshot_video_stats(svc, ids)
    assert f"stopped by quota after 100 of {len(ids)} videos" in str(info.value)
    assert "It resets at" in str(info.value) and info.value.resets_at > START
    assert stats_rows(database_dsn) == 100  # batches 1 and 2 were written as they arrived
    assert sim.units_used() == 3 == await svc.youtube.units_spent_today()


async def test_transient_faults_are_retried_and_every_video_kept(
    database_dsn: str, tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    faults = Faults(
        error_500=0.1,
        error_503=0.1,
        too_many_requests=0.1,
        rate_limit=0.05,
        drop=0.1,
        slow=0.1,
        slow_seconds=1.0,
    )
    with simulator(videos=400, faults=faults) as sim:
        settings = sim_settings(
            database_dsn,
            sim,
            tmp_path,
            YOUTUBE_MAX_ATTEMPTS=15,
            YOUTUBE_TIMEOUT_SECONDS=0.5,
            YOUTUBE_MAX_CONCURRENCY=4,
        )
        async with open_services(settings, tmp_path) as svc:
            await watch_all(svc, sim)
            ids = sorted(sim.world.videos)
            snapshot = await snapshot_video_stats(svc, ids)
        settle(sim)  # a call the client timed out on is still sleeping there, then charged
        faulted = [r for r in sim.api_requests() if r.fault]
        units = sim.units_used()
    record_property("rows_lost", len(ids) - stats_rows(database_dsn))
    record_property("units_unaccounted", abs(ledger_units(database_dsn) - units))
    assert faulted, "no fault was injected"  # each was retried ...
    assert snapshot.rows == len(ids) == stats_rows(database_dsn)  # ... and nothing lost
    assert ledger_units(database_dsn) == units  # failed calls that reached the API included


async def test_a_malformed_body_mid_run_keeps_earlier_batches_and_a_rerun_completes(
    database_dsn: str, tmp_path: Path
) -> None:
    with simulator(faults=Faults(latency=0.05)) as sim:
        async with open_services(sim_settings(database_dsn, sim, tmp_path), tmp_path) as svc:
            await watch_all(svc, sim)
            ids = sorted(sim.world.videos)
            with WhenRows(database_dsn, 50, lambda: sim.inject("malformedBody")) as fault:
                with pytest.raises(
                    YouTubeResponseError, match=r"videos\.list returned a malformed"
                ):
                    await snapshot_video_stats(svc, ids)
            assert fault.fired.is_set()
            kept = stats_rows(database_dsn)
            assert 50 <= kept < len(ids)  # what arrived before the bad body is kept
            await snapshot_video_stats(svc, ids)  # the next run, same as_of
        units = sim.units_used()
    assert stats_rows(database_dsn) == len(ids)  # completed, no row twice
    assert ledger_units(database_dsn) == units  # the malformed answer was charged too


async def test_an_item_without_an_id_is_skipped_with_an_event_and_the_rest_kept(
    database_dsn: str, tmp_path: Path
) -> None:
    with simulator() as sim:
        async with open_services(sim_settings(database_dsn, sim, tmp_path), tmp_path) as svc:
            await watch_all(svc, sim)
            ids = sorted(sim.world.videos)
            sim.inject("itemWithoutId")
            snapshot = await snapshot_video_stats(svc, ids)
            async with svc.db.get_connection() as conn:
                cur = await conn.execute(
                    "SELECT count(*) FROM system_events WHERE event_type = 'youtube.item_skipped'"
                )
                assert await cur.fetchone() == (1,)
    assert snapshot.rows == len(ids) - 1 == stats_rows(database_dsn)
