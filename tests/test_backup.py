"""Backups as the README writes them: pg_dump of the Atlas database with the server's own
client (``atlas db bin``), restored into a fresh embedded server, where ``atlas migrate``
finds nothing to do and ``atlas compliance`` passes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from atlas_core.config import Settings
from atlas_core.embedded import client_bin_dir, embedded_dsn, start_server, stop_server

ROOT = Path(__file__).resolve().parent.parent


def atlas(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in Settings.model_fields}
    env.update(ATLAS_HOME=str(home), PYTHONPATH=str(ROOT), PYTHONWARNINGS="ignore")
    return subprocess.run(
        [sys.executable, "-m", "atlas_core.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        cwd=home,
    )


@pytest.fixture
def fresh_home() -> Iterator[Path]:
    home = Path(tempfile.mkdtemp(prefix="atlas-restore-"))
    yield home
    stop_server(home, mode="immediate")
    shutil.rmtree(home, ignore_errors=True)


def test_a_dump_restores_into_a_fresh_server(database_dsn: str, fresh_home: Path) -> None:
    with psycopg.connect(database_dsn) as conn:
        conn.execute(
            "INSERT INTO alert_outbox (key, channel, level, title, description, fields)"
            " VALUES ('backup:1', 'ops', 'INFO', 'kept', 'across a restore', '{}')"
        )
    dump = fresh_home / "atlas.dump"
    subprocess.run(
        [str(client_bin_dir() / "pg_dump"), "--format=custom", f"--file={dump}", database_dsn],
        check=True,
        timeout=120,
    )
    start_server(fresh_home)
    target = embedded_dsn(fresh_home)
    restore = subprocess.run(
        [
            str(client_bin_dir() / "pg_restore"),
            "--no-owner",
            "--clean",
            "--if-exists",
            f"--dbname={target}",
            str(dump),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert restore.returncode == 0, restore.stderr
    with psycopg.connect(target) as conn:
        row = conn.execute("SELECT title FROM alert_outbox WHERE key = 'backup:1'").fetchone()
    assert row == ("kept",)
    migrated = atlas(fresh_home, "migrate")
    assert migrated.returncode == 0 and "up to date" in migrated.stdout, migrated.stderr
    audit = atlas(fresh_home, "compliance")
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert "all rules hold" in audit.stdout
    psql = atlas(fresh_home, "db", "psql", "-At", "-c", "SELECT count(*) FROM alert_outbox")
    assert psql.returncode == 0 and psql.stdout.strip() == "1", psql.stderr
