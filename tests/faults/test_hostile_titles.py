"""Bad data from the API is contained: stored as sanitised, compared the way it is stored."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from drills import open_services, sim_settings, simulator, watch_all
from outbox_helpers import WATCH
from webhook_sink import WebhookSink

from atlas_core.database import DatabaseManager
from atlas_core.notifications import AlertChannel, DiscordNotifier
from atlas_core.pipeline import refresh_channels
from atlas_core.pipeline.alerts import deliver_alerts
from atlas_core.pipeline.channels import channel_row
from atlas_core.store.channels import upsert_channels
from atlas_core.youtube.parsing import parse_channel

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


async def test_a_long_nul_title_is_stored_and_never_reported_as_a_rename(
    db: DatabaseManager,
) -> None:
    item = {"id": "UC" + "b" * 22, "snippet": {"title": "\x00Hostile " + "y" * 300}}
    row = channel_row(parse_channel(item))
    async with db.get_connection() as conn:
        assert await upsert_channels(conn, [row], NOW) == []
        again = channel_row(parse_channel(item))
        assert await upsert_channels(conn, [again], NOW) == []  # same as stored: no rename
        cur = await conn.execute("SELECT title FROM channels")
        [(title,)] = await cur.fetchall()
    assert title == row.title and len(title) == 255 and title.startswith("Hostile")


HOSTILE = "\x00@everyone **FREE** [click](https://evil) <@&123> " + "z" * 300


async def test_a_hostile_channel_title_end_to_end(
    database_dsn: str, tmp_path: Path, sink: WebhookSink
) -> None:
    """From the API through the database and the outbox to Discord: one hostile title fails
    nothing, is stored sanitised, never reads as a rename, and cannot ping anyone."""
    with simulator(20) as sim:
        hostile, calm = sorted(sim.world.channels)
        sim.world.channels[hostile].title = HOSTILE
        notifier = DiscordNotifier({AlertChannel.SURVEILLANCE: sink.url(WATCH)})
        settings = sim_settings(database_dsn, sim, tmp_path)
        async with open_services(settings, tmp_path, notifier=notifier) as svc:
            await watch_all(svc, sim)  # the first refresh
            second = await refresh_channels(svc)
            assert second.renamed == []  # compared the way it is stored
            sim.world.channels[hostile].title = HOSTILE.replace("FREE", "GIFT")
            third = await refresh_channels(svc)
            assert [r.channel_id for r in third.renamed] == [hostile]
            delivered = await deliver_alerts(svc)
            async with svc.db.get_connection() as conn:
                cur = await conn.execute("SELECT id, title FROM channels ORDER BY id")
                stored = dict(await cur.fetchall())
    assert set(stored) == {hostile, calm}  # the other channel was not held back
    assert "\x00" not in stored[hostile] and len(stored[hostile]) == 255
    assert delivered.delivered == 1
    [post] = sink.delivered(WATCH)
    assert post.json["allowed_mentions"] == {"parse": []}
    assert "@everyone" not in json.dumps(post.json) and "**GIFT**" not in json.dumps(post.json)
