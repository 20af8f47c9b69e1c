"""``atlas-simulator``: serve a simulated YouTube until Ctrl-C.

atlas-simulator --port 8765 --seed 7 --speed 60     # prints channels, handles, keys
run(port=8765, seed=7, keys=["demo"], speed=60)     # the same from Python
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Sequence

from atlas_simulator.server import SimulatorServer


def run(
    *,
    port: int,
    seed: int,
    keys: list[str] | None = None,
    host: str = "127.0.0.1",
    speed: float = 1.0,
    channels: int = 6,
    videos: int | None = None,
) -> int:
    """Start the simulator, print what a client needs to know, serve until interrupted."""
    sim = SimulatorServer(
        seed=seed, host=host, port=port, keys=keys, speed=speed, channels=channels, videos=videos
    )
    with sim:
        world = sim.world
        print(f"YouTube simulator on {sim.url} (seed {seed}, speed x{speed:g})")
        print(f"  YOUTUBE_API_BASE_URL={sim.base_url}")
        print(f"  world JSON: {sim.url}/_sim/world")
        print("  accepted API keys: " + ", ".join(world.api_keys))
        print(f"  {len(world.channels)} channels:")
        for channel in world.channels.values():
            count = len(world.visible_videos(channel.id, sim.now()))
            print(f"    {channel.id}  {channel.handle:<24} {count:>4} videos  {channel.title}")
        print("  happenings (simulated time):")
        for happening in world.happenings:
            subject = happening.video_id or happening.channel_id
            when = f"{happening.at:%Y-%m-%d %H:%M}Z"
            print(f"    {when}  {happening.kind:<16} {subject}  {happening.detail}")
        print("Ctrl-C to stop.", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print("simulator stopped")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``atlas-simulator`` command."""
    parser = argparse.ArgumentParser(
        prog="atlas-simulator", description="Serve a simulated YouTube Data API v3."
    )
    parser.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 = any)")
    parser.add_argument("--seed", type=int, default=7, help="world seed (default 7)")
    parser.add_argument("--keys", help="accepted API keys, comma-separated (default: a demo key)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--speed", type=float, default=1.0, help="simulated seconds per second")
    parser.add_argument("--channels", type=int, default=6, help="channels in the world (default 6)")
    parser.add_argument("--videos", type=int, help="videos at start (default 10-40 per channel)")
    args = parser.parse_args(argv)
    keys = [k.strip() for k in args.keys.split(",") if k.strip()] if args.keys else None
    return run(
        port=args.port,
        seed=args.seed,
        keys=keys,
        host=args.host,
        speed=args.speed,
        channels=args.channels,
        videos=args.videos,
    )


if __name__ == "__main__":
    raise SystemExit(main())
