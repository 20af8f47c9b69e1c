"""Benchmark: quota spent to track 200 channels with 10,000 videos through the simulator.

    .venv/bin/python bench/quota.py [--channels 200] [--videos 10000] [--concurrency 4]

Starts its own YouTube simulator and a throwaway embedded PostgreSQL, then (1) discovers
every channel's uploads (channels.list 50 ids a call, then each uploads playlist 50 items a
page) and (2) refreshes every video's statistics (videos.list 50 ids a call). Units come
from the quota ledger. Prints units and calls per second for each phase and the refresh's
lower bound ceil(videos / 50); the last line is ``refresh_units_over_bound=<x>`` (target 1.0).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import tempfile
import time
from pathlib import Path

from atlas_simulator import ManualClock, SimulatorServer

from atlas_core.config import load_settings
from atlas_core.database import DatabaseManager
from atlas_core.embedded import started_dsn, stop_server
from atlas_core.migrate import migrate
from atlas_core.youtube import YouTubeClient

KEY = "bench-key"


async def run(dsn: str, sim: SimulatorServer, clock: ManualClock, concurrency: int) -> None:
    settings = load_settings(
        _env_file=None,
        DATABASE_URL=dsn,
        YOUTUBE_API_BASE_URL=sim.base_url,
        YOUTUBE_API_KEY_POOL_JSON=json.dumps([KEY]),
        YOUTUBE_MAX_CONCURRENCY=concurrency,
    )
    db = DatabaseManager(dsn, min_size=1, max_size=concurrency + 1)
    channel_ids = list(sim.world.channels)
    async with YouTubeClient(settings, db, clock=clock) as yt:
        start, calls0 = time.perf_counter(), yt.requests_sent
        channels = await yt.channels(channel_ids)
        uploads = await asyncio.gather(*(yt.uploads(c.id, set()) for c in channels.found))
        video_ids = [v for new in uploads for v in new.ids]
        discovery_s, discovery_calls = time.perf_counter() - start, yt.requests_sent - calls0
        discovery_units = await yt.units_spent_today()

        start, calls0 = time.perf_counter(), yt.requests_sent
        videos = await yt.videos(video_ids)
        refresh_s, refresh_calls = time.perf_counter() - start, yt.requests_sent - calls0
        refresh_units = await yt.units_spent_today() - discovery_units
    await db.close()

    discovery_bound = math.ceil(len(channel_ids) / 50) + sum(
        max(1, math.ceil(len(ids) / 50)) for ids in uploads
    )
    refresh_bound = math.ceil(len(video_ids) / 50)
    print(f"channels tracked:            {len(channels.found)} (missing {len(channels.missing)})")
    print(f"videos discovered:           {len(video_ids)}; refreshed {len(videos.found)}")
    print(f"discovery units (ledger):    {discovery_units} (lower bound {discovery_bound})")
    print(
        f"discovery calls:             {discovery_calls} in {discovery_s:.2f}s "
        f"= {discovery_calls / discovery_s:.0f} calls/s"
    )
    print(f"refresh units (ledger):      {refresh_units}")
    print(f"refresh lower bound:         {refresh_bound} = ceil({len(video_ids)} / 50)")
    print(
        f"refresh calls:               {refresh_calls} in {refresh_s:.2f}s "
        f"= {refresh_calls / refresh_s:.0f} calls/s"
    )
    print(
        f"simulator units charged:     {sim.units_used()} (search.list calls: "
        f"{len(sim.api_requests('search'))})"
    )
    print(f"refresh_units_over_bound={refresh_units / refresh_bound:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--channels", type=int, default=200)
    parser.add_argument("--videos", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    clock = ManualClock()  # one fixed instant: the run stays inside one quota day
    with tempfile.TemporaryDirectory(prefix="atlas-bench-quota-") as home:
        Path(home).chmod(0o755)  # the embedded server may run as another user
        dsn = started_dsn(Path(home))
        try:
            migrate(dsn)
            sim = SimulatorServer(
                seed=7,
                keys=[KEY],
                clock=clock,
                channels=args.channels,
                videos=args.videos,
                happenings=False,
            )
            with sim:
                asyncio.run(run(dsn, sim, clock, args.concurrency))
        finally:
            stop_server(Path(home))  # stop the server before its folder is removed


if __name__ == "__main__":
    main()
