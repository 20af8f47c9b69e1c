"""Export one day to the vault: a Parquet partition per dataset, replacing that day's.

counts = await export_day(svc.db, vault, date(2026, 11, 27))   # {"video_stats_log": 1234, ...}

Each dataset streams: a server-side cursor feeds ``BATCH_ROWS`` rows at a time into a Parquet
writer (one row group per batch) on local disk, and the finished file becomes the partition,
so a day larger than memory exports with memory bounded by one batch. ``ensure_card``
writes the vault's dataset card (``README.md``: every table and column, one Hugging Face
config per table) when it differs from the vault's: one write per schema change.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from datetime import date

from atlas_core.database import DatabaseManager
from atlas_core.storage import VaultStrategy
from atlas_core.storage.parquet import CARD_PATH, PartitionWriter, dataset_card
from atlas_core.store.exports import BATCH_ROWS, DESCRIPTIONS, EXPORTS, day_batches, day_count


def vault_card() -> str:
    """The dataset card of the exported tables."""
    return dataset_card(
        {name: (schema, *DESCRIPTIONS[name]) for name, (_, schema) in EXPORTS.items()}
    )


async def ensure_card(vault: VaultStrategy) -> bool:
    """Write the dataset card unless the vault already holds exactly it; True if written."""
    card = vault_card().encode("utf-8")
    if await asyncio.to_thread(vault.fetch_bytes, CARD_PATH) == card:
        return False
    await asyncio.to_thread(vault.store_bytes, CARD_PATH, card, "text/markdown; charset=utf-8")
    return True


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
