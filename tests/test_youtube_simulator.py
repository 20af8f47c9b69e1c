"""The YouTube simulator, checked against YouTube's own discovery document and client."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta

import httpx
import numpy as np
import pytest
from atlas_simulator import ManualClock, SimulatorServer, World
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError
from PIL import Image
from youtube_helpers import START, DiscoverySchema

from atlas_core.utils import validate_channel_id, validate_youtube_id

KEY = "sim-key-one"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def sim(clock: ManualClock) -> Iterator[SimulatorServer]:
    with SimulatorServer(seed=11, keys=[KEY], clock=clock) as server:
        yield server


def get(
    sim: SimulatorServer, resource: str, key: str | None = KEY, **params: str
) -> httpx.Response:
    if key is not None:
        params["key"] = key
    return httpx.get(f"{sim.base_url}/{resource}", params=params, timeout=10)


def test_world_is_deterministic_from_the_seed_and_small_by_default() -> None:
    a, b = World(5, start=START), World(5, start=START)
    assert list(a.channels) == list(b.channels) and list(a.videos) == list(b.videos)
    assert list(World(6, start=START).channels) != list(a.channels)
    assert 5 <= len(a.channels) <= 8
    for channel in a.channels.values():
        assert validate_channel_id(channel.id)
        assert 10 <= len(a.visible_videos(channel.id, START)) <= 40
    assert all(validate_youtube_id(v) for v in a.videos)
    big = World(1, channels=200, videos=10_000, start=START, happenings=False)
    assert sum(len(big.visible_videos(c, START)) for c in big.channels) == 10_000


def test_world_json_lists_keys_channels_handles_and_videos(sim: SimulatorServer) -> None:
    world = httpx.get(sim.url + "/_sim/world").json()
    assert world["api_keys"] == [KEY]
    assert world["channel_ids"] == list(sim.world.channels)
    assert all(h.startswith("@") for h in world["handles"])
    assert len(world["video_ids"]) == sum(len(c["video_ids"]) for c in world["channels"])
    kinds = {h["kind"] for h in world["happenings"]}
    assert {
        "view_spike",
        "channel_renamed",
        "video_deleted",
        "subscriber_drop",
        "reupload",
    } <= kinds
    assert SimulatorServer(seed=1).world.api_keys == ["sim-demo-key"]  # the default demo key


def test_every_endpoint_validates_against_the_discovery_document(sim: SimulatorServer) -> None:
    schema = DiscoverySchema()
    channel_ids = list(sim.world.channels)
    channels = get(
        sim,
        "channels",
        part="id,snippet,contentDetails,statistics,topicDetails,status",
        id=",".join(channel_ids),
    )
    assert channels.status_code == 200
    schema.check(channels.json(), "ChannelListResponse")
    assert len(channels.json()["items"]) == len(channel_ids)
    by_handle = get(
        sim, "channels", part="snippet", forHandle=sim.world.channels[channel_ids[0]].handle
    )
    schema.check(by_handle.json(), "ChannelListResponse")
    video_ids = sim.world_json()["video_ids"][:50]
    videos = get(
        sim,
        "videos",
        part="id,snippet,contentDetails,statistics,topicDetails,status",
        id=",".join(video_ids),
    )
    schema.check(videos.json(), "VideoListResponse")
    assert [v["id"] for v in videos.json()["items"]] == video_ids
    playlist = sim.world.channels[channel_ids[0]].uploads_playlist_id
    items = get(
        sim,
        "playlistItems",
        part="id,snippet,contentDetails,status",
        playlistId=playlist,
        maxResults="10",
    )
    schema.check(items.json(), "PlaylistItemListResponse")
    assert items.json()["nextPageToken"] and len(items.json()["items"]) == 10
    assert schema.fields_checked > 2000


def test_absent_ids_are_left_out_the_way_youtube_does(sim: SimulatorServer) -> None:
    nothing = get(sim, "channels", part="snippet", id="UC" + "A" * 22).json()
    assert "items" not in nothing and nothing["pageInfo"]["totalResults"] == 0
    videos = get(sim, "videos", part="snippet", id="AAAAAAAAAAA").json()
    assert videos["items"] == []
    missing = get(sim, "playlistItems", part="snippet", playlistId="UUnope")
    assert missing.status_code == 404
    assert missing.json()["error"]["errors"][0]["reason"] == "playlistNotFound"


def test_parameter_mistakes_get_youtube_errors(sim: SimulatorServer) -> None:
    def reason(response: httpx.Response) -> tuple[int, str]:
        return response.status_code, response.json()["error"]["errors"][0]["reason"]

    assert reason(get(sim, "videos", id="x")) == (400, "required")
    assert reason(get(sim, "videos", part="snippet,fileDetails", id="x")) == (400, "unknownPart")
    assert reason(get(sim, "channels", part="id")) == (400, "missingRequiredParameter")
    playlist = next(iter(sim.world.channels.values())).uploads_playlist_id
    assert reason(get(sim, "playlistItems", part="id", playlistId=playlist, maxResults="51")) == (
        400,
        "invalidParameter",
    )
    assert reason(get(sim, "playlistItems", part="id", playlistId=playlist, pageToken="zz")) == (
        400,
        "invalidPageToken",
    )
    assert reason(get(sim, "videos", part="id", id=",".join(["AAAAAAAAAAA"] * 51))) == (
        400,
        "invalidFilters",
    )
    search = get(sim, "search", part="snippet", q="cats")
    assert search.status_code == 403 and "search.list" in search.json()["error"]["message"]
    assert sim.units_used() == 106  # parameter errors cost a unit, a search call 100


def test_keys_and_daily_quota_are_enforced_with_youtube_error_bodies(clock: ManualClock) -> None:
    with SimulatorServer(seed=3, keys=["a", "b"], clock=clock, daily_quota={"a": 2}) as sim:
        assert (
            get(sim, "videos", key=None, part="id", id="x").json()["error"]["errors"][0]["reason"]
            == "forbidden"
        )
        invalid = get(sim, "videos", key="zzz", part="id", id="x")
        assert invalid.status_code == 400
        assert invalid.json()["error"]["details"][0]["reason"] == "API_KEY_INVALID"
        assert get(sim, "videos", key="a", part="id", id="x").status_code == 200
        assert get(sim, "videos", key="a", part="id", id="x").status_code == 200
        spent = get(sim, "videos", key="a", part="id", id="x")
        assert spent.status_code == 403
        error = spent.json()["error"]
        assert error["errors"][0] == {
            "message": error["message"],
            "domain": "youtube.quota",
            "reason": "quotaExceeded",
        }
        assert get(sim, "videos", key="b", part="id", id="x").status_code == 200
        clock.advance(hours=20)  # 2026-01-08 08:00 UTC is midnight in Los Angeles
        assert get(sim, "videos", key="a", part="id", id="x").status_code == 200
        assert sim.units_used(0) == 1


def test_happenings_follow_the_clock(sim: SimulatorServer, clock: ManualClock) -> None:
    world = sim.world
    spikes = [h for h in world.happenings if h.kind == "view_spike"]
    renamed = next(h for h in world.happenings if h.kind == "channel_renamed")
    deleted = next(h for h in world.happenings if h.kind == "video_deleted")
    dropped = next(h for h in world.happenings if h.kind == "subscriber_drop")
    reupload = next(h for h in world.happenings if h.kind == "reupload")

    def video(video_id: str) -> dict[str, object] | None:
        items = get(sim, "videos", part="statistics", id=video_id).json()["items"]
        return items[0] if items else None

    def channel(channel_id: str) -> dict[str, dict[str, str]]:
        return get(sim, "channels", part="snippet,statistics", id=channel_id).json()["items"][0]

    before_views = int(video(spikes[0].video_id)["statistics"]["viewCount"])  # type: ignore[index]
    before_title = channel(renamed.channel_id)["snippet"]["title"]
    before_subs = int(channel(dropped.channel_id)["statistics"]["subscriberCount"])
    uploads = world.channels[reupload.channel_id].uploads_playlist_id
    before_uploads = get(
        sim, "playlistItems", part="contentDetails", playlistId=uploads, maxResults="50"
    ).json()["pageInfo"]["totalResults"]
    assert video(deleted.video_id) is not None and video(reupload.video_id) is None

    clock.advance(hours=6)
    after_views = int(video(spikes[0].video_id)["statistics"]["viewCount"])  # type: ignore[index]
    assert after_views - before_views > 200_000  # 50k views an hour for five hours
    assert channel(renamed.channel_id)["snippet"]["title"] == renamed.detail != before_title
    assert int(channel(dropped.channel_id)["statistics"]["subscriberCount"]) < before_subs * 0.8
    assert video(deleted.video_id) is None
    assert video(reupload.video_id) is not None
    after_uploads = get(
        sim, "playlistItems", part="contentDetails", playlistId=uploads, maxResults="50"
    ).json()
    assert after_uploads["pageInfo"]["totalResults"] > before_uploads
    assert after_uploads["items"][0]["contentDetails"]["videoId"] in {
        h.video_id for h in world.happenings if h.kind in ("reupload", "upload")
    }


def test_speed_scales_simulated_time(clock: ManualClock) -> None:
    with SimulatorServer(seed=2, clock=clock, speed=60) as sim:
        clock.advance(minutes=2)
        assert sim.now() - START == timedelta(hours=2)


def _ahash(jpeg: bytes) -> np.ndarray:
    pixels = np.asarray(Image.open(io.BytesIO(jpeg)).convert("L").resize((16, 16)), dtype=float)
    return pixels > pixels.mean()


def test_thumbnails_are_jpegs_at_youtube_sizes_and_reuploads_look_alike(
    sim: SimulatorServer, clock: ManualClock
) -> None:
    clock.advance(hours=6)
    reupload = next(h for h in sim.world.happenings if h.kind == "reupload")
    copy = sim.world.videos[reupload.video_id]
    original = sim.world.videos[copy.frames_of]  # type: ignore[index]
    item = get(sim, "videos", part="snippet", id=copy.id).json()["items"][0]
    for spec in item["snippet"]["thumbnails"].values():
        response = httpx.get(spec["url"])
        assert response.headers["content-type"] == "image/jpeg"
        image = Image.open(io.BytesIO(response.content))
        assert image.format == "JPEG" and image.size == (spec["width"], spec["height"])

    def frame(video_id: str, name: str) -> bytes:
        response = httpx.get(f"{sim.url}/vi/{video_id}/{name}.jpg")
        assert response.status_code == 200
        return response.content

    assert Image.open(io.BytesIO(frame(copy.id, "2"))).size == (120, 90)
    unrelated = next(v for v in sim.world.videos if v not in (copy.id, original.id))
    for name in ("hqdefault", "hq1", "hq2", "hq3"):
        mine, theirs = _ahash(frame(copy.id, name)), _ahash(frame(original.id, name))
        other = _ahash(frame(unrelated, name))
        assert frame(copy.id, name) != frame(original.id, name)  # altered, not identical
        assert (mine != theirs).sum() < (mine != other).sum()
        assert (mine != theirs).sum() <= 40  # of 256 bits
    with SimulatorServer(seed=11, keys=[KEY], clock=ManualClock(START)) as twin:
        assert httpx.get(f"{twin.url}/vi/{original.id}/hq1.jpg").content == frame(
            original.id, "hq1"
        )
    assert httpx.get(f"{sim.url}/vi/{original.id}/hq9.jpg").status_code == 404


def test_google_api_python_client_drives_the_simulator(sim: SimulatorServer) -> None:
    youtube = build(
        "youtube",
        "v3",
        developerKey=KEY,
        static_discovery=True,
        client_options={"api_endpoint": sim.url},
    )
    handle = next(iter(sim.world.channels.values())).handle
    found = youtube.channels().list(part="snippet,contentDetails", forHandle=handle).execute()
    channel = found["items"][0]
    uploads = channel["contentDetails"]["relatedPlaylists"]["uploads"]
    page = (
        youtube.playlistItems()
        .list(part="contentDetails", playlistId=uploads, maxResults=50)
        .execute()
    )
    ids = [i["contentDetails"]["videoId"] for i in page["items"]]
    videos = youtube.videos().list(part="statistics", id=",".join(ids)).execute()
    assert [v["id"] for v in videos["items"]] == ids
    paths = [r.path for r in sim.api_requests()]
    assert paths == ["/youtube/v3/channels", "/youtube/v3/playlistItems", "/youtube/v3/videos"]
    assert all(r.key_index == 0 for r in sim.api_requests())
    with pytest.raises(HttpError) as raised:
        youtube.search().list(part="snippet", q="anything").execute()
    assert raised.value.resp.status == 403


def test_atlas_simulator_command_prints_the_world_and_serves_it() -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "atlas_simulator.serve",
            "--port",
            "0",
            "--seed",
            "4",
            "--keys",
            "k1,k2",
        ],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("Ctrl-C"):
                break
        text = "".join(lines)
        base = next(x.split("=", 1)[1].strip() for x in lines if "YOUTUBE_API_BASE_URL=" in x)
        world = httpx.get(base.removesuffix("/youtube/v3") + "/_sim/world").json()
        assert world["api_keys"] == ["k1", "k2"] and "k1, k2" in text
        assert all(cid in text for cid in world["channel_ids"])
        assert all(handle in text for handle in world["handles"])
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()


def test_compact_world_serves_many_videos_from_their_index(clock: ManualClock) -> None:
    """A compact world builds videos on demand; the API answers for them like any other."""
    from atlas_simulator.world import compact_video_id, compact_video_index

    assert [compact_video_index(compact_video_id(i)) for i in (0, 63, 64, 10**6)] == [
        0,
        63,
        64,
        10**6,
    ]
    assert compact_video_index("dQw4w9WgXcQ") is None
    with SimulatorServer(
        seed=3, keys=[KEY], clock=clock, channels=20, videos=5_000, happenings=False, compact=True
    ) as server:
        world = server.world
        assert len(world.videos) == 5_000 and compact_video_id(5_000) not in world.videos
        ids = [compact_video_id(i) for i in (0, 1_234, 4_999)]
        assert all(validate_youtube_id(v) for v in ids)
        body = get(server, "videos", part="snippet,statistics", id=",".join(ids)).json()
        assert [item["id"] for item in body["items"]] == ids
        channel = next(iter(world.channels.values()))
        page = get(
            server,
            "playlistItems",
            part="contentDetails",
            maxResults="50",
            playlistId=channel.uploads_playlist_id,
        ).json()
        listed = [i["contentDetails"]["videoId"] for i in page["items"]]
        assert listed == list(channel.video_ids)[:50]
        assert page["pageInfo"]["totalResults"] == len(channel.video_ids)
        published = [world.videos[v].published_at for v in listed]
        assert published == sorted(published, reverse=True)  # newest first
        stats = get(server, "channels", part="statistics", id=channel.id).json()["items"][0]
        total = sum(world.videos[v].views_at(clock()) for v in channel.video_ids)
        assert abs(int(stats["statistics"]["viewCount"]) - total) <= len(channel.video_ids)
        assert stats["statistics"]["videoCount"] == str(len(channel.video_ids))
