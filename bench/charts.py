"""How long a spike chart and a weekly report chart take to draw, and how big they are.

    python bench/charts.py [--repeat 20]

Prints the one-off cost of importing matplotlib (paid by the first chart of a process),
then per chart kind the median milliseconds per drawing and the PNG size in KB.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime, timedelta


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    started = time.perf_counter()
    from atlas_core.analysis import charts

    charts.spike_chart([], at=datetime.now(UTC), rate=1.0, baseline=1.0, title="warm-up")
    print(f"first chart of a process (imports matplotlib): {time.perf_counter() - started:.2f} s")

    at = datetime(2026, 11, 20, 14, tzinfo=UTC)
    video = [(at - timedelta(hours=h), 1_000_000 - 400 * h) for h in range(50, 0, -1)]
    video.append((at, video[-1][1] + 100_000))
    channel = [(at - timedelta(hours=h), 9_000_000 - 2_000 * h) for h in range(50, 0, -1)]
    channel.append((at, channel[-1][1] + 120_000))
    days = [(at - timedelta(hours=h), 100_000 + h, 50_000_000 - 900 * h) for h in range(2160)]
    uploads = [at - timedelta(days=d) for d in range(0, 90, 3)]
    kinds = {
        "spike": lambda: (
            charts.spike_chart(video, at=at, rate=100_400, baseline=400, title="spike").png
        ),
        "spike+channel": lambda: (
            charts.spike_chart(
                video, at=at, rate=100_400, baseline=400, title="spike", channel_points=channel
            ).png
        ),
        "weekly report (2,160 points)": lambda: (
            charts.report_chart(days[::-1], uploads, end=at, title="report").png
        ),
    }
    for name, draw in kinds.items():
        times = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            png = draw()
            times.append(time.perf_counter() - t)
        print(f"{name:<30} {statistics.median(times) * 1000:7.1f} ms  {len(png) / 1024:6.1f} KB")


if __name__ == "__main__":
    main()
