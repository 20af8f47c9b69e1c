"""YouTube push notifications (WebSub): the protocol, the receiver, subscriptions against the
simulator acting as the hub (a job's work, launched by its sensor), and the sensor that turns
pushes into discovery runs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import httpx
import psycopg
import pytest
from atlas_simulator import ManualClock, SimulatorServer
from atlas_simulator.hub import TOPIC
from dagster import (
    DagsterInstance,
    PartitionKeyRange,
    RunRequest,
    SensorResult,
    SkipReason,
    build_sensor_context,
)
from youtube_helpers import START, sim_settings

from atlas_assets.resources import DatabaseResource, WebSubResource
from atlas_assets.websub import sync_websub_job, websub_pushes, websub_subscriptions
from atlas_core.config import ConfigError, Settings, load_settings
from atlas_core.database import DatabaseManager
from atlas_core.pipeline.websub import WebSubReceiver, sync_subscriptions
from atlas_core.youtube.websub import (
    Push,
    WebSubError,
    channel_of_topic,
    parse_feed,
    sign,
    signature_ok,
    topic_url,
)

SECRET = "hub-secret-for-tests"
CHANNEL = "UCaaaaaaaaaaaaaaaaaaaaaA"

# Shaped like the notifications YouTube documents (guides/push_notifications).
FEED = b"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns:yt="http://www.youtube.com/xml/schemas/2015"
      xmlns:at="http://purl.org/atompub/tombstones/1.0"
      xmlns="http://www.w3.org/2005/Atom">
  <link rel="hub" href="https://pubsubhubbub.appspot.com"/>
  <link rel="self" href="https://www.youtube.com/xml/feeds/videos.xml?channel_id=UCaaaaaaaaaaaaaaaaaaaaaA"/>
  <title>YouTube video feed</title>
  <updated>2015-04-01T19:05:24.552394234+00:00</updated>
  <entry>
    <id>yt:video:dQw4w9WgXcQ</id>
    <yt:videoId>dQw4w9WgXcQ</yt:videoId>
    <yt:channelId>UCaaaaaaaaaaaaaaaaaaaaaA</yt:channelId>
    <title>A &amp; B</title>
    <link rel="alternate" href="http://www.youtube.com/watch?v=dQw4w9WgXcQ"/>
    <author><name>Channel</name><uri>http://www.youtube.com/channel/UCaaaaaaaaaaaaaaaaaaaaaA</uri></author>
    <published>2015-03-06T21:40:57+00:00</published>
    <updated>2015-03-09T19:05:24.552394234+00:00</updated>
  </entry>
  <entry>
    <yt:videoId>not-an-id</yt:videoId>
    <yt:channelId>UCaaaaaaaaaaaaaaaaaaaaaA</yt:channelId>
  </entry>
  <at:deleted-entry ref="yt:video:aaaaaaaaaaA" when="2015-03-10T00:00:00+00:00">
    <link href="http://www.youtube.com/watch?v=aaaaaaaaaaA"/>
    <at:by><name>Channel</name><uri>http://www.youtube.com/channel/UCaaaaaaaaaaaaaaaaaaaaaA</uri></at:by>
  </at:deleted-entry>
</feed>"""


def test_a_notification_names_its_uploads_and_removals() -> None:
    pushes = parse_feed(FEED)
    assert [(p.channel_id, p.video_id, p.deleted) for p in pushes] == [
        (CHANNEL, "dQw4w9WgXcQ", False),  # the entry with a malformed id is skipped
        (CHANNEL, "aaaaaaaaaaA", True),
    ]
    assert pushes[0].title == "A & B"
    assert pushes[0].published_at is not None and pushes[0].published_at.year == 2015


def test_unreadable_notifications_are_refused_with_the_reason() -> None:
    with pytest.raises(WebSubError, match="not well-formed"):
        parse_feed(b"<feed><entry>")
    with pytest.raises(WebSubError, match="expected an Atom <feed>"):
        parse_feed(b"<rss/>")
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><feed xmlns="http://www.w3.org/2005/Atom">'
        b"&lol2;</feed>"
    )
    with pytest.raises(WebSubError, match="not well-formed"):
        parse_feed(bomb)  # entities are refused (defusedxml), never expanded
    with pytest.raises(WebSubError, match="exceeds"):
        parse_feed(b" " * 1_000_001)


def test_signatures_are_hmacs_of_the_exact_body() -> None:
    header = sign(SECRET, FEED)
    assert header.startswith("sha1=") and signature_ok(SECRET, FEED, header)
    assert not signature_ok(SECRET, FEED + b" ", header)
    assert not signature_ok("other", FEED, header)
    assert not signature_ok(SECRET, FEED, None)
    assert not signature_ok(SECRET, FEED, "md5=" + header.removeprefix("sha1="))
    import hashlib
    import hmac

    sha256 = "sha256=" + hmac.new(SECRET.encode(), FEED, hashlib.sha256).hexdigest()
    assert signature_ok(SECRET, FEED, sha256)


def test_topics_round_trip_and_reject_other_feeds() -> None:
    assert channel_of_topic(topic_url(CHANNEL)) == CHANNEL
    other = "https://example.org/xml/feeds/videos.xml?channel_id="
    assert channel_of_topic(other + CHANNEL) is None
    assert channel_of_topic(TOPIC + "UCshort") is None
    with pytest.raises(ValueError, match="not a channel id"):
        topic_url("@handle")


def test_a_callback_without_a_secret_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="WEBSUB_SECRET must be set"):
        load_settings(_env_file=None, WEBSUB_CALLBACK_URL="https://atlas.example.org/websub")
    with pytest.raises(ConfigError, match="WEBSUB_CALLBACK_URL: expected an http"):
        load_settings(_env_file=None, WEBSUB_CALLBACK_URL="atlas.example.org", WEBSUB_SECRET="s")
    off = load_settings(_env_file=None, WEBSUB_CALLBACK_URL="")
    assert off.WEBSUB_CALLBACK_URL is None


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def sim(clock: ManualClock) -> Iterator[SimulatorServer]:
    with SimulatorServer(seed=5, clock=clock, channels=4) as server:
        yield server


@pytest.fixture
def receiver(
    database_dsn: str, sim: SimulatorServer, clock: ManualClock
) -> Iterator[WebSubReceiver]:
    base = sim_settings(database_dsn, sim, WEBSUB_SECRET=SECRET)
    with WebSubReceiver(base, clock=clock) as running:
        yield running


def _settings(database_dsn: str, sim: SimulatorServer, receiver: WebSubReceiver) -> Settings:
    return sim_settings(
        database_dsn,
        sim,
        WEBSUB_SECRET=SECRET,
        WEBSUB_CALLBACK_URL=receiver.url,
        WEBSUB_HUB_URL=sim.hub_url,
    )


def _watch(dsn: str, channel_ids: list[str]) -> None:
    with psycopg.connect(dsn) as conn:
        for channel_id in channel_ids:
            conn.execute("INSERT INTO watchlist (channel_id) VALUES (%s)", (channel_id,))


def _rows(dsn: str, query: str) -> list[tuple[object, ...]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(query).fetchall()


async def test_the_hub_pushes_watched_channels_uploads_into_the_queue(
    database_dsn: str, sim: SimulatorServer, receiver: WebSubReceiver, clock: ManualClock
) -> None:
    settings = _settings(database_dsn, sim, receiver)
    channels = list(sim.world.channels)
    watched = channels[:3]
    _watch(database_dsn, watched)
    db = DatabaseManager(settings=settings)
    try:
        first = await sync_subscriptions(db, settings, clock())
        assert first.subscribed == sorted(watched) and not first.failed
        sim.hub.settle()
        # The hub verified each intent at the callback, which recorded the lease it granted.
        assert {s.channel_id for s in sim.hub.subscriptions.values()} == set(watched)
        leases = _rows(
            database_dsn, "SELECT channel_id, lease_expires_at FROM websub_subscriptions"
        )
        assert {c: end for c, end in leases} == {
            c: clock() + timedelta(seconds=settings.WEBSUB_LEASE_SECONDS) for c in watched
        }
        again = await sync_subscriptions(db, settings, clock())
        assert again.subscribed == [] and again.unsubscribed == []

        clock.advance(hours=13)  # every scheduled upload, deletion and re-upload has happened
        assert sim.hub.deliver() >= 1
        expected = {
            (h.channel_id, h.video_id, h.kind == "video_deleted")
            for h in sim.world.happenings
            if h.kind in ("upload", "reupload", "video_deleted") and h.channel_id in watched
        }
        assert expected, "the world should have uploads on watched channels"
        queued = _rows(database_dsn, "SELECT channel_id, video_id, deleted FROM websub_pushes")
        assert set(queued) == expected
        assert all(status == 204 for _, status in sim.hub.notifications)

        # A forged push (no or a wrong signature) is acknowledged and ignored.
        forged = [Push(watched[0], "ffffffffffA")]
        body = FEED.replace(b"dQw4w9WgXcQ", forged[0].video_id.encode()).replace(
            CHANNEL.encode(), watched[0].encode()
        )
        async with httpx.AsyncClient() as http:
            for header in ({}, {"X-Hub-Signature": sign("not-the-secret", body)}):
                answer = await http.post(receiver.url, content=body, headers=header)
                assert answer.status_code == 202
            assert len(_rows(database_dsn, "SELECT 1 FROM websub_pushes")) == len(expected)

            # The callback confirms only its own pending intents: not an unwatched channel,
            # nor a watched one it did not ask about now (its verified lease stays as it is).
            intent = {"hub.mode": "subscribe", "hub.challenge": "x", "hub.topic": TOPIC}
            unwatched = {**intent, "hub.topic": TOPIC + channels[3]}
            assert (await http.get(receiver.url, params=unwatched)).status_code == 404
            forged = {**intent, "hub.topic": TOPIC + watched[1], "hub.lease_seconds": "9999999"}
            assert (await http.get(receiver.url, params=forged)).status_code == 404
            after = "SELECT channel_id, lease_expires_at FROM websub_subscriptions"
            assert sorted(_rows(database_dsn, after)) == sorted(leases)

        # Off the watchlist: unsubscribed at the hub, forgotten here.
        with psycopg.connect(database_dsn) as conn:
            conn.execute("DELETE FROM watchlist WHERE channel_id = %s", (watched[0],))
        gone = await sync_subscriptions(db, settings, clock())
        assert gone.unsubscribed == [watched[0]] and gone.subscribed == []
        sim.hub.settle()
        assert {s.channel_id for s in sim.hub.subscriptions.values()} == set(watched[1:])

        # A day before the lease ends, it is renewed.
        clock.advance(seconds=settings.WEBSUB_LEASE_SECONDS - 20 * 3600)
        renewed = await sync_subscriptions(db, settings, clock())
        assert renewed.subscribed == sorted(watched[1:])
        sim.hub.settle()
        ends = _rows(database_dsn, "SELECT lease_expires_at FROM websub_subscriptions")
        assert {e for (e,) in ends} == {clock() + timedelta(seconds=settings.WEBSUB_LEASE_SECONDS)}
    finally:
        await db.close()


async def test_a_compact_world_pushes_the_uploads_scripted_into_it(
    database_dsn: str, clock: ManualClock
) -> None:
    with SimulatorServer(
        seed=3, clock=clock, channels=3, videos=300, compact=True, happenings=False
    ) as sim:
        base = sim_settings(database_dsn, sim, WEBSUB_SECRET=SECRET)
        with WebSubReceiver(base, clock=clock) as receiver:
            settings = _settings(database_dsn, sim, receiver)
            channel = next(iter(sim.world.channels))
            _watch(database_dsn, [channel])
            db = DatabaseManager(settings=settings)
            try:
                await sync_subscriptions(db, settings, clock())
            finally:
                await db.close()
            sim.hub.settle()
            upload = sim.world.add_video(channel, clock() + timedelta(minutes=30))
            assert sim.hub.deliver() == 0  # not published yet
            clock.advance(hours=1)
            assert sim.hub.deliver() == 1
            assert sim.hub.deliver() == 0  # pushed once
    queued = _rows(database_dsn, "SELECT channel_id, video_id, deleted FROM websub_pushes")
    assert queued == [(channel, upload.id, False)]


async def test_a_hub_that_refuses_is_reported_and_retried_later(
    database_dsn: str, sim: SimulatorServer, clock: ManualClock, receiver: WebSubReceiver
) -> None:
    settings = sim_settings(
        database_dsn,
        sim,
        WEBSUB_SECRET=SECRET,
        WEBSUB_CALLBACK_URL=receiver.url,
        WEBSUB_HUB_URL=sim.url + "/not-a-hub",
    )
    _watch(database_dsn, [next(iter(sim.world.channels))])
    db = DatabaseManager(settings=settings)
    try:
        failed = await sync_subscriptions(db, settings, clock())
        [(channel_id, error)] = failed.failed.items()
        assert "answered 404" in error and "expected 202" in error
        assert SECRET not in error
        assert (await sync_subscriptions(db, settings, clock())).failed == {}  # not yet
        clock.advance(hours=2)
        assert channel_id in (await sync_subscriptions(db, settings, clock())).failed
    finally:
        await db.close()


def test_the_sensor_launches_discovery_of_pushed_channels(database_dsn: str) -> None:
    off = {"database": DatabaseResource(database_url=database_dsn), "websub": WebSubResource()}
    instance = DagsterInstance.ephemeral()
    for sensor in (websub_pushes, websub_subscriptions):
        skipped = sensor(build_sensor_context(instance=instance, resources=off))
        assert isinstance(skipped, SkipReason)
        assert "WEBSUB_CALLBACK_URL" in (skipped.skip_message or "")

    websub = WebSubResource(callback_url="https://atlas.example.org/websub", secret=SECRET)
    resources = {"database": DatabaseResource(database_url=database_dsn), "websub": websub}
    keys = [f"UC{c * 21}{n}A" for n, c in enumerate("abc")]
    _watch(database_dsn, keys)
    instance.add_dynamic_partitions("channels", keys)
    with psycopg.connect(database_dsn) as conn:
        conn.execute(
            "INSERT INTO websub_pushes (channel_id, video_id, deleted) VALUES"
            " (%s, 'aaaaaaaaaaA', false), (%s, 'bbbbbbbbbbA', true), (%s, 'ccccccccccA', false)",
            (keys[0], keys[1], keys[2]),
        )
    result = websub_pushes(build_sensor_context(instance=instance, resources=resources))
    assert isinstance(result, SensorResult)
    # A removal needs no discovery; the two uploads are one run naming their channels.
    [request] = result.run_requests or []
    assert request.partition_key_range == PartitionKeyRange(keys[0], keys[2])
    assert request.run_config["ops"]["videos"]["config"]["channel_ids"] == [keys[0], keys[2]]
    again = websub_pushes(
        build_sensor_context(instance=instance, cursor=result.cursor, resources=resources)
    )
    assert isinstance(again, SkipReason) and "no new pushes" in (again.skip_message or "")


def test_hub_requests_are_a_bounded_job_the_sensor_launches_while_some_are_owed(
    database_dsn: str, sim: SimulatorServer
) -> None:
    """The sensor only reads the database; the job asks the hub, at most ``limit`` requests a
    run, and the sensor launches runs until every watched channel holds a lease."""
    base = sim_settings(database_dsn, sim, WEBSUB_SECRET=SECRET)
    with WebSubReceiver(base) as receiver:  # verifications recorded at the real time
        websub = WebSubResource(callback_url=receiver.url, hub_url=sim.hub_url, secret=SECRET)
        resources = {"database": DatabaseResource(database_url=database_dsn), "websub": websub}
        watched = list(sim.world.channels)[:3]
        _watch(database_dsn, watched)
        instance = DagsterInstance.ephemeral()
        two_a_run = {"ops": {"sync_subscriptions": {"config": {"limit": 2}}}}
        subscribed: list[int] = []
        for _ in range(3):
            tick = websub_subscriptions(
                build_sensor_context(instance=instance, resources=resources)
            )
            if isinstance(tick, SkipReason):
                break
            assert isinstance(tick, RunRequest)
            assert sim.hub.subscriptions == {} or len(subscribed) > 0  # the sensor asked nothing
            run = sync_websub_job.execute_in_process(
                run_config=two_a_run, resources=resources, instance=instance
            )
            assert run.success and run.dagster_run.tags["atlas/lane"] == "websub"
            sim.hub.settle()
            subscribed.append(len(sim.hub.subscriptions))
        assert subscribed == [2, 3]  # bounded: two requests, then the one left
        assert {s.channel_id for s in sim.hub.subscriptions.values()} == set(watched)
        assert isinstance(tick, SkipReason) and "no hub request owed" in (tick.skip_message or "")
        leases = _rows(
            database_dsn,
            "SELECT count(*) FROM websub_subscriptions"
            " WHERE lease_expires_at > now() + interval '1 day'",
        )
        assert leases == [(3,)]


def test_a_granted_lease_is_read_safely_and_clamped_to_an_hour_to_ten_days() -> None:
    from atlas_core.youtube.websub import clamp_lease

    assert clamp_lease("86400", 432_000) == 86_400
    assert clamp_lease("1", 432_000) == 3600
    assert clamp_lease("315360000", 432_000) == clamp_lease("9" * 40, 432_000) == 864_000
    for junk in (None, "", "1e9", "-5", "12.5", "٣٣٣٣"):
        assert clamp_lease(junk, 432_000) == 432_000


def test_a_push_entry_carries_its_updated_time() -> None:
    [upload, removal] = parse_feed(FEED)
    assert upload.updated_at is not None and upload.updated_at.microsecond == 552394
    assert removal.updated_at is not None and removal.updated_at.day == 10


async def test_a_verification_is_echoed_once_and_only_with_the_token_atlas_issued(
    database_dsn: str, sim: SimulatorServer, receiver: WebSubReceiver, clock: ManualClock
) -> None:
    from atlas_core.store.websub import record_intents, token_digest

    channel = next(iter(sim.world.channels))
    _watch(database_dsn, [channel])
    db = DatabaseManager(database_dsn)
    try:
        async with db.get_connection() as conn:
            await record_intents(conn, "subscribe", {channel: token_digest("issued")}, clock())
    finally:
        await db.close()
    verify = {"hub.mode": "subscribe", "hub.topic": TOPIC + channel, "hub.challenge": "c"}
    async with httpx.AsyncClient() as http:
        for wrong in ({}, {"hub.verify_token": "guessed"}):
            assert (await http.get(receiver.url, params={**verify, **wrong})).status_code == 404
        unsubscribe = {**verify, "hub.mode": "unsubscribe", "hub.verify_token": "issued"}
        assert (await http.get(receiver.url, params=unsubscribe)).status_code == 404  # mode
        ours = {**verify, "hub.verify_token": "issued"}
        assert (await http.get(receiver.url, params=ours)).text == "c"
        assert (await http.get(receiver.url, params=ours)).status_code == 404  # replayed
    [(verified,)] = _rows(database_dsn, "SELECT verified_at FROM websub_subscriptions")
    assert verified == clock()
