"""A production soak on this machine: the deployment's processes for hours of simulated time.

    python bench/soak.py                        # 24 simulated hours at --speed 60 (~30 min)
    python bench/soak.py --hours 4              # a shortened run (same figures, fewer hours)

Installs nothing. Runs the production topology: the embedded PostgreSQL used as an external
server (Atlas's database and a separate Dagster database), ``atlas_assets/deploy/dagster.yaml``
(PostgreSQL run/event/schedule storage, queued run coordinator, lanes and pools), a gRPC code
server (``dagster code-server start``), ``dagster-daemon`` and ``dagster-webserver`` on that
workspace, the simulator as YouTube (``--channels``/``--videos``, a scripted stream of
uploads, a re-upload, a rename, deletions and view spikes) and a local webhook sink as
Discord that answers 503 for one simulated hour (``--outage-at``). The schedules run at the
demo's cadences scaled to ``--speed`` (refresh every 2 simulated hours, discovery every 3).
The simulated clock is held while the first discovery stores the world's videos
(onboarding, ``--onboard-minutes``), then runs; after the last hour the soak waits (at most
``--drain-seconds``) until the outbox holds every expected alert and none is left to post.

Ends with one line:
``soak_hours= runs= failed_runs= alerts_expected= alerts_delivered= alerts_duplicated=
alert_latency_p95_s= run_overhead_p50_s= daemon_rss_growth_mb= units_unaccounted=``.
alerts_expected counts the scripted beats that must alert and that happened at least
``--settle-hours`` before the end; alerts_delivered those of them whose alert reached the
sink. alert_latency_p95_s is from an alert's commit (outbox ``created_at``) to the sink's
receipt, for alerts committed while Discord was healthy; run_overhead_p50_s from a run's
launch (RUN_STARTING) to its first step; daemon_rss_growth_mb from a sixth of the way in
(after the daemon's warm-up) to the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
import psycopg
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from atlas_simulator import SimulatorServer  # noqa: E402
from atlas_simulator.demo import (  # noqa: E402
    every,
    free_port,
    interrupt,
    seed_watchlist,
    wait_for_code_server,
)
from atlas_simulator.story import DISCOVER_EVERY_HOURS, REFRESH_EVERY_HOURS, Beat  # noqa: E402
from atlas_simulator.story import every_minutes as cron_minutes  # noqa: E402
from webhook_sink import Reply, WebhookSink  # noqa: E402

from atlas_core.config import load_settings  # noqa: E402
from atlas_core.embedded import started_dsn, stop_server  # noqa: E402
from atlas_core.migrate import migrate  # noqa: E402
from atlas_core.notifications.embeds import Alert as EmbedAlert  # noqa: E402
from atlas_core.notifications.embeds import alert_embed  # noqa: E402
from atlas_core.notifications.levels import AlertChannel, AlertLevel  # noqa: E402

CHANNELS = {"alerts": "/api/webhooks/1/a", "hunt": "/api/webhooks/2/h"}
CHANNELS |= {"surveillance": "/api/webhooks/3/s", "ops": "/api/webhooks/4/o"}
# One alert's line in a digest embed (atlas_core.notifications.embeds.digest_embed).
DIGEST_LINE = re.compile(r"^`(\d\d:\d\d:\d\d)` \*\*\w+\*\* (.+)$", re.MULTILINE)


def soak_story(hours: float) -> list[Beat]:
    """One re-upload and one rename (the world scripts each once), and a deletion, a view
    spike and two uploads every six simulated hours."""
    beats = [
        Beat(1.5, "reupload", "", "Possible re-upload"),
        Beat(3.0, "channel_renamed", "", "Channel renamed"),
    ]
    start = 4.0
    while start + 2.0 < hours:
        beats += [
            Beat(start, "video_deleted", "", "Videos disappeared"),
            Beat(start + 1.0, "upload", ""),
            Beat(start + 2.0, "view_spike", "", "Views velocity anomaly"),
            Beat(start + 3.0, "upload", ""),
        ]
        start += 6.0
    return [b for b in beats if b.hours < hours]


class FlakySink(WebhookSink):
    """The webhook sink, answering 503 while ``outage`` is set (a bench prop, not under test)."""

    outage = False

    def _next_reply(self, *args: Any, **kwargs: Any) -> Any:
        if self.outage:
            return Reply(503, {"message": "soak: Discord is down"})
        return super()._next_reply(*args, **kwargs)


def instance_yaml(home: Path, socket_dir: str) -> str:
    config = yaml.safe_load((ROOT / "atlas_assets" / "deploy" / "dagster.yaml").read_text())
    config["storage"]["postgres"]["postgres_db"]["params"] = {"host": socket_dir}
    return yaml.safe_dump(config)


def start(
    name: str, command: list[str], env: dict[str, str], logs: Path
) -> subprocess.Popen[bytes]:
    log = (logs / f"{name}.log").open("ab")
    return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)


def descendants(processes: list[subprocess.Popen[bytes]]) -> list[psutil.Process]:
    """Every process the given ones started (code servers, run workers), still running."""
    family = []
    for p in processes:
        try:
            family += psutil.Process(p.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            continue
    return family


def reap(family: list[psutil.Process], grace: float = 10.0) -> None:
    """Kill what outlived its parent's shutdown (a gRPC code server ignores SIGTERM), so a
    soak leaves no process behind."""
    _, alive = psutil.wait_procs(family, timeout=grace)
    for process in alive:
        print(f"soak: killing {process.pid} left running after shutdown", file=sys.stderr)
        try:
            process.kill()
        except psutil.NoSuchProcess:
            continue
    psutil.wait_procs(alive, timeout=grace)


class HeldClock:
    """The simulator's clock, held at its start until :meth:`release` (then wall time less
    the hold): the scripted world waits while Atlas onboards the watchlist."""

    def __init__(self) -> None:
        self._start = datetime.now(UTC)
        self._released: datetime | None = None

    def __call__(self) -> datetime:
        if self._released is None:
            return self._start
        return self._start + (datetime.now(UTC) - self._released)

    def release(self) -> None:
        self._released = datetime.now(UTC)


def onboard(
    dsn: str, videos: int, processes: list[subprocess.Popen[bytes]], limit_minutes: float
) -> float:
    """Wait until Atlas has stored every video of the world's start; the seconds it took."""
    began = time.monotonic()
    while time.monotonic() - began < limit_minutes * 60:
        with psycopg.connect(dsn) as conn:
            row = conn.execute("SELECT count(*) FROM videos").fetchone()
        if row and row[0] >= videos:
            return time.monotonic() - began
        if any(p.poll() is not None for p in processes):
            raise RuntimeError("a process exited during onboarding")
        time.sleep(5)
    raise RuntimeError(f"onboarding: not every video stored after {limit_minutes:g} minutes")


DAGSTER_ENV = {
    "DAGSTER_PG_USERNAME": "postgres",
    "DAGSTER_PG_PASSWORD": "unused",
    "DAGSTER_PG_HOST": "localhost",
    "DAGSTER_PG_DB": "dagster",
}


def dagster_instance(home: Path) -> Any:
    """The soak's Dagster instance (deploy/dagster.yaml on the soak's server), in this process."""
    from dagster import DagsterInstance

    os.environ.update(DAGSTER_HOME=str(home / "dagster"), **DAGSTER_ENV)
    return DagsterInstance.get()


def start_event_log_cursors(home: Path) -> None:
    """What dagster-daemon's run-retry consumer does on its first tick on a fresh instance
    (start at the end of the event log), done before it starts: it then has a cursor and
    logs no "No cursor for event type ..." warning."""
    from dagster import DagsterEventType

    with dagster_instance(home) as instance:
        top = instance.event_log_storage.get_maximum_record_id() or 0
        instance.daemon_cursor_storage.set_cursor_values(
            {
                f"EVENT_LOG_CONSUMER_CURSOR-{kind.value}": str(top)
                for kind in (DagsterEventType.RUN_SUCCESS, DagsterEventType.RUN_FAILURE)
            }
        )


def visible_videos(sim: Any) -> int:
    """Videos the API shows at the world's start (scripted uploads come later)."""
    return sum(1 for v in sim.world.videos.values() if v.published_at <= sim.started_at)


def drain(dsn: str, expected: Counter[str], limit: float) -> None:
    """Wait (at most ``limit`` seconds) until the outbox holds every expected alert and has
    none left to post: the retry path has caught up with the outage."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        with psycopg.connect(dsn) as conn:
            rows = conn.execute(
                "SELECT title, delivered_at IS NULL AND given_up_at IS NULL FROM alert_outbox"
            ).fetchall()
        stored = Counter(title for title, _ in rows)
        pending = sum(1 for _, waiting in rows if waiting)
        if not pending and all(stored[t] >= n for t, n in expected.items()):
            return
        time.sleep(5)
    print(f"soak: the outbox had not drained after {limit:.0f}s", file=sys.stderr)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hours", type=float, default=24.0, help="simulated hours (default 24)")
    parser.add_argument("--speed", type=float, default=60.0, help="simulated s per real s")
    parser.add_argument("--channels", type=int, default=200)
    parser.add_argument("--videos", type=int, default=20_000)
    parser.add_argument(
        "--outage-at", type=float, default=None, help="simulated hour (default: a third in)"
    )
    parser.add_argument(
        "--settle-hours",
        type=float,
        default=3.0,
        help="beats this close to the end are not expected",
    )
    parser.add_argument(
        "--drain-seconds",
        type=float,
        default=600.0,
        help="at most this long after the last hour for the outbox to drain",
    )
    parser.add_argument(
        "--onboard-minutes",
        type=float,
        default=30.0,
        help="at most this long for the first discovery, before the simulated clock starts",
    )
    parser.add_argument("--keep", action="store_true", help="keep the soak's folder")
    args = parser.parse_args()
    outage_at = args.hours / 3 if args.outage_at is None else args.outage_at

    home = Path(tempfile.mkdtemp(prefix="atlas-soak-"))
    logs = home / "logs"
    logs.mkdir()
    dsn = started_dsn(home)
    dagster_dsn = started_dsn(home, "dagster")
    migrate(dsn)
    socket_dir = psycopg.conninfo.conninfo_to_dict(dsn)["host"]
    dagster_home = home / "dagster"
    dagster_home.mkdir()
    (dagster_home / "dagster.yaml").write_text(instance_yaml(home, str(socket_dir)))

    sink = FlakySink().start()
    story = soak_story(args.hours)
    clock = HeldClock()
    sim = SimulatorServer(
        seed=11,
        clock=clock,
        speed=args.speed,
        channels=args.channels,
        videos=args.videos,
        story=story,
        daily_quota=10**9,
    ).start()
    grpc_port, ui_port = free_port(), free_port()
    workspace = home / "workspace.yaml"
    workspace.write_text(
        yaml.safe_dump(
            {
                "load_from": [
                    {
                        "grpc_server": {
                            "host": "127.0.0.1",
                            "port": grpc_port,
                            "location_name": "atlas",
                        }
                    }
                ]
            }
        )
    )
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "DATABASE_"))},
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "ATLAS_HOME": str(home),
        "DAGSTER_HOME": str(dagster_home),
        **DAGSTER_ENV,
        "YOUTUBE_API_BASE_URL": sim.base_url,
        "YOUTUBE_API_KEY_POOL_JSON": json.dumps([sim.world.api_keys[0]]),
        "REFRESH_CRON": every(cron_minutes(REFRESH_EVERY_HOURS, args.speed)),
        "DISCOVERY_CRON": every(cron_minutes(DISCOVER_EVERY_HOURS, args.speed)),
        # Atlas plans discovery on wall time (a channel at most hourly by its learned cadence)
        # while the world runs --speed times faster; checking every channel every tick is what
        # those hourly checks would see of a simulated hour, and Atlas does it when the reserve
        # affords one check per channel an hour (200 x 24 = 4,800 units a day).
        "PLANNER_RESERVE_UNITS": str(max(2_000, 25 * args.channels)),
        # ... and it budgets units per wall-clock day: a simulated day passes --speed times
        # faster, so its budget is --speed days' (the simulator's own quota is unbounded).
        "YOUTUBE_DAILY_UNIT_BUDGET": str(int(10_000 * max(1.0, args.speed))),
        **{f"DISCORD_WEBHOOK_{c.upper()}": sink.url(p) for c, p in CHANNELS.items()},
    }
    settings = load_settings(
        _env_file=None,
        ATLAS_HOME=home,
        YOUTUBE_API_BASE_URL=sim.base_url,
        YOUTUBE_API_KEY_POOL_JSON=json.dumps([sim.world.api_keys[0]]),
    )
    handles = [f"@{c.handle.lstrip('@')}" for c in sim.world.channels.values()]
    asyncio.run(seed_watchlist(settings, handles))
    del dagster_dsn

    py = sys.executable
    target = ["-m", "atlas_assets.definitions"]
    processes = [
        start(
            "code-server",
            [
                py,
                "-m",
                "dagster",
                "code-server",
                "start",
                *target,
                "-h",
                "127.0.0.1",
                "-p",
                str(grpc_port),
            ],
            env,
            logs,
        )
    ]
    if not wait_for_code_server(grpc_port, env, processes[0]):
        raise RuntimeError(f"the code server did not start; see {logs / 'code-server.log'}")
    start_event_log_cursors(home)
    daemon = start("daemon", [py, "-m", "dagster._daemon", "run", "-w", str(workspace)], env, logs)
    webserver = start(
        "webserver",
        [
            py,
            "-m",
            "dagster_webserver",
            "-w",
            str(workspace),
            "-h",
            "127.0.0.1",
            "-p",
            str(ui_port),
        ],
        env,
        logs,
    )
    processes += [daemon, webserver]

    seconds_per_hour = 3600.0 / args.speed
    sim_start = sim.started_at
    rss: list[float] = []
    try:
        # Onboarding: the first discovery stores every video of the watchlist while the
        # simulated world waits (its clock is held); the scripted hours start after it.
        onboarding = onboard(dsn, visible_videos(sim), processes, args.onboard_minutes)
        clock.release()
        t0 = time.monotonic()
        wall0 = datetime.now(UTC)
        print(f"soak: onboarding took {onboarding:.0f}s; the simulated clock runs", flush=True)
        while True:
            hours = (time.monotonic() - t0) / seconds_per_hour
            if hours >= args.hours:
                break
            sink.outage = outage_at <= hours < outage_at + 1.0
            try:
                rss.append(psutil.Process(daemon.pid).memory_info().rss / 2**20)
            except psutil.Error:
                pass
            if any(p.poll() is not None for p in processes):
                print("soak: a process exited early; see", logs, file=sys.stderr)
                break
            time.sleep(5)
        sink.outage = False
        expected = Counter(
            b.alert for b in story if b.alert and b.hours <= args.hours - args.settle_hours
        )
        drain(dsn, expected, args.drain_seconds)
        if daemon.poll() is None:
            rss.append(psutil.Process(daemon.pid).memory_info().rss / 2**20)
    finally:
        # The daemon first, and wait for it: while it runs it may launch a queued run on the
        # code server, which fails to start once that server is shutting down.
        family = descendants(processes)
        interrupt([daemon], grace=60)
        interrupt([p for p in reversed(processes) if p is not daemon], grace=60)
        reap(family)

    figures = measure(args, home, dsn, sink, sim, story, sim_start, wall0, t0, outage_at, rss)
    sim.stop()
    sink.close()
    stop_server(home)
    if not args.keep:
        shutil.rmtree(home, ignore_errors=True)
    else:
        print(f"soak folder: {home}")
    print(" ".join(f"{k}={v}" for k, v in figures.items()))
    return 0


def measure(
    args: argparse.Namespace,
    home: Path,
    dsn: str,
    sink: FlakySink,
    sim: Any,
    story: list[Beat],
    sim_start: datetime,
    wall0: datetime,
    t0: float,
    outage_at: float,
    rss: list[float],
) -> dict[str, Any]:
    from dagster import DagsterEventType, DagsterRunStatus

    overheads: list[float] = []
    with dagster_instance(home) as instance:
        records = instance.get_run_records()
        failed = [r for r in records if r.dagster_run.status == DagsterRunStatus.FAILURE]
        for record in records:
            events = instance.all_logs(
                record.dagster_run.run_id,
                of_type={DagsterEventType.RUN_STARTING, DagsterEventType.STEP_START},
            )
            launched = [
                e.timestamp
                for e in events
                if e.dagster_event and e.dagster_event.event_type == DagsterEventType.RUN_STARTING
            ]
            steps = [
                e.timestamp
                for e in events
                if e.dagster_event and e.dagster_event.event_type == DagsterEventType.STEP_START
            ]
            if launched and steps:
                overheads.append(min(steps) - min(launched))

    seconds_per_hour = 3600.0 / args.speed
    with psycopg.connect(dsn) as conn:
        outbox = conn.execute(
            "SELECT id, title, description, channel, level, fields, created_at"
            " FROM alert_outbox ORDER BY id"
        ).fetchall()
        ledger = conn.execute("SELECT coalesce(sum(units), 0) FROM youtube_quota_ledger").fetchone()
    # The sink's receipts on the wall clock (the sink stamps time.monotonic()), matched to the
    # outbox rows they carry: a single alert's embed by its title, description and timestamp
    # (the row's commit), as atlas_core builds it; a digest's lines by title and HH:MM:SS.
    # Rows alike in all of these (two alerts of one transaction) share their receipts out.
    offset = wall0.timestamp() - t0
    receipts: dict[int, list[float]] = {row[0]: [] for row in outbox}
    single: dict[tuple[str, str, str], list[int]] = {}
    by_second: dict[tuple[str, str], list[int]] = {}
    for id_, title, description, channel, level, fields, created in outbox:
        embed = alert_embed(
            EmbedAlert(
                title=title,
                description=description,
                channel=AlertChannel(channel),
                level=AlertLevel[level],
                fields=tuple((fields or {}).items()),
                at=created,
            ),
            footer="",
        )
        key = (embed.get("title", ""), embed.get("description", ""), embed.get("timestamp", ""))
        single.setdefault(key, []).append(id_)
        by_second.setdefault((title, f"{created:%H:%M:%S}"), []).append(id_)

    def receive(ids: list[int], at: float) -> None:
        if ids:
            receipts[min(ids, key=lambda i: len(receipts[i]))].append(at)

    for request in sink.delivered():
        payload = request.json or {}
        for embed in payload.get("embeds", []):
            at = request.received_at + offset
            title = embed.get("title", "")
            if title.startswith("Alert digest:"):
                for clock, line_title in DIGEST_LINE.findall(embed.get("description", "")):
                    receive(by_second.get((line_title, clock), []), at)
                continue
            key = (title, embed.get("description", ""), embed.get("timestamp", ""))
            receive(single.get(key, []), at)
    duplicated = sum(len(r) - 1 for r in receipts.values() if len(r) > 1)
    latencies = []
    outage_start = wall0.timestamp() + outage_at * seconds_per_hour
    outage_end = outage_start + seconds_per_hour
    for id_, _title, _description, _channel, _level, _fields, created in outbox:
        healthy = not (outage_start - 10 <= created.timestamp() <= outage_end)
        if receipts[id_] and healthy:
            latencies.append(min(receipts[id_]) - created.timestamp())
    reached = Counter(row[1] for row in outbox if receipts[row[0]])
    expected = [b for b in story if b.alert and b.hours <= args.hours - args.settle_hours]
    wanted = Counter(b.alert for b in expected)
    delivered = sum(min(n, reached.get(alert, 0)) for alert, n in wanted.items())
    for alert, n in sorted(wanted.items()):
        print(f"soak: {alert!r}: expected {n}, reached the sink {reached.get(alert, 0)}")
    p95 = (
        statistics.quantiles(latencies, n=20)[18]
        if len(latencies) >= 2
        else (latencies[0] if latencies else float("nan"))
    )
    return {
        "soak_hours": f"{args.hours:g}",
        "runs": len(records),
        "failed_runs": len(failed),
        "alerts_expected": len(expected),
        "alerts_delivered": delivered,
        "alerts_duplicated": duplicated,
        "alert_latency_p95_s": f"{p95:.1f}",
        "run_overhead_p50_s": f"{statistics.median(overheads):.1f}" if overheads else "nan",
        # from a sixth of the way in (the daemon has loaded the code location and run each
        # of its loops by then) to the end
        "daemon_rss_growth_mb": f"{(rss[-1] - rss[len(rss) // 6]):.0f}" if len(rss) >= 6 else "nan",
        "units_unaccounted": sum(r.units for r in sim.requests) - int(ledger[0] if ledger else 0),
    }


if __name__ == "__main__":
    sys.exit(main())
