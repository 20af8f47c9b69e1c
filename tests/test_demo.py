"""The README's run command: `atlas demo` serves the asset graph and materializes it."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from atlas_core.config import Settings
from atlas_core.embedded import server_status, stop_server

ROOT = Path(__file__).resolve().parent.parent


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in Settings.model_fields}
    env.pop("DAGSTER_HOME", None)
    return {**env, **extra}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def graphql(port: int, query: str) -> dict[str, Any]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())["data"]  # type: ignore[no-any-return]


def test_definitions_validate_with_no_environment(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-w", "workspace.yaml"],
        cwd=ROOT,
        env=clean_env(DAGSTER_HOME=str(tmp_path), ATLAS_HOME=str(tmp_path / "a")),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Validation successful" in done.stderr + done.stdout


def test_atlas_demo_serves_the_graph_and_runs_discovery(tmp_path: Path) -> None:
    ui, sim = free_port(), free_port()
    # Outside pytest's folders, which another session may make 0700 again: the embedded
    # server runs as the `pgserver` user.
    home = Path(tempfile.mkdtemp(prefix="atlas-demo-home-"))
    log = (tmp_path / "demo.log").open("w")
    demo = subprocess.Popen(
        [sys.executable, "-m", "atlas_core.cli", "demo", "--port", str(ui), "--sim-port", str(sim)],
        cwd=tmp_path,
        env=clean_env(ATLAS_HOME=str(home)),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    assets: set[str] = set()
    statuses: list[tuple[str, str]] = []
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and demo.poll() is None:
            time.sleep(3)
            try:
                nodes = graphql(ui, "{ assetNodes { assetKey { path } } }")["assetNodes"]
                runs = graphql(
                    ui, "{ runsOrError { ... on Runs { results { jobName status } } } }"
                )["runsOrError"]["results"]
            except (OSError, KeyError, TypeError, ValueError):
                continue  # not up yet
            assets = {"/".join(n["assetKey"]["path"]) for n in nodes}
            statuses = [(r["jobName"], r["status"]) for r in runs]
            console = (tmp_path / "demo.log").read_text()
            if ("discover_videos", "SUCCESS") in statuses and "discover_videos UC" in console:
                break  # the console prints a finished run on its next look (every 2 s)
    finally:
        # As `timeout` stops it: the process, then its whole group (a second signal while
        # it is stopping must not make it abandon Dagster).
        os.kill(demo.pid, signal.SIGTERM)
        os.killpg(demo.pid, signal.SIGTERM)
        try:  # runs in flight get up to 45 s to finish, then each process 30 s
            demo.wait(timeout=150)
        except subprocess.TimeoutExpired:
            os.killpg(demo.pid, signal.SIGKILL)
            demo.wait()
        log.close()
        left_running = server_status(home).running
        stop_server(home, mode="immediate")  # only if the demo failed to
        logs = {p.name: p.read_text() for p in (home / "logs").glob("*.log")}
        shutil.rmtree(home, ignore_errors=True)
    output = (tmp_path / "demo.log").read_text()
    assert {
        "channels",
        "videos",
        "video_stats_log",
        "video_vectors",
        "vault_partitions",
    } <= assets, output[-3000:]
    assert ("discover_videos", "SUCCESS") in statuses, (statuses, output[-3000:])
    assert "added" in output and "Dagster UI: http://127.0.0.1:" in output
    # A readable console: the story's beats and one line per finished run; Dagster's own
    # output and third-party warnings in the log file.
    assert "SURVEILLANCE alert 'Views velocity anomaly'" in output
    assert "run   ok           discover_videos UC" in output
    assert "stopping Dagster ...\n" in output, output[-500:]
    assert output.rstrip().endswith("\nstopped"), output[-500:]
    # Stopped with runs in flight (the hunt of the first videos, a refresh): they finish
    # before the database stops, and no process writes a traceback or a warning on the way.
    for name, text in logs.items():
        assert "Traceback" not in text and "WARNING" not in text, (name, text[-3000:])
    assert "Warning" not in output and "dagster - INFO" not in output, output[-3000:]
    assert "Serving dagster-webserver" in logs.get("dagster.log", ""), sorted(logs)
    # The demo started the embedded server, so SIGTERM stopped it too: nothing orphaned.
    logged = output + logs.get("demo.log", "")
    assert "embedded PostgreSQL started" in logged and "embedded PostgreSQL stopped" in logged
    assert not left_running


def test_the_console_names_a_batched_runs_channel_range() -> None:
    from atlas_simulator.demo import run_line

    def run(**tags: str) -> dict[str, Any]:
        return {
            "jobName": "discover_videos",
            "status": "SUCCESS",
            "startTime": 100.0,
            "endTime": 103.0,
            "tags": [{"key": k, "value": v} for k, v in tags.items()],
        }

    start, end = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"
    assert "ok           discover_videos UCa..UCz (3 s)" in run_line(
        run(**{start: "UCa", end: "UCz"})
    )
    assert run_line(run(**{start: "UCa", end: "UCa"})).endswith("discover_videos UCa (3 s)")
    assert run_line(run(**{"dagster/partition": "UCb"})).endswith("discover_videos UCb (3 s)")


def test_the_console_shows_escaped_titles_as_written() -> None:
    from atlas_simulator.demo import plain

    from atlas_core.notifications import escape_markdown

    title = "Street food #445 | Forge (a-b) [c]: <d>"
    assert plain(f"Video `X` ({escape_markdown(title)})") == f"Video X ({title})"


def test_the_demo_stops_once_however_many_signals_arrive() -> None:
    """The first Ctrl-C or SIGTERM interrupts; one arriving while the demo stops (``timeout``
    signals the process, then its group) does not interrupt the stop."""
    from atlas_simulator.demo import _StopOnce

    stop = _StopOnce()
    with pytest.raises(KeyboardInterrupt):
        stop(signal.SIGTERM, None)
    assert stop(signal.SIGTERM, None) is None
    assert stop(signal.SIGINT, None) is None


def test_a_port_left_in_time_wait_is_free_and_a_listening_one_is_not() -> None:
    """Right after a demo stops, its ports hold connections in TIME_WAIT (the server closed
    them first); the servers bind with SO_REUSEADDR, so the next demo must not refuse them."""
    from atlas_simulator.demo import port_is_free

    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    assert not port_is_free(port)  # listening: in use
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _ = listener.accept()
    accepted.close()  # the server closes first: its side ends in TIME_WAIT
    client.recv(1)
    client.close()
    listener.close()
    time.sleep(0.1)
    with socket.socket() as plain:  # a bind without SO_REUSEADDR still fails here
        with pytest.raises(OSError):
            plain.bind(("127.0.0.1", port))
    assert port_is_free(port)


def test_a_demo_clears_a_previous_demos_world_and_never_a_users_data(
    settings: Settings, database_dsn: str
) -> None:
    """The simulated world starts anew on every run: a previous run's channels, videos and
    stats would not match it (its deleted videos, its view counts: dozens of false alerts).
    So a demo's data folder is cleared on start; a folder the demo did not write is refused."""
    from atlas_simulator.demo import DEMO_MARKER, NotADemoFolder, demo_owns, start_afresh

    from atlas_core.store.connect import connect
    from atlas_core.store.watchlist import read_watchlist_ids

    home = settings.ATLAS_HOME.resolve()
    dagster_home = home / "dagster"
    assert start_afresh(settings, database_dsn, dagster_home, owned=False) is None  # empty

    with connect(database_dsn) as conn:
        conn.execute("INSERT INTO watchlist (channel_id, added_as) VALUES ('UCown', '@own')")
    exported = settings.vault_path / "channels" / "date=2026-12-04" / "part-0.parquet"
    exported.parent.mkdir(parents=True)
    exported.write_bytes(b"PAR1")
    embedded = settings.model_copy(update={"DATABASE_URL": None})  # the demo's own database
    assert not demo_owns(embedded, dagster_home)
    with pytest.raises(NotADemoFolder, match="Set ATLAS_HOME to an empty folder"):
        start_afresh(settings, database_dsn, dagster_home, demo_owns(embedded, dagster_home))
    assert read_watchlist_ids(database_dsn) == ["UCown"] and exported.exists()

    with connect(database_dsn) as conn:
        migrations = conn.execute("SELECT count(*) FROM schema_migrations").fetchone()
    (home / DEMO_MARKER).write_text("a demo's")
    (dagster_home / "storage").mkdir(parents=True)
    (dagster_home / "dagster.yaml").write_text("kept")
    (home / "alerts").mkdir()
    (home / "alerts" / "0001-reupload.jpg").write_bytes(b"jpeg")
    assert not demo_owns(settings, dagster_home)  # a DATABASE_URL of the user's: never cleared
    assert demo_owns(embedded, dagster_home)
    said = start_afresh(settings, database_dsn, dagster_home, demo_owns(embedded, dagster_home))
    assert said is not None and "starts anew" in said, said
    assert read_watchlist_ids(database_dsn) == []
    assert not exported.exists() and not (home / "alerts").exists()
    assert not (dagster_home / "storage").exists() and (dagster_home / "dagster.yaml").exists()
    with connect(database_dsn) as conn:  # the record of migrations stays: nothing re-runs
        row = conn.execute("SELECT count(*) FROM schema_migrations").fetchone()
    assert migrations is not None and row == migrations and migrations[0] > 0
