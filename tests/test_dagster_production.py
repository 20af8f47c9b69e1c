"""The shipped production dagster.yaml against a real PostgreSQL (the embedded server)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import yaml
from dagster import (
    AssetSelection,
    DagsterInstance,
    DagsterRun,
    Definitions,
    QueuedRunCoordinator,
    asset,
    define_asset_job,
)

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "atlas_assets" / "deploy" / "dagster.yaml"


@asset(pool="youtube_api")
def pooled_probe() -> int:
    """Stands in for an API-calling asset: it runs in the youtube_api pool."""
    return 42


probe_job = define_asset_job("probe", selection=AssetSelection.assets(pooled_probe))
probe_defs = Definitions(assets=[pooled_probe], jobs=[probe_job])


@pytest.fixture
def dagster_home(empty_database_dsn: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """$DAGSTER_HOME holding the shipped dagster.yaml, its DAGSTER_PG_* variables pointing at
    a fresh database on the embedded server. The one change: the embedded server listens on
    a Unix socket only, so the socket folder is passed as libpq's ``host`` parameter."""
    params = psycopg.conninfo.conninfo_to_dict(empty_database_dsn)
    config = yaml.safe_load(SHIPPED.read_text())
    db = config["storage"]["postgres"]["postgres_db"]
    assert db["hostname"] == {"env": "DAGSTER_PG_HOST"} and db["port"] == 5432
    db["params"] = {"host": str(params["host"])}
    db["port"] = int(params.get("port") or 5432)
    home = Path(tempfile.mkdtemp(prefix="atlas-dagster-home-"))
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("DAGSTER_PG_USERNAME", str(params["user"]))
    monkeypatch.setenv("DAGSTER_PG_PASSWORD", str(params.get("password") or "unused"))
    monkeypatch.setenv("DAGSTER_PG_HOST", "localhost")  # overridden by params.host
    monkeypatch.setenv("DAGSTER_PG_DB", str(params["dbname"]))
    yield home
    shutil.rmtree(home, ignore_errors=True)


def test_production_instance_runs_a_job_with_postgres_storage(
    dagster_home: Path, admin_dsn: str
) -> None:
    with DagsterInstance.get() as instance:
        storage = type(instance.run_storage).__name__
        assert storage == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        assert type(instance.schedule_storage).__name__ == "PostgresScheduleStorage"
        assert isinstance(instance.run_coordinator, QueuedRunCoordinator)
        config = instance.get_concurrency_config()
        assert config.pool_config.default_pool_limit == 2
        assert config.run_queue_config is not None
        assert config.run_queue_config.max_concurrent_runs == 8

        job = probe_defs.resolve_job_def("probe")
        result = job.execute_in_process(instance=instance)
        assert result.success
        assert result.output_for_node("pooled_probe") == 42
        dbname = os.environ["DAGSTER_PG_DB"]
    dsn = psycopg.conninfo.make_conninfo(admin_dsn, dbname=dbname)
    with psycopg.connect(dsn) as conn:
        runs = dict(conn.execute("SELECT run_id, status FROM runs").fetchall())
        events = conn.execute(
            "SELECT count(*) FROM event_logs WHERE run_id = %s", (result.run_id,)
        ).fetchone()
    assert runs == {result.run_id: "SUCCESS"}
    assert events is not None and events[0] > 5


def test_two_discovery_runs_over_the_same_channel_never_overlap() -> None:
    # The run queue's own limit counter (the daemon's), fed the shipped limits and runs tagged
    # as Atlas launches them: the job's tags plus the range tags of channel_range_requests.
    from dagster._utils.tags import TagConcurrencyLimitsCounter

    from atlas_assets.definitions import defs
    from atlas_assets.partitions import channel_range_requests

    limits = yaml.safe_load(SHIPPED.read_text())["concurrency"]["runs"]["tag_concurrency_limits"]
    channels = [f"UC{n:022d}" for n in range(6)]

    def run(job: str, targets: list[str], tick: str) -> DagsterRun:
        [request] = channel_range_requests(channels, targets, 500, run_key=tick)
        tags = {**defs.resolve_job_def(job).tags, **request.tags}
        assert "dagster/partition" not in tags  # why the partition limit cannot serve here
        return DagsterRun(job_name=job, run_id=tick, tags=tags)

    first = run("discover_videos", channels[0:4], "tick-1")  # still running at the next tick
    later = run("discover_videos", channels[2:6], "tick-2")  # shares channels 2 and 3
    counter = TagConcurrencyLimitsCounter(limits, [first])
    assert counter.is_blocked(later)
    refresh = DagsterRun(
        job_name="refresh_stats", run_id="r", tags=dict(defs.resolve_job_def("refresh_stats").tags)
    )
    assert not counter.is_blocked(refresh)  # other lanes are not held up
    assert TagConcurrencyLimitsCounter(limits, [refresh]).is_blocked(
        DagsterRun(job_name="refresh_stats", run_id="r2", tags=refresh.tags)
    )
