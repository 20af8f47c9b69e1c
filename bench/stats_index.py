"""Benchmark: B-tree vs BRIN on ``video_stats_log.timestamp`` (migration 0012's choice).

    .venv/bin/python bench/stats_index.py [--videos 5000] [--hours 240]

Starts a throwaway embedded PostgreSQL, migrates it, loads ``videos x hours`` hourly
snapshots in time order with COPY under each index kind, then times a one-day range read
(what the daily export does) and a retention delete of the oldest day. Prints load time,
index size and both timings per kind; last line
``rows=<n> btree_mb=<a> brin_mb=<b> load_ratio=<brin/btree> read_ratio=<..> delete_ratio=<..>``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import psycopg

from atlas_core.embedded import started_dsn, stop_server
from atlas_core.migrate import migrate

START = datetime(2026, 1, 1)


def load(conn: psycopg.Connection, videos: int, hours: int) -> float:
    t = time.perf_counter()
    with conn.cursor().copy(
        "COPY video_stats_log (video_id, timestamp, views, likes, comment_count) FROM STDIN"
    ) as copy:
        for h in range(hours):
            ts = START + timedelta(hours=h)
            for v in range(videos):
                copy.write_row((f"v{v:07d}", ts, h * 10 + v, h, 0))
    conn.commit()
    return time.perf_counter() - t


def measure(dsn: str, kind: str, videos: int, hours: int) -> dict[str, float]:
    with psycopg.connect(dsn) as conn:
        conn.execute("TRUNCATE video_stats_log")
        conn.execute("DROP INDEX IF EXISTS video_stats_log_timestamp_brin")
        conn.execute("DROP INDEX IF EXISTS bench_ts")
        if kind == "btree":
            conn.execute("CREATE INDEX bench_ts ON video_stats_log (timestamp)")
        else:
            conn.execute(
                "CREATE INDEX bench_ts ON video_stats_log USING brin (timestamp)"
                " WITH (pages_per_range = 32)"
            )
        conn.commit()
        load_s = load(conn, videos, hours)
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE video_stats_log")
        conn.autocommit = False
        size = conn.execute("SELECT pg_relation_size('bench_ts')").fetchone()[0]  # type: ignore[index]
        day = START + timedelta(days=hours // 48)
        t = time.perf_counter()
        rows = conn.execute(
            "SELECT video_id, timestamp, views FROM video_stats_log"
            " WHERE timestamp >= %s AND timestamp < %s",
            (day, day + timedelta(days=1)),
        ).fetchall()
        read_s = time.perf_counter() - t
        t = time.perf_counter()
        deleted = conn.execute(
            "DELETE FROM video_stats_log WHERE timestamp < %s", (START + timedelta(days=1),)
        ).rowcount
        conn.commit()
        delete_s = time.perf_counter() - t
    print(
        f"{kind:5s} load_s={load_s:.2f} index_mb={size / 2**20:.2f} "
        f"day_read_s={read_s:.3f} ({len(rows)} rows) retention_delete_s={delete_s:.3f} "
        f"({deleted} rows)"
    )
    return {"load": load_s, "mb": size / 2**20, "read": read_s, "delete": delete_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--videos", type=int, default=5_000)
    parser.add_argument("--hours", type=int, default=240)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="atlas-bench-brin-") as home:
        Path(home).chmod(0o755)
        dsn = started_dsn(Path(home))
        try:
            migrate(dsn)
            with psycopg.connect(dsn) as conn:  # the log's foreign key needs the videos
                conn.execute("INSERT INTO channels (id, title) VALUES ('UCbench', 'bench')")
                conn.execute(
                    "INSERT INTO videos (id, channel_id, title) SELECT"
                    " 'v' || lpad(g::text, 7, '0'), 'UCbench', 't'"
                    " FROM generate_series(0, %s) g",
                    (args.videos - 1,),
                )
            btree = measure(dsn, "btree", args.videos, args.hours)
            brin = measure(dsn, "brin", args.videos, args.hours)
        finally:
            stop_server(Path(home))
    print(
        f"rows={args.videos * args.hours} btree_mb={btree['mb']:.2f} brin_mb={brin['mb']:.3f} "
        f"load_ratio={brin['load'] / btree['load']:.2f} "
        f"read_ratio={brin['read'] / btree['read']:.2f} "
        f"delete_ratio={brin['delete'] / btree['delete']:.2f}"
    )


if __name__ == "__main__":
    main()
