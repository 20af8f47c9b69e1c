"""Export one day to the vault: a Parquet partition per dataset, replacing that day's.

counts = await export_day(svc.db, vault, date(2026, 11, 27))   # {"video_stats_log": 1234, ...}
"""

from __future__ import annotations

import asyncio
from datetime import date

from atlas_core.database import DatabaseManager
from atlas_core.storage import VaultStrategy
from atlas_core.store.exports import EXPORTS, day_count, day_table


async def export_day(db: DatabaseManager, vault: VaultStrategy, day: date) -> dict[str, int]:
    counts: dict[str, int] = {}
    for dataset in EXPORTS:
        async with db.get_connection() as conn:
            table = await day_table(conn, dataset, day)
        await asyncio.to_thread(vault.write_partition, dataset, day, table)
        counts[dataset] = table.num_rows
    return counts


async def verify_day(db: DatabaseManager, vault: VaultStrategy, day: date) -> list[str]:
    """Datasets whose partition for ``day`` differs in row count from the database."""
    problems: list[str] = []
    for dataset in EXPORTS:
        async with db.get_connection() as conn:
            expected = await day_count(conn, dataset, day)
        table = await asyncio.to_thread(vault.read_partition, dataset, day)
        stored = -1 if table is None else table.num_rows
        if stored != expected:
            problems.append(f"{dataset} {day}: vault {stored} rows, database {expected}")
    return problems
