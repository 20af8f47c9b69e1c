"""The demo's own timeline (``atlas_simulator.story.DEMO_STORY``), accelerated: Atlas's real
pipeline steps run against the simulator at the demo's cadences with a manual clock, alerts
go through the outbox to a Discord stand-in. Every scripted beat must produce exactly its
alert, nothing else may alert, and today's vault partition must hold rows."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pyarrow.dataset as ds
import pytest
from atlas_simulator import DEMO_STORY, ManualClock, SimulatorServer
from atlas_simulator.story import (
    DEMO_CHANNELS,
    DEMO_VIDEOS,
    DISCOVER_EVERY_HOURS,
    REFRESH_EVERY_HOURS,
)
from dagster import DagsterInstance, materialize
from webhook_sink import Recorded, WebhookSink

from atlas_assets import partitions
from atlas_assets.assets.vault import vault_partitions
from atlas_assets.resources import DatabaseResource, VaultResource
from atlas_core.config import Settings, load_settings
from atlas_core.database import DatabaseManager
from atlas_core.pipeline import (
    Services,
    discover_channels,
    embed_new_videos,
    refresh_channels,
    scan_anomalies,
    snapshot_video_stats,
)
from atlas_core.pipeline.alerts import deliver_alerts
from atlas_core.pipeline.planning import due_channels, plan_video_refresh
from atlas_core.pipeline.watch import watch_channels
from atlas_core.youtube import YouTubeClient

START = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
SEED = 7  # atlas demo's default world
KEY = "sim-demo-story-key"
HOOKS = {
    "DISCORD_WEBHOOK_SURVEILLANCE": "/api/webhooks/1/surveillance",
    "DISCORD_WEBHOOK_HUNT": "/api/webhooks/2/hunt",
    "DISCORD_WEBHOOK_OPS": "/api/webhooks/3/ops",
    "DISCORD_WEBHOOK_ALERTS": "/api/webhooks/4/alerts",
}
END_HOURS = 10.0  # the story's last beat plus two refreshes and a discovery
# (kind, alert title, webhook) each beat must produce; what identifies its subject is below.
EXPECTED = {
    "reupload": ("Possible re-upload", HOOKS["DISCORD_WEBHOOK_HUNT"]),
    "channel_renamed": ("Channel renamed", HOOKS["DISCORD_WEBHOOK_SURVEILLANCE"]),
    "video_deleted": ("Videos disappeared", HOOKS["DISCORD_WEBHOOK_SURVEILLANCE"]),
    "view_spike": ("Views velocity anomaly", HOOKS["DISCORD_WEBHOOK_SURVEILLANCE"]),
}


def demo_world(clock: ManualClock) -> SimulatorServer:
    """``atlas demo``'s world and story on ``clock``, with the tests' key."""
    return SimulatorServer(
        seed=SEED,
        keys=[KEY],
        clock=clock,
        channels=DEMO_CHANNELS,
        videos=DEMO_VIDEOS,
        story=DEMO_STORY,
    )


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def sink() -> Iterator[WebhookSink]:
    with WebhookSink() as server:
        yield server


def story_settings(dsn: str, home: Path, sim: SimulatorServer, sink: WebhookSink) -> Settings:
    return load_settings(
        _env_file=None,
        DATABASE_URL=dsn,
        ATLAS_HOME=home,
        YOUTUBE_API_BASE_URL=sim.base_url,
        YOUTUBE_API_KEY_POOL_JSON=json.dumps([KEY]),
        YOUTUBE_RETRY_DELAY_SECONDS=0.01,
        **{name: sink.url(path) for name, path in HOOKS.items()},
    )


class Demo:
    """The demo's schedules, played by hand: the watchlist sensor's first discovery, then
    refresh and discovery ticks at the demo's cadences, each followed by an alert drain."""

    def __init__(self, settings: Settings, db: DatabaseManager, clock: ManualClock) -> None:
        self.settings, self.db, self.clock = settings, db, clock

    @asynccontextmanager
    async def step(self) -> AsyncIterator[Services]:
        tick = self.clock()
        async with Services.open(self.settings, db=self.db, clock=lambda: tick) as svc:
            yield svc

    async def seed(self, handles: list[str]) -> None:
        async with YouTubeClient(self.settings, self.db) as youtube:
            outcomes = await watch_channels(self.db, youtube, handles)
        assert all(o.status == "added" for o in outcomes), outcomes

    async def discover(self) -> None:
        """The discover_uploads schedule: the planner's due channels, then their runs."""
        due = await due_channels(self.db, self.settings, self.clock())
        async with self.step() as svc:
            await discover_channels(svc, due)

    async def refresh(self) -> None:
        async with self.step() as svc:
            await refresh_channels(svc)
            plan = await plan_video_refresh(svc)
            await snapshot_video_stats(svc, plan.video_ids)
            await scan_anomalies(svc)
            await embed_new_videos(svc)

    async def deliver(self) -> None:
        async with self.step() as svc:
            await deliver_alerts(svc)  # due times are the database's (wall clock)

    async def play(self, phase: float) -> None:
        """Ticks at ``phase + k * cadence`` simulated hours (cron ticks do not line up with
        the simulator's start), until END_HOURS."""
        ticks: list[tuple[float, str]] = [(0.5, "discover")]
        for every, what in ((REFRESH_EVERY_HOURS, "refresh"), (DISCOVER_EVERY_HOURS, "discover")):
            at = phase % every
            while at <= END_HOURS:
                if at > 0.5:  # the first discovery is the sensor's
                    ticks.append((at, what))
                at += every
        for hours, what in sorted(ticks):
            self.clock.set(START + timedelta(hours=hours))
            await (self.refresh() if what == "refresh" else self.discover())
            await self.deliver()


def subject_of(request: Recorded) -> str:
    return json.dumps(request.json)


@pytest.mark.parametrize("phase", [0.0, 1.25])
async def test_the_demo_story_alerts_each_beat_once_and_nothing_else(
    database_dsn: str, tmp_path: Path, clock: ManualClock, sink: WebhookSink, phase: float
) -> None:
    with demo_world(clock) as sim:
        settings = story_settings(database_dsn, tmp_path / "home", sim, sink)
        db = DatabaseManager(settings=settings, min_size=1, max_size=4, timeout=10)
        try:
            demo = Demo(settings, db, clock)
            await demo.seed([c.handle for c in sim.world.channels.values()])
            await demo.play(phase)
        finally:
            await db.close()
        happenings = sim.world.happenings

    posts = sink.delivered()
    assert len(sink.requests) == len(posts)  # every post was accepted
    titles = sorted((r.json["embeds"][0]["title"], r.path) for r in posts)
    assert titles == sorted(EXPECTED.values()), titles  # one alert per beat, nothing else
    assert {b.alert for b in DEMO_STORY if b.alert} == {t for t, _ in EXPECTED.values()}

    by_title = {r.json["embeds"][0]["title"]: r for r in posts}
    for happening in happenings:
        if happening.kind not in EXPECTED:
            continue
        post = by_title[EXPECTED[happening.kind][0]]
        text = subject_of(post)
        assert (happening.video_id or happening.channel_id) in text, (happening, text)
        if happening.kind == "reupload":  # names the original and carries the evidence
            assert happening.detail.removeprefix("copy of ") in text
            [(name, image)] = post.files.values()
            assert name.endswith(".jpg") and image[:2] == b"\xff\xd8"
        if happening.kind == "channel_renamed":
            assert happening.detail in text


def test_today_is_an_open_partition_the_export_fills(
    database_dsn: str, tmp_path: Path, sink: WebhookSink
) -> None:
    """A vault_partitions run for today (the partition Dagster adds with end_offset=1)
    writes the rows stamped today, and its blocking check passes while the day is open."""
    now = datetime.now(UTC)
    today = now.date().isoformat()
    assert partitions.daily.get_last_partition_key() == today
    clock = ManualClock(datetime.combine(now.date(), time(0, 1), UTC))  # stamps fall on today
    with SimulatorServer(seed=SEED, keys=[KEY], clock=clock, channels=2, videos=12) as sim:
        settings = story_settings(database_dsn, tmp_path / "home", sim, sink)

        async def one_refresh() -> None:
            db = DatabaseManager(settings=settings, min_size=1, max_size=2, timeout=10)
            try:
                demo = Demo(settings, db, clock)
                await demo.seed([c.id for c in sim.world.channels.values()])
                await demo.discover()
                clock.advance(minutes=5)
                await demo.refresh()
            finally:
                await db.close()

        asyncio.run(one_refresh())
    vault = tmp_path / "vault"
    result = materialize(
        [vault_partitions],
        partition_key=today,
        resources={
            "database": DatabaseResource(database_url=database_dsn, atlas_home=str(tmp_path)),
            "vault": VaultResource(provider="local", local_path=str(vault)),
        },
        instance=DagsterInstance.ephemeral(),
    )
    assert result.success
    [check] = result.get_asset_check_evaluations()
    assert check.passed
    table = ds.dataset(vault / "video_stats_log" / f"dt={today}").to_table()
    assert table.num_rows == 2 * 12  # discovery's snapshot and the refresh's, of 12 videos
