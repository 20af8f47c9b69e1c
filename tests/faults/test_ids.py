"""Ids are validated where they enter: `atlas forget` refuses a malformed id with one line
and exit 2 (touching nothing), and tells an id it holds nothing of from a real deletion."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
import pytest

if TYPE_CHECKING:
    from conftest import RunCli

HELD = "UC" + "d" * 21 + "A"
UNKNOWN = "UC" + "e" * 21 + "A"


def _env(dsn: str, home: Path) -> dict[str, str]:
    return {"DATABASE_URL": dsn, "ATLAS_HOME": str(home)}


@pytest.mark.parametrize("bad", ["x' OR '1'='1", "UCnotreal", "", "UC" + "a" * 22 + "!"])
def test_forget_refuses_a_malformed_id(
    run_cli: RunCli, database_dsn: str, tmp_path: Path, bad: str
) -> None:
    done = run_cli("forget", bad, env=_env(database_dsn, tmp_path))
    assert done.returncode == 2, done.stdout + done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "not a channel id" in done.stderr
    assert done.stdout == ""
    with psycopg.connect(database_dsn) as conn:
        assert conn.execute("SELECT count(*) FROM forget_requests").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM forgotten_ids").fetchone() == (0,)


def test_forget_tells_unknown_from_deleted(
    run_cli: RunCli, database_dsn: str, tmp_path: Path
) -> None:
    with psycopg.connect(database_dsn, autocommit=True) as conn:
        conn.execute("INSERT INTO channels (id, title) VALUES (%s, 'held')", (HELD,))
    unknown = run_cli("forget", UNKNOWN, env=_env(database_dsn, tmp_path))
    assert unknown.returncode == 0, unknown.stderr
    assert unknown.stdout.strip() == f"unknown {UNKNOWN}: nothing stored"
    held = run_cli("forget", HELD, env=_env(database_dsn, tmp_path))
    assert held.returncode == 0, held.stderr
    assert held.stdout.startswith(f"forgot {HELD}: 1 row(s)")
