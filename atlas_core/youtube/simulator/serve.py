"""``atlas simulator``: serve a simulated YouTube until Ctrl-C.

run(port=8765, seed=7, keys=["demo"], speed=60)   # prints channels, handles, keys
"""

from __future__ import annotations

import threading

from atlas_core.youtube.simulator.server import SimulatorServer


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
