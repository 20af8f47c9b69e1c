"""Compliance: retention, source-deleted purge, `atlas forget`, the audit — against the embedded
database, the simulator, a local vault and a controllable clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
import pyarrow as pa
import pytest
from atlas_simulator import ManualClock, SimulatorServer
from youtube_helpers import sim_env

from atlas_core.config import Settings, load_settings
from atlas_core.database import DatabaseManager
from atlas_core.pipeline import (
    Services,
    discover_videos,
    embed_new_videos,
    export_day,
    refresh_channels,
    snapshot_video_stats,
)
from atlas_core.pipeline.compliance import BROKEN, audit
from atlas_core.pipeline.forget import forget_channel
from atlas_core.pipeline.retention import apply_retention
from atlas_core.storage import LocalVault, VaultError
from atlas_core.storage.parquet import decode

if TYPE_CHECKING:
    from conftest import RunCli

START = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture
def sim() -> Iterator[SimulatorServer]:
    with SimulatorServer(seed=3, keys=["pk"], clock=lambda: START, channels=2, videos=3) as s:
        yield s


def _settings(dsn: str, home: Path, sim: SimulatorServer, **extra: object) -> Settings:
    return load_settings(
        _env_file=None,
        DATABASE_URL=dsn,
        YOUTUBE_API_BASE_URL=sim.base_url,
        YOUTUBE_API_KEY_POOL_JSON='["pk"]',
        ATLAS_HOME=home,
        **extra,
    )


@pytest.fixture
def svc_clock() -> ManualClock:
    return ManualClock(START)


async def _populate(svc: Services, sim: SimulatorServer) -> list[str]:
    """Watch every simulated channel, discover, refresh, embed, export START's day."""
    channels = sorted(sim.world.channels)
    async with svc.db.get_connection() as conn:
        for cid in channels:
            await conn.execute("INSERT INTO watchlist (channel_id) VALUES (%s)", (cid,))
    for cid in channels:
        await discover_videos(svc, cid)
    await refresh_channels(svc)
    run = await embed_new_videos(svc)
    assert run.videos > 0
    await export_day(svc.db, svc.vault, START.date())
    return channels


async def _video_ids(svc: Services, channel_id: str) -> list[str]:
    async with svc.db.get_connection() as conn:
        cur = await conn.execute("SELECT id FROM videos WHERE channel_id = %s", (channel_id,))
        return [r[0] for r in await cur.fetchall()]


async def _db_traces(svc: Services, needles: list[str]) -> list[str]:
    """Every (table.column) in the public schema whose text holds one of ``needles``."""
    hits: list[str] = []
    async with svc.db.get_connection() as conn:
        cur = await conn.execute(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
        )
        tables = [r[0] for r in await cur.fetchall()]
        for table in tables:
            cur = await conn.execute(
                f'SELECT t::text FROM "{table}" t'  # the whole row as text
            )
            for (row,) in await cur.fetchall():
                hits += [f"{table}: {n}" for n in needles if n in row]
    return hits


def _vault_traces(vault: LocalVault, root: Path, needles: list[str]) -> list[str]:
    hits: list[str] = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        data = path.read_bytes()
        text = (
            str(decode(data, rel).to_pylist())
            if rel.endswith(".parquet")
            else rel + data.decode("latin-1")
        )
        hits += [f"{rel}: {n}" for n in needles if n in text]
    return hits


async def test_retention_refreshes_watched_and_deletes_the_rest(
    svc: Services, svc_clock: ManualClock, sim: SimulatorServer, tmp_path: Path
) -> None:
    kept, dropped = await _populate(svc, sim)
    dropped_videos = await _video_ids(svc, dropped)
    kept_videos = await _video_ids(svc, kept)
    assert dropped_videos and kept_videos
    async with svc.db.get_connection() as conn:
        await conn.execute("DELETE FROM watchlist WHERE channel_id = %s", (dropped,))
    assert list((tmp_path / "vault").glob("*/dt=2026-11-20"))
    now = START + timedelta(days=31)
    svc_clock.set(now)
    before = await audit(svc.settings, svc.db, svc.vault, now=now)
    assert {r.name for r in before if r.status == BROKEN} >= {
        "data refreshed within 30 days (III.E.4)",
        "vault within 30 days (III.E.4)",
    }

    run = await apply_retention(svc)

    assert run.applied and run.window_days == 30
    assert run.refreshed == {"channels": 1, "videos": len(kept_videos)}
    assert run.counts["channels"] == 1 and run.counts["videos"] == len(dropped_videos)
    assert run.counts["vault_files"] > 0
    # Nothing of the unwatched channel is left, anywhere.
    assert await _db_traces(svc, [dropped, *dropped_videos]) == []
    assert _vault_traces(svc.vault, tmp_path / "vault", [dropped, *dropped_videos]) == []  # type: ignore[arg-type]
    async with svc.db.get_connection() as conn:
        cur = await conn.execute(
            "SELECT count(*), min(timestamp) FROM video_stats_log WHERE video_id = ANY(%s)",
            (kept_videos,),
        )
        count, oldest = await cur.fetchone()  # type: ignore[misc]
        cur = await conn.execute("SELECT last_scraped_at FROM channels WHERE id = %s", (kept,))
        (scraped,) = await cur.fetchone()  # type: ignore[misc]
        cur = await conn.execute(
            "SELECT payload FROM system_events WHERE event_type = 'retention.applied'"
        )
        events = await cur.fetchall()
    assert count == len(kept_videos) and oldest.replace(tzinfo=UTC) == now  # only the refresh
    assert scraped.replace(tzinfo=UTC) == now
    assert len(events) == 1 and events[0][0]["deleted"]["videos"] == len(dropped_videos)
    assert not list((tmp_path / "vault").glob("*/dt=2026-11-20"))
    after = await audit(svc.settings, svc.db, svc.vault, now=now)
    assert [r for r in after if r.status == BROKEN] == []


async def test_retention_deletes_aged_compare_frames_with_their_vectors(
    svc: Services, svc_clock: ManualClock, sim: SimulatorServer
) -> None:
    await _populate(svc, sim)
    async with svc.db.get_connection() as conn:
        # Vectors stamp their own creation time: make them as old as the simulated day.
        await conn.execute("UPDATE video_vectors SET created_at = %s", (START,))
        cur = await conn.execute("SELECT count(*) FROM compare_frames")
        (frames,) = await cur.fetchone()  # type: ignore[misc]
    assert frames > 0
    svc_clock.set(START + timedelta(days=31))

    run = await apply_retention(svc)

    assert run.counts["compare_frames"] == frames
    async with svc.db.get_connection() as conn:
        cur = await conn.execute("SELECT count(*) FROM compare_frames")
        (left,) = await cur.fetchone()  # type: ignore[misc]
    assert left == 0


async def test_retention_does_nothing_outside_compliance_mode_unless_set(
    database_dsn: str, tmp_path: Path, sim: SimulatorServer
) -> None:
    off = _settings(database_dsn, tmp_path, sim, COMPLIANCE_MODE=False)
    assert off.retention_days is None
    assert (
        _settings(
            database_dsn, tmp_path, sim, COMPLIANCE_MODE=False, RETENTION_DAYS=9
        ).retention_days
        == 9
    )
    db = DatabaseManager(settings=off)
    async with Services.open(off, db=db, vault=LocalVault(tmp_path / "v")) as s:
        run = await apply_retention(s)
    await db.close()
    assert run.applied is False and run.counts == {}


async def test_source_deleted_video_is_purged_after_the_grace_period(
    svc: Services, svc_clock: ManualClock, sim: SimulatorServer, tmp_path: Path
) -> None:
    channels = await _populate(svc, sim)
    victim = (await _video_ids(svc, channels[0]))[0]
    sim.world.videos[victim].deleted_at = START  # YouTube no longer returns it
    snap = await snapshot_video_stats(svc)
    assert victim in snap.missing
    assert (tmp_path / "vault" / "evidence" / victim).exists()
    real_now = datetime.now(UTC)  # the missing mark is stamped by the database clock
    svc_clock.set(real_now + timedelta(days=6))
    early = await apply_retention(svc)
    assert early.purged_missing == {"channels": 0, "videos": 0}
    assert await _video_ids(svc, channels[0]) and victim in await _video_ids(svc, channels[0])

    svc_clock.set(real_now + timedelta(days=8))
    run = await apply_retention(svc)

    assert run.purged_missing == {"channels": 0, "videos": 1}
    assert await _db_traces(svc, [victim]) == []
    assert _vault_traces(svc.vault, tmp_path / "vault", [victim]) == []  # type: ignore[arg-type]
    async with svc.db.get_connection() as conn:
        cur = await conn.execute(
            "SELECT payload FROM system_events WHERE event_type = 'source_deleted.purged'"
        )
        assert [r[0]["videos"] for r in await cur.fetchall()] == [1]


class BrokenAfter(LocalVault):
    """A local vault whose second partition write fails: a crash halfway through forgetting."""

    writes = 0

    def write_partition(self, dataset: str, day: date, table: pa.Table) -> str:
        self.writes += 1
        if self.writes > 1:
            raise VaultError(f"{dataset}/dt={day}/", "disk unplugged")
        return super().write_partition(dataset, day, table)


async def test_forget_removes_every_trace_and_survives_an_interruption(
    svc: Services, sim: SimulatorServer, tmp_path: Path
) -> None:
    target, other = await _populate(svc, sim)
    videos = await _video_ids(svc, target)
    other_videos = await _video_ids(svc, other)
    needles = [target, *videos]
    assert await _db_traces(svc, needles) and _vault_traces(
        svc.vault,  # type: ignore[arg-type]
        tmp_path / "vault",
        needles,
    )

    plan = await forget_channel(svc.db, svc.vault, target, dry_run=True)
    assert plan.dry_run and plan.rows["videos"] == len(videos) and plan.rows["channels"] == 1
    assert await _video_ids(svc, target) == videos  # a dry run changes nothing

    with pytest.raises(VaultError):
        await forget_channel(svc.db, BrokenAfter(tmp_path / "vault"), target)
    async with svc.db.get_connection() as conn:
        cur = await conn.execute("SELECT channel_id, video_ids FROM forget_requests")
        pending = await cur.fetchall()
        cur = await conn.execute("SELECT count(*) FROM watchlist WHERE channel_id = %s", (target,))
        (watched,) = await cur.fetchone()  # type: ignore[misc]
    assert pending == [(target, sorted(videos))] and watched == 0
    assert await _video_ids(svc, target) == []  # the rows go first; the vault is pending
    broken = await audit(svc.settings, svc.db, svc.vault)
    assert any(r.name == "forget requests completed" and r.status == BROKEN for r in broken)

    done = await forget_channel(svc.db, svc.vault, target)  # resumes
    again = await forget_channel(svc.db, svc.vault, target)  # idempotent

    assert done.rows["videos"] == len(videos) and done.partitions_rewritten > 0
    assert again.total_rows == 0 and again.vault_rows == 0
    assert await _db_traces(svc, needles) == []
    assert _vault_traces(svc.vault, tmp_path / "vault", needles) == []  # type: ignore[arg-type]
    assert await _video_ids(svc, other) == other_videos  # the other channel is untouched
    table = svc.vault.read_partition("videos", START.date())
    assert table is not None and set(table.column("id").to_pylist()) == set(other_videos)
    async with svc.db.get_connection() as conn:
        cur = await conn.execute(
            "SELECT entity_id, payload FROM system_events WHERE event_type = 'forget.applied'"
        )
        audits = await cur.fetchall()
    assert len(audits) == 1 and audits[0][0] is None  # counts only: no id
    assert audits[0][1]["deleted"]["videos"] == len(videos)


PLANTED = "UC" + "p" * 21 + "A"


async def test_atlas_compliance_fails_on_an_old_snapshot_and_passes_after_retention(
    run_cli: RunCli, database_dsn: str, tmp_path: Path, sim: SimulatorServer
) -> None:
    env = sim_env(database_dsn, sim, ["pk"], home=tmp_path)
    now = datetime.now(UTC)
    with psycopg.connect(database_dsn, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO channels (id, title, last_scraped_at) VALUES (%s, 'x', %s)",
            (PLANTED, now),
        )
        conn.execute(
            "INSERT INTO channel_stats_log (channel_id, timestamp, view_count) VALUES (%s, %s, 1)",
            (PLANTED, now - timedelta(days=31)),
        )
    failing = run_cli("compliance", env=env)
    assert failing.returncode == 1, failing.stderr
    assert "BROKEN" in failing.stdout and "channel_stats_log" in failing.stdout

    settings = _settings(database_dsn, tmp_path, sim)
    db = DatabaseManager(settings=settings)
    async with Services.open(settings, db=db, vault=LocalVault(tmp_path / "vault")) as s:
        run = await apply_retention(s)
    await db.close()
    assert run.counts["channel_stats_log"] == 1

    passing = run_cli("compliance", env=env)
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert "all rules hold" in passing.stdout

    preview = run_cli("forget", "--dry-run", PLANTED, env=env)
    assert preview.returncode == 0 and f"would delete {PLANTED}: 1 row(s)" in preview.stdout
    forgot = run_cli("forget", PLANTED, env=env)
    assert forgot.returncode == 0 and f"forgot {PLANTED}: 1 row(s)" in forgot.stdout
    with psycopg.connect(database_dsn) as conn:
        assert conn.execute("SELECT count(*) FROM channels").fetchone() == (0,)
    typo = run_cli("forget", "UCplanted", env=env)  # malformed: refused, one line, exit 2
    assert typo.returncode == 2 and "not a channel id" in typo.stderr
    unknown = run_cli("forget", PLANTED, env=env)  # forgotten already: nothing stored
    assert unknown.returncode == 0 and f"unknown {PLANTED}: nothing stored" in unknown.stdout


def test_retention_asset_shows_counts_and_runs_the_audit(
    database_dsn: str, tmp_path: Path, sim: SimulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dagster import DagsterInstance, materialize

    from atlas_assets.assets.retention import retention
    from atlas_assets.resources import (
        DatabaseResource,
        NotifierResource,
        VaultResource,
        YouTubeResource,
    )

    monkeypatch.setenv("YOUTUBE_API_KEY_POOL_JSON", '["pk"]')
    old = datetime.now(UTC) - timedelta(days=40)
    with psycopg.connect(database_dsn, autocommit=True) as conn:  # an unwatched, stale channel
        conn.execute(
            "INSERT INTO channels (id, title, last_scraped_at) VALUES ('UCstale', 'x', %s)", (old,)
        )
        conn.execute(
            "INSERT INTO channel_stats_log (channel_id, timestamp, view_count)"
            " VALUES ('UCstale', %s, 1)",
            (old,),
        )
    result = materialize(
        [retention],
        resources={
            "database": DatabaseResource(database_url=database_dsn, atlas_home=str(tmp_path)),
            "youtube": YouTubeResource(api_base_url=sim.base_url),
            "vault": VaultResource(provider="local", local_path=str(tmp_path / "vault")),
            "notifier": NotifierResource(),
        },
        instance=DagsterInstance.ephemeral(),
    )
    assert result.success
    meta = result.asset_materializations_for_node("retention")[0].metadata
    assert meta["deleted_channels"].value == 1 and meta["deleted_channel_stats_log"].value == 1
    checks = result.get_asset_check_evaluations()
    assert [(c.check_name, c.passed) for c in checks] == [("compliance_audit", True)]


async def test_an_unwatched_channel_is_never_stored_in_compliance_mode(
    svc: Services, sim: SimulatorServer
) -> None:
    channel = sorted(sim.world.channels)[0]
    found = await discover_videos(svc, channel)
    assert found.new_ids == [] and sim.api_requests() == []
    async with svc.db.get_connection() as conn:
        cur = await conn.execute("SELECT count(*) FROM channels")
        assert await cur.fetchone() == (0,)


async def test_a_terminated_channel_is_purged_after_the_grace_period(
    svc: Services, svc_clock: ManualClock, sim: SimulatorServer, tmp_path: Path
) -> None:
    gone, kept = await _populate(svc, sim)
    videos = await _video_ids(svc, gone)
    del sim.world.channels[gone]  # YouTube terminated it
    refreshed = await refresh_channels(svc)
    assert refreshed.missing == [gone]
    svc_clock.set(datetime.now(UTC) + timedelta(days=8))

    run = await apply_retention(svc)

    assert run.purged_missing == {"channels": 1, "videos": 0}
    assert run.counts["vault_rows"] > 0  # its rows left the partitions still in the window
    assert await _db_traces(svc, [gone, *videos]) == []
    assert _vault_traces(svc.vault, tmp_path / "vault", [gone, *videos]) == []  # type: ignore[arg-type]
    assert await _video_ids(svc, kept)
