"""Pipeline steps called directly (no Dagster), against the simulator and a webhook sink."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from atlas_simulator import SimulatorServer
from webhook_sink import WebhookSink

from atlas_core.notifications import AlertChannel
from atlas_core.pipeline import Services, discover_videos, export_day, refresh_channels
from atlas_core.pipeline.alerts import deliver_alerts
from atlas_core.store.exports import day_count

START = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
GONE = "UCzzzzzzzzzzzzzzzzzzzzzA"  # well-formed, but no such channel in the world


@pytest.fixture
def sim() -> Iterator[SimulatorServer]:
    with SimulatorServer(seed=2, keys=["pk"], clock=lambda: START, channels=2, videos=4) as s:
        yield s


@pytest.fixture
def clock_state() -> dict[str, datetime]:
    return {"now": START}


@pytest.fixture
def svc_clock(clock_state: dict[str, datetime]) -> Callable[[], datetime]:
    return lambda: clock_state["now"]


@pytest.fixture
def svc_webhooks(sink: WebhookSink) -> dict[AlertChannel, str]:
    return {AlertChannel.SURVEILLANCE: sink.url("/api/webhooks/5/w")}


async def _watch(svc: Services, ids: list[str]) -> None:
    async with svc.db.get_connection() as conn:
        for cid in ids:
            await conn.execute("INSERT INTO watchlist (channel_id) VALUES (%s)", (cid,))


async def test_a_vanished_watched_channel_is_reported_once(
    svc: Services, sim: SimulatorServer, sink: WebhookSink
) -> None:
    await _watch(svc, [*sim.world.channels, GONE])
    for _ in range(2):
        found = await discover_videos(svc, GONE)
        assert found.missing == [GONE] and found.new_ids == []
        refreshed = await refresh_channels(svc)
        assert refreshed.missing == [GONE] and refreshed.refreshed == len(sim.world.channels)
    delivery = await deliver_alerts(svc)
    assert delivery.delivered == 1 and delivery.failed == 0
    alerts = [r.json["embeds"][0] for r in sink.delivered()]
    assert [a["title"] for a in alerts] == ["Watched channels disappeared"]
    assert GONE in json.dumps(alerts)
    assert await svc.events.recorded("channel.missing", [GONE]) == {GONE}


async def test_concurrent_discoveries_on_one_client_each_report_only_their_own_units(
    svc: Services, sim: SimulatorServer
) -> None:
    channel_ids = list(sim.world.channels)
    await _watch(svc, channel_ids)
    found = await asyncio.gather(*(discover_videos(svc, cid) for cid in channel_ids))
    for discovery in found:  # channels.list, one uploads page, videos.list per 50 new ids
        assert discovery.units == 2 + math.ceil(len(discovery.new_ids) / 50), discovery
    assert sum(d.units for d in found) == sim.units_used() == await svc.youtube.units_spent_today()


async def test_past_days_export_keeps_that_days_channels(
    svc: Services, sim: SimulatorServer, clock_state: dict[str, datetime]
) -> None:
    await _watch(svc, list(sim.world.channels))
    await refresh_channels(svc)
    clock_state["now"] = START + timedelta(days=1)
    await refresh_channels(svc)  # the next day's refresh touches every channel again
    day = START.date()
    counts = await export_day(svc.db, svc.vault, day)
    assert counts["channels"] == len(sim.world.channels)
    assert counts["channel_stats_log"] == len(sim.world.channels)
    async with svc.db.get_connection() as conn:
        assert await day_count(conn, "channels", date(2026, 11, 19)) == 0
