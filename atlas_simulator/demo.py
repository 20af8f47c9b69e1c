"""``atlas demo``: everything on one machine, nothing to configure.

    atlas demo        # then open http://127.0.0.1:3000

Starts the YouTube simulator with the demo's script (``atlas_simulator.story.DEMO_STORY``:
a re-upload, a rename, a deletion and a view spike within ten minutes at ``--speed 60``),
a local stand-in for Discord's webhooks, the embedded PostgreSQL (migrated, the simulator's
channels put on the watchlist through the API), and the Dagster webserver and daemon
(a gRPC code server, ``dagster-webserver`` and ``dagster-daemon``, as in production) with
the schedules and sensors on, at cadences scaled to the speed.

The console shows a banner (UI, data folder, what happens when), then one line per alert
(as delivered through the alert outbox to the webhook stand-in, evidence images saved under
``ATLAS_HOME/alerts``) and one line per finished run. Dagster's own output and warnings go to
``ATLAS_HOME/logs/dagster.log``. Ctrl-C stops it all; the data stays in ATLAS_HOME.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from atlas_core.config import WEBHOOK_SETTINGS, Settings
from atlas_core.embedded import hold_server
from atlas_core.factories import build_database, build_youtube, database_dsn, read_settings
from atlas_core.migrate import migrate
from atlas_core.store.tables import empty_all_tables, holds_channels
from atlas_core.utils import run_sync

if TYPE_CHECKING:
    from atlas_simulator import World

DEMO_DAGSTER_YAML = """\
# Written by `atlas demo` (rewritten by it on start): local instance storage, runs from the
# queue, telemetry and the first-visit "join the community" prompt off, freshness policies
# evaluated, atlas_core's log lines in each run's log.
telemetry:
  enabled: false
nux:
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
_OURS = DEMO_DAGSTER_YAML.splitlines()[0]
# setting -> AlertChannel value (the last part of the stand-in's URL)
WEBHOOKS = {setting: channel for channel, setting in WEBHOOK_SETTINGS.items()}
_print_lock = threading.Lock()


def say(line: str = "") -> None:
    """One console line, whole (the alert and run reporters print from other threads)."""
    with _print_lock:
        print(line, flush=True)


def every(minutes: int) -> str:
    """A cron running every ``minutes`` real minutes."""
    return "0 * * * *" if minutes >= 60 else f"*/{minutes} * * * *"


def demo_environment(
    settings: Settings, sim_base_url: str, api_key: str, speed: float = 60.0
) -> dict[str, str]:
    """The variables the Dagster processes inherit: the simulator as YouTube, and the
    schedules' cadences in real minutes for the demo's simulated ones."""
    from atlas_simulator.story import DISCOVER_EVERY_HOURS, REFRESH_EVERY_HOURS, every_minutes

    home = settings.ATLAS_HOME.resolve()
    return {
        "ATLAS_HOME": str(home),
        "DAGSTER_HOME": str(home / "dagster"),
        "YOUTUBE_API_BASE_URL": sim_base_url,
        "YOUTUBE_API_KEY_POOL_JSON": json.dumps([api_key]),
        "REFRESH_CRON": every(every_minutes(REFRESH_EVERY_HOURS, speed)),
        "DISCOVERY_CRON": every(every_minutes(DISCOVER_EVERY_HOURS, speed)),
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def port_is_free(port: int) -> bool:
    """Whether a server can listen on ``port`` of 127.0.0.1. The probe binds as the
    simulator and Dagster's webserver do (SO_REUSEADDR), so the connections a demo that has
    just stopped leaves in TIME_WAIT do not count as the port in use."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def prepare_dagster_home(path: Path) -> None:
    """Write the demo's dagster.yaml, replacing an older demo's but never a user's own."""
    path.mkdir(parents=True, exist_ok=True)
    config = path / "dagster.yaml"
    if not config.exists() or _written_by_a_demo(config):
        config.write_text(DEMO_DAGSTER_YAML)


def _written_by_a_demo(config: Path) -> bool:
    return config.exists() and config.read_text().startswith(_OURS.split(" (")[0])


# Marks a data folder as a demo's: the next demo clears what it holds (a simulated world
# starts anew on every run, and a previous one's videos and stats would not match it).
DEMO_MARKER = "demo-world.txt"
_DAGSTER_STATE = ("storage", "history", "schedules")  # run history, sensor and schedule state


class NotADemoFolder(Exception):
    """The data folder holds Atlas data that no demo wrote: the demo leaves it alone."""


def demo_owns(settings: Settings, dagster_home: Path) -> bool:
    """Whether the data is a demo's to clear: the embedded database under a data folder a
    demo wrote (its marker, or an older demo's dagster.yaml). Never a ``DATABASE_URL``'s."""
    home = settings.ATLAS_HOME.resolve()
    written = (home / DEMO_MARKER).exists() or _written_by_a_demo(dagster_home / "dagster.yaml")
    return settings.DATABASE_URL is None and written


def start_afresh(settings: Settings, dsn: str, dagster_home: Path, owned: bool) -> str | None:
    """Clear a previous demo's world from the data folder: every Atlas table, the local vault
    under it, the alert stand-in's files and Dagster's run, sensor and schedule state. None
    when there was nothing to clear; NotADemoFolder when the database tracks channels and
    the data is not a demo's (``owned``: ``demo_owns`` before this run wrote to the folder)."""
    if not holds_channels(dsn):
        return None
    home = settings.ATLAS_HOME.resolve()
    if not owned:
        raise NotADemoFolder(
            f"the database for {home} holds Atlas data that a demo did not write (channels "
            "are tracked there, or DATABASE_URL names a database of your own); the demo's "
            "simulated world would not match it, and the demo does not clear it. Set "
            "ATLAS_HOME to an empty folder and unset DATABASE_URL for the demo"
        )
    tables = empty_all_tables(dsn)
    folders = [home / "alerts"] + [dagster_home / name for name in _DAGSTER_STATE]
    vault = settings.vault_path.resolve()
    if settings.VAULT_PROVIDER == "local" and vault.is_relative_to(home):
        folders.append(vault)
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)
    return (
        f"a previous demo's world in {home} cleared ({tables} tables, the vault, alerts and "
        "Dagster's run history): the simulated world starts anew on every run"
    )


async def seed_watchlist(settings: Settings, refs: list[str]) -> list[str]:
    from atlas_core.pipeline.watch import watch_channels

    db = build_database(settings)
    try:
        async with build_youtube(settings, db) as youtube:
            outcomes = await watch_channels(db, youtube, refs)
    finally:
        await db.close()
    return [f"{o.status:<16} {o.ref:<26} {o.channel_id or ''}  {o.message}" for o in outcomes]


def log_to_file(path: Path) -> None:
    """This process's log records and Python warnings go to ``path``, not the console."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.captureWarnings(True)
    warnings.simplefilter("default")


# --- what the console shows ---------------------------------------------------------------

_MARKUP = re.compile(r"[*`_~]|\\(?=[^\w\s])")  # emphasis, and the escapes of escape_markdown


def plain(text: str) -> str:
    """Discord markdown as console text."""
    return _MARKUP.sub("", text).replace("\n", " ")


def alert_line(channel: str, embed: dict[str, Any], files: list[Path]) -> str:
    fields = {f.get("name"): f.get("value") for f in embed.get("fields") or []}
    line = f"{datetime.now():%H:%M:%S}  ALERT {channel.upper():<12} {embed.get('title', '')}"
    description = plain(str(embed.get("description") or ""))
    if len(description) > 160:  # a digest lists every alert: the UI and Discord show them all
        description = description[:159] + "…"
    if description:
        line += f": {description}"
    for path in files:  # a spike's chart is a PNG, a re-upload's evidence a JPEG
        line += f"  [{'chart' if path.suffix == '.png' else 'evidence'}: {path}]"
    if not files and fields.get("evidence"):
        line += f"  [evidence in the vault: {fields['evidence']}]"
    return line


def run_line(run: dict[str, Any]) -> str:
    tags = {t["key"]: t["value"] for t in run.get("tags") or []}
    seconds = (run.get("endTime") or 0) - (run.get("startTime") or run.get("endTime") or 0)
    partition = tags.get("dagster/partition", "")
    first = tags.get("dagster/asset_partition_range_start")
    last = tags.get("dagster/asset_partition_range_end")
    if not partition and first:  # a batched run covers a range of partitions
        partition = first if first == last else f"{first}..{last}"
    outcome = {"SUCCESS": "ok", "FAILURE": "FAILED", "CANCELED": "canceled"}.get(
        run["status"], run["status"].lower()
    )
    job = "materialize" if run["jobName"].startswith("__ASSET_JOB") else run["jobName"]
    name = f"{job} {partition}".strip()
    return f"{datetime.now():%H:%M:%S}  run   {outcome:<12} {name} ({seconds:.0f} s)"


RUNS_QUERY = """{ runsOrError(filter: {statuses: [STATUSES]}, limit: 50) {
  ... on Runs { results { runId jobName status startTime endTime tags { key value } } } } }"""
FINISHED = "SUCCESS, FAILURE, CANCELED"
IN_FLIGHT = "NOT_STARTED, STARTING, STARTED, CANCELING"


def _graphql(port: int, query: str) -> dict[str, Any] | None:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            data = json.loads(response.read())["data"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return data if isinstance(data, dict) else None


def finished_runs(port: int, statuses: str = FINISHED) -> list[dict[str, Any]]:
    """The latest runs in ``statuses`` (finished ones by default), from the webserver's
    GraphQL API; [] while it is not up."""
    data = _graphql(port, RUNS_QUERY.replace("STATUSES", statuses))
    try:
        return list((data or {})["runsOrError"].get("results") or [])
    except (KeyError, AttributeError):
        return []


def banner(
    *,
    ui: str,
    home: Path,
    log: Path,
    sim_url: str,
    seed: int,
    speed: float,
    started: datetime,
    env: dict[str, str],
    inbox_folder: Path | None,
    world: World,
) -> list[str]:
    from atlas_simulator.story import DEMO_STORY, narrate, real_minutes

    refresh = env["REFRESH_CRON"]
    discovery = env["DISCOVERY_CRON"]
    lines = [
        "Atlas demo",
        f"  Dagster UI   {ui}",
        f"  data folder  {home}  (database, vault, Dagster home)",
        f"  log file     {log}  (Dagster's output and warnings)",
        f"  YouTube      simulator {sim_url}, seed {seed}, one simulated hour = "
        f"{real_minutes(1, speed) * 60:g} real seconds (--speed {speed:g})",
        f"  schedules    refresh_stats '{refresh}', discover_uploads '{discovery}'",
    ]
    if inbox_folder is not None:
        lines.append(
            "  alerts       printed here as Atlas posts them to a local Discord stand-in; "
            f"images in {inbox_folder}"
        )
    else:
        lines.append("  alerts       sent to the Discord webhooks set in your environment")
    lines += ["", "What happens in the simulated world, and what Atlas says about it (an alert"]
    lines.append("comes after the next refresh or discovery that sees the change):")
    beats = sorted(DEMO_STORY, key=lambda b: b.hours)
    for beat, happening in zip(beats, world.happenings, strict=True):
        at = started + timedelta(minutes=real_minutes(beat.hours, speed))
        lines.append(f"  {at.astimezone():%H:%M:%S}  {narrate(world, happening)}")
        lines.append(f"            -> {beat.shows}")
    if speed > 90:
        lines.append(
            "  (at --speed above 90 the story outruns Dagster's start-up and the 2-minute "
            "refresh: the view spike can come before two snapshots exist, and then it cannot "
            "be told from normal growth)"
        )
    lines += [
        "Any time: in the UI, materialize vault_partitions for today's partition "
        f"({datetime.now(UTC):%Y-%m-%d}) to write today's Parquet files to the vault.",
        "Ctrl-C stops everything; the data stays in the data folder until the next demo.",
        "",
    ]
    return lines


# --- the launcher -------------------------------------------------------------------------


def run_demo(port: int = 3000, sim_port: int = 8765, seed: int = 7, speed: float = 60.0) -> int:
    from atlas_simulator import SimulatorServer
    from atlas_simulator.inbox import DiscordInbox, InboxMessage
    from atlas_simulator.story import DEMO_CHANNELS, DEMO_STORY, DEMO_VIDEOS

    base = read_settings()
    for name, number in (("--port", port), ("--sim-port", sim_port)):
        if not port_is_free(number):
            print(
                f"atlas demo: port {number} on 127.0.0.1 is in use; stop what uses it or pass "
                f"{name} <another port>",
                file=sys.stderr,
            )
            return 2
    if speed <= 0:
        print(f"atlas demo: --speed must be above 0, got {speed:g}", file=sys.stderr)
        return 2
    home = base.ATLAS_HOME.resolve()
    logs = home / "logs"
    log_to_file(logs / "demo.log")
    own_webhooks = any(os.environ.get(name) for name in WEBHOOKS)

    def show(message: InboxMessage) -> None:
        for embed in message.embeds or [{"title": "(message without embed)"}]:
            say(alert_line(message.channel, embed, message.files))

    # Ctrl-C and SIGTERM stop it, once: `timeout` signals the process and then its group at
    # once, and a second KeyboardInterrupt raised while the first is being handled would
    # abandon Dagster half-stopped.
    stop_once = _StopOnce()
    signal.signal(signal.SIGINT, stop_once)
    signal.signal(signal.SIGTERM, stop_once)
    database = hold_server(base)  # the embedded server, unless it already runs (then it stays up)
    sim = SimulatorServer(
        seed=seed,
        port=sim_port,
        speed=speed,
        channels=DEMO_CHANNELS,
        videos=DEMO_VIDEOS,
        story=DEMO_STORY,
    ).start()
    inbox = None if own_webhooks else DiscordInbox(show, home / "alerts").start()
    try:
        env = demo_environment(base, sim.base_url, sim.world.api_keys[0], speed)
        if inbox is not None:
            env.update({name: inbox.url(channel) for name, channel in WEBHOOKS.items()})
        settings = read_settings(**env)
        owned = demo_owns(settings, Path(env["DAGSTER_HOME"]))
        prepare_dagster_home(Path(env["DAGSTER_HOME"]))
        dsn = database_dsn(settings)
        applied = migrate(dsn)
        try:
            cleared = start_afresh(settings, dsn, Path(env["DAGSTER_HOME"]), owned)
        except NotADemoFolder as exc:
            print(f"atlas demo: {exc}", file=sys.stderr)
            return 2
        (home / DEMO_MARKER).write_text(
            "Written by `atlas demo`: this data folder holds a simulated world, which the next\n"
            "`atlas demo` clears (the world starts anew on every run).\n"
        )
        handles = [f"@{c.handle.lstrip('@')}" for c in sim.world.channels.values()]
        seeded = run_sync(lambda: seed_watchlist(settings, handles))
        dagster_log = logs / "dagster.log"
        for line in banner(
            ui=f"http://127.0.0.1:{port}",
            home=home,
            log=dagster_log,
            sim_url=sim.url,
            seed=seed,
            speed=speed,
            started=sim.started_at,
            env=env,
            inbox_folder=None if inbox is None else inbox.folder,
            world=sim.world,
        ):
            say(line)
        if cleared:
            say(cleared)
        say(f"database ready ({len(applied)} migration(s) applied); watchlist:")
        for line in seeded:
            say("  " + line)
        say(f"Dagster UI: http://127.0.0.1:{port}  (starting; Ctrl-C stops everything)")
        return _serve(port, env, dagster_log)
    finally:
        if inbox is not None:
            inbox.stop()
        sim.stop()
        database.release()  # stops the embedded server only if this demo started it


def dagster_commands(port: int, grpc_port: int, workspace: Path) -> dict[str, list[str]]:
    """The production topology on one machine: a gRPC code server that imports the
    definitions once, and the webserver and the daemon loading it from ``workspace`` (which
    points at that server). ``dagster dev`` is superseded in Dagster 1.13 (it warns on every
    start) and its per-process code servers log heartbeat warnings on a loaded machine."""
    py = sys.executable
    return {
        "code-server": [
            py, "-m", "dagster", "code-server", "start", "-m", "atlas_assets.definitions",
            "-h", "127.0.0.1", "-p", str(grpc_port),
        ],
        "dagster-webserver": [
            py, "-m", "dagster_webserver", "-w", str(workspace), "-h", "127.0.0.1", "-p", str(port)
        ],
        "dagster-daemon": [py, "-m", "dagster._daemon", "run", "-w", str(workspace)],
    }  # fmt: skip


def write_workspace(path: Path, grpc_port: int) -> Path:
    path.write_text(
        "# Written by `atlas demo`: the code server it starts, under the location name that\n"
        "# workspace.yaml gives the module (so UI links are the same either way).\n"
        "load_from:\n"
        f"  - grpc_server: {{host: 127.0.0.1, port: {grpc_port}, "
        "location_name: atlas_assets.definitions}\n"
    )
    return path


def wait_for_code_server(
    port: int, env: dict[str, str], server: subprocess.Popen[bytes], timeout: float = 300.0
) -> bool:
    """Until the code server answers its health check (it imports the definitions first);
    False if it exited or did not answer in ``timeout`` seconds."""
    check = [sys.executable, "-m", "dagster", "api", "grpc-health-check", "-p", str(port)]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and server.poll() is None:
        done = subprocess.run(check, env=env, capture_output=True, timeout=120, check=False)
        if done.returncode == 0:
            return True
        time.sleep(1)
    return False


def _serve(port: int, env: dict[str, str], log_path: Path) -> int:
    """Run the Dagster code server, webserver and daemon (output to ``log_path``) and print
    each run as it finishes."""
    started = time.time()
    with log_path.open("a") as log:
        log.write(f"\n=== atlas demo {datetime.now().isoformat(timespec='seconds')} ===\n")
        log.flush()
        grpc_port = free_port()
        workspace = write_workspace(Path(env["DAGSTER_HOME"]) / "workspace.yaml", grpc_port)
        full_env = {**os.environ, **env}
        processes: dict[str, subprocess.Popen[bytes]] = {}
        for name, command in dagster_commands(port, grpc_port, workspace).items():
            # Each in a session of its own, with the run workers the code server starts: a
            # Ctrl-C in the terminal reaches only the demo, which stops them in order.
            processes[name] = subprocess.Popen(
                command, env=full_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
            if name == "code-server" and not wait_for_code_server(
                grpc_port, full_env, processes[name]
            ):
                say(f"the Dagster code server did not start; see {log_path}")
                _stop(processes)
                return 1
        seen: set[str] = set()
        try:
            while all(p.poll() is None for p in processes.values()):
                time.sleep(2)
                for run in reversed(finished_runs(port)):
                    if run["runId"] in seen or (run.get("endTime") or 0) < started:
                        continue
                    seen.add(run["runId"])
                    say(run_line(run))
            name, dead = next((n, p) for n, p in processes.items() if p.poll() is not None)
            say(f"{name} exited with {dead.returncode}; see {log_path}")
            _stop(processes)
            return dead.returncode or 1
        except KeyboardInterrupt:
            # One stop at a time (``_StopOnce``): later signals no longer interrupt.
            say("stopping Dagster ...")
            _stop(processes, port)
            say("stopped")
            return 0


class _StopOnce:
    """A signal handler that raises KeyboardInterrupt the first time only. Ignoring the
    signals from inside the handler would not do: CPython reports a signal whose handler was
    replaced while it was pending as "ignored due to race condition" on the console."""

    def __init__(self) -> None:
        self.stopping = False

    def __call__(self, signum: int, frame: object) -> None:
        if self.stopping:
            return
        self.stopping = True
        raise KeyboardInterrupt


# How long a stop waits for runs in flight to finish on their own (the demo's take seconds to
# a minute); a run still going after that is terminated through Dagster.
RUN_FINISH_SECONDS = 45.0


def _stop(processes: dict[str, subprocess.Popen[bytes]], port: int | None = None) -> None:
    """The daemon first (no run starts after it), then, with the webserver still up, wait for
    the runs in flight to end (they would fail mid-step once the database stops); then the
    webserver and the code server. Each gets SIGINT (what Ctrl-C sends); what is still up
    after 30 s is killed."""
    daemon = processes.get("dagster-daemon")
    if daemon is not None:
        interrupt([daemon])
    if port is not None and processes.get("dagster-webserver") is not None:
        _finish_runs(port)
    interrupt([p for p in reversed(processes.values()) if p is not daemon])


def _finish_runs(port: int) -> None:
    deadline = time.monotonic() + RUN_FINISH_SECONDS
    told = False
    while running := finished_runs(port, IN_FLIGHT):
        if time.monotonic() >= deadline:
            for run in running:
                _terminate(port, run["runId"])
            say(f"terminated {len(running)} run(s) still in flight")
            return
        if not told:
            names = ", ".join(sorted({r["jobName"] for r in running}))
            say(f"waiting for {len(running)} run(s) in flight to finish ({names}) ...")
            told = True
        time.sleep(2)
    # Queued runs would start at the next `atlas demo`, against a world that moved on.
    for run in finished_runs(port, "QUEUED"):
        _terminate(port, run["runId"])


def _terminate(port: int, run_id: str) -> None:
    _graphql(port, 'mutation { terminateRun(runId: "' + run_id + '") { __typename } }')


def interrupt(processes: list[subprocess.Popen[bytes]], grace: float = 30.0) -> None:
    """SIGINT to each process still running, then up to ``grace`` seconds for all of them to
    exit; one still running after that is killed."""
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
    deadline = time.monotonic() + grace
    for process in processes:
        try:
            process.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
