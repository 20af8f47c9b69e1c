"""The YouTube client against the simulator over real HTTP, with the real quota ledger."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import pytest
from atlas_simulator import Faults, ManualClock, SimulatorServer
from youtube_helpers import START, RecordingSleep, sim_settings

from atlas_core.database import DatabaseManager
from atlas_core.youtube import (
    ChannelNotFound,
    QuotaExhausted,
    YouTubeClient,
    YouTubeConfigError,
    YouTubeResponseError,
    YouTubeUnavailable,
)

KEYS = ["sekrit-key-alpha", "sekrit-key-bravo"]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def sim(clock: ManualClock) -> Iterator[SimulatorServer]:
    with SimulatorServer(seed=11, keys=KEYS, clock=clock) as server:
        yield server


@pytest.fixture
async def db(database_dsn: str) -> AsyncIterator[DatabaseManager]:
    manager = DatabaseManager(database_dsn, min_size=1, max_size=4, timeout=10)
    yield manager
    await manager.close()


@pytest.fixture
def sleep() -> RecordingSleep:
    return RecordingSleep()


def client_for(
    sim: SimulatorServer,
    database_dsn: str,
    db: DatabaseManager,
    clock: ManualClock,
    sleep: RecordingSleep | None = None,
    **overrides: object,
) -> YouTubeClient:
    settings = sim_settings(database_dsn, sim, KEYS, **overrides)
    return YouTubeClient(settings, db, clock=clock, sleep=sleep or RecordingSleep())


@pytest.fixture
async def yt(
    sim: SimulatorServer,
    database_dsn: str,
    db: DatabaseManager,
    clock: ManualClock,
    sleep: RecordingSleep,
) -> AsyncIterator[YouTubeClient]:
    async with client_for(sim, database_dsn, db, clock, sleep) as client:
        yield client


def all_video_ids(sim: SimulatorServer) -> list[str]:
    return list(sim.world_json()["video_ids"])


# --- batching, parsing, missing ids ---------------------------------------------------


async def test_videos_are_fetched_fifty_ids_a_call_and_typed(
    yt: YouTubeClient, sim: SimulatorServer
) -> None:
    ids = all_video_ids(sim)[:120]
    result = await yt.videos(ids + ids[:5])  # duplicates are asked for once
    assert [v.id for v in result.found] == ids and result.missing == []
    calls = sim.api_requests("videos")
    assert len(calls) == math.ceil(120 / 50) == 3
    assert sorted(len(c.params["id"].split(",")) for c in calls) == [20, 50, 50]
    assert calls[0].params["part"] == "snippet,contentDetails,statistics,topicDetails,status"
    for video in result.found:
        truth = sim.world.videos[video.id]
        assert video.channel_id == truth.channel_id and video.title == truth.title
        assert video.duration_seconds == truth.duration_seconds
        assert video.published_at == truth.published_at and video.published_at.tzinfo
        assert video.view_count == truth.views_at(START)
        assert video.privacy_status == "public"
        assert set(video.thumbnails) >= {"default", "medium", "high", "standard"}
        assert video.wiki_topics == [t.rsplit("/", 1)[1].replace("_", " ") for t in truth.topics]
        assert (video.like_count is None) == truth.likes_hidden
        assert (video.comment_count is None) == truth.comments_disabled
    assert any(v.duration_seconds and v.duration_seconds > 86400 for v in result.found)
    assert await yt.units_spent_today() == 3 == sim.units_used()
    assert result.units == yt.last_call_units == 3  # a call says what it cost
    batches = [b async for b in yt.video_batches(ids)]
    assert sorted(b.units for b in batches) == [1, 1, 1]


async def test_hidden_counts_are_none_never_zero(yt: YouTubeClient, sim: SimulatorServer) -> None:
    video = sim.world.videos[all_video_ids(sim)[0]]
    video.likes_hidden = video.comments_disabled = True
    result = await yt.videos([video.id])
    assert result.found[0].like_count is None and result.found[0].comment_count is None
    assert result.found[0].view_count and result.found[0].view_count > 0
    channels = await yt.channels(list(sim.world.channels))
    hidden = [c for c in channels.found if sim.world.channels[c.id].hidden_subscribers]
    assert hidden and all(c.subscriber_count is None for c in hidden)
    shown = [c for c in channels.found if not sim.world.channels[c.id].hidden_subscribers]
    assert all(c.subscriber_count and c.subscriber_count > 0 for c in shown)


async def test_channels_are_typed_and_absent_ids_reported_missing(
    yt: YouTubeClient, sim: SimulatorServer
) -> None:
    ids = list(sim.world.channels)
    ghost = "UC" + "x" * 21 + "A"
    result = await yt.channels([*ids, ghost])
    assert [c.id for c in result.found] == ids and result.missing == [ghost]
    first = result.found[0]
    truth = sim.world.channels[first.id]
    assert first.title == truth.title and first.custom_url == truth.handle
    assert first.uploads_playlist_id == truth.uploads_playlist_id
    assert first.video_count == len(sim.world.visible_videos(first.id, START))
    assert first.published_at is not None and first.published_at.tzinfo is not None
    assert set(first.thumbnails) == {"default", "medium", "high"}
    assert len(sim.api_requests("channels")) == 1


async def test_deleted_and_unknown_videos_come_back_missing(
    yt: YouTubeClient, sim: SimulatorServer, clock: ManualClock
) -> None:
    deleted = next(h.video_id for h in sim.world.happenings if h.kind == "video_deleted")
    assert deleted is not None
    keep = all_video_ids(sim)[:3]
    clock.advance(hours=4)
    result = await yt.videos([*keep, deleted, "AAAAAAAAAAA"])
    assert [v.id for v in result.found] == [k for k in keep if k != deleted]
    assert set(result.missing) == {deleted, "AAAAAAAAAAA"}


async def test_video_not_found_reason_marks_the_batch_missing(
    database_dsn: str, db: DatabaseManager, clock: ManualClock, sim: SimulatorServer
) -> None:
    ids = all_video_ids(sim)[:60]
    sim.inject("videoNotFound")
    async with client_for(sim, database_dsn, db, clock, YOUTUBE_MAX_CONCURRENCY=1) as yt:
        result = await yt.videos(ids)
    assert result.missing == ids[:50] and [v.id for v in result.found] == ids[50:]


async def test_observed_at_is_when_youtube_served_the_answer(
    sim: SimulatorServer, database_dsn: str, db: DatabaseManager, clock: ManualClock
) -> None:
    """The API's Date header, not this process's clock: a run that sat in a queue still
    records when YouTube really answered."""
    local = ManualClock(START + timedelta(hours=5))  # this process's clock, hours off
    async with client_for(sim, database_dsn, db, local) as client:
        assert client.observed_at() == local()  # nothing served yet
        served = clock.advance(minutes=90, seconds=7.6)
        await client.videos(all_video_ids(sim)[:3])
        assert client.observed_at() == served.replace(microsecond=0)  # HTTP dates are whole s


# --- uploads and channel resolution -----------------------------------------------------


async def test_uploads_pages_fifty_at_a_time_and_stops_at_the_first_known_id(
    database_dsn: str, db: DatabaseManager, clock: ManualClock
) -> None:
    with SimulatorServer(seed=5, keys=KEYS, clock=clock, channels=2, videos=260) as sim:
        channel_id = max(sim.world.channels, key=lambda c: len(sim.world.channels[c].video_ids))
        newest_first = [v.id for v in sim.world.visible_videos(channel_id, START)]
        assert len(newest_first) > 100
        async with client_for(sim, database_dsn, db, clock) as yt:
            everything = await yt.uploads(channel_id, set())
            assert everything.ids == newest_first
            pages = sim.api_requests("playlistItems")
            assert everything.units == len(sim.api_requests()) == 1 + len(pages)
            assert len(pages) == math.ceil(len(newest_first) / 50)
            assert all(p.params["maxResults"] == "50" for p in pages)
            assert len(sim.api_requests("channels")) == 1  # the uploads playlist, looked up once

            before = len(sim.api_requests())
            known = set(newest_first[60:])
            assert (await yt.uploads(channel_id, known)).ids == newest_first[:60]
            assert len(sim.api_requests()) - before == 2  # pages 1 and 2, not page 3
            assert (await yt.uploads(channel_id, {newest_first[0]})).ids == []
            assert len(sim.api_requests("channels")) == 1  # cached


async def test_new_uploads_appear_as_the_clock_moves(
    yt: YouTubeClient, sim: SimulatorServer, clock: ManualClock
) -> None:
    await yt.channels(list(sim.world.channels))  # caches every uploads playlist
    thief = next(h.channel_id for h in sim.world.happenings if h.kind == "reupload")
    known = set((await yt.uploads(thief, set())).ids)
    clock.advance(hours=13)
    new = (await yt.uploads(thief, known)).ids
    expected = {
        h.video_id
        for h in sim.world.happenings
        if h.channel_id == thief and h.kind in ("reupload", "upload")
    }
    assert new and set(new) == expected
    assert len(sim.api_requests("channels")) == 1


async def test_uploads_of_an_unknown_channel_raise_channel_not_found(yt: YouTubeClient) -> None:
    with pytest.raises(ChannelNotFound, match="UCxxxxxxxxxxxxxxxxxxxxxA") as raised:
        await yt.uploads("UC" + "x" * 21 + "A", set())
    assert raised.value.units == 1  # the channels.list lookup that found nothing


async def test_resolve_channel_accepts_ids_handles_and_urls(
    yt: YouTubeClient, sim: SimulatorServer
) -> None:
    channel = next(iter(sim.world.channels.values()))
    handle = channel.handle
    for ref in (
        channel.id,
        handle,
        handle.upper(),
        f"https://www.youtube.com/{handle}",
        f"youtube.com/{handle}/videos",
        f"https://m.youtube.com/channel/{channel.id}?si=abc",
    ):
        assert await yt.resolve_channel(ref) == channel.id, ref
    assert sim.api_requests()[1].params["forHandle"] == handle
    with pytest.raises(ChannelNotFound, match="@nobodyhere"):
        await yt.resolve_channel("@nobodyhere")
    calls = len(sim.api_requests())
    for bad in (
        "",
        "not a channel",
        "@x",
        "https://example.com/@someone",
        "https://www.youtube.com/watch?v=abc",
        "https://www.youtube.com/c/Legacy",
    ):
        with pytest.raises(ValueError, match="expected a channel id"):
            await yt.resolve_channel(bad)
    assert len(sim.api_requests()) == calls  # bad input never reaches YouTube
    # resolve_channel cached the uploads playlist: uploads() needs no channels.list
    await yt.uploads(channel.id, set())
    assert len(sim.api_requests("channels")) == calls


# --- quota ledger and key pool ----------------------------------------------------------


async def test_quota_exceeded_moves_to_the_next_key_when_compliance_is_off(
    database_dsn: str, db: DatabaseManager, clock: ManualClock
) -> None:
    with SimulatorServer(seed=2, keys=KEYS, clock=clock, daily_quota={KEYS[0]: 2}) as sim:
        ids = all_video_ids(sim)[:150]
        async with client_for(sim, database_dsn, db, clock, YOUTUBE_MAX_CONCURRENCY=1) as yt:
            result = await yt.videos(ids)
            assert len(result.found) == 150
            assert [(r.key_index, r.status) for r in sim.api_requests()] == [
                (0, 200),
                (0, 200),
                (0, 403),
                (1, 200),
            ]
            assert await yt.units_spent_today() == 3
        async with client_for(sim, database_dsn, db, clock) as other:  # another process
            await other.videos(ids[:1])
            assert sim.api_requests()[-1].key_index == 1  # the ledger says key #0 is spent
        async with db.get_connection() as conn:
            rows = await (
                await conn.execute(
                    "SELECT key_index, units, calls, exhausted_at IS NOT NULL, key_fingerprint"
                    " FROM youtube_quota_ledger ORDER BY key_index"
                )
            ).fetchall()
        assert [r[:4] for r in rows] == [(0, 2, 2, True), (1, 2, 2, False)]
        assert all(len(r[4]) == 12 and r[4] not in KEYS for r in rows)


async def test_compliance_mode_uses_one_key_and_says_when_quota_resets(
    database_dsn: str, db: DatabaseManager, clock: ManualClock
) -> None:
    with SimulatorServer(seed=2, keys=KEYS, clock=clock, daily_quota={KEYS[0]: 2}) as sim:
        ids = all_video_ids(sim)[:150]
        settings = dict(COMPLIANCE_MODE=True, YOUTUBE_MAX_CONCURRENCY=1)
        async with client_for(sim, database_dsn, db, clock, **settings) as yt:
            with pytest.raises(QuotaExhausted) as raised:
                await yt.videos(ids)
        message = str(raised.value)
        assert "API key #0" in message and "COMPLIANCE_MODE" in message
        assert "2026-01-08 08:00 UTC" in message  # next midnight in Los Angeles
        assert "2026-01-08 00:00 PST" in message and "in 20h00m" in message
        assert raised.value.resets_at.isoformat() == "2026-01-08T08:00:00+00:00"
        assert {r.key_index for r in sim.api_requests()} == {0}
        seen = len(sim.api_requests())
        async with client_for(sim, database_dsn, db, clock, **settings) as again:
            with pytest.raises(QuotaExhausted):
                await again.videos(ids[:1])
        assert len(sim.api_requests()) == seen  # known spent: not even asked
        clock.advance(hours=20)  # Pacific midnight: a fresh day
        async with client_for(sim, database_dsn, db, clock, **settings) as later:
            assert len((await later.videos(ids[:1])).found) == 1


async def test_every_key_spent_raises_quota_exhausted_naming_all_keys(
    database_dsn: str, db: DatabaseManager, clock: ManualClock
) -> None:
    with SimulatorServer(seed=2, keys=KEYS, clock=clock, daily_quota=1) as sim:
        async with client_for(sim, database_dsn, db, clock, YOUTUBE_MAX_CONCURRENCY=1) as yt:
            with pytest.raises(QuotaExhausted, match=r"all 2 API keys \(#0-#1\)"):
                await yt.videos(all_video_ids(sim)[:150])


async def test_units_are_shared_by_every_client_on_the_database(
    database_dsn: str, db: DatabaseManager, clock: ManualClock, sim: SimulatorServer
) -> None:
    ids = all_video_ids(sim)
    async with (
        client_for(sim, database_dsn, db, clock) as a,
        client_for(sim, database_dsn, db, clock) as b,
    ):
        await a.videos(ids[:50])
        await b.videos(ids[50:100])
        await b.channels(list(sim.world.channels))
        assert await a.units_spent_today() == 3 == await b.units_spent_today()


# --- faults -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fault", ["500", "503", "429", "rateLimitExceeded", "userRateLimitExceeded", "drop", "slow"]
)
async def test_transient_faults_are_retried_with_backoff(
    fault: str, database_dsn: str, db: DatabaseManager, clock: ManualClock, sim: SimulatorServer
) -> None:
    sleep = RecordingSleep()
    sim.faults.slow_seconds = 1.0
    sim.inject(fault, times=2)
    ids = all_video_ids(sim)[:10]
    async with client_for(sim, database_dsn, db, clock, sleep, YOUTUBE_TIMEOUT_SECONDS=0.3) as yt:
        result = await yt.videos(ids)
    assert [v.id for v in result.found] == ids
    for _ in range(100):  # a slow answer is recorded once the simulator finishes sending it
        if len(sim.api_requests()) == 3:
            break
        await asyncio.sleep(0.05)
    assert sorted(r.fault or "" for r in sim.api_requests()) == ["", fault, fault]
    assert len(sleep.pauses) == 2
    assert 0.01 <= sleep.pauses[0] <= 0.015 and 0.02 <= sleep.pauses[1] <= 0.03  # doubling
    # Failed attempts are not charged; a late answer is (the API did the work), as YouTube
    # (and the simulator) count it: the ledger matches the simulator either way.
    assert await yt.units_spent_today() == sim.units_used() == (3 if fault == "slow" else 1)


async def test_retry_after_on_429_is_honoured(
    yt: YouTubeClient, sim: SimulatorServer, sleep: RecordingSleep
) -> None:
    sim.faults.retry_after = 7
    sim.inject("429")
    await yt.videos(all_video_ids(sim)[:1])
    assert sleep.pauses == [7.0]


async def test_retry_after_beyond_the_cap_fails_cleanly_without_waiting(
    database_dsn: str,
    db: DatabaseManager,
    clock: ManualClock,
    sim: SimulatorServer,
    sleep: RecordingSleep,
) -> None:
    sim.faults.retry_after = 120
    sim.inject("429")
    async with client_for(
        sim, database_dsn, db, clock, sleep, YOUTUBE_MAX_RETRY_AFTER_SECONDS=30
    ) as yt:
        with pytest.raises(YouTubeUnavailable, match=r"asking to wait 120s, more than "):
            await yt.videos(all_video_ids(sim)[:1])
    assert sleep.pauses == [] and len(sim.api_requests()) == 1


async def test_random_faults_are_survived(
    database_dsn: str, db: DatabaseManager, clock: ManualClock
) -> None:
    faults = Faults(error_500=0.1, error_503=0.1, too_many_requests=0.1, rate_limit=0.1, drop=0.1)
    with SimulatorServer(seed=4, keys=KEYS, clock=clock, videos=500, faults=faults) as sim:
        ids = all_video_ids(sim)
        async with client_for(sim, database_dsn, db, clock, YOUTUBE_MAX_ATTEMPTS=12) as yt:
            result = await yt.videos(ids)
            assert await yt.units_spent_today() == 10
        assert len(result.found) == len(ids) == 500
        assert sum(1 for r in sim.api_requests() if r.fault) >= 3


async def test_persistent_failure_gives_up_after_max_attempts(
    database_dsn: str, db: DatabaseManager, clock: ManualClock, sim: SimulatorServer
) -> None:
    sim.inject("503", times=10)
    async with client_for(sim, database_dsn, db, clock, YOUTUBE_MAX_ATTEMPTS=3) as yt:
        with pytest.raises(YouTubeUnavailable, match=r"after 3 attempts \(last: HTTP 503"):
            await yt.videos(all_video_ids(sim)[:1])
    assert len(sim.api_requests()) == 3


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        ("keyInvalid", "(keyInvalid): the key is not valid; check YOUTUBE_API_KEY_POOL_JSON"),
        ("accessNotConfigured", "(accessNotConfigured): the YouTube Data API v3 is not enabled"),
        ("forbidden", "(forbidden): the key may not call this API"),
    ],
)
async def test_configuration_errors_say_what_to_fix_and_are_not_retried(
    fault: str, words: str, yt: YouTubeClient, sim: SimulatorServer, sleep: RecordingSleep
) -> None:
    sim.inject(fault)
    with pytest.raises(YouTubeConfigError) as raised:
        await yt.videos(all_video_ids(sim)[:1])
    assert str(raised.value).startswith("YouTube rejected API key #0 " + words)
    assert len(sim.api_requests()) == 1 and sleep.pauses == []


async def test_keys_never_show_in_logs_errors_reprs_or_the_ledger(
    database_dsn: str, db: DatabaseManager, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with SimulatorServer(seed=2, keys=KEYS[:1], clock=clock) as sim:
        async with client_for(sim, database_dsn, db, clock) as yt:
            sim.inject("503")
            await yt.videos(all_video_ids(sim)[:1])  # 503, retried with key #0
            sim.inject("quotaExceeded")
            with pytest.raises(YouTubeConfigError) as raised:  # key #1 is not accepted
                await yt.videos(all_video_ids(sim)[:1])
            shown = [repr(yt), str(raised.value), repr(raised.value), caplog.text]
        async with db.get_connection() as conn:
            rows = await (await conn.execute("SELECT * FROM youtube_quota_ledger")).fetchall()
    assert "API key #1 (keyInvalid)" in shown[1]
    assert "API key #0" in caplog.text  # named by index...
    for key in KEYS:
        assert all(key not in text for text in shown)  # ...never shown
        assert key not in repr(rows)


async def test_concurrency_is_bounded_and_connections_reused(
    database_dsn: str, db: DatabaseManager, clock: ManualClock
) -> None:
    with SimulatorServer(seed=4, keys=KEYS, clock=clock, videos=400) as sim:
        sim.faults.latency = 0.05
        ids = all_video_ids(sim)
        async with client_for(sim, database_dsn, db, clock, YOUTUBE_MAX_CONCURRENCY=2) as yt:
            await yt.videos(ids)
            await yt.channels(list(sim.world.channels))
        assert sim.max_in_flight == 2
        assert len(sim.api_requests()) == 400 // 50 + 1
        assert sim.connections <= 2


async def test_no_key_configured_is_a_config_error(
    database_dsn: str, db: DatabaseManager, sim: SimulatorServer
) -> None:
    from atlas_core.config import load_settings

    settings = load_settings(
        _env_file=None, DATABASE_URL=database_dsn, YOUTUBE_API_BASE_URL=sim.base_url
    )
    async with YouTubeClient(settings, db) as yt:
        with pytest.raises(YouTubeConfigError, match="YOUTUBE_API_KEY_POOL_JSON"):
            await yt.videos(["AAAAAAAAAAA"])
    assert sim.api_requests() == []


async def test_a_body_that_is_not_an_object_raises_a_typed_error_naming_the_endpoint(
    yt: YouTubeClient, sim: SimulatorServer
) -> None:
    sim.inject("malformedBody")
    with pytest.raises(YouTubeResponseError, match=r"YouTube videos\.list returned a malformed"):
        await yt.videos(all_video_ids(sim)[:3])
    assert await yt.units_spent_today() == 1  # the call reached the API: it is charged


async def test_an_item_without_an_id_is_skipped_and_the_rest_kept(
    yt: YouTubeClient, sim: SimulatorServer
) -> None:
    ids = all_video_ids(sim)[:5]
    sim.inject("itemWithoutId")
    result = await yt.videos(ids)
    assert len(result.found) == 4 and len(result.missing) == 1
    [problem] = result.problems
    assert "videos.list" in problem and "no usable id" in problem


async def test_the_ledger_equals_the_simulators_count_under_faults_and_a_quota_stop(
    database_dsn: str, db: DatabaseManager, clock: ManualClock
) -> None:
    faults = Faults(error_500=0.1, error_503=0.1, too_many_requests=0.1, drop=0.1)
    quota = {KEYS[0]: 3, KEYS[1]: 3}  # six successful calls of twelve, then the run stops
    with SimulatorServer(
        seed=5, keys=KEYS, clock=clock, videos=600, faults=faults, daily_quota=quota
    ) as sim:
        ids = all_video_ids(sim)
        async with client_for(sim, database_dsn, db, clock, YOUTUBE_MAX_ATTEMPTS=12) as yt:
            with pytest.raises(QuotaExhausted):
                await yt.videos(ids)
            # The simulator's quota check races under concurrency, so it may allow a 7th call.
            spent = sim.units_used()
            assert await yt.units_spent_today() == spent >= 6
