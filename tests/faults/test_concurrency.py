"""Two refreshes at once, and three `atlas migrate` on a fresh ATLAS_HOME at once."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from atlas_simulator import Faults
from drills import (
    START,
    count,
    ledger_units,
    open_services,
    sim_settings,
    simulator,
    stats_rows,
    watch_all,
)

from atlas_core.config import Settings
from atlas_core.embedded import embedded_dsn, server_status
from atlas_core.migrate import migrate
from atlas_core.pipeline import snapshot_video_stats


async def test_two_concurrent_refreshes_store_each_row_and_alert_once(
    database_dsn: str, tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    with simulator(200, faults=Faults(latency=0.02)) as sim:
        ids = sorted(sim.world.videos)
        gone = ids[:3]
        for video_id in gone:
            sim.world.videos[video_id].deleted_at = START  # deleted: reported missing
        settings = sim_settings(database_dsn, sim, tmp_path, YOUTUBE_MAX_CONCURRENCY=2)
        async with (
            open_services(settings, tmp_path) as one,
            open_services(settings, tmp_path) as two,
        ):
            await watch_all(one, sim)
            a, b = await asyncio.gather(
                snapshot_video_stats(one, ids), snapshot_video_stats(two, ids)
            )
        units = sim.units_used()
    missing = "SELECT count(*) FROM alert_outbox WHERE key LIKE 'video.missing:%%'"
    record_property("rows_lost", abs(len(ids) - len(gone) - stats_rows(database_dsn)))
    record_property("alerts_lost", abs(len(gone) - count(database_dsn, missing)))
    record_property("units_unaccounted", abs(ledger_units(database_dsn) - units))
    # Each row was written by exactly one of the two runs (the other's copy was the same key)
    assert a.rows + b.rows == len(ids) - len(gone)
    assert sorted(a.missing) == sorted(b.missing) == sorted(gone)
    assert stats_rows(database_dsn) == len(ids) - len(gone)  # the same as_of: one row each
    assert count(database_dsn, missing) == len(gone)  # alerted once, not once per run
    assert ledger_units(database_dsn) == units  # both runs' calls are in the ledger


def test_three_concurrent_migrations_on_a_fresh_home_all_succeed(fresh_home: Path) -> None:
    """The old failure: UniqueViolation on pg_database, two servers racing to start."""
    env = {k: v for k, v in os.environ.items() if k not in Settings.model_fields}
    env["ATLAS_HOME"] = str(fresh_home)
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "atlas_core.cli", "migrate"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    results = [(run.wait(timeout=120), *run.communicate()) for run in runs]
    assert [code for code, _, _ in results] == [0, 0, 0], results
    outputs = [out for _, out, _ in results]
    assert sum(out.startswith("applied") for out in outputs) == 1, outputs  # applied once
    assert sum("embedded PostgreSQL started" in err for _, _, err in results) == 1  # one server
    assert server_status(fresh_home).running
    assert migrate(embedded_dsn(fresh_home)) == []  # nothing left to apply
