"""Two discoveries of one channel never overlap, however they were launched (issue 21):
the per-channel advisory lock, seen from the simulator's side."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from atlas_simulator import SimulatorServer

from atlas_core.pipeline import Services, discover_videos

START = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture
def sim() -> Iterator[SimulatorServer]:
    with SimulatorServer(seed=2, keys=["pk"], clock=lambda: START, channels=2, videos=4) as s:
        s.faults.latency = 0.3  # each call takes long enough for another to overlap it
        yield s


async def _watch(svc: Services, ids: list[str]) -> None:
    async with svc.db.get_connection() as conn:
        for cid in ids:
            await conn.execute("INSERT INTO watchlist (channel_id) VALUES (%s)", (cid,))


async def test_two_discoveries_of_one_channel_take_turns(
    svc: Services, sim: SimulatorServer
) -> None:
    channel = next(iter(sim.world.channels))
    await _watch(svc, [channel])
    first, second = await asyncio.gather(
        discover_videos(svc, channel), discover_videos(svc, channel)
    )
    assert sim.max_in_flight == 1, "the second discovery called the API during the first"
    # The second one started after the first had stored the channel and its videos: one
    # channels.list in all, and the uploads found new exactly once.
    assert len(sim.api_requests("channels")) == 1
    assert sorted([bool(first.new_ids), bool(second.new_ids)]) == [False, True]


async def test_discoveries_of_two_channels_run_side_by_side(
    svc: Services, sim: SimulatorServer
) -> None:
    a, b = list(sim.world.channels)[:2]
    await _watch(svc, [a, b])
    found = await asyncio.gather(discover_videos(svc, a), discover_videos(svc, b))
    assert sim.max_in_flight == 2, "discoveries of different channels were serialised"
    assert all(d.new_ids for d in found)
