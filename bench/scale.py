"""Benchmark: one planned hourly tick over 10,000 channels and 1,000,000 tracked videos.

    .venv/bin/python bench/scale.py [--channels 10000] [--videos 1000000] [--chunk 500]

Three processes, measured apart:

* a loader (child) bulk-loads a throwaway embedded PostgreSQL with COPY: the watchlist, the
  channels and videos of a compact simulator world (``World(compact=True)``), two steady-state
  snapshots per video (fresh videos snapshotted an hour ago, videos under 30 days within the
  last day, older ones within the last week), two channel snapshots and each channel's last
  discovery check within the last 4 hours;
* the YouTube simulator (child) serving that same world over HTTP (quota unlimited);
* this process, the pipeline, which runs the tick through Dagster in-process, exactly as the
  daemon would launch it: the discovery schedule's run requests (planned due channels in
  ranges of ``--chunk``), one ``refresh_stats`` run (channels, channel_stats_log, the planned
  video_stats_log, velocity_anomalies; not video_vectors, which would embed a million
  never-embedded thumbnails on this first tick), then the day's ``vault_partitions`` export.

Peak RSS is this process's ``ru_maxrss`` (it does nothing but the tick); the children's are
printed on their own lines. Last line: ``videos=<n> tick_s=<t> runs_per_tick=<r>
peak_rss_mb=<m> export_s=<e>`` (targets r <= 10, m <= 600, t <= 600).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import resource
import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

KEY = "bench-scale-key"
SEED = 12


def _world(args: argparse.Namespace, start: datetime) -> Any:
    from atlas_simulator import World

    return World(
        SEED,
        channels=args.channels,
        videos=args.videos,
        start=start,
        happenings=False,
        api_keys=[KEY],
        compact=True,
    )


# --- the loader (child process) ---------------------------------------------------------


def _copy(conn: Any, table: str, columns: str, lines: Any) -> int:
    n = 0
    with conn.cursor() as cur, cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        buf: list[str] = []
        for line in lines:
            buf.append(line)
            if len(buf) == 50_000:
                copy.write("".join(buf))
                n += len(buf)
                buf.clear()
        if buf:
            copy.write("".join(buf))
            n += len(buf)
    return n


def _ts(seconds: Any) -> Any:
    import numpy as np

    return np.datetime_as_string(seconds.astype("datetime64[s]"), unit="s")


def load(dsn: str, args: argparse.Namespace, tick: datetime, start: datetime, out: Any) -> None:
    import numpy as np
    import psycopg
    from atlas_simulator.world import _ALPHABET

    t0 = time.perf_counter()
    world = _world(args, start)
    channels = list(world.channels.values())
    counts = np.array([len(c.video_ids) for c in channels], dtype=np.int64)
    firsts = np.array([c.video_ids.first for c in channels], dtype=np.int64)
    n = int(counts.sum())
    rng = np.random.default_rng(SEED)
    # ids: 10 base-64 digits of the index and a final "A" (atlas_simulator.compact_video_id)
    idx = np.arange(n, dtype=np.int64)
    powers = 64 ** np.arange(9, -1, -1, dtype=np.int64)
    alphabet = np.frombuffer(_ALPHABET.encode(), dtype=np.uint8)
    codes = alphabet[(idx[:, None] // powers) % 64]
    codes = np.concatenate([codes, np.full((n, 1), ord("A"), dtype=np.uint8)], axis=1)
    ids = codes.view("S11").ravel().astype(str)
    owner = np.repeat(np.arange(len(channels)), counts)
    k = idx - np.repeat(firsts, counts)
    span = 24 * 720 / np.repeat(counts, counts)
    start_s, tick_s = int(start.timestamp()), int(tick.timestamp())
    published = start_s - np.floor((2 + k * span) * 3600).astype(np.int64)
    age_h = (tick_s - published) / 3600
    window = np.where(age_h < 48, 1.0, np.where(age_h < 24 * 30, 24.0, 24.0 * 7))
    # Steady state: snapshot ages spread over the tier's interval plus one tick, so about
    # one tick's share of each tier is due now.
    last = tick_s - np.where(age_h < 48, 3600, rng.integers(60, (window + 1) * 3600, n))
    previous = last - (window * 3600).astype(np.int64)
    views = rng.integers(1_000, 1_000_000, n)
    rate = rng.uniform(0.5, 200, n)
    cids = [c.id for c in channels]
    with psycopg.connect(dsn) as conn:
        _copy(
            conn,
            "channels",
            "id, title, last_scraped_at",
            (f"{c.id}\t{c.title}\t{_ts(np.array([tick_s - 3600]))[0]}Z\n" for c in channels),
        )
        _copy(
            conn,
            "watchlist",
            "channel_id, added_at, uploads_playlist_id",
            (f"{c.id}\t2026-01-01T00:00:00Z\t{c.uploads_playlist_id}\n" for c in channels),
        )
        pub_txt = _ts(published)
        _copy(
            conn,
            "videos",
            "id, channel_id, title, published_at, duration, discovered_at",
            (
                f"{ids[i]}\t{cids[owner[i]]}\tvideo {i}\t{pub_txt[i]}Z\t600\t{pub_txt[i]}Z\n"
                for i in range(n)
            ),
        )
        del pub_txt
        for stamp, extra in ((previous, 0.0), (last, 1.0)):
            txt = _ts(stamp)
            v = (views + extra * rate * window).astype(np.int64)
            _copy(
                conn,
                "video_stats_log",
                "video_id, timestamp, views, likes, comment_count, observed_at",
                (
                    f"{ids[i]}\t{txt[i]}Z\t{v[i]}\t{v[i] // 40}\t{v[i] // 900}\t{txt[i]}Z\n"
                    for i in range(n)
                ),
            )
        checked = tick_s - rng.integers(60, 4 * 3600, len(channels))
        checked_txt = _ts(checked)
        _copy(
            conn,
            "channel_discovery_checks",
            "channel_id, checked_at",
            (f"{cid}\t{checked_txt[j]}Z\n" for j, cid in enumerate(cids)),
        )
        # The channels' views as the simulator reports them (a + b*hours): no channel is hot.
        totals = [world._channel_totals(cid) for cid in cids]
        for hours_ago in (2, 1):
            at_h = (tick_s - hours_ago * 3600) / 3600
            stamp = _ts(np.array([tick_s - hours_ago * 3600]))[0]
            _copy(
                conn,
                "channel_stats_log",
                "channel_id, timestamp, view_count, subscriber_count, video_count, observed_at",
                (
                    f"{cid}\t{stamp}Z\t{int(totals[j][0] + totals[j][1] * at_h)}\t1000\t"
                    f"{counts[j]}\t{stamp}Z\n"
                    for j, cid in enumerate(cids)
                ),
            )
        conn.commit()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out.send({"load_s": time.perf_counter() - t0, "rss_mb": usage.ru_maxrss / 1024, "ids": cids})


# --- the simulator (child process) ------------------------------------------------------


def serve(args: argparse.Namespace, start: datetime, out: Any, stop: Any) -> None:
    from atlas_simulator import SimulatorServer

    t0 = time.monotonic()

    def clock() -> datetime:
        return start + timedelta(seconds=time.monotonic() - t0)

    with SimulatorServer(
        seed=SEED,
        keys=[KEY],
        clock=clock,
        channels=args.channels,
        videos=args.videos,
        happenings=False,
        compact=True,
        daily_quota=10**9,
    ) as sim:
        out.send(sim.base_url)
        stop.wait()
        requests = len(sim.api_requests())
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out.send({"rss_mb": usage.ru_maxrss / 1024, "api_requests": requests})


# --- the pipeline (this process) --------------------------------------------------------


def tick_through_dagster(
    dsn: str,
    base_url: str,
    channel_ids: list[str],
    tick: datetime,
    args: argparse.Namespace,
    work: Path,
) -> dict[str, float]:
    from dagster import AssetSelection, DagsterInstance, build_schedule_context, materialize

    from atlas_assets.definitions import assets
    from atlas_assets.resources import (
        DatabaseResource,
        NotifierResource,
        VaultResource,
        YouTubeResource,
    )
    from atlas_assets.runtime import AS_OF_TAG
    from atlas_assets.schedules import build_schedules

    os.environ["YOUTUBE_API_KEY_POOL_JSON"] = json.dumps([KEY])
    database = DatabaseResource(database_url=dsn, atlas_home=str(work / "home"))
    resources = {
        "database": database,
        "youtube": YouTubeResource(api_base_url=base_url),
        "vault": VaultResource(provider="local", local_path=str(work / "vault")),
        "notifier": NotifierResource(),
    }
    (work / "dagster").mkdir(parents=True, exist_ok=True)
    instance = DagsterInstance.local_temp(tempdir=str(work / "dagster"))  # schedules need a ref
    instance.add_dynamic_partitions("channels", channel_ids)
    _, discovery_schedule, _ = build_schedules(discovery_chunk=args.chunk)
    t0 = time.perf_counter()
    with build_schedule_context(
        instance, scheduled_execution_time=tick, resources={"database": database}
    ) as context:
        requests = discovery_schedule(context)  # type: ignore[operator]
    requests = requests if isinstance(requests, list) else []
    t_schedule = time.perf_counter() - t0
    checked = new = 0
    for request in requests:
        result = materialize(
            assets,
            selection=AssetSelection.assets("videos"),
            resources=resources,
            instance=instance,
            tags=request.tags,
            run_config=request.run_config,
        )
        assert result.success
        events = result.asset_materializations_for_node("videos")  # one per checked channel
        checked += len(events)
        new += sum(int(m.metadata["new_videos"].value) for m in events)  # type: ignore[arg-type]
    t_discovery = time.perf_counter() - t0
    refresh = materialize(
        assets,
        selection=AssetSelection.assets(
            "channels", "channel_stats_log", "video_stats_log", "velocity_anomalies"
        ),
        resources=resources,
        instance=instance,
        tags={AS_OF_TAG: tick.isoformat()},
    )
    assert refresh.success
    tick_s = time.perf_counter() - t0
    stats = refresh.asset_materializations_for_node("video_stats_log")[0].metadata
    tiers = {k: v.value for k, v in stats.items() if k.startswith("videos_")}
    print(
        f"discovery: schedule evaluated in {t_schedule:.1f}s, {len(requests)} runs, "
        f"{checked} channels checked, {new} new videos, {t_discovery:.1f}s; "
        f"refresh: units_planned={stats['units_planned'].value} "
        f"rows_written={stats['rows_written'].value} {tiers}; tick {tick_s:.1f}s",
        flush=True,
    )
    t1 = time.perf_counter()
    export = materialize(
        assets,
        selection=AssetSelection.assets("vault_partitions"),
        partition_key=(tick - timedelta(days=1)).date().isoformat(),  # the last whole day
        resources=resources,
        instance=instance,
    )
    assert export.success and all(c.passed for c in export.get_asset_check_evaluations())
    export_s = time.perf_counter() - t1
    meta = export.asset_materializations_for_node("vault_partitions")[0].metadata
    rows = {k: v.value for k, v in meta.items() if k.startswith("rows_")}
    print(f"export: {rows} in {export_s:.1f}s", flush=True)
    return {"tick_s": tick_s, "runs": len(requests) + 1, "export_s": export_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--channels", type=int, default=10_000)
    parser.add_argument("--videos", type=int, default=1_000_000)
    parser.add_argument("--chunk", type=int, default=500, help="channels per discovery run")
    args = parser.parse_args()

    from atlas_core.embedded import started_dsn, stop_server
    from atlas_core.migrate import migrate

    tick = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    start = tick - timedelta(hours=1)  # the world's videos were all published before it
    home = Path(tempfile.mkdtemp(prefix="atlas-bench-scale-"))
    home.chmod(0o755)
    spawn = mp.get_context("spawn")
    stop = spawn.Event()
    sim_out, sim_in = spawn.Pipe(duplex=False)
    # The simulator's clock runs from the tick: its answers are stamped (Date, the snapshots'
    # observed_at) just after the tick, as a scheduled run's would be; its world is the
    # loader's, an hour later, so the refresh sees the views the loader's last snapshot had.
    simulator = spawn.Process(target=serve, args=(args, tick, sim_in, stop), daemon=True)
    try:
        dsn = started_dsn(home)
        migrate(dsn)
        simulator.start()
        load_out, load_in = spawn.Pipe(duplex=False)
        loader = spawn.Process(target=load, args=(dsn, args, tick, start, load_in))
        loader.start()
        loaded = load_out.recv()
        loader.join()
        print(
            f"loaded {args.channels} channels / {args.videos} videos in {loaded['load_s']:.1f}s "
            f"(loader peak_rss_mb={loaded['rss_mb']:.0f})",
            flush=True,
        )
        base_url = sim_out.recv()
        result = tick_through_dagster(dsn, base_url, loaded["ids"], tick, args, home / "work")
        stop.set()
        served = sim_out.recv()
        simulator.join(timeout=30)
        print(
            f"simulator: {served['api_requests']} API requests, peak_rss_mb={served['rss_mb']:.0f}"
        )
    finally:
        stop.set()
        if simulator.is_alive():
            simulator.terminate()
        stop_server(home)
        shutil.rmtree(home, ignore_errors=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"videos={args.videos} tick_s={result['tick_s']:.1f} runs_per_tick={result['runs']} "
        f"peak_rss_mb={peak:.0f} export_s={result['export_s']:.1f}"
    )


if __name__ == "__main__":
    main()
