"""Absurd numbers and text from the API are contained per item: a count outside 0..2^63-1
(or not a whole number) skips that one item with a ``youtube.item_skipped`` event, the rest of
the batch is stored; titles of channels and videos share one length cap; bidirectional
controls are kept as YouTube sent them but never reach a reader (Discord, the console)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import psycopg
from drills import START, open_services, sim_settings, simulator, watch_all

from atlas_core.notifications import AlertChannel, AlertLevel
from atlas_core.notifications.embeds import Alert, alert_embed
from atlas_core.pipeline import snapshot_video_stats
from atlas_core.pipeline.videos import discover_videos
from atlas_core.youtube.parsing import CHANNEL_TITLE_LIMIT as TITLE_LIMIT
from atlas_core.youtube.parsing import printable

RLO = "\u202e"  # RIGHT-TO-LEFT OVERRIDE: "gnp.exe" reads as "exe.png"
HUGE = 10**23  # past BIGINT and uint64


def _rows(dsn: str, query: str, *args: object) -> list[tuple[object, ...]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(query, args).fetchall()


async def test_one_absurd_count_skips_one_item_and_the_batch_is_stored(
    database_dsn: str, tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    with simulator(72) as sim:
        channel = sorted(sim.world.channels)[0]
        ids = sorted(v.id for v in sim.world.visible_videos(channel, START))
        huge, negative, long_title = (sim.world.videos[v] for v in ids[:3])
        long_title.title = "Evil" + RLO + "gnp.exe " + "t" * 13_000
        sim.world.channels[channel].title = "Chan" + RLO + "nel " + "c" * 400
        async with open_services(sim_settings(database_dsn, sim, tmp_path), tmp_path) as svc:
            await watch_all(svc, sim)  # the channels are stored (before their sums turn absurd)
            huge.views, huge.views_per_hour = HUGE, 0
            negative.views, negative.views_per_hour = -5, 0
            try:
                found = await discover_videos(svc, channel)
            finally:  # the valid videos of the batch that were not stored
                kept = "SELECT count(*) FROM videos WHERE id = ANY(%s)"
                [(stored,)] = _rows(database_dsn, kept, ids[2:])
                record_property("rows_lost", len(ids) - 2 - int(str(stored)))
            assert len(ids) > 20 and sorted(found.new_ids) == sorted(ids[2:])  # all but two
            assert huge.id not in found.missing and negative.id not in found.missing
            again = await snapshot_video_stats(svc, ids)  # a re-run does not fail either
            assert again.missing == []  # the skipped two are not reported deleted
    stored = _rows(database_dsn, "SELECT id FROM videos")
    assert {v for (v,) in stored} == set(ids[2:])
    skipped = _rows(
        database_dsn,
        "SELECT payload->>'problem' FROM system_events WHERE event_type = 'youtube.item_skipped'",
    )
    problems = " | ".join(str(p) for (p,) in skipped)
    assert huge.id in problems and negative.id in problems and "viewCount" in problems
    assert _rows(database_dsn, "SELECT count(*), min(views) >= 0 FROM video_stats_log") == [
        (len(ids) - 2, True)
    ]
    assert _rows(
        database_dsn, "SELECT count(*) FROM alert_outbox WHERE key LIKE 'video.missing%%'"
    ) == [(0,)]
    [(video_title,)] = _rows(database_dsn, "SELECT title FROM videos WHERE id = %s", long_title.id)
    [(channel_title,)] = _rows(database_dsn, "SELECT title FROM channels WHERE id = %s", channel)
    video_title, channel_title = str(video_title), str(channel_title)
    assert len(video_title) == len(channel_title) == TITLE_LIMIT  # one policy for both
    assert RLO in video_title and RLO in channel_title  # stored as YouTube sent it

    # Shown: no bidirectional control reaches Discord or the console.
    embed = alert_embed(
        Alert(
            str(video_title),
            str(channel_title),
            AlertChannel.HUNT,
            AlertLevel.WARNING,
            (("title", str(video_title)),),
        ),
        footer="Atlas · test",
    )
    assert RLO not in str(embed) and "gnp.exe" in embed["title"]
    assert RLO not in printable(str(video_title))
