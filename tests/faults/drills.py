"""Helpers of the fault drills: the simulator and settings for it, services on its frozen clock,
row and ledger counts, and a trigger that fires a fault once a run has stored some rows."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from atlas_simulator import SimulatorServer

from atlas_core.config import Settings, load_settings
from atlas_core.database import DatabaseManager
from atlas_core.notifications import DiscordNotifier
from atlas_core.pipeline import Services, refresh_channels
from atlas_core.storage import LocalVault, VaultStrategy

START = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
TABLES = (
    "alert_outbox, youtube_quota_ledger, video_stats_log, channel_stats_log, videos, channels,"
    " channel_history, watchlist, system_events"
)


def simulator(videos: int = 180, **options: Any) -> SimulatorServer:
    """The drills' simulator: two channels with ``videos`` uploads between them, no scripted
    happenings, on the frozen clock (``START``), one key ``pk``; ``options`` override any of it
    (``seed``, ``channels``, ``faults``, ``daily_quota``...)."""
    values: dict[str, Any] = {
        "seed": 3,
        "keys": ["pk"],
        "clock": lambda: START,
        "channels": 2,
        "videos": videos,
        "happenings": False,
    }
    return SimulatorServer(**{**values, **options})


def sim_settings(dsn: str, sim: SimulatorServer, home: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "_env_file": None,
        "DATABASE_URL": dsn,
        "ATLAS_HOME": home,
        "YOUTUBE_API_BASE_URL": sim.base_url,
        "YOUTUBE_API_KEY_POOL_JSON": '["pk"]',
        "YOUTUBE_RETRY_DELAY_SECONDS": 0.01,
        "YOUTUBE_MAX_CONCURRENCY": 1,
    }
    return load_settings(**{**values, **overrides})


@asynccontextmanager
async def open_services(
    settings: Settings,
    home: Path,
    *,
    vault: VaultStrategy | None = None,
    notifier: DiscordNotifier | None = None,
) -> AsyncIterator[Services]:
    """Services on the simulator's frozen clock (so a re-run has the same as_of)."""
    db = DatabaseManager(settings=settings, timeout=30)
    try:
        async with Services.open(
            settings,
            db=db,
            vault=vault or LocalVault(home / "vault"),
            notifier=notifier or DiscordNotifier({}),
            clock=lambda: START,
        ) as svc:
            yield svc
    finally:
        await db.close()


async def watch_all(svc: Services, sim: SimulatorServer) -> None:
    async with svc.db.get_connection() as conn:
        for cid in sim.world.channels:
            await conn.execute("INSERT INTO watchlist (channel_id) VALUES (%s)", (cid,))
    await refresh_channels(svc)


def count(dsn: str, query: str) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(query).fetchone()
    assert row is not None
    return int(row[0])


def stats_rows(dsn: str) -> int:
    return count(dsn, "SELECT count(*) FROM video_stats_log")


def ledger_units(dsn: str) -> int:
    return count(dsn, "SELECT coalesce(sum(units), 0) FROM youtube_quota_ledger")


class WhenRows:
    """Fires ``action`` from a thread once ``video_stats_log`` holds ``rows`` rows: a fault
    that lands in the middle of a run, after some batches and before the rest."""

    def __init__(self, dsn: str, rows: int, action: Callable[[], object]) -> None:
        self.fired = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, args=(dsn, rows, action), daemon=True)

    def _watch(self, dsn: str, rows: int, action: Callable[[], object]) -> None:
        while not self._stop.is_set():
            try:
                if stats_rows(dsn) >= rows:
                    action()
                    self.fired.set()
                    return
            except psycopg.OperationalError:
                pass
            self._stop.wait(0.02)

    def __enter__(self) -> WhenRows:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=120)
