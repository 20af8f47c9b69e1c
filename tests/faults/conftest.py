"""Fault drills against real peers: the YouTube simulator, the webhook sink and PostgreSQL.

Each scenario makes one peer fail the way an operator meets it and asserts what was kept,
what was retried and that nothing was lost. Scenarios that restart the database run on their
own embedded server (``drill_home``), never on the session's. Helpers live in ``drills.py``.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from drills import TABLES

from atlas_core.embedded import embedded_dsn, start_server, stop_server
from atlas_core.migrate import migrate


@pytest.fixture(scope="package")
def drill_home() -> Iterator[Path]:
    """An embedded server of the drills' own, which they may restart."""
    home = Path(tempfile.mkdtemp(prefix="atlas-faults-"))
    start_server(home)
    migrate(embedded_dsn(home))
    yield home
    stop_server(home, mode="immediate")
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def drill_dsn(drill_home: Path) -> str:
    """The drill server's database, emptied."""
    dsn = embedded_dsn(drill_home)
    with psycopg.connect(dsn) as conn:
        conn.execute(f"TRUNCATE {TABLES} CASCADE")
    return dsn
