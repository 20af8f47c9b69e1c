"""Fault scenarios against the simulator, a local webhook sink and an embedded PostgreSQL.

    python bench/faults.py            # one line per scenario, then the summary line

Ends with ``faults_survived=<n>/<total> rows_lost=<k> alerts_lost=<m> units_unaccounted=<u>``.
Covers what exists so far: Discord 500/429/404/hang through the alert outbox, hostile text,
YouTube transient faults (ledger vs the simulator's count) and quotaExceeded mid-snapshot.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import psycopg
from atlas_simulator import Faults, SimulatorServer
from ingest import scratch_database
from webhook_sink import NOT_FOUND, Reply, WebhookSink, rate_limited

from atlas_core.config import Settings, load_settings
from atlas_core.database import DatabaseManager
from atlas_core.embedded import started_dsn, stop_server
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
from atlas_core.storage import LocalVault
from atlas_core.store.outbox import enqueue_alert
from atlas_core.youtube import QuotaExhausted, YouTubeClient

START = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
WATCH = "/api/webhooks/1/watch-token"


class Totals:
    survived = total = rows_lost = alerts_lost = units_unaccounted = 0


def reset(dsn: str) -> None:
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "TRUNCATE alert_outbox, youtube_quota_ledger, video_stats_log, videos, channels,"
            " channel_history, watchlist, system_events CASCADE"
        )


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


async def run(dsn: str, home: Path) -> Totals:
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
    ]
    for name, scenario in scenarios:
        reset(dsn)
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
    with tempfile.TemporaryDirectory(prefix="atlas-faults-") as tmp:
        home = Path(tmp)
        server = args.database_url or started_dsn(home, "postgres")
        try:
            with scratch_database(server) as dsn:
                migrate(dsn)
                t = asyncio.run(run(dsn, home))
        finally:
            stop_server(home)
    print(
        f"faults_survived={t.survived}/{t.total} rows_lost={t.rows_lost} "
        f"alerts_lost={t.alerts_lost} units_unaccounted={t.units_unaccounted}"
    )


if __name__ == "__main__":
    main()
