"""The shipped run-concurrency limits hold for the runs Atlas launches: a real Dagster instance
(the production dagster.yaml, PostgreSQL storage, the QueuedRunCoordinator) and a real
``dagster-daemon`` dequeue two discovery runs over overlapping channel ranges one after the
other. Queued through ``dagster job launch`` with the tags and config the discovery schedule's
run requests carry (``channel_range_requests``); the job adds its ``atlas/lane`` tag."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from atlas_simulator import SimulatorServer
from dagster import DagsterInstance, DagsterRunStatus, RunsFilter
from test_dagster_production import dagster_home  # noqa: F401  # the production instance
from youtube_helpers import sim_env

from atlas_assets.jobs import LANE_TAG
from atlas_assets.partitions import channel_range_requests
from atlas_core.config import Settings

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
LOCATION = ["-m", "atlas_assets.definitions"]
FINISHED = {DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED}


@pytest.fixture
def sim() -> Iterator[SimulatorServer]:
    with SimulatorServer(seed=7, keys=["lane-key"], channels=6, videos=12) as server:
        yield server


def _env(database_dsn: str, sim: SimulatorServer) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if k not in Settings.model_fields}
    return {
        **base,  # DAGSTER_HOME and DAGSTER_PG_* from the dagster_home fixture
        "PYTHONPATH": str(ROOT),
        "PYTHONWARNINGS": "ignore",
        **sim_env(database_dsn, sim, ["lane-key"]),
    }


@pytest.mark.timeout(900)  # four Dagster processes start: minutes on a loaded two-core machine
def test_two_discovery_runs_over_the_same_channel_never_overlap(
    dagster_home: Path,  # noqa: F811
    database_dsn: str,
    sim: SimulatorServer,
) -> None:
    channels = sorted(sim.world.channels)
    with psycopg.connect(database_dsn) as conn:
        for channel_id in channels:
            conn.execute("INSERT INTO watchlist (channel_id) VALUES (%s)", (channel_id,))
    env = _env(database_dsn, sim)
    with DagsterInstance.get() as instance:
        instance.add_dynamic_partitions("channels", channels)
    # Two ticks' requests: the second shares channels 2 and 3 with the first, still queued.
    requests = [
        *channel_range_requests(channels, channels[0:4], 500, run_key="tick-1"),
        *channel_range_requests(channels, channels[2:6], 500, run_key="tick-2"),
    ]
    for request in requests:
        assert "dagster/partition" not in request.tags  # why the partition limit cannot serve
        launch = [
            str(BIN / "dagster"),
            "job",
            "launch",
            *LOCATION,
            "-j",
            "discover_videos",
            "--tags",
            json.dumps(request.tags),
            "--config-json",
            json.dumps(request.run_config),
        ]
        done = subprocess.run(launch, env=env, capture_output=True, text=True, timeout=180)
        assert done.returncode == 0, done.stderr[-2000:]
    with DagsterInstance.get() as instance:
        queued = instance.get_run_records(RunsFilter(job_name="discover_videos"))
        assert [r.dagster_run.status for r in queued] == [DagsterRunStatus.QUEUED] * 2
        assert {r.dagster_run.tags.get(LANE_TAG) for r in queued} == {"discovery"}

    daemon = subprocess.Popen(
        [str(BIN / "dagster-daemon"), "run", *LOCATION],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 600
        with DagsterInstance.get() as instance:
            while time.monotonic() < deadline:
                records = instance.get_run_records(RunsFilter(job_name="discover_videos"))
                if all(r.dagster_run.status in FINISHED for r in records):
                    break
                started = [r for r in records if r.start_time is not None]
                running = [r for r in started if r.dagster_run.status not in FINISHED]
                assert len(running) <= 1, "two discovery runs ran at once"
                time.sleep(0.5)
            else:
                pytest.fail("the daemon did not finish both discovery runs within 600 s")
    finally:
        daemon.terminate()
        daemon.wait(timeout=60)

    first, second = sorted(records, key=lambda r: r.start_time or 0)
    assert [r.dagster_run.status for r in (first, second)] == [DagsterRunStatus.SUCCESS] * 2
    assert first.end_time is not None and second.start_time is not None
    assert second.start_time >= first.end_time  # queued until the first one ended
    with psycopg.connect(database_dsn) as conn:
        checked = conn.execute(
            "SELECT count(DISTINCT channel_id) FROM channel_discovery_checks"
        ).fetchone()
    assert checked == (len(channels),)
