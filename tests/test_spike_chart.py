"""A view spike's alert carries its chart: the demo story played against the demo's own
Discord stand-in (``atlas_simulator.inbox.DiscordInbox``), which saves attachments under
``alerts/`` the way ``atlas demo`` does, and the console line names the chart file."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from atlas_simulator import ManualClock
from atlas_simulator.demo import alert_line
from atlas_simulator.inbox import DiscordInbox, InboxMessage
from PIL import Image
from test_demo_story import KEY, START, Demo, demo_world

from atlas_core.analysis import charts
from atlas_core.config import load_settings
from atlas_core.database import DatabaseManager
from atlas_core.storage import LocalVault

WEBHOOKS = {
    "DISCORD_WEBHOOK_SURVEILLANCE": "surveillance",
    "DISCORD_WEBHOOK_HUNT": "hunt",
    "DISCORD_WEBHOOK_OPS": "ops",
    "DISCORD_WEBHOOK_ALERTS": "alerts",
}


def _marker_pixels(png: bytes, x: int, y: int, radius: int = 6) -> int:
    """Pixels of the spike's colour within ``radius`` of (x, y)."""
    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    target = np.array([int(charts.SPIKE_COLOUR[i : i + 2], 16) for i in (1, 3, 5)])
    box = rgb[max(y - radius, 0) : y + radius + 1, max(x - radius, 0) : x + radius + 1]
    return int((np.abs(box - target).sum(axis=2) < 30).sum())


@pytest.mark.timeout(900)  # the whole story: minutes on a loaded two-core machine
async def test_the_spike_alert_carries_its_chart_saved_beside_it(
    database_dsn: str, tmp_path: Path
) -> None:
    clock = ManualClock(START)
    messages: list[InboxMessage] = []
    with (
        DiscordInbox(messages.append, tmp_path / "home" / "alerts") as inbox,
        demo_world(clock) as sim,
    ):
        settings = load_settings(
            _env_file=None,
            DATABASE_URL=database_dsn,
            ATLAS_HOME=tmp_path / "home",
            YOUTUBE_API_BASE_URL=sim.base_url,
            YOUTUBE_API_KEY_POOL_JSON=json.dumps([KEY]),
            YOUTUBE_RETRY_DELAY_SECONDS=0.01,
            **{name: inbox.url(channel) for name, channel in WEBHOOKS.items()},
        )
        db = DatabaseManager(settings=settings, min_size=1, max_size=4, timeout=10)
        try:
            demo = Demo(settings, db, clock)
            await demo.seed([c.handle for c in sim.world.channels.values()])
            await demo.play(0.0)
        finally:
            await db.close()
        [spike] = [h for h in sim.world.happenings if h.kind == "view_spike"]

    [message] = [
        m for m in messages if m.embeds and m.embeds[0]["title"] == "Views velocity anomaly"
    ]
    assert message.channel == "surveillance"
    [saved] = message.files
    assert saved.parent == tmp_path / "home" / "alerts" and saved.suffix == ".png"
    assert spike.video_id in saved.name  # evidence/<video>/spike-<at>.png, attached by name
    embed = message.embeds[0]
    assert embed["image"]["url"] == f"attachment://{saved.name.split('-', 1)[1]}"
    line = alert_line(message.channel, embed, message.files)
    assert f"[chart: {saved}]" in line, line

    png = saved.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) < 100_000
    image = Image.open(io.BytesIO(png))
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    chart_path = fields["chart"]
    vault_copy = LocalVault(tmp_path / "home" / "vault").fetch_bytes(chart_path)
    assert vault_copy == png  # the vault's evidence is what was attached
    assert chart_path == f"evidence/{spike.video_id}/{saved.name.split('-', 1)[1]}"

    # Redrawn from the same snapshots, the chart is the same picture; its series show the spike.
    at = datetime.strptime(fields["at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    db = DatabaseManager(settings=settings, min_size=1, max_size=2, timeout=10)
    try:
        from atlas_core.store import reports as store

        async with db.get_connection() as conn:
            points = await store.video_view_points(conn, spike.video_id, at - charts.WINDOW, at)
            owner = await store.video_channel(conn, spike.video_id)
            series = await store.channel_series(conn, spike.channel_id, at - charts.WINDOW, at)
    finally:
        await db.close()
    assert owner is not None
    rate = float(fields["views_per_hour"].replace(",", ""))
    previous = float(fields["previous_per_hour"].replace(",", ""))
    confirmed = image.size == (charts.WIDTH, charts.SPIKE_HEIGHT_WITH_CHANNEL)
    redrawn = charts.spike_chart(
        points,
        at=at,
        rate=rate,
        baseline=previous,
        title=f"{spike.video_id} · {owner[1]}"[:60],
        channel_points=[(p.at, p.views) for p in series if p.views is not None]
        if confirmed
        else None,
    )
    # The alert's fields round the rates, so the redrawn chart may differ in a few pixels.
    mine = np.asarray(Image.open(io.BytesIO(redrawn.png)).convert("RGB")).astype(int)
    sent = np.asarray(image.convert("RGB")).astype(int)
    assert mine.shape == sent.shape and (np.abs(mine - sent).sum(axis=2) > 0).mean() < 0.01
    assert image.size == (redrawn.width, redrawn.height)
    assert image.size[0] <= 520  # Discord embed width
    # The spike's interval is the last one plotted and rises far above the baseline band.
    assert redrawn.video.edges[-1] == 0.0
    assert redrawn.spike == (0.0, rate) and rate >= redrawn.threshold > redrawn.band[1]
    assert all(r < redrawn.threshold for r in redrawn.video.rates[:-1] if r == r)
    if confirmed:  # the demo's spike lands on a weekly-refreshed video: the channel confirms
        assert redrawn.channel is not None and max(redrawn.channel.rates) > 0
    x, y = redrawn.spike_pixel
    assert x > image.size[0] * 0.8 and y < image.size[1] * 0.5  # top right: high and recent
    assert _marker_pixels(png, x, y) > 40  # the marker is drawn there
    assert _marker_pixels(png, 40, y) == 0  # and not at the window's start


def test_the_chart_is_deterministic_small_and_marks_the_spike() -> None:
    at = datetime(2026, 11, 20, 13, 30, tzinfo=UTC)
    # As the store reads them: the window's snapshots and the last one before it (-50 h).
    points = [(at - timedelta(hours=2 * k), 1_000 * (30 - k)) for k in range(25, 0, -1)]
    points.append((at, points[-1][1] + 90_000))
    one = charts.spike_chart(points, at=at, rate=45_000, baseline=500, title="v")
    two = charts.spike_chart(points, at=at, rate=45_000, baseline=500, title="v")
    assert one.png == two.png and len(one.png) < 100_000
    assert Image.open(io.BytesIO(one.png)).size == (charts.WIDTH, charts.SPIKE_HEIGHT)
    assert one.channel is None and one.band == (500.0, 500.0)
    assert one.video.rates[-1] == 45_000.0 and one.video.rates[0] == 500.0
    assert one.video.edges[:2] == [-50.0, -48.0]  # the interval that enters the window
    assert b"Software" not in one.png and b"Creation" not in one.png
    assert _marker_pixels(one.png, *one.spike_pixel) > 40


def test_steps_that_do_not_draw_never_import_matplotlib() -> None:
    code = (
        "import sys, atlas_core.pipeline, atlas_core.pipeline.signals, atlas_assets.definitions;"
        "print('matplotlib' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "False", out.stderr


def test_a_channel_confirmed_spike_has_the_channel_panel_below() -> None:
    at = datetime(2026, 11, 20, 13, 30, tzinfo=UTC)
    video = [(at - timedelta(days=7), 10_000), (at, 10_000 + 7 * 24 * 50 + 100_000)]
    channel = [(at - timedelta(hours=h), 5_000_000 - 2_000 * h) for h in (6, 4, 2)]
    channel.append((at, channel[-1][1] + 100_000))
    chart = charts.spike_chart(
        video, at=at, rate=50_050, baseline=50, title="v", channel_points=channel
    )
    assert Image.open(io.BytesIO(chart.png)).size == (
        charts.WIDTH,
        charts.SPIKE_HEIGHT_WITH_CHANNEL,
    )
    assert chart.channel is not None and chart.channel.edges == [-6.0, -4.0, -2.0, 0.0]
    assert chart.channel.rates == [2_000.0, 2_000.0, 50_000.0]
    assert len(chart.png) < 100_000 and _marker_pixels(chart.png, *chart.spike_pixel) > 40
