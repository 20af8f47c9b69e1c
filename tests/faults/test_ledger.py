"""The quota ledger is write-ahead: a refresh killed with SIGKILL at any moment leaves the
ledger at or above what YouTube charged (the calls in flight included), and a re-run of the
same refresh completes the rows while the ledger keeps up with every call it makes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

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

from atlas_core.pipeline import snapshot_video_stats

CONCURRENCY = 4

# The refresh, in a process of its own (so it can be killed like a real worker).
CHILD = """
import asyncio, sys
from datetime import datetime
from pathlib import Path
from atlas_core.config import load_settings
from atlas_core.database import DatabaseManager
from atlas_core.notifications import DiscordNotifier
from atlas_core.pipeline import Services, snapshot_video_stats
from atlas_core.storage import LocalVault

start, dsn, home, base, concurrency, ids = sys.argv[1:7]
async def main():
    settings = load_settings(
        _env_file=None, DATABASE_URL=dsn, ATLAS_HOME=home, YOUTUBE_API_BASE_URL=base,
        YOUTUBE_API_KEY_POOL_JSON='["pk"]', YOUTUBE_MAX_CONCURRENCY=int(concurrency),
        YOUTUBE_RETRY_DELAY_SECONDS=0.01,
    )
    db = DatabaseManager(settings=settings)
    at = datetime.fromisoformat(start)
    async with Services.open(settings, db=db, vault=LocalVault(Path(home) / "vault"),
                             notifier=DiscordNotifier({}), clock=lambda: at) as svc:
        await snapshot_video_stats(svc, ids.split(","))
asyncio.run(main())
"""


def _settle(sim: SimulatorServer) -> None:
    """Wait until the simulator has answered (and charged) every call it received."""
    deadline = time.monotonic() + 30
    while sim.in_flight and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)
    assert not sim.in_flight


def _killed_refresh(dsn: str, home: Path, sim: SimulatorServer, ids: list[str]) -> None:
    """The refresh in a child process, SIGKILLed as soon as its first batch is stored."""
    args = [START.isoformat(), dsn, str(home), sim.base_url, str(CONCURRENCY), ",".join(ids)]
    child = subprocess.Popen([sys.executable, "-c", CHILD, *args], env=os.environ.copy())
    try:
        with WhenRows(dsn, 1, lambda: child.send_signal(signal.SIGKILL)) as kill:
            child.wait(timeout=120)
        assert kill.fired.is_set() and child.returncode == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()


async def test_a_refresh_killed_mid_run_leaves_no_charged_unit_outside_the_ledger(
    database_dsn: str, tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    with simulator(600, faults=Faults(latency=0.3)) as sim:
        settings = sim_settings(database_dsn, sim, tmp_path, YOUTUBE_MAX_CONCURRENCY=CONCURRENCY)
        ids = sorted(sim.world.videos)
        async with open_services(settings, tmp_path) as svc:
            sim.faults.latency = 0.0
            await watch_all(svc, sim)
            sim.faults.latency = 0.3
            _killed_refresh(database_dsn, tmp_path, sim, ids)
            _settle(sim)
            charged, ledger = sim.units_used(), ledger_units(database_dsn)
            kept = stats_rows(database_dsn)
            assert 0 < kept < len(ids)  # killed mid-run, after a batch was stored
            unaccounted = max(0, charged - ledger)
            record_property("units_unaccounted", unaccounted)
            assert unaccounted == 0, f"{unaccounted} charged unit(s) never reached the ledger"
            assert ledger - charged <= CONCURRENCY  # at most the reservations never sent

            # The re-run completes the rows; every call it makes is in the ledger exactly.
            before = ledger - charged
            sim.faults.latency = 0.0
            await snapshot_video_stats(svc, ids)
        _settle(sim)
        assert stats_rows(database_dsn) == len(ids)
        assert ledger_units(database_dsn) - sim.units_used() == before
