"""The database restarts (pg_ctl fast and immediate) in the middle of a stats refresh."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from atlas_simulator import Faults
from drills import (
    WhenRows,
    ledger_units,
    open_services,
    sim_settings,
    simulator,
    stats_rows,
    watch_all,
)

from atlas_core.embedded import restart_server, server_status
from atlas_core.pipeline import snapshot_video_stats


@pytest.mark.parametrize("mode", ["fast", "immediate"])
async def test_a_restart_mid_refresh_loses_no_paid_batch(
    drill_home: Path,
    drill_dsn: str,
    tmp_path: Path,
    mode: str,
    record_property: Callable[[str, object], None],
) -> None:
    before = server_status(drill_home).pid
    faults = Faults(latency=0.1)  # calls take a moment, so the restart lands mid-run
    with simulator(400, faults=faults) as sim:
        settings = sim_settings(drill_dsn, sim, tmp_path)
        async with open_services(settings, tmp_path) as svc:
            await watch_all(svc, sim)
            ids = sorted(sim.world.videos)
            with WhenRows(drill_dsn, 100, lambda: restart_server(drill_home, mode)) as restart:
                snapshot = await snapshot_video_stats(svc, ids)
            assert restart.fired.is_set(), "the restart did not land mid-run"
        units = sim.units_used()
    record_property("rows_lost", len(ids) - stats_rows(drill_dsn))
    record_property("units_unaccounted", abs(ledger_units(drill_dsn) - units))
    assert server_status(drill_home).pid != before  # it really restarted
    # The run went through the restart: every paid batch is stored, once.
    assert snapshot.rows == len(ids) == stats_rows(drill_dsn)
    assert units == 1 + len(ids) // 50  # no batch was fetched twice
    assert ledger_units(drill_dsn) == units  # every call reached the ledger
