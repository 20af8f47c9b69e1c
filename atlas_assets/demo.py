"""``atlas demo``: everything on one machine, nothing to configure.

    atlas demo        # then open http://127.0.0.1:3000

Starts the YouTube simulator (a world whose clock runs ``speed`` times faster, so view
spikes, renames, deletions and re-uploads happen within minutes), the embedded PostgreSQL,
migrates it, puts the simulator's channels on the watchlist through the API, and runs the
Dagster webserver and daemon (``dagster dev``) with the schedules and sensors on and cadences
short enough to watch data arrive. Ctrl-C stops it all; the data stays in ATLAS_HOME.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from atlas_core.config import Settings, load_settings
from atlas_core.database import DatabaseManager, resolve_dsn
from atlas_core.embedded import hold_server
from atlas_core.migrate import migrate

DEMO_DAGSTER_YAML = """\
# Written by `atlas demo`: local instance storage, runs from the queue, telemetry off,
# freshness policies evaluated, atlas_core's log lines (alerts without a webhook among
# them) in each run's log.
telemetry:
  enabled: false
freshness:
  enabled: true
python_logs:
  managed_python_loggers: [atlas_core]
  python_log_level: INFO
concurrency:
  runs:
    max_concurrent_runs: 3
  pools:
    default_limit: 2
"""


def demo_environment(settings: Settings, sim_base_url: str, api_key: str) -> dict[str, str]:
    """The variables the Dagster processes inherit."""
    home = settings.ATLAS_HOME.resolve()
    return {
        "ATLAS_HOME": str(home),
        "DAGSTER_HOME": str(home / "dagster"),
        "YOUTUBE_API_BASE_URL": sim_base_url,
        "YOUTUBE_API_KEY_POOL_JSON": json.dumps([api_key]),
        "REFRESH_CRON": "*/2 * * * *",
        "DISCOVERY_CRON": "*/10 * * * *",
    }


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def prepare_dagster_home(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    config = path / "dagster.yaml"
    if not config.exists():
        config.write_text(DEMO_DAGSTER_YAML)


async def seed_watchlist(settings: Settings, refs: list[str]) -> list[str]:
    from atlas_core.pipeline.watch import watch_channels
    from atlas_core.youtube import YouTubeClient

    db = DatabaseManager(settings=settings)
    try:
        async with YouTubeClient(settings, db) as youtube:
            outcomes = await watch_channels(db, youtube, refs)
    finally:
        await db.close()
    return [f"{o.status:<16} {o.ref:<26} {o.channel_id or ''}  {o.message}" for o in outcomes]


def run_demo(port: int = 3000, sim_port: int = 8765, seed: int = 7, speed: float = 60.0) -> int:
    from atlas_simulator import SimulatorServer

    base = load_settings()
    for name, number in (("--port", port), ("--sim-port", sim_port)):
        if not port_is_free(number):
            print(
                f"atlas demo: port {number} on 127.0.0.1 is in use; stop what uses it or pass "
                f"{name} <another port>",
                file=sys.stderr,
            )
            return 2
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # SIGTERM stops it like Ctrl-C
    database = hold_server(base)  # the embedded server, unless it already runs (then it stays up)
    sim = SimulatorServer(seed=seed, port=sim_port, speed=speed).start()
    try:
        env = demo_environment(base, sim.base_url, sim.world.api_keys[0])
        settings = load_settings(**env)
        prepare_dagster_home(Path(env["DAGSTER_HOME"]))
        dsn = resolve_dsn(settings)
        applied = migrate(dsn)
        print(f"database ready ({len(applied)} migration(s) applied) in {settings.ATLAS_HOME}")
        print(f"YouTube simulator on {sim.url} (seed {seed}, x{speed:g} speed)")
        handles = [f"@{c.handle.lstrip('@')}" for c in sim.world.channels.values()]
        for line in asyncio.run(seed_watchlist(settings, handles)):
            print("  " + line)
        print(f"Dagster UI: http://127.0.0.1:{port}  (Ctrl-C stops everything)", flush=True)
        command = [
            sys.executable,
            "-m",
            "dagster",
            "dev",
            "-m",
            "atlas_assets.definitions",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
        ]
        dagster = subprocess.Popen(command, env={**os.environ, **env})  # noqa: S603 - our own argv
        try:
            return dagster.wait()
        except KeyboardInterrupt:
            dagster.send_signal(signal.SIGINT)
            try:
                dagster.wait(timeout=30)
            except subprocess.TimeoutExpired:
                dagster.kill()
            return 0
    finally:
        sim.stop()
        database.release()  # stops the embedded server only if this demo started it
