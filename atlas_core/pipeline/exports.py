"""Export one day to the vault: a Parquet partition per dataset, replacing that day's.

counts = await export_day(svc.db, vault, date(2026, 11, 27))   # {"video_stats_log": 1234, ...}

Each dataset streams: a server-side cursor feeds ``BATCH_ROWS`` rows at a time into a Parquet
writer (one row group per batch) on local disk, and the finished file becomes the partition,
so a day larger than memory exports with memory bounded by one batch.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from datetime import date

from atlas_core.database import DatabaseManager
from atlas_core.storage import VaultStrategy
from atlas_core.storage.parquet import PartitionWriter
from atlas_core.store.exports import BATCH_ROWS, EXPORTS, day_batches, day_count


async def export_day(
    db: DatabaseManager, vault: VaultStrategy, day: date, batch_rows: int = BATCH_ROWS
) -> dict[str, int]:
    """Replace ``day``'s partition of every dataset; returns rows written per dataset."""
    counts: dict[str, int] = {}
    for dataset in EXPORTS:
        fd, path = tempfile.mkstemp(prefix=f".atlas-export-{dataset}-", suffix=".parquet")
        os.close(fd)
        try:
            with PartitionWriter(path, EXPORTS[dataset][1], day) as writer:
                async with db.get_connection() as conn:
                    async for batch in day_batches(conn, dataset, day, batch_rows):
                        await asyncio.to_thread(writer.write, batch)
            counts[dataset] = writer.rows
        except BaseException:
            os.unlink(path)
            raise
        await asyncio.to_thread(vault.write_partition_file, dataset, day, path)
    return counts


async def verify_day(db: DatabaseManager, vault: VaultStrategy, day: date) -> list[str]:
    """Datasets whose partition for ``day`` differs in row count from the database."""
    problems: list[str] = []
    for dataset in EXPORTS:
        async with db.get_connection() as conn:
            expected = await day_count(conn, dataset, day)
        rows = await asyncio.to_thread(vault.partition_rows, dataset, day)
        stored = -1 if rows is None else rows
        if stored != expected:
            problems.append(f"{dataset} {day}: vault {stored} rows, database {expected}")
    return problems
