"""The embedded server as a service: `atlas db start|stop|status`; everything else connects."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
import pytest

from atlas_core.config import load_settings
from atlas_core.database import DatabaseManager
from atlas_core.embedded import (
    EmbeddedServerNotRunning,
    embedded_dsn,
    pgdata_dir,
    server_status,
    start_server,
    stop_server,
)

if TYPE_CHECKING:
    from conftest import RunCli


def test_db_start_status_stop(run_cli: RunCli, fresh_home: Path) -> None:
    env = {"ATLAS_HOME": str(fresh_home)}
    down = run_cli("db", "status", env=env)
    assert down.returncode == 1 and "not running" in down.stdout
    started = run_cli("db", "start", env=env)
    assert started.returncode == 0, started.stderr
    assert started.stdout.startswith("started:")
    status = server_status(fresh_home)
    assert status.running and status.pid is not None
    # pid, log and socket all under ATLAS_HOME
    assert (pgdata_dir(fresh_home) / "postmaster.pid").read_text().split()[0] == str(status.pid)
    assert status.log.is_relative_to(fresh_home) and status.log.exists()
    assert status.socket_dir is not None and status.socket_dir.is_relative_to(fresh_home)
    again = run_cli("db", "start", env=env)
    assert again.returncode == 0 and again.stdout.startswith("already running:")
    assert server_status(fresh_home).pid == status.pid
    shown = run_cli("db", "status", env=env)
    assert shown.returncode == 0 and f"pid {status.pid}" in shown.stdout
    with psycopg.connect(embedded_dsn(fresh_home)) as conn:
        assert conn.execute("SELECT current_database()").fetchone() == ("atlas",)
    stopped = run_cli("db", "stop", env=env)
    assert stopped.returncode == 0 and f"stopped embedded PostgreSQL (pid {status.pid})" in (
        stopped.stdout
    )
    assert not server_status(fresh_home).running
    assert not (pgdata_dir(fresh_home) / "postmaster.pid").exists()
    assert run_cli("db", "stop", env=env).returncode == 0  # stopping a stopped server is fine


async def test_library_only_connects_and_says_what_to_run(
    run_cli: RunCli, fresh_home: Path
) -> None:
    with pytest.raises(EmbeddedServerNotRunning, match="atlas db start"):
        embedded_dsn(fresh_home)
    manager = DatabaseManager(settings=load_settings(_env_file=None, ATLAS_HOME=fresh_home))
    with pytest.raises(EmbeddedServerNotRunning, match="atlas db start"):
        await manager.initialize()
    assert await manager.health_check() is False
    assert not pgdata_dir(fresh_home).exists()  # nothing was initialised, nothing started
    health = run_cli("health", env={"ATLAS_HOME": str(fresh_home)})
    assert (
        health.returncode == 1 and "DOWN" in health.stdout and "atlas db start" in (health.stderr)
    )
    assert not server_status(fresh_home).running


def test_a_writing_command_starts_it_and_leaves_it_running(
    run_cli: RunCli, fresh_home: Path
) -> None:
    done = run_cli("migrate", env={"ATLAS_HOME": str(fresh_home)})
    assert done.returncode == 0, done.stderr
    assert "embedded PostgreSQL started" in done.stderr
    assert server_status(fresh_home).running  # a service now: it outlived the command
    again = run_cli("migrate", env={"ATLAS_HOME": str(fresh_home)})
    assert again.returncode == 0 and "up to date" in again.stdout
    assert "embedded PostgreSQL" not in again.stderr  # logged only when it starts or stops


def test_data_survives_a_restart(fresh_home: Path) -> None:
    start_server(fresh_home)
    with psycopg.connect(embedded_dsn(fresh_home), autocommit=True) as conn:
        conn.execute("CREATE TABLE kept (v text)")
        conn.execute("INSERT INTO kept VALUES ('survives')")
    assert stop_server(fresh_home)
    first = server_status(fresh_home)
    assert not first.running
    assert start_server(fresh_home).started
    with psycopg.connect(embedded_dsn(fresh_home)) as conn:
        assert conn.execute("SELECT v FROM kept").fetchone() == ("survives",)


HOLDER = textwrap.dedent(
    """
    import signal, sys, time
    from atlas_core.config import load_settings
    from atlas_core.embedded import hold_server
    signal.signal(signal.SIGTERM, signal.default_int_handler)   # as `atlas demo` does
    hold = hold_server(load_settings(_env_file=None, ATLAS_HOME=sys.argv[1]))
    try:
        print("started" if hold.started else "joined", flush=True)
        while True:
            time.sleep(0.05)
    except KeyboardInterrupt:
        pass
    finally:
        hold.release()
    """
)


def _hold_then_sigterm(fresh_home: Path) -> str:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(fresh_home)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None
    said = holder.stdout.readline().strip()
    holder.send_signal(signal.SIGTERM)
    assert holder.wait(timeout=60) == 0
    return said


def test_sigterm_stops_a_server_the_process_started(fresh_home: Path) -> None:
    assert _hold_then_sigterm(fresh_home) == "started"
    assert not server_status(fresh_home).running  # not orphaned


def test_sigterm_leaves_a_server_the_process_did_not_start(fresh_home: Path) -> None:
    pid = start_server(fresh_home).pid
    assert _hold_then_sigterm(fresh_home) == "joined"
    assert server_status(fresh_home).running and server_status(fresh_home).pid == pid


def test_dagster_sensors_skip_with_one_clear_line_when_the_server_is_down(fresh_home: Path) -> None:
    from dagster import DagsterInstance, SkipReason, build_sensor_context

    from atlas_assets.assets.alerts import alerts_sensor
    from atlas_assets.resources import DatabaseResource
    from atlas_assets.sensors import watchlist_sensor

    database = DatabaseResource(atlas_home=str(fresh_home))
    with DagsterInstance.ephemeral() as instance:
        for sensor in (watchlist_sensor, alerts_sensor):
            context = build_sensor_context(instance=instance, resources={"database": database})
            result = sensor(context)
            assert isinstance(result, SkipReason), sensor.name
            assert "not running: start it with `atlas db start`" in (result.skip_message or "")
    assert not pgdata_dir(fresh_home).exists()  # a Dagster process never starts (or initialises) it


def test_a_pid_file_naming_another_process_is_stale(fresh_home: Path) -> None:
    """Any process that is not this home's server (here: the test itself) is a stranger."""
    pgdata = pgdata_dir(fresh_home)
    pgdata.mkdir(parents=True)
    lines = [str(os.getpid()), str(pgdata), "0", "5432", str(pgdata), "", "0 0", "ready"]
    (pgdata / "postmaster.pid").write_text("\n".join(lines) + "\n")
    assert not server_status(fresh_home).running
    assert stop_server(fresh_home) is False  # nothing signalled, the stale file removed
    assert not (pgdata / "postmaster.pid").exists()
