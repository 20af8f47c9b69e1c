"""DatabaseManager: pool limits, connection errors with context, surviving a restart."""

from __future__ import annotations

import asyncio
import logging
import shutil
import socket
import tempfile
from pathlib import Path

import pytest
from pgvector import Vector

from atlas_core.config import load_settings
from atlas_core.database import DatabaseConnectionError, DatabaseManager, PoolTimeout
from atlas_core.embedded import pgdata_dir, restart_server, started_dsn, stop_server
from atlas_core.event_log import EventBus
from atlas_core.migrate import migrate


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_pgvector_types_are_registered(db: DatabaseManager) -> None:
    async with db.get_connection() as conn:
        cur = await conn.execute("SELECT '[1,2,3]'::vector")
        (value,) = await cur.fetchone()  # type: ignore[misc]
    assert isinstance(value, Vector) and value.to_list() == [1.0, 2.0, 3.0]


async def test_exhausted_pool_raises_pool_timeout(database_dsn: str) -> None:
    manager = DatabaseManager(database_dsn, min_size=1, max_size=1, timeout=0.3)
    try:
        async with manager.get_connection():
            with pytest.raises(PoolTimeout):
                async with manager.get_connection():
                    pass
    finally:
        await manager.close()


async def test_unreachable_server_names_host_not_password() -> None:
    port = _closed_port()
    dsn = f"postgresql://atlas:hunter2-secret@127.0.0.1:{port}/atlasdb"
    manager = DatabaseManager(dsn, min_size=1, max_size=1, timeout=0.5)
    with pytest.raises(DatabaseConnectionError) as info:
        await manager.initialize()
    message = str(info.value)
    assert "host=127.0.0.1" in message and f"port={port}" in message and "atlasdb" in message
    assert "hunter2" not in message and "hunter2" not in repr(manager)
    assert await manager.health_check() is False


async def test_pool_survives_server_restart() -> None:
    home = Path(tempfile.mkdtemp(prefix="atlas-test-restart-"))
    dsn = started_dsn(home)
    migrate(dsn)
    manager = DatabaseManager(dsn, min_size=2, max_size=2, timeout=10)
    try:
        async with manager.get_connection() as conn:
            await conn.execute("INSERT INTO channels (id, title) VALUES ('UCx', 'before')")
        await asyncio.to_thread(restart_server, home, "fast")
        async with manager.get_connection() as conn:
            cur = await conn.execute("SELECT title FROM channels WHERE id = 'UCx'")
            assert await cur.fetchone() == ("before",)
    finally:
        await manager.close()
        stop_server(home)
        shutil.rmtree(home, ignore_errors=True)


async def test_manager_reopens_pool_in_a_new_event_loop(database_dsn: str) -> None:
    manager = DatabaseManager(database_dsn, min_size=1, max_size=1, timeout=5)

    async def count() -> int:
        async with manager.get_connection() as conn:
            cur = await conn.execute("SELECT count(*) FROM videos")
            (n,) = await cur.fetchone()  # type: ignore[misc]
            return int(n)

    async def in_other_loop() -> int:
        try:
            return await count()
        finally:
            await manager.close()

    assert await count() == 0
    # A different loop (as in a separate Dagster step) gets its own pool.
    assert await asyncio.to_thread(asyncio.run, in_other_loop()) == 0
    assert await count() == 0  # this loop's pool is untouched
    await manager.close()


async def test_events_are_written(db: DatabaseManager) -> None:
    bus = EventBus(db)
    await bus.emit("video.discovered", "dQw4w9WgXcQ", {"title": "x", "views": 3})
    async with db.get_connection() as conn:
        cur = await conn.execute("SELECT event_type, entity_id, payload FROM system_events")
        rows = await cur.fetchall()
    assert rows == [("video.discovered", "dQw4w9WgXcQ", {"title": "x", "views": 3})]


async def test_event_failures_are_logged_and_swallowed(
    db: DatabaseManager, caplog: pytest.LogCaptureFixture
) -> None:
    bus = EventBus(db)
    with caplog.at_level(logging.ERROR):
        await bus.emit("x" * 80, "entity", {"too": "long a type"})  # violates VARCHAR(50)
    assert any(
        r.levelno == logging.ERROR and "could not record event" in r.message for r in caplog.records
    )
    down = EventBus(DatabaseManager(f"host=127.0.0.1 port={_closed_port()}", timeout=0.3))
    await down.emit("ok.type", "entity", {})  # no exception


def test_settings_select_embedded_when_database_url_unset(pg_home: Path, admin_dsn: str) -> None:
    """A running embedded server (the session's) is what DATABASE_URL unset connects to."""
    settings = load_settings(_env_file=None, ATLAS_HOME=pg_home)
    manager = DatabaseManager(settings=settings)
    assert "pgdata" in manager.dsn and manager.dsn.endswith(str(pgdata_dir(pg_home)))


async def test_pool_connections_use_utc(admin_dsn: str, database_dsn: str) -> None:
    """Even when the server's default zone is not UTC, TIMESTAMPTZ values come back in UTC."""
    import psycopg

    dbname = psycopg.conninfo.conninfo_to_dict(database_dsn)["dbname"]
    with psycopg.connect(admin_dsn, autocommit=True) as admin:
        admin.execute(f"ALTER DATABASE \"{dbname}\" SET timezone = 'Asia/Tokyo'")
    manager = DatabaseManager(database_dsn)
    try:
        async with manager.get_connection() as conn:
            zone = await (await conn.execute("SHOW timezone")).fetchone()
            now = await (await conn.execute("SELECT now()")).fetchone()
    finally:
        await manager.close()
    assert zone == ("UTC",)
    assert now is not None and now[0].utcoffset() is not None and not now[0].utcoffset()


async def test_in_transaction_runs_again_when_the_connection_is_lost(
    db: DatabaseManager, database_dsn: str
) -> None:
    """A server restart kills the connection mid-write: the work is rolled back and redone."""
    import psycopg

    attempts = 0

    async def work(conn: psycopg.AsyncConnection) -> int:
        nonlocal attempts
        attempts += 1
        await conn.execute("INSERT INTO channels (id, title) VALUES ('UCkept', 'once')")
        if attempts == 1:
            pid = conn.info.backend_pid
            with psycopg.connect(database_dsn, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        cur = await conn.execute("SELECT count(*) FROM channels")
        (n,) = await cur.fetchone()  # type: ignore[misc]
        return int(n)

    assert await db.in_transaction(work) == 1
    assert attempts == 2
    async with db.get_connection() as conn:
        cur = await conn.execute("SELECT count(*) FROM channels WHERE id = 'UCkept'")
        assert await cur.fetchone() == (1,)
