"""A local YouTube Data API v3 for tests, benchmarks and the demo.

    from atlas_simulator import SimulatorServer
    with SimulatorServer(seed=7) as sim:
        print(sim.base_url, sim.world.api_keys)     # put these in YOUTUBE_API_BASE_URL / keys

Or from a shell: ``atlas-simulator --port 8765 --seed 7 --keys k1,k2``.

A test peer and demo prop, not part of the library: its own top-level package, shipped in the
``atlas`` wheel beside ``atlas_core`` and ``atlas_assets``, which never import it (only the
``atlas demo`` command does, when it runs).
"""

from atlas_simulator.clock import ManualClock
from atlas_simulator.server import FAULT_KINDS, Faults, RequestRecord, SimulatorServer
from atlas_simulator.story import DEMO_STORY, Beat
from atlas_simulator.world import DEMO_KEY, Happening, World, iso_duration

__all__ = [
    "DEMO_KEY",
    "DEMO_STORY",
    "FAULT_KINDS",
    "Beat",
    "Faults",
    "Happening",
    "ManualClock",
    "RequestRecord",
    "SimulatorServer",
    "World",
    "iso_duration",
]
