"""Fault scenarios against the simulator, a local webhook sink and an embedded PostgreSQL.

    python bench/faults.py            # one line per scenario, then the summary line

Ends with ``faults_survived=<n>/<total> rows_lost=<k> alerts_lost=<m> units_unaccounted=<u>``.
Scenarios: Discord 500/429/404/hang through the alert outbox, hostile text, YouTube transient
faults (ledger vs the simulator's count), quotaExceeded mid-snapshot, the database restarted
(pg_ctl fast and immediate) mid-refresh, the vault unwritable mid-export, two concurrent
refreshes and three concurrent `atlas migrate` on a fresh ATLAS_HOME. The restart drills run
on an embedded server of their own (started here even with --database-url). The same
scenarios, with finer assertions, are the tests in tests/faults/.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "faults"))

import psycopg
from atlas_simulator import Faults, SimulatorServer
from drills import (
    TABLES,
    WhenRows,
    ledger_units,
    open_services,
    sim_settings,
    stats_rows,
    watch_all,
)
from ingest import scratch_database
from webhook_sink import NOT_FOUND, Reply, WebhookSink, rate_limited

from atlas_core.config import Settings, load_settings
from atlas_core.database import DatabaseManager
from atlas_core.embedded import (
    embedded_dsn,
    restart_server,
    server_status,
    start_server,
    started_dsn,
    stop_server,
)
from atlas_core.migrate import migrate
from atlas_core.notifications import (
    Alert,
    AlertChannel,
    AlertLevel,
    DiscordNotifier,
    escape_markdown,
)
from atlas_core.pipeline import Services, refresh_channels, snapshot_video_stats
from atlas_core.pipeline.alerts import deliver_alerts
from atlas_core.pipeline.exports import export_day, verify_day
from atlas_core.storage import LocalVault, VaultError
from atlas_core.store.exports import EXPORTS
from atlas_core.store.outbox import enqueue_alert
from atlas_core.youtube import QuotaExhausted, YouTubeClient

START = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
WATCH = "/api/webhooks/1/watch-token"


class Totals:
    survived = total = rows_lost = alerts_lost = units_unaccounted = 0


def reset(dsn: str) -> None:
    with psycopg.connect(dsn) as conn:
        conn.execute(f"TRUNCATE {TABLES} CASCADE")


def settings_for(
    dsn: str, home: Path, sim: SimulatorServer | None = None, **kw: object
) -> Settings:
    return load_settings(
        _env_file=None,
        DATABASE_URL=dsn,
        ATLAS_HOME=home,
        YOUTUBE_API_BASE_URL=sim.base_url if sim else "http://127.0.0.1:9/youtube/v3",
        YOUTUBE_API_KEY_POOL_JSON='["pk"]',
        **kw,
    )


async def discord_scenario(dsn: str, home: Path, first: Reply) -> tuple[bool, int]:
    """Three alerts; Discord answers the first post with ``first``; two drains an hour apart."""
    with WebhookSink() as sink:
        sink.script(first, path=WATCH)
        settings = settings_for(dsn, home)
        db = DatabaseManager(settings=settings)
        notifier = DiscordNotifier(
            {AlertChannel.SURVEILLANCE: sink.url(WATCH)},
            timeout=0.3,
            max_attempts=2,
            retry_delay=0.05,
            max_wait=1.0,
        )
        async with Services.open(
            settings, db=db, vault=LocalVault(home / "v"), notifier=notifier
        ) as svc:
            async with svc.db.get_connection() as conn:
                for n in range(3):
                    await enqueue_alert(
                        conn,
                        Alert(
                            f"b:{n}", AlertChannel.SURVEILLANCE, AlertLevel.WARNING, f"t{n}", "d"
                        ),
                    )
            now = datetime.now(UTC)
            await deliver_alerts(svc, now=now)
            await deliver_alerts(svc, now=now + timedelta(hours=1))
        await db.close()
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT count(*) FROM alert_outbox WHERE delivered_at IS NULL"
        ).fetchone()
    lost = int(row[0]) if row else 3
    return lost == 0, lost


async def hostile_text(dsn: str, home: Path) -> tuple[bool, int]:
    with WebhookSink() as sink:
        settings = settings_for(dsn, home)
        db = DatabaseManager(settings=settings)
        notifier = DiscordNotifier({AlertChannel.SURVEILLANCE: sink.url(WATCH)})
        async with Services.open(
            settings, db=db, vault=LocalVault(home / "v"), notifier=notifier
        ) as svc:
            async with svc.db.get_connection() as conn:
                title = escape_markdown("@everyone **FREE** <@&1>\x00")
                await enqueue_alert(
                    conn,
                    Alert("h", AlertChannel.SURVEILLANCE, AlertLevel.WARNING, "Renamed", title),
                )
            result = await deliver_alerts(svc)
        await db.close()
        body = sink.delivered(WATCH)[0].json if sink.delivered(WATCH) else {}
    safe = body.get("allowed_mentions") == {"parse": []} and "@everyone" not in json.dumps(body)
    return safe and result.delivered == 1, 1 - result.delivered


async def youtube_faults(dsn: str, home: Path) -> tuple[bool, int]:
    faults = Faults(error_500=0.1, error_503=0.1, too_many_requests=0.1, rate_limit=0.05, drop=0.1)
    with SimulatorServer(
        seed=4, keys=["pk"], clock=lambda: START, videos=400, faults=faults
    ) as sim:
        settings = settings_for(
            dsn, home, sim, YOUTUBE_MAX_ATTEMPTS=12, YOUTUBE_RETRY_DELAY_SECONDS=0.01
        )
        db = DatabaseManager(settings=settings)
        async with YouTubeClient(settings, db, clock=lambda: START) as yt:
            result = await yt.videos(list(sim.world_json()["video_ids"]))
            ledger = await yt.units_spent_today()
        await db.close()
        gap = abs(ledger - sim.units_used())
    return gap == 0 and not result.missing, gap


async def quota_mid_snapshot(dsn: str, home: Path) -> tuple[bool, int, int]:
    with SimulatorServer(
        seed=3,
        keys=["pk"],
        clock=lambda: START,
        channels=2,
        videos=180,
        happenings=False,
        daily_quota=3,
    ) as sim:
        settings = settings_for(dsn, home, sim, YOUTUBE_MAX_CONCURRENCY=1)
        db = DatabaseManager(settings=settings)
        async with Services.open(
            settings,
            db=db,
            vault=LocalVault(home / "v"),
            notifier=DiscordNotifier({}),
            clock=lambda: START,
        ) as svc:
            async with svc.db.get_connection() as conn:
                for cid in sim.world.channels:
                    await conn.execute("INSERT INTO watchlist (channel_id) VALUES (%s)", (cid,))
            await refresh_channels(svc)
            try:
                await snapshot_video_stats(svc, sorted(sim.world.videos))
            except QuotaExhausted:
                pass
            ledger = await svc.youtube.units_spent_today()
        await db.close()
        with psycopg.connect(dsn) as conn:
            row = conn.execute("SELECT count(*) FROM video_stats_log").fetchone()
        kept = int(row[0]) if row else 0
        paid_batches = sim.units_used() - 1  # minus the channels.list call
        lost = paid_batches * 50 - kept
        gap = abs(ledger - sim.units_used())
    return lost == 0 and gap == 0, lost, gap


async def db_restart(dsn: str, home: Path, mode: str) -> tuple[bool, int, int]:
    """pg_ctl restart -m ``mode`` once 100 stats rows are in; the run must go through it."""
    pid = server_status(home).pid
    with SimulatorServer(
        seed=3,
        keys=["pk"],
        clock=lambda: START,
        channels=2,
        videos=400,
        happenings=False,
        faults=Faults(latency=0.1),
    ) as sim:
        settings = sim_settings(dsn, sim, home)
        ids = sorted(sim.world.videos)
        async with open_services(settings, home) as svc:
            await watch_all(svc, sim)
            with WhenRows(dsn, 100, lambda: restart_server(home, mode)) as restart:
                try:
                    await snapshot_video_stats(svc, ids)
                except Exception as exc:  # counted as lost below
                    print(f"  run failed: {type(exc).__name__}: {exc}", flush=True)
        lost = len(ids) - stats_rows(dsn)
        gap = abs(ledger_units(dsn) - sim.units_used())
    restarted = restart.fired.is_set() and server_status(home).pid != pid
    return restarted and lost == 0 and gap == 0, lost, gap


async def vault_mid_export(dsn: str, home: Path) -> tuple[bool, int, int]:
    """The second dataset's vault folder cannot be created: nothing partial is published,
    the day is not verified complete, and the retry after the fix completes it."""
    root = home / "vault-export"
    shutil.rmtree(root, ignore_errors=True)
    vault = LocalVault(root)
    day = START.date()
    second = list(EXPORTS)[1]
    with SimulatorServer(
        seed=3, keys=["pk"], clock=lambda: START, channels=2, videos=120, happenings=False
    ) as sim:
        async with open_services(sim_settings(dsn, sim, home), home, vault=vault) as svc:
            await watch_all(svc, sim)
            await snapshot_video_stats(svc, sorted(sim.world.videos))
            root.mkdir(parents=True)
            (root / second).write_text("not a folder")
            try:
                await export_day(svc.db, vault, day)
                failed = False
            except VaultError:
                failed = True
            stray = [p for p in root.rglob("*") if p.is_file() and p.name.startswith(".tmp")]
            flagged = bool(await verify_day(svc.db, vault, day))
            (root / second).unlink()
            await export_day(svc.db, vault, day)
            problems = await verify_day(svc.db, vault, day)
    # rows_lost: rows the database holds for the day that the vault does not, after the retry
    lost = sum(int(p.split("database ")[1]) - max(0, int(p.split()[3])) for p in problems)
    ok = failed and not stray and flagged and not problems
    return ok, lost, 0


async def concurrent_refreshes(dsn: str, home: Path) -> tuple[bool, int, int, int]:
    with SimulatorServer(
        seed=3,
        keys=["pk"],
        clock=lambda: START,
        channels=2,
        videos=200,
        happenings=False,
        faults=Faults(latency=0.02),
    ) as sim:
        ids = sorted(sim.world.videos)
        gone = ids[:3]
        for video_id in gone:
            sim.world.videos[video_id].deleted_at = START
        settings = sim_settings(dsn, sim, home, YOUTUBE_MAX_CONCURRENCY=2)
        async with open_services(settings, home) as one, open_services(settings, home) as two:
            await watch_all(one, sim)
            await asyncio.gather(snapshot_video_stats(one, ids), snapshot_video_stats(two, ids))
        with psycopg.connect(dsn) as conn:
            row = conn.execute(
                "SELECT count(*) FROM alert_outbox WHERE key LIKE 'video.missing:%%'"
            ).fetchone()
        alerts = int(row[0]) if row else 0
        rows = stats_rows(dsn)
        gap = abs(ledger_units(dsn) - sim.units_used())
    expected = len(ids) - len(gone)
    ok = rows == expected and alerts == len(gone) and gap == 0
    return ok, abs(expected - rows), abs(len(gone) - alerts), gap


def concurrent_migrations() -> tuple[bool, int]:
    """Three `atlas migrate` at once on a fresh ATLAS_HOME (embedded server, started by them)."""
    home = Path(tempfile.mkdtemp(prefix="atlas-faults-migrate-"))
    env = {k: v for k, v in os.environ.items() if k not in Settings.model_fields}
    env["ATLAS_HOME"] = str(home)
    try:
        runs = [
            subprocess.Popen(
                [sys.executable, "-m", "atlas_core.cli", "migrate"],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for _ in range(3)
        ]
        codes = [run.wait(timeout=180) for run in runs]
        for run in runs:
            out = run.communicate()[0]
            if run.returncode:
                print("  " + out.strip().splitlines()[-1], flush=True)
        failed = sum(code != 0 for code in codes)
        return failed == 0 and not migrate(embedded_dsn(home)), failed
    finally:
        stop_server(home, mode="immediate")
        shutil.rmtree(home, ignore_errors=True)


async def run(dsn: str, home: Path, drill_dsn: str, drill_home: Path) -> Totals:
    totals = Totals()
    discord: dict[str, Reply] = {
        "discord_500": Reply(500),
        "discord_429": rate_limited(0.05),
        "discord_404": NOT_FOUND,
        "discord_hang": Reply(200, delay=1.0),
    }
    scenarios: list[tuple[str, Callable[[], Awaitable[tuple[bool, ...]]]]] = [
        *(
            (name, lambda r=reply: discord_scenario(dsn, home, r))
            for name, reply in discord.items()
        ),
        ("hostile_titles", lambda: hostile_text(dsn, home)),
        ("youtube_5xx_429_drops", lambda: youtube_faults(dsn, home)),
        ("youtube_quota_mid_snapshot", lambda: quota_mid_snapshot(dsn, home)),
        ("db_restart_fast", lambda: db_restart(drill_dsn, drill_home, "fast")),
        ("db_restart_immediate", lambda: db_restart(drill_dsn, drill_home, "immediate")),
        ("vault_unwritable_mid_export", lambda: vault_mid_export(dsn, home)),
        ("concurrent_refreshes", lambda: concurrent_refreshes(dsn, home)),
        ("concurrent_migrations", lambda: asyncio.to_thread(concurrent_migrations)),
    ]
    for name, scenario in scenarios:
        reset(dsn)
        reset(drill_dsn)
        outcome = await scenario()
        ok = bool(outcome[0])
        totals.total += 1
        totals.survived += ok
        if name.startswith(("discord", "hostile")):
            totals.alerts_lost += int(outcome[1])
            detail = f"alerts_lost={outcome[1]}"
        elif name == "youtube_5xx_429_drops":
            totals.units_unaccounted += int(outcome[1])
            detail = f"units_unaccounted={outcome[1]}"
        elif name == "concurrent_refreshes":
            totals.rows_lost += int(outcome[1])
            totals.alerts_lost += int(outcome[2])
            totals.units_unaccounted += int(outcome[3])
            detail = (
                f"rows_lost={outcome[1]} alerts_lost={outcome[2]} units_unaccounted={outcome[3]}"
            )
        elif name == "concurrent_migrations":
            detail = f"failed_migrations={outcome[1]}"
        else:
            totals.rows_lost += int(outcome[1])
            totals.units_unaccounted += int(outcome[2])
            detail = f"rows_lost={outcome[1]} units_unaccounted={outcome[2]}"
        print(f"{name:<28} {'survived' if ok else 'FAILED':<9} {detail}", flush=True)
    return totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="a PostgreSQL server (default: embedded)")
    args = parser.parse_args()
    # Outside pytest-style 0700 folders: the embedded server may run as another user.
    home = Path(tempfile.mkdtemp(prefix="atlas-faults-"))
    drill_home = home / "drill"
    try:
        server = args.database_url or started_dsn(home, "postgres")
        start_server(drill_home)  # the server the restart drills restart
        drill_dsn = embedded_dsn(drill_home)
        migrate(drill_dsn)
        with scratch_database(server) as dsn:
            migrate(dsn)
            t = asyncio.run(run(dsn, home, drill_dsn, drill_home))
    finally:
        stop_server(drill_home)
        stop_server(home)
        shutil.rmtree(home, ignore_errors=True)
    print(
        f"faults_survived={t.survived}/{t.total} rows_lost={t.rows_lost} "
        f"alerts_lost={t.alerts_lost} units_unaccounted={t.units_unaccounted}"
    )


if __name__ == "__main__":
    main()
