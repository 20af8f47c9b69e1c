"""A short synchronous connection, for code with no event loop (sensors, the migration runner).

    with connect(dsn) as conn:
        rows = conn.execute("SELECT ...").fetchall()

Everything else borrows from the async pool (``atlas_core.database.DatabaseManager``).
"""

from __future__ import annotations

import psycopg

__all__ = ["connect"]


def connect(dsn: str, *, autocommit: bool = False, timeout: int = 10) -> psycopg.Connection:
    """A new connection with sessions in UTC; ``with`` it to commit (or roll back) and close."""
    return psycopg.connect(
        dsn, autocommit=autocommit, connect_timeout=timeout, options="-c timezone=UTC"
    )
