"""Backups as the README writes them: pg_dump of the Atlas database with the server's own
client (``atlas db bin``), restored into a fresh embedded server, where ``atlas migrate``
finds nothing to do and ``atlas compliance`` passes."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg

from atlas_core.embedded import client_bin_dir, embedded_dsn, start_server

if TYPE_CHECKING:
    from conftest import RunCli

ROOT = Path(__file__).resolve().parent.parent


def atlas_env(home: Path) -> dict[str, str]:
    return {"ATLAS_HOME": str(home), "PYTHONWARNINGS": "ignore"}


def test_a_dump_restores_into_a_fresh_server(
    run_cli: RunCli, database_dsn: str, fresh_home: Path
) -> None:
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
    migrated = run_cli("migrate", env=atlas_env(fresh_home), cwd=fresh_home, timeout=240)
    assert migrated.returncode == 0 and "up to date" in migrated.stdout, migrated.stderr
    audit = run_cli("compliance", env=atlas_env(fresh_home), cwd=fresh_home, timeout=240)
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert "all rules hold" in audit.stdout
    psql = run_cli(
        "db",
        "psql",
        "-At",
        "-c",
        "SELECT count(*) FROM alert_outbox",
        env=atlas_env(fresh_home),
        cwd=fresh_home,
        timeout=240,
    )
    assert psql.returncode == 0 and psql.stdout.strip() == "1", psql.stderr
