"""Benchmark: removing one channel's rows from every vault partition (the forget vault step).

    .venv/bin/python bench/scrub.py [--days 10] [--rows 50000] [--repeat 3]

Writes ``--days`` daily ``video_stats_log`` partitions of ``--rows`` rows each (1,000 videos of
50 channels) to a LocalVault, then times ``scrub_partitions`` removing one channel's videos from
all of them, against a plain pyarrow read/filter/write of the same files (the floor for a
rewrite), best of ``--repeat``, interleaved. The last line is
``ratio_vs_pyarrow=<pyarrow seconds / scrub seconds>`` (1.0 = no overhead).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from atlas_core.storage import LocalVault
from atlas_core.storage.scrub import scrub_partitions

FIRST = date(2026, 1, 1)


def day_table(rows: int, seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    ids = np.char.add("vid", (rng.integers(0, 1000, rows)).astype("U4"))
    return pa.table(
        {
            "video_id": pa.array(ids),
            "views": pa.array(rng.integers(0, 10_000_000, rows)),
            "likes": pa.array(rng.integers(0, 500_000, rows)),
            "comment_count": pa.array(rng.integers(0, 50_000, rows)),
        }
    )


def build(root: Path, days: int, rows: int) -> None:
    vault = LocalVault(root)
    for i in range(days):
        vault.write_partition("video_stats_log", FIRST + timedelta(days=i), day_table(rows, i))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=10)
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    victims = [f"vid{i}" for i in range(20)]  # one channel of 50: 20 of the 1,000 videos
    best_scrub = best_plain = float("inf")
    removed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeat):
            for which in ("scrub", "plain"):
                root = Path(tmp) / which
                shutil.rmtree(root, ignore_errors=True)
                build(root, args.days, args.rows)
                started = time.perf_counter()
                if which == "scrub":
                    removed, _ = scrub_partitions(LocalVault(root), [], victims)
                    best_scrub = min(best_scrub, time.perf_counter() - started)
                else:
                    ids = pa.array(victims)
                    for path in sorted(root.rglob("*.parquet")):
                        table = pq.read_table(path)
                        keep = pc.invert(pc.is_in(table.column("video_id"), value_set=ids))
                        pq.write_table(table.filter(keep), path, compression="zstd")
                    best_plain = min(best_plain, time.perf_counter() - started)
    total = args.days * args.rows
    print(f"partitions={args.days} rows={total} removed={removed}")
    print(f"scrub_partitions: {best_scrub:.3f}s ({total / best_scrub:,.0f} rows/s)")
    print(f"pyarrow floor:    {best_plain:.3f}s ({total / best_plain:,.0f} rows/s)")
    print(f"ratio_vs_pyarrow={best_plain / best_scrub:.2f}")


if __name__ == "__main__":
    main()
