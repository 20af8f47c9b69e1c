"""Runs that keep progress: a stats snapshot stopped mid-run keeps the batches it fetched."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from atlas_simulator import SimulatorServer

from atlas_core.config import load_settings
from atlas_core.database import DatabaseManager
from atlas_core.notifications import DiscordNotifier
from atlas_core.pipeline import Services, refresh_channels, snapshot_video_stats
from atlas_core.storage import LocalVault
from atlas_core.youtube import QuotaExhausted

START = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture
def sim() -> Iterator[SimulatorServer]:
    # 1 unit for channels.list, then two of the four videos.list batches fit in the quota.
    with SimulatorServer(
        seed=3,
        keys=["pk"],
        clock=lambda: START,
        channels=2,
        videos=180,
        happenings=False,
        daily_quota=3,
    ) as s:
        yield s


@pytest.fixture
async def svc(database_dsn: str, tmp_path: Path, sim: SimulatorServer) -> AsyncIterator[Services]:
    settings = load_settings(
        _env_file=None,
        DATABASE_URL=database_dsn,
        YOUTUBE_API_BASE_URL=sim.base_url,
        YOUTUBE_API_KEY_POOL_JSON='["pk"]',
        YOUTUBE_MAX_CONCURRENCY=1,  # batches one after another: the quota stops the third
        ATLAS_HOME=tmp_path,
    )
    db = DatabaseManager(settings=settings)
    async with Services.open(
        settings,
        db=db,
        vault=LocalVault(tmp_path / "vault"),
        notifier=DiscordNotifier({}),
        clock=lambda: START,
    ) as services:
        yield services
    await db.close()


def stats_rows(dsn: str) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT count(*) FROM video_stats_log").fetchone()
    assert row is not None
    return int(row[0])


async def test_quota_stop_mid_snapshot_keeps_the_batches_already_fetched(
    svc: Services, sim: SimulatorServer, database_dsn: str
) -> None:
    async with svc.db.get_connection() as conn:
        for cid in sim.world.channels:
            await conn.execute("INSERT INTO watchlist (channel_id) VALUES (%s)", (cid,))
    await refresh_channels(svc)
    ids = sorted(sim.world.videos)
    assert len(ids) > 150
    with pytest.raises(QuotaExhausted) as info:
        await snapshot_video_stats(svc, ids)
    assert f"stopped by quota after 100 of {len(ids)} videos" in str(info.value)
    assert "It resets at" in str(info.value) and info.value.resets_at > START
    assert stats_rows(database_dsn) == 100  # batches 1 and 2 were written as they arrived
    assert sim.units_used() == 3
