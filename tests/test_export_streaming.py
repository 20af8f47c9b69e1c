"""A day bigger than one batch exports in row groups and equals the in-memory export."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq

from atlas_core.database import DatabaseManager
from atlas_core.pipeline.exports import export_day
from atlas_core.storage import parquet
from atlas_core.storage.local import LocalVault
from atlas_core.store.exports import EXPORTS, day_table

DAY = date(2026, 11, 20)


async def _seed(db: DatabaseManager) -> None:
    start = datetime(2026, 11, 20, tzinfo=UTC)
    async with db.get_connection() as conn:
        for c in range(3):
            await conn.execute(
                "INSERT INTO channels (id, title) VALUES (%s, %s)", (f"UCch{c}", f"chan {c}")
            )
            await conn.execute(
                "INSERT INTO channel_stats_log (channel_id, timestamp, view_count) "
                "VALUES (%s, %s, %s)",
                (f"UCch{c}", start + timedelta(hours=c), 10 * c),
            )
        for v in range(9):
            await conn.execute(
                "INSERT INTO videos (id, channel_id, title, published_at, wiki_topics,"
                " discovered_at) VALUES (%s, %s, %s, %s, %s, %s)",
                (f"vid{v:02d}", f"UCch{v % 3}", f"title {v}", start, ["Music"], start),
            )
            for hour in range(5):  # 45 stats rows, and one on the next day that stays out
                await conn.execute(
                    "INSERT INTO video_stats_log (video_id, timestamp, views, likes,"
                    " observed_at) VALUES (%s, %s, %s, %s, %s)",
                    (f"vid{v:02d}", start + timedelta(hours=hour), v * 100 + hour, v, start),
                )
        await conn.execute(
            "INSERT INTO video_stats_log (video_id, timestamp, views) VALUES ('vid00', %s, 1)",
            (start + timedelta(days=1),),
        )
        await conn.commit()


async def test_streaming_export_of_a_day_bigger_than_a_batch_equals_the_in_memory_one(
    db: DatabaseManager, tmp_path: Path
) -> None:
    await _seed(db)
    streamed, in_memory = LocalVault(tmp_path / "streamed"), LocalVault(tmp_path / "memory")
    counts = await export_day(db, streamed, DAY, batch_rows=4)
    assert counts == {
        "video_stats_log": 45,
        "channel_stats_log": 3,
        "channels": 3,
        "videos": 9,
    }
    for dataset in EXPORTS:
        async with db.get_connection() as conn:
            whole = await day_table(conn, dataset, DAY)
        in_memory.write_partition(dataset, DAY, whole)
        got, want = streamed.read_partition(dataset, DAY), in_memory.read_partition(dataset, DAY)
        assert got is not None and want is not None
        assert got.num_rows == counts[dataset] == streamed.partition_rows(dataset, DAY)
        assert got.equals(want), dataset
        file = tmp_path / "streamed" / parquet.partition_path(dataset, DAY)
        # One row group per batch of 4: the day never sat in memory as one table.
        assert pq.ParquetFile(file).metadata.num_row_groups == -(-counts[dataset] // 4)
    assert streamed.partition_rows("videos", DAY + timedelta(days=1)) is None
    # Re-exporting replaces the day's file and leaves no temporary file behind.
    await export_day(db, streamed, DAY, batch_rows=50)
    files = sorted(p.name for p in (tmp_path / "streamed").rglob("*") if p.is_file())
    assert files == ["part-0.parquet"] * len(EXPORTS)


async def test_streaming_export_of_an_empty_day_writes_the_schema(
    db: DatabaseManager, tmp_path: Path
) -> None:
    vault = LocalVault(tmp_path / "vault")
    counts = await export_day(db, vault, DAY, batch_rows=4)
    assert set(counts.values()) == {0}
    table = vault.read_partition("videos", DAY)
    assert table is not None and table.num_rows == 0
    assert table.schema.names == [*EXPORTS["videos"][1].names, "dt"]
