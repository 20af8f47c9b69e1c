"""Row counts for the catalog: exact on small tables, PostgreSQL's estimate on large ones."""

from __future__ import annotations

import pytest

from atlas_core.database import DatabaseManager
from atlas_core.store.tables import RowCount, row_count


async def test_row_count_is_exact_below_the_threshold_and_estimated_above(
    db: DatabaseManager,
) -> None:
    async with db.get_connection() as conn:
        await conn.execute(
            "INSERT INTO channels (id, title) SELECT 'UC' || g, 't' FROM generate_series(1, 60) g"
        )
        await conn.commit()
        # Never analyzed: reltuples is -1, so even a tiny threshold counts exactly.
        assert await row_count(conn, "channels", exact_below=10) == RowCount(60, exact=True)
        await conn.execute("ANALYZE channels")
        await conn.execute("DELETE FROM channels WHERE id = 'UC1'")  # the estimate lags
        await conn.commit()
        estimated = await row_count(conn, "channels", exact_below=10)
        exact = await row_count(conn, "channels", exact_below=1_000)
    assert estimated == RowCount(60, exact=False)
    assert estimated.method == "estimate (pg_class.reltuples)"
    assert exact == RowCount(59, exact=True) and exact.method == "exact count(*)"
    with pytest.raises(ValueError, match="unknown table 'pg_class'"):
        async with db.get_connection() as conn:
            await row_count(conn, "pg_class")
