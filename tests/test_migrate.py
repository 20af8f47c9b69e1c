"""Migration runner: idempotent, serialized by an advisory lock, refuses edited files."""

from __future__ import annotations

import shutil
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from atlas_core.migrate import ADVISORY_LOCK_KEY, MIGRATIONS_DIR, MigrationError, discover, migrate


def _tables(dsn: str) -> set[str]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchall()
    return {r[0] for r in rows}


def test_migrate_applies_everything_once(empty_database_dsn: str) -> None:
    names = [m.name for m in discover()]
    assert migrate(empty_database_dsn) == names
    assert {"channels", "videos", "schema_migrations"} <= _tables(empty_database_dsn)
    assert migrate(empty_database_dsn) == []
    with psycopg.connect(empty_database_dsn) as conn:
        recorded = [r[0] for r in conn.execute("SELECT name FROM schema_migrations ORDER BY 1")]
    assert recorded == names


def test_edited_migration_is_refused(empty_database_dsn: str, tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, folder)
    migrate(empty_database_dsn, folder)
    first = sorted(folder.glob("*.sql"))[0]
    first.write_text(first.read_text() + "\n-- edited afterwards\n")
    (folder / "9999_later.sql").write_text("CREATE TABLE should_not_exist (id int);")
    with pytest.raises(MigrationError, match=first.name):
        migrate(empty_database_dsn, folder)
    assert "should_not_exist" not in _tables(empty_database_dsn)


def test_failed_migration_rolls_back_and_names_the_file(
    empty_database_dsn: str, tmp_path: Path
) -> None:
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "0001_ok.sql").write_text("CREATE TABLE ok_table (id int);")
    (folder / "0002_broken.sql").write_text("CREATE TABLE half (id int); SELEC oops;")
    with pytest.raises(MigrationError, match=r"0002_broken\.sql"):
        migrate(empty_database_dsn, folder)
    tables = _tables(empty_database_dsn)
    assert "ok_table" in tables and "half" not in tables


def test_misnamed_file_is_refused(tmp_path: Path, empty_database_dsn: str) -> None:
    (tmp_path / "init.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match=r"NNNN_lowercase_name\.sql"):
        migrate(empty_database_dsn, tmp_path)


def test_second_migrator_waits_for_the_lock(empty_database_dsn: str) -> None:
    results: list[list[str]] = []
    with psycopg.connect(empty_database_dsn, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (ADVISORY_LOCK_KEY,))
        worker = threading.Thread(target=lambda: results.append(migrate(empty_database_dsn)))
        worker.start()
        deadline = time.monotonic() + 10
        waiting = 0
        while time.monotonic() < deadline and not waiting:
            (waiting,) = holder.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            ).fetchone()
            time.sleep(0.05)
        assert waiting == 1, "the second migrator should be waiting on the advisory lock"
        assert "channels" not in _tables(empty_database_dsn)
        holder.execute("SELECT pg_advisory_unlock(%s)", (ADVISORY_LOCK_KEY,))
        worker.join(timeout=30)
    assert results and results[0] == [m.name for m in discover()]


def test_concurrent_migrators_apply_once(empty_database_dsn: str) -> None:
    results: list[list[str]] = []
    threads = [
        threading.Thread(target=lambda: results.append(migrate(empty_database_dsn)))
        for _ in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    applied = sorted(results, key=len)
    assert applied[:2] == [[], []]
    assert applied[2] == [m.name for m in discover()]


def test_timestamptz_migration_reads_existing_naive_values_as_utc(
    empty_database_dsn: str, tmp_path: Path
) -> None:
    """Rows written before 0005 (naive UTC in TIMESTAMP columns) keep their instant."""
    before = tmp_path / "before"
    before.mkdir()
    for m in discover():
        if m.name < "0005":
            shutil.copy(MIGRATIONS_DIR / m.name, before / m.name)
    migrate(empty_database_dsn, before)
    with psycopg.connect(empty_database_dsn) as conn:
        conn.execute("SET timezone = 'America/Los_Angeles'")  # must not shift the values
        conn.execute(
            "INSERT INTO channels (id, title, created_at) VALUES ('UCa', 't', %s)",
            (datetime(2026, 3, 8, 9, 30),),
        )
        conn.execute(
            "INSERT INTO channel_stats_log (channel_id, timestamp, view_count)"
            " VALUES ('UCa', %s, 1)",
            (datetime(2026, 11, 27, 23, 0),),
        )
    migrate(empty_database_dsn)
    with psycopg.connect(empty_database_dsn) as conn:
        naive = conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND data_type = 'timestamp without time zone'"
        ).fetchall()
        assert naive == []
        created = conn.execute("SELECT created_at FROM channels").fetchone()
        stamp = conn.execute("SELECT timestamp FROM channel_stats_log").fetchone()
        observed = conn.execute("SELECT observed_at FROM channel_stats_log").fetchone()
        default = conn.execute(
            "INSERT INTO watchlist (channel_id) VALUES ('UCa') RETURNING added_at"
        ).fetchone()
    assert created == (datetime(2026, 3, 8, 9, 30, tzinfo=UTC),)
    assert stamp == (datetime(2026, 11, 27, 23, 0, tzinfo=UTC),)
    assert observed == stamp  # 0006: rows from before were observed at their tick
    assert default is not None and abs(datetime.now(UTC) - default[0]) < timedelta(minutes=5)
