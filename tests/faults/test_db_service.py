"""`atlas db` signals only its own server: with this home's postmaster killed (-9) and the
pid in its ``postmaster.pid`` now another home's live PostgreSQL, `db status` says not
running, `db start` recovers (one log line about the stale file, no traceback) and `db stop`
never touches the other server nor raises ProcessLookupError."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
import pytest

from atlas_core.embedded import embedded_dsn, pgdata_dir, server_status, start_server, stop_server

if TYPE_CHECKING:
    from conftest import RunCli


@pytest.fixture
def homes() -> Iterator[tuple[Path, Path]]:
    made = [Path(tempfile.mkdtemp(prefix=f"atlas-faults-db{n}-")) for n in (1, 2)]
    yield made[0], made[1]
    for home in made:
        stop_server(home, mode="immediate")
        shutil.rmtree(home, ignore_errors=True)


def _gone(pid: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    raise AssertionError(f"pid {pid} still alive")


def _point_pid_file_at(home: Path, pid: int) -> None:
    """What a reused pid looks like: this home's pid file naming another process."""
    pid_file = pgdata_dir(home) / "postmaster.pid"
    lines = pid_file.read_text().splitlines()
    pid_file.write_text("\n".join([str(pid), *lines[1:]]) + "\n")


def _alive_and_serving(home: Path, pid: int) -> bool:
    status = server_status(home)
    with psycopg.connect(embedded_dsn(home, "postgres")) as conn:
        serving = conn.execute("SELECT pg_backend_pid() > 0").fetchone() == (True,)
    return status.running and status.pid == pid and serving


def test_a_reused_pid_is_never_signalled(run_cli: RunCli, homes: tuple[Path, Path]) -> None:
    mine, other = homes
    start_server(mine, "postgres")
    start_server(other, "postgres")
    other_pid = server_status(other).pid
    killed = server_status(mine).pid
    assert other_pid is not None and killed is not None
    pid_file = (pgdata_dir(mine) / "postmaster.pid").read_text()
    os.kill(killed, signal.SIGKILL)  # the server dies; its pid file stays behind
    _gone(killed)
    (pgdata_dir(mine) / "postmaster.pid").write_text(pid_file)  # as the killed one left it
    _point_pid_file_at(mine, other_pid)  # ... and the pid now belongs to the other server

    env = {"ATLAS_HOME": str(mine)}
    status = run_cli("db", "status", env=env)
    assert status.returncode == 1 and "not running" in status.stdout, status.stdout

    stop = run_cli("db", "stop", env=env)
    assert stop.returncode == 0 and "Traceback" not in stop.stderr, stop.stderr
    assert _alive_and_serving(other, other_pid)  # the stranger was not signalled

    _point_pid_file_at_stale(mine, pid_file, other_pid)
    started = run_cli("db", "start", env=env)
    assert started.returncode == 0 and "Traceback" not in started.stderr, started.stderr
    assert started.stdout.startswith("started:")
    assert started.stderr.count("stale") == 1  # one line about the stale file
    assert server_status(mine).running and server_status(mine).pid != other_pid
    assert _alive_and_serving(other, other_pid)

    # Stopped for real, then the stale pid file again: stop never signals the other server.
    assert run_cli("db", "stop", env=env).returncode == 0
    _point_pid_file_at_stale(mine, pid_file, other_pid)
    again = run_cli("db", "stop", env=env)
    assert again.returncode == 0 and "Traceback" not in again.stderr, again.stderr
    assert _alive_and_serving(other, other_pid)


def _point_pid_file_at_stale(home: Path, content: str, pid: int) -> None:
    (pgdata_dir(home) / "postmaster.pid").write_text(content)
    _point_pid_file_at(home, pid)
