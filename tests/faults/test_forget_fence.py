"""Forget is a fence, not a sweep: a run in flight when a channel is forgotten stores nothing
of it, every table naming a channel or video is covered, and the audit finds a planted row.

Each drill forgets a channel while the YouTube simulator holds its answer (``Faults.latency``),
then lets the run finish and counts, in every table of the schema, the rows whose text names
the channel or one of its videos (the ``forget.applied`` audit event names neither).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from atlas_simulator import SimulatorServer
from drills import START, open_services, sim_settings, simulator
from psycopg import sql

from atlas_core.pipeline import (
    Services,
    discover_channels,
    discover_videos,
    refresh_channels,
    snapshot_video_stats,
)
from atlas_core.pipeline.compliance import BROKEN, OK, audit
from atlas_core.pipeline.forget import forget_channel
from atlas_core.storage import LocalVault

FENCE_RULE = "nothing stored of a forgotten or never-watched channel"  # the audit's rule
LATENCY = 3.0  # seconds each API answer is held: forget (well under a second) runs meanwhile


def traces(dsn: str, ids: list[str]) -> dict[str, int]:
    """Rows per table (every base table of the schema) whose text names one of ``ids``."""
    patterns = [f"%{i}%" for i in ids]
    out: dict[str, int] = {}
    with psycopg.connect(dsn) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema ="
                " current_schema() AND table_type = 'BASE TABLE' AND table_name <>"
                " 'schema_migrations' ORDER BY 1"
            ).fetchall()
        ]
        for table in tables:
            row = conn.execute(
                sql.SQL("SELECT count(*) FROM {} t WHERE t::text LIKE ANY(%s)").format(
                    sql.Identifier(table)
                ),
                (patterns,),
            ).fetchone()
            if row and row[0]:
                out[table] = int(row[0])
    return out


def vault_traces(root: Path, ids: list[str]) -> list[str]:
    if not root.exists():
        return []
    return [
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.is_file() and any(i in str(p.relative_to(root)) for i in ids)
    ]


async def _watch(svc: Services, channel_ids: list[str]) -> None:
    async with svc.db.get_connection() as conn:
        for cid in channel_ids:
            await conn.execute("INSERT INTO watchlist (channel_id) VALUES (%s)", (cid,))


async def _forget_while_held(svc: Services, sim: SimulatorServer, run: object, target: str) -> None:
    """Start ``run`` (a coroutine calling the API), forget ``target`` while its answer is held,
    then let it finish."""
    sim.faults.latency = LATENCY
    task = asyncio.ensure_future(run)  # type: ignore[arg-type]
    await asyncio.sleep(0.5)
    assert not task.done()
    await forget_channel(svc.db, svc.vault, target)
    await task


async def test_a_refresh_in_flight_does_not_bring_back_a_forgotten_channel(
    database_dsn: str, tmp_path: Path
) -> None:
    with simulator(20, seed=5) as sim:
        target, other = sorted(sim.world.channels)
        settings = sim_settings(database_dsn, sim, tmp_path)
        async with open_services(settings, tmp_path) as svc:
            await _watch(svc, [target, other])
            await refresh_channels(svc)
            assert traces(database_dsn, [target])  # stored before the forget
            await _forget_while_held(svc, sim, refresh_channels(svc), target)
    assert traces(database_dsn, [target]) == {}
    assert traces(database_dsn, [other])  # the other channel of the batch went in


async def test_a_first_discovery_in_flight_stores_nothing_of_a_forgotten_channel(
    database_dsn: str, tmp_path: Path
) -> None:
    with simulator(40, seed=6) as sim:
        target = sorted(sim.world.channels)[0]
        videos = [v.id for v in sim.world.videos.values() if v.channel_id == target]
        assert videos
        settings = sim_settings(database_dsn, sim, tmp_path)
        async with open_services(settings, tmp_path) as svc:
            await _watch(svc, [target])
            await refresh_channels(svc)
            # a refresh and a first discovery of the channel in flight at once (two runs)
            both = asyncio.gather(refresh_channels(svc), discover_videos(svc, target))
            await _forget_while_held(svc, sim, both, target)
            rules = {r.name: r for r in await audit(svc.settings, svc.db, svc.vault)}
    assert traces(database_dsn, [target, *videos]) == {}
    assert rules[FENCE_RULE].status == OK, rules[FENCE_RULE].evidence  # the rule exists


async def test_a_stats_snapshot_in_flight_skips_the_forgotten_videos_and_keeps_the_rest(
    database_dsn: str, tmp_path: Path
) -> None:
    """One batch of stats for two channels' videos: the forgotten channel's rows are skipped,
    the other channel's stored (the batch does not fail on the deleted videos' foreign key)."""
    with simulator(30, seed=8) as sim:
        target, other = sorted(sim.world.channels)
        videos = [v.id for v in sim.world.videos.values() if v.channel_id == target]
        settings = sim_settings(database_dsn, sim, tmp_path)
        async with open_services(settings, tmp_path) as svc:
            await _watch(svc, [target, other])
            await refresh_channels(svc)
            await discover_channels(svc, [target, other])
            others = "SELECT count(*) FROM video_stats_log s JOIN videos v ON v.id = s.video_id"
            with psycopg.connect(database_dsn) as conn:
                before = conn.execute(others + " WHERE v.channel_id = %s", (other,)).fetchone()
                stored = conn.execute(
                    "SELECT count(*) FROM videos WHERE channel_id = %s", (other,)
                ).fetchone()
            ids = sorted(sim.world.videos)
            svc.clock = lambda: START.replace(hour=13)  # type: ignore[method-assign]
            await _forget_while_held(svc, sim, snapshot_video_stats(svc, ids), target)
    assert traces(database_dsn, [target, *videos]) == {}
    with psycopg.connect(database_dsn) as conn:
        after = conn.execute(others + " WHERE v.channel_id = %s", (other,)).fetchone()
    assert before and stored and after and stored[0] > 0
    assert after[0] == before[0] + stored[0]  # every video of the other channel: a new snapshot


async def test_a_writer_holding_the_channel_commits_before_forget_deletes(
    database_dsn: str, tmp_path: Path
) -> None:
    """A transaction that already stored a row of the channel holds its fence lock: forget
    waits for it, then deletes what it wrote (no row survives either order)."""
    target = "UC" + "a" * 21 + "A"
    with psycopg.connect(database_dsn, autocommit=True) as conn:
        conn.execute("INSERT INTO watchlist (channel_id) VALUES (%s)", (target,))
    settings = sim_settings(database_dsn, _NoSim(), tmp_path)  # type: ignore[arg-type]
    async with open_services(settings, tmp_path) as svc:
        writer = await psycopg.AsyncConnection.connect(database_dsn)
        await writer.execute("INSERT INTO channels (id, title) VALUES (%s, 't')", (target,))
        forget = asyncio.ensure_future(forget_channel(svc.db, svc.vault, target))
        await asyncio.sleep(0.5)
        assert not forget.done()  # waiting for the writer's lock
        await writer.execute(
            "INSERT INTO channel_stats_log (channel_id, timestamp, view_count) VALUES (%s, %s, 1)",
            (target, datetime.now(UTC)),
        )
        await writer.commit()
        await writer.close()
        await forget
    assert traces(database_dsn, [target]) == {}


class _NoSim:
    base_url = "http://127.0.0.1:9"


async def test_every_table_naming_a_channel_or_video_is_fenced_and_forgotten(
    database_dsn: str,
) -> None:
    """The covered tables come from the catalog; a table naming a channel or a video in a
    column the catalog does not know, or without the fence trigger, fails here."""
    with psycopg.connect(database_dsn) as conn:
        covered = {r[0] for r in conn.execute("SELECT table_name FROM atlas_id_columns()")}
        fenced = {
            r[0]
            for r in conn.execute(
                "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
                " WHERE t.tgname = 'atlas_fence' AND NOT t.tgisinternal"
            )
        }
        suspects = conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema"
            " = current_schema() AND (column_name ~ '(channel|video)' AND column_name ~ 'id')"
            " AND table_name NOT IN ('forget_requests', 'forgotten_ids')"
        ).fetchall()
    assert {"channels", "videos", "channel_discovery_checks", "websub_pushes"} <= covered
    unknown = [(t, c) for t, c in suspects if t not in covered]
    assert unknown == [], f"columns naming a channel/video outside atlas_id_columns(): {unknown}"
    assert covered | {"system_events", "alert_outbox"} <= fenced


def test_a_new_table_is_fenced_by_the_next_migration(database_dsn: str, tmp_path: Path) -> None:
    from atlas_core.migrate import migrate

    folder = tmp_path / "migrations"
    folder.mkdir()
    for src in sorted(Path(__file__).resolve().parents[2].joinpath("migrations").glob("*.sql")):
        (folder / src.name).write_text(src.read_text())
    (folder / "9999_extra.sql").write_text(
        "CREATE TABLE extra_notes (channel_id VARCHAR(50), note TEXT);"
    )
    assert migrate(database_dsn, folder) == ["9999_extra.sql"]
    target = "UC" + "b" * 21 + "A"
    with psycopg.connect(database_dsn, autocommit=True) as conn:
        conn.execute("INSERT INTO forgotten_ids (digest) VALUES (atlas_id_digest(%s))", (target,))
        conn.execute("INSERT INTO extra_notes VALUES (%s, 'x'), ('UCother', 'y')", (target,))
        rows = conn.execute("SELECT channel_id FROM extra_notes").fetchall()
    assert rows == [("UCother",)]


async def test_compliance_fails_on_a_planted_row_of_a_forgotten_channel(
    database_dsn: str, tmp_path: Path
) -> None:
    with simulator(10, seed=7) as sim:
        target = sorted(sim.world.channels)[0]
        settings = sim_settings(database_dsn, sim, tmp_path)
        async with open_services(settings, tmp_path) as svc:
            await _watch(svc, [target])
            await refresh_channels(svc)
            await forget_channel(svc.db, svc.vault, target)
            clean = {r.name: r.status for r in await audit(svc.settings, svc.db, svc.vault)}
            with psycopg.connect(database_dsn, autocommit=True) as conn:
                # planted behind the fence's back (a restore, a hand-written INSERT)
                conn.execute("SET session_replication_role = replica")
                conn.execute("INSERT INTO channels (id, title) VALUES (%s, 'back')", (target,))
            planted = {r.name: r for r in await audit(svc.settings, svc.db, svc.vault)}
    assert clean.get(FENCE_RULE) == OK
    assert planted[FENCE_RULE].status == BROKEN and "channels=1" in planted[FENCE_RULE].evidence


async def test_compliance_fails_on_a_never_watched_channel_and_forgotten_evidence(
    database_dsn: str, tmp_path: Path
) -> None:
    settings = sim_settings(database_dsn, _NoSim(), tmp_path)  # type: ignore[arg-type]
    vault = LocalVault(tmp_path / "vault")
    async with open_services(settings, tmp_path, vault=vault) as svc:
        with psycopg.connect(database_dsn, autocommit=True) as conn:
            conn.execute(
                "INSERT INTO channel_discovery_checks (channel_id, checked_at)"
                " VALUES ('UCnever', now())"
            )
        rules = {r.name: r for r in await audit(svc.settings, svc.db, svc.vault)}
        assert rules[FENCE_RULE].status == BROKEN
        assert "channel_discovery_checks=1" in rules[FENCE_RULE].evidence
        with psycopg.connect(database_dsn, autocommit=True) as conn:
            conn.execute("DELETE FROM channel_discovery_checks")
        vault.store_visual_evidence("ghostvideo1", [(0, b"jpeg")])
        rules = {r.name: r for r in await audit(svc.settings, svc.db, svc.vault)}
    assert rules[FENCE_RULE].status == BROKEN and "evidence" in rules[FENCE_RULE].evidence
