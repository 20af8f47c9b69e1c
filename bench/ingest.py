"""Benchmark: Atlas's stats write path vs raw binary COPY vs executemany INSERT.

    .venv/bin/python bench/ingest.py [--rows 200000] [--database-url URL]

Writes the same N video_stats_log rows three ways into an emptied table and prints rows/s
for each, then `ratio_vs_copy=<ours / raw COPY>` as the last line (target >= 0.8). Without
--database-url it uses a throwaway embedded PostgreSQL in a temporary folder; with it, a
scratch database created beside the given one and dropped afterwards (its data is untouched).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from atlas_core.embedded import started_dsn, stop_server
from atlas_core.migrate import migrate
from atlas_core.store.stats import VideoStatsRow, write_video_stats

VIDEOS = 1000


def make_rows(n: int) -> list[VideoStatsRow]:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    per_video = -(-n // VIDEOS)
    rows: list[VideoStatsRow] = []
    for i in range(n):
        video, snap = i % VIDEOS, i // VIDEOS
        ts = start + timedelta(minutes=15 * snap)
        rows.append((f"vid{video:08d}", ts, 1000 + snap * 7, 10 + snap, snap))
    assert per_video * VIDEOS >= n
    return rows


async def setup(conn: psycopg.AsyncConnection) -> None:
    await conn.execute("TRUNCATE video_stats_log, videos, channels CASCADE")
    await conn.execute("INSERT INTO channels (id, title) VALUES ('UCbench', 'bench')")
    await conn.execute(
        "INSERT INTO videos (id, channel_id, title) "
        "SELECT 'vid' || lpad(g::text, 8, '0'), 'UCbench', 'v' FROM generate_series(0, %s) g",
        (VIDEOS - 1,),
    )
    await conn.commit()


async def empty(conn: psycopg.AsyncConnection) -> None:
    await conn.execute("TRUNCATE video_stats_log")
    await conn.commit()


async def ours(conn: psycopg.AsyncConnection, rows: list[VideoStatsRow]) -> None:
    await write_video_stats(conn, rows)
    await conn.commit()


async def raw_copy(conn: psycopg.AsyncConnection, rows: list[VideoStatsRow]) -> None:
    cur = conn.cursor()
    async with cur.copy(
        "COPY video_stats_log (video_id, timestamp, views, likes, comment_count, observed_at) "
        "FROM STDIN (FORMAT BINARY)"
    ) as copy:
        copy.set_types(["text", "timestamptz", "int8", "int8", "int8", "timestamptz"])
        observed = datetime.now(UTC)
        for video_id, ts, views, likes, comments in rows:
            await copy.write_row((video_id, ts, views, likes, comments, observed))
    await conn.commit()


async def executemany(conn: psycopg.AsyncConnection, rows: list[VideoStatsRow]) -> None:
    cur = conn.cursor()
    await cur.executemany(
        "INSERT INTO video_stats_log (video_id, timestamp, views, likes, comment_count) "
        "VALUES (%s, %s, %s, %s, %s)",
        [(v, ts, a, b, c) for v, ts, a, b, c in rows],
    )
    await conn.commit()


async def run(dsn: str, n: int, repeats: int) -> None:
    rows = make_rows(n)
    async with await psycopg.AsyncConnection.connect(dsn) as conn:
        await setup(conn)
        results: dict[str, float] = {}
        for name, fn in (
            ("atlas_write_video_stats", ours),
            ("raw_binary_copy", raw_copy),
            ("executemany_insert", executemany),
        ):
            best = float("inf")
            for _ in range(1 if name == "executemany_insert" else repeats):
                await empty(conn)
                t0 = time.perf_counter()
                await fn(conn, rows)
                best = min(best, time.perf_counter() - t0)
                cur = await conn.execute("SELECT count(*) FROM video_stats_log")
                assert (await cur.fetchone()) == (n,), f"{name} wrote the wrong row count"
            results[name] = n / best
            print(f"{name:<26} {n:>9,} rows  {best:7.3f}s  {n / best:>12,.0f} rows/s", flush=True)
    print(f"ratio_vs_copy={results['atlas_write_video_stats'] / results['raw_binary_copy']:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=3, help="best of N for the COPY paths")
    parser.add_argument("--database-url", help="a migrated PostgreSQL (default: embedded)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="atlas-bench-") as tmp:
        server = args.database_url or started_dsn(Path(tmp), "postgres")
        try:
            with scratch_database(server) as dsn:
                migrate(dsn)
                asyncio.run(run(dsn, args.rows, args.repeats))
        finally:
            stop_server(Path(tmp))  # stop the embedded server before its folder is removed


@contextmanager
def scratch_database(server_dsn: str) -> Iterator[str]:
    """A new database on the same server, dropped afterwards."""
    name = f"atlas_bench_{os.getpid()}"
    with psycopg.connect(server_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    params = conninfo_to_dict(server_dsn)
    params["dbname"] = name
    try:
        yield make_conninfo(**params)  # type: ignore[arg-type]
    finally:
        with psycopg.connect(server_dsn, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


if __name__ == "__main__":
    main()
