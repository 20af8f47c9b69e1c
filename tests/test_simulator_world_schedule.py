"""Scripting a simulator world's timeline: World.add_video, schedule_spike, shape_backlog."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from atlas_simulator import ManualClock, SimulatorServer, World
from youtube_helpers import START

from atlas_core.utils import validate_youtube_id

KEY = "sim-key-schedule"
HOUR = timedelta(hours=1)


def compact(**kwargs: object) -> World:
    return World(3, channels=4, videos=400, start=START, happenings=False, compact=True, **kwargs)


def test_an_added_upload_appears_when_published_in_a_compact_world() -> None:
    world = compact()
    cid = next(iter(world.channels))
    generated = len(world.channels[cid].video_ids)
    views_before = world.channel_views(cid, START + 3 * HOUR)
    video = world.add_video(cid, START + 2 * HOUR, views=10, views_per_hour=60)

    assert validate_youtube_id(video.id) and video.channel_id == cid
    assert video.id in world.videos and world.videos[video.id] is video
    assert len(world.videos) == 401
    assert video.id not in [v.id for v in world.visible_videos(cid, START + HOUR)]
    assert world.visible_count(cid, START + HOUR) == generated
    listed = world.visible_videos(cid, START + 2 * HOUR)
    assert listed[0] is video and len(listed) == generated + 1  # newest first
    assert world.visible_count(cid, START + 2 * HOUR) == generated + 1
    # an hour after publication: 10 + 60 views on top of what the channel had
    assert world.channel_views(cid, START + 3 * HOUR) - views_before == 70
    assert [(h.kind, h.video_id) for h in world.happenings] == [("upload", video.id)]

    past = world.add_video(cid, START - 24 * 30 * HOUR)  # backdated: among the generated
    ids = [v.id for v in world.visible_videos(cid, START)]
    published = [world.videos[v].published_at for v in ids]
    assert past.id in ids and published == sorted(published, reverse=True)
    assert len(world.happenings) == 1  # the past is no happening


def test_a_spike_on_a_generated_video_shows_in_it_and_its_channel() -> None:
    world = compact()
    cid = next(iter(world.channels))
    vid = world.channels[cid].video_ids[5]
    early = START + HOUR - timedelta(seconds=1)
    plain_early = world.videos[vid].views_at(early)
    plain = world.videos[vid].views_at(START + 3 * HOUR)
    channel_plain = world.channel_views(cid, START + 3 * HOUR)
    world.schedule_spike(vid, START + HOUR, views_per_hour=20_000, burst_views=500)

    spiked = world.videos[vid]  # rebuilt on lookup, spike included
    assert spiked.spike_at == START + HOUR
    assert spiked.views_at(early) == plain_early  # nothing before the spike
    assert spiked.views_at(START + 3 * HOUR) - plain == 40_500
    jump = world.channel_views(cid, START + 3 * HOUR) - channel_plain
    assert abs(jump - 40_500) <= 1
    other = next(c for c in world.channels if c != cid)
    assert world.channel_views(other, START + 3 * HOUR) == World(
        3, channels=4, videos=400, start=START, happenings=False, compact=True
    ).channel_views(other, START + 3 * HOUR)
    assert [h.kind for h in world.happenings] == ["view_spike"]
    with pytest.raises(KeyError):
        world.schedule_spike("nosuchvideo", START)


def test_shape_backlog_moves_and_paces_a_channels_generated_videos() -> None:
    world = compact()
    cid = next(iter(world.channels))
    newest = START - 24 * 40 * HOUR
    world.shape_backlog(cid, newest=newest, views_per_hour=500)

    videos = world.visible_videos(cid, START)
    assert videos[0].published_at == newest
    assert all(v.published_at <= newest for v in videos)
    assert sum(v.views_per_hour for v in videos) == pytest.approx(500)
    gained = world.channel_views(cid, START + 2 * HOUR) - world.channel_views(cid, START)
    assert abs(gained - 1_000) <= 1
    assert gained == pytest.approx(
        sum(v.views_at(START + 2 * HOUR) - v.views_at(START) for v in videos), abs=len(videos)
    )
    early = newest - 24 * 100 * HOUR  # part of the backlog is not out yet
    generated = [world.videos[v] for v in world.channels[cid].video_ids]
    out = [v for v in generated if v.visible_at(early)]
    assert 0 < len(out) < len(generated)
    assert [v.id for v in world.visible_videos(cid, early)] == [v.id for v in out]
    assert world.visible_count(cid, early) == len(out)
    assert world.channel_views(cid, early) == sum(v.views_at(early) for v in out)
    with pytest.raises(ValueError, match="start"):
        world.shape_backlog(cid, newest=START + HOUR)
    with pytest.raises(ValueError, match="compact"):
        World(3, start=START, happenings=False).shape_backlog(cid)


def test_a_full_world_keeps_added_videos_in_order_and_spikes_them() -> None:
    world = World(3, channels=3, videos=60, start=START, happenings=False)
    cid = next(iter(world.channels))
    before = world.channel_views(cid, START + 5 * HOUR)
    video = world.add_video(cid, START + HOUR, views_per_hour=100)
    world.schedule_spike(video.id, START + 2 * HOUR, views_per_hour=1_000)

    order = [world.videos[v].published_at for v in world.channels[cid].video_ids]
    assert order == sorted(order, reverse=True) and world.channels[cid].video_ids[0] == video.id
    assert world.channel_views(cid, START + 5 * HOUR) - before == 400 + 3_000
    assert [h.kind for h in world.happenings] == ["upload", "view_spike"]


def test_the_server_serves_a_scripted_timeline() -> None:
    """What the API answers follows the script as the clock moves: the new upload heads the
    uploads playlist once published, and the spike lifts the video's and channel's views."""
    clock = ManualClock(START)
    with SimulatorServer(
        seed=3, keys=[KEY], clock=clock, channels=4, videos=400, happenings=False, compact=True
    ) as sim:
        world = sim.world
        cid = next(iter(world.channels))
        upload = world.add_video(cid, START + 30 * timedelta(minutes=1))
        spiked = world.channels[cid].video_ids[3]
        world.schedule_spike(spiked, START + 2 * HOUR, views_per_hour=50_000)
        playlist = world.channels[cid].uploads_playlist_id

        def get(resource: str, **params: str) -> dict[str, object]:
            params["key"] = KEY
            response = httpx.get(f"{sim.base_url}/{resource}", params=params, timeout=10)
            assert response.status_code == 200
            return response.json()  # type: ignore[no-any-return]

        def newest() -> str:
            page = get("playlistItems", part="contentDetails", playlistId=playlist, maxResults="5")
            return page["items"][0]["contentDetails"]["videoId"]  # type: ignore[index]

        def views(resource: str, item_id: str) -> int:
            body = get(resource, part="statistics", id=item_id)
            return int(body["items"][0]["statistics"]["viewCount"])  # type: ignore[index]

        assert newest() != upload.id
        clock.advance(hours=1)
        assert newest() == upload.id
        assert views("videos", upload.id) == 0 + int(upload.views_per_hour * 0.5)
        video_before, channel_before = views("videos", spiked), views("channels", cid)
        clock.advance(hours=2)  # the spike has run an hour
        assert views("videos", spiked) - video_before > 50_000
        assert views("channels", cid) - channel_before > 50_000
