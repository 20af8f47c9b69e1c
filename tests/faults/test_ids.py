"""Ids are validated where they enter: `atlas forget` refuses a malformed id with one line
and exit 2 (touching nothing), and tells an id it holds nothing of from a real deletion."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from atlas_core.config import Settings

HELD = "UC" + "d" * 21 + "A"
UNKNOWN = "UC" + "e" * 21 + "A"


def _atlas(dsn: str, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in Settings.model_fields}
    env = {**base, "DATABASE_URL": dsn, "ATLAS_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "atlas_core.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("bad", ["x' OR '1'='1", "UCnotreal", "", "UC" + "a" * 22 + "!"])
def test_forget_refuses_a_malformed_id(database_dsn: str, tmp_path: Path, bad: str) -> None:
    done = _atlas(database_dsn, tmp_path, "forget", bad)
    assert done.returncode == 2, done.stdout + done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "not a channel id" in done.stderr
    assert done.stdout == ""
    with psycopg.connect(database_dsn) as conn:
        assert conn.execute("SELECT count(*) FROM forget_requests").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM forgotten_ids").fetchone() == (0,)


def test_forget_tells_unknown_from_deleted(database_dsn: str, tmp_path: Path) -> None:
    with psycopg.connect(database_dsn, autocommit=True) as conn:
        conn.execute("INSERT INTO channels (id, title) VALUES (%s, 'held')", (HELD,))
    unknown = _atlas(database_dsn, tmp_path, "forget", UNKNOWN)
    assert unknown.returncode == 0, unknown.stderr
    assert unknown.stdout.strip() == f"unknown {UNKNOWN}: nothing stored"
    held = _atlas(database_dsn, tmp_path, "forget", HELD)
    assert held.returncode == 0, held.stderr
    assert held.stdout.startswith(f"forgot {HELD}: 1 row(s)")
