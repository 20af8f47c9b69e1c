"""The vault read as a dataset, the way its users would: DuckDB over the Hive folders (with
a ``dt`` filter that prunes files), pandas and pyarrow datasets, Hugging Face ``datasets``
from the local folder and from the Hub (through the Hub stand-in, each table a config), with
the same row counts as the database; the README's three DuckDB queries run as printed."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from atlas_core.database import DatabaseManager
from atlas_core.pipeline.exports import ensure_card, export_day, vault_card
from atlas_core.storage import parquet
from atlas_core.storage.local import LocalVault
from atlas_core.store.exports import EXPORTS, day_count

DAYS = [date(2026, 11, 16), date(2026, 11, 17), date(2026, 11, 18)]
README = Path(__file__).resolve().parents[1] / "README.md"


async def _seed(db: DatabaseManager) -> None:
    """Three channels, nine videos, hourly stats over three days; day two's likes are all
    NULL (the column keeps its type) and one video is a re-upload of another."""
    async with db.get_connection() as conn:
        for c in range(3):
            await conn.execute(
                "INSERT INTO channels (id, title) VALUES (%s, %s)", (f"UCch{c}", f"chan {c}")
            )
        for v in range(9):
            found = datetime.combine(DAYS[0], datetime.min.time(), UTC)
            await conn.execute(
                "INSERT INTO videos (id, channel_id, title, published_at, discovered_at)"
                " VALUES (%s, %s, %s, %s, %s)",
                (f"vid{v:02d}", f"UCch{v % 3}", f"title {v}", found, found),
            )
        for n, day in enumerate(DAYS):
            start = datetime.combine(day, datetime.min.time(), UTC)
            for hour in range(0, 24, 6):
                at = start + timedelta(hours=hour)
                for c in range(3):
                    await conn.execute(
                        "INSERT INTO channel_stats_log (channel_id, timestamp, view_count,"
                        " subscriber_count, video_count, observed_at)"
                        " VALUES (%s, %s, %s, %s, 3, %s)",
                        (f"UCch{c}", at, 1000 * c + 10 * (n * 24 + hour), 50 + c, at),
                    )
                for v in range(9):
                    views = v * 10_000 + (n * 24 + hour) * (v + 1) * (50 if v == 4 else 1)
                    await conn.execute(
                        "INSERT INTO video_stats_log (video_id, timestamp, views, likes,"
                        " observed_at) VALUES (%s, %s, %s, %s, %s)",
                        (f"vid{v:02d}", at, views, None if n == 1 else v, at),
                    )
        await conn.commit()


@pytest.fixture
async def vault(db: DatabaseManager, tmp_path: Path) -> LocalVault:
    await _seed(db)
    local = LocalVault(tmp_path / "vault")
    assert await ensure_card(local) is True
    assert await ensure_card(local) is False  # unchanged: not rewritten
    for day in DAYS:
        await export_day(db, local, day)
    # A re-upload's evidence, as the hunt stores it: evidence/<copy>/reupload-<original>.jpg
    local.store_bytes("evidence/vid07/reupload-vid01.jpg", b"\xff\xd8jpeg", "image/jpeg")
    return local


async def _db_counts(db: DatabaseManager) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    async with db.get_connection() as conn:
        for table in EXPORTS:
            counts[table] = {str(d): await day_count(conn, table, d) for d in DAYS}
    return counts


async def test_every_partition_has_its_table_s_schema_and_no_dt_inside(
    vault: LocalVault,
) -> None:
    for table, (_, schema) in EXPORTS.items():
        for day in DAYS:
            file = vault.root / parquet.partition_path(table, day)
            assert pq.read_schema(file).remove_metadata() == schema, (table, day)
    stats = pq.read_schema(vault.root / parquet.partition_path("video_stats_log", DAYS[1]))
    assert stats.field("likes").type == pa.int64()  # all NULL that day, still int64
    assert stats.field("timestamp").type == pa.timestamp("us", tz="UTC")
    back = vault.read_partition("video_stats_log", DAYS[1])
    assert back is not None and set(back.column("dt").to_pylist()) == {"2026-11-17"}


async def test_duckdb_reads_with_hive_partitions_and_prunes_by_dt(
    db: DatabaseManager, vault: LocalVault
) -> None:
    expected = await _db_counts(db)
    con = duckdb.connect()
    for table in EXPORTS:
        rows = con.sql(
            f"SELECT dt::VARCHAR, count(*) FROM read_parquet('{vault.root}/{table}/**/*.parquet',"
            " hive_partitioning = true) GROUP BY ALL"
        ).fetchall()
        assert dict(rows) == {d: n for d, n in expected[table].items() if n}, table
    # Pruning: a broken file in another day's folder is never opened by a dt filter.
    (vault.root / parquet.partition_path("video_stats_log", DAYS[2])).write_bytes(b"broken")
    query = (
        f"SELECT count(*) FROM read_parquet('{vault.root}/video_stats_log/**/*.parquet',"
        " hive_partitioning = true) WHERE dt = DATE '2026-11-17'"
    )
    assert con.execute(query).fetchall() == [(expected["video_stats_log"]["2026-11-17"],)]
    plan = con.sql("EXPLAIN ANALYZE " + query).fetchall()[0][1]
    assert re.search(r"Scanning Files: 1/3", plan), plan


async def test_pandas_and_pyarrow_read_the_table_folders(
    db: DatabaseManager, vault: LocalVault
) -> None:
    expected = await _db_counts(db)
    for table in EXPORTS:
        frame = pd.read_parquet(vault.root / table)
        assert frame.groupby("dt", observed=True).size().to_dict() == {
            d: n for d, n in expected[table].items() if n
        }
        arrow = ds.dataset(vault.root / table, format="parquet", partitioning="hive")
        assert (
            arrow.count_rows(filter=ds.field("dt") == "2026-11-18")
            == (expected[table]["2026-11-18"])
        )
    frame = pd.read_parquet(vault.root / "video_stats_log")
    assert str(frame["timestamp"].dtype) == "datetime64[us, UTC]"


async def test_datasets_loads_the_local_folder_and_its_configs(
    db: DatabaseManager, vault: LocalVault, tmp_path: Path
) -> None:
    datasets = pytest.importorskip("datasets")
    expected = await _db_counts(db)
    cache = str(tmp_path / "hf-cache")
    for table in EXPORTS:
        files = str(vault.root / table / "dt=*" / "*.parquet")
        loaded = datasets.load_dataset("parquet", data_files=files, cache_dir=cache)
        assert loaded["train"].num_rows == sum(expected[table].values()), table
    # The card's configs: load_dataset(<vault folder>, <table>) picks the table's files.
    stats = datasets.load_dataset(str(vault.root), "video_stats_log", cache_dir=cache)
    assert stats["train"].num_rows == sum(expected["video_stats_log"].values())
    assert str(stats["train"].features["timestamp"].dtype) == "timestamp[us, tz=UTC]"


async def test_datasets_loads_each_table_from_the_hub_layout(
    db: DatabaseManager, vault: LocalVault, tmp_path: Path
) -> None:
    """The vault on the Hub (through the stand-in): each table is a config of the repo."""
    from hub_standin import HubStandIn

    from atlas_core.storage.huggingface import HuggingFaceVault

    expected = await _db_counts(db)
    hub = HubStandIn(token="hf_dataset_test").start()
    try:
        remote = HuggingFaceVault(
            "atlas/vault",
            token="hf_dataset_test",
            endpoint=hub.url,
            private=False,
            cache_dir=tmp_path / "vault-cache",
        )
        await ensure_card(remote)
        for day in DAYS:
            await export_day(db, remote, day)
        card = hub.files("atlas/vault")["README.md"].decode()
        assert card == vault_card()  # every config already there: the card is not rewritten
        # The datasets library reads HF_ENDPOINT when it is imported: a fresh process.
        script = (
            "import datasets, json, sys\n"
            "out = {t: datasets.load_dataset('atlas/vault', t, cache_dir=sys.argv[1])"
            "['train'].num_rows for t in sys.argv[2:]}\n"
            "print(json.dumps(out))\n"
        )
        env = {
            "HF_ENDPOINT": hub.url,
            "HF_TOKEN": "hf_dataset_test",
            "HF_HOME": str(tmp_path / "hf-home"),
            "HF_HUB_DISABLE_TELEMETRY": "1",
            "PATH": "/usr/bin:/bin",
        }
        done = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-c", script, str(tmp_path / "hf-cache"), *EXPORTS],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        hub.stop()
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {
        t: sum(expected[t].values()) for t in EXPORTS
    }


def _readme_queries() -> list[str]:
    text = README.read_text()
    section = text.split("## The vault as a dataset", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sql\n(.*?)```", section, re.S)


async def test_the_readme_queries_run_on_the_vault(vault: LocalVault) -> None:
    daily, fastest, pairs = _readme_queries()
    con = duckdb.connect()
    con.execute(f"SET file_search_path = '{vault.root}'")
    rows = con.sql(daily.replace("UCxxxxxxxxxxxxxxxxxxxxxx", "UCch2")).fetchall()
    # (day, views at the day's last snapshot, views gained that day)
    assert [str(r[0]) for r in rows] == [str(d) for d in DAYS]
    assert rows[-1][1] == 2000 + 10 * (2 * 24 + 18)
    top = con.sql(fastest).fetchall()
    assert top[0][0] == "vid04" and top[0][1] == "title 4"  # fifty times the others' rate
    assert con.sql(pairs).fetchall() == [("vid07", "title 7", "vid01", "title 1")]
