"""The weekly channel report, materialized for the current week after a small demo world's
first runs: a PNG and a Markdown summary per watched channel land in the vault, the digest
of the biggest movers goes through the outbox to SURVEILLANCE, and the asset's metadata
shows it as Markdown."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from atlas_simulator import ManualClock, SimulatorServer
from dagster import DagsterInstance, MetadataValue, build_schedule_context, materialize
from PIL import Image
from test_demo_story import HOOKS, KEY, SEED, Demo, story_settings
from webhook_sink import WebhookSink

from atlas_assets.assets.reports import weekly, weekly_channel_reports, weekly_report_schedule
from atlas_assets.resources import DatabaseResource, VaultResource
from atlas_core.analysis import charts
from atlas_core.database import DatabaseManager
from atlas_core.pipeline.reports import week_label
from atlas_core.storage import LocalVault


@pytest.fixture
def sink() -> WebhookSink:
    with WebhookSink() as server:
        yield server  # type: ignore[misc]


def test_the_weekly_report_of_the_current_week_lands_in_the_vault(
    database_dsn: str, tmp_path: Path, sink: WebhookSink
) -> None:
    now = datetime.now(UTC)
    week = weekly.get_last_partition_key()
    assert week is not None
    monday = datetime.fromisoformat(week).date()
    assert monday.weekday() == 0 and monday <= now.date() < monday + timedelta(days=7)
    clock = ManualClock(datetime.combine(now.date(), time(0, 1), UTC))
    home = tmp_path / "home"
    with SimulatorServer(seed=SEED, keys=[KEY], clock=clock, channels=4, videos=16) as sim:
        settings = story_settings(database_dsn, home, sim, sink)
        channel_ids = sorted(sim.world.channels)

        async def runs() -> None:
            db = DatabaseManager(settings=settings, min_size=1, max_size=2, timeout=10)
            try:
                demo = Demo(settings, db, clock)
                await demo.seed(channel_ids)
                await demo.discover()
                for _ in range(2):
                    clock.advance(minutes=30)
                    await demo.refresh()
            finally:
                await db.close()

        asyncio.run(runs())

    vault_dir = home / "vault"
    resources = {
        "database": DatabaseResource(database_url=database_dsn, atlas_home=str(home)),
        "vault": VaultResource(provider="local", local_path=str(vault_dir)),
    }
    for _ in range(2):  # a re-run rewrites the same files and alerts once
        result = materialize(
            [weekly_channel_reports],
            partition_key=week,
            resources=resources,
            instance=DagsterInstance.ephemeral(),
        )
        assert result.success
    [materialization] = result.asset_materializations_for_node("weekly_channel_reports")
    metadata = materialization.metadata
    label = week_label(monday)
    assert metadata["week"].value == label and metadata["channels"].value == len(channel_ids)
    assert metadata["digest_alerted"].value is False  # the first run enqueued it
    digest = metadata["digest"]
    assert isinstance(digest, type(MetadataValue.md(""))) and "Biggest movers" in digest.value

    vault = LocalVault(vault_dir)
    files = vault.list_files(f"reports/{label}/")
    assert files == sorted(
        f"reports/{label}/{cid}.{ext}" for cid in channel_ids for ext in ("md", "png")
    )
    for cid in channel_ids:
        png = vault.fetch_bytes(f"reports/{label}/{cid}.png")
        assert png is not None and len(png) < 100_000
        assert Image.open(io.BytesIO(png)).size == (charts.WIDTH, charts.REPORT_HEIGHT)
        text = (vault.fetch_bytes(f"reports/{label}/{cid}.md") or b"").decode()
        title = sim.world.channels[cid].title
        assert text.startswith(f"# {title} — week {label}")
        assert "## Growth" in text and "## Top videos of the week" in text
        assert "## Alerts of the week" in text
    # The three biggest movers, largest first, each named in the digest.
    movers = [line for line in digest.value.splitlines() if line[:2] in ("1.", "2.", "3.")]
    assert len(movers) == 3
    gains = [int(m.split("): ")[1].split(" views")[0].replace(",", "")) for m in movers]
    assert gains == sorted(gains, reverse=True) and gains[0] > 0

    # Delivered like any alert: the outbox's drain posts it to SURVEILLANCE.
    async def deliver() -> None:
        from atlas_core.pipeline import Services
        from atlas_core.pipeline.alerts import deliver_alerts

        db = DatabaseManager(settings=settings, min_size=1, max_size=2, timeout=10)
        try:
            async with Services.open(settings, db=db) as svc:
                await deliver_alerts(svc)
        finally:
            await db.close()

    asyncio.run(deliver())
    posts = [
        r for r in sink.delivered() if r.json["embeds"][0]["title"] == f"Weekly report {label}"
    ]
    assert len(posts) == 1 and posts[0].path == HOOKS["DISCORD_WEBHOOK_SURVEILLANCE"]


def test_the_schedule_asks_for_the_week_that_just_ended() -> None:
    tick = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)  # a Monday
    request = weekly_report_schedule(build_schedule_context(scheduled_execution_time=tick))
    assert request.partition_key == "2026-11-23"  # type: ignore[union-attr]
    assert "2026-11-23" in weekly.get_partition_keys(current_time=tick)
