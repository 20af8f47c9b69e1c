"""The WebSub callback trusts only what Atlas asked for: a verification nobody requested is
refused (no lease recorded), a granted lease is parsed safely and clamped to 1 hour .. 10
days, a body is cut at 1 MB while it streams (chunked or not, the rest never read), a replayed
push queues nothing new, one push queues at most 50 entries, and a flood of bad signatures
logs a summary, not a line each."""

from __future__ import annotations

import logging
import select
import socket
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import urlsplit

import httpx
import psycopg
import pytest
from atlas_simulator import ManualClock, SimulatorServer
from atlas_simulator.hub import TOPIC
from youtube_helpers import START, sim_settings

from atlas_core.config import Settings
from atlas_core.database import DatabaseManager
from atlas_core.pipeline.websub import WebSubReceiver, sync_subscriptions
from atlas_core.youtube.websub import sign

SECRET = "hub-secret-for-drills"
HOUR, TEN_DAYS = 3600, 10 * 86400


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def sim(clock: ManualClock) -> Iterator[SimulatorServer]:
    with SimulatorServer(seed=5, clock=clock, channels=6, happenings=False) as server:
        yield server


@pytest.fixture
def receiver(
    database_dsn: str, sim: SimulatorServer, clock: ManualClock
) -> Iterator[WebSubReceiver]:
    with WebSubReceiver(sim_settings(database_dsn, sim, WEBSUB_SECRET=SECRET), clock=clock) as r:
        yield r


def _settings(dsn: str, sim: SimulatorServer, receiver: WebSubReceiver) -> Settings:
    settings: Settings = sim_settings(
        dsn, sim, WEBSUB_SECRET=SECRET, WEBSUB_CALLBACK_URL=receiver.url, WEBSUB_HUB_URL=sim.hub_url
    )
    return settings


def _rows(dsn: str, query: str, *args: object) -> list[tuple[object, ...]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(query, args).fetchall()


def _watch(dsn: str, *channel_ids: str) -> None:
    with psycopg.connect(dsn) as conn:
        for channel_id in channel_ids:
            conn.execute("INSERT INTO watchlist (channel_id) VALUES (%s)", (channel_id,))


def _feed(
    channel_id: str, video_ids: list[str], updated: str = "2026-01-12T12:00:00+00:00"
) -> bytes:
    entries = "".join(
        f"<entry><yt:videoId>{v}</yt:videoId><yt:channelId>{channel_id}</yt:channelId>"
        + (f"<updated>{updated}</updated>" if updated else "")
        + "</entry>"
        for v in video_ids
    )
    return (
        '<feed xmlns:yt="http://www.youtube.com/xml/schemas/2015" '
        f'xmlns="http://www.w3.org/2005/Atom">{entries}</feed>'
    ).encode()


def _video_id(n: int) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    digits = "".join(alphabet[(n >> (6 * k)) & 63] for k in range(4))
    return "vid" + digits + "AAAA"


async def test_a_verification_nobody_asked_for_is_refused(
    database_dsn: str, sim: SimulatorServer, receiver: WebSubReceiver
) -> None:
    channel = sorted(sim.world.channels)[0]
    _watch(database_dsn, channel)
    async with httpx.AsyncClient() as http:
        for lease in ("315360000", "1", "99999999999999999999"):
            forged = {
                "hub.mode": "subscribe",
                "hub.topic": TOPIC + channel,
                "hub.challenge": "c",
                "hub.lease_seconds": lease,
            }
            answer = await http.get(receiver.url, params=forged)
            assert answer.status_code == 404, (lease, answer.status_code, answer.text)
    assert _rows(database_dsn, "SELECT * FROM websub_subscriptions") == []


@pytest.mark.parametrize(
    ("granted", "expected"),
    [
        ("99999999999999999999", TEN_DAYS),
        ("315360000", TEN_DAYS),
        ("1", HOUR),
        ("86400", 86400),
    ],
)
async def test_a_granted_lease_is_parsed_safely_and_clamped(
    database_dsn: str,
    sim: SimulatorServer,
    receiver: WebSubReceiver,
    clock: ManualClock,
    granted: str,
    expected: int,
) -> None:
    settings = _settings(database_dsn, sim, receiver)
    channel = sorted(sim.world.channels)[0]
    _watch(database_dsn, channel)
    sim.hub.grant_lease = granted
    db = DatabaseManager(settings=settings)
    try:
        assert (await sync_subscriptions(db, settings, clock())).subscribed == [channel]
    finally:
        await db.close()
    sim.hub.settle()
    assert [status for _, _, status in sim.hub.verifications] == [200]  # not a 500
    assert _rows(database_dsn, "SELECT lease_expires_at FROM websub_subscriptions") == [
        (clock() + timedelta(seconds=expected),)
    ]


def test_a_chunked_body_is_cut_at_1mb_while_it_streams(receiver: WebSubReceiver) -> None:
    """20 MB sent chunked, without Content-Length: refused with 413 long before its end."""
    parts = urlsplit(receiver.url)
    chunk = b"x" * 65536
    frame = b"%x\r\n" % len(chunk) + chunk + b"\r\n"
    total, sent = 20 * 1024 * 1024, 0
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as conn:
        conn.sendall(
            f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            "Content-Type: application/atom+xml\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
        )
        try:
            while sent < total:
                if select.select([conn], [], [], 0)[0]:
                    break  # the receiver answered before the body ended
                conn.sendall(frame)
                sent += len(chunk)
            else:
                conn.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        conn.settimeout(30)
        answer = conn.recv(4096)
    assert answer.split(b"\r\n")[0].split()[1:2] == [b"413"], answer[:100]
    assert sent < total // 2  # the rest was never read (socket buffers took some of it)


async def test_a_replayed_push_queues_once_and_a_push_is_capped_at_50_entries(
    database_dsn: str, sim: SimulatorServer, receiver: WebSubReceiver
) -> None:
    channel = sorted(sim.world.channels)[0]
    _watch(database_dsn, channel)
    one = _feed(channel, [_video_id(1)])
    flood = _feed(channel, [_video_id(n) for n in range(100, 7100)], updated="")
    assert len(flood) < 1_000_000
    async with httpx.AsyncClient(timeout=30) as http:
        for _ in range(30):  # a signed push replayed 30 times
            answer = await http.post(
                receiver.url, content=one, headers={"X-Hub-Signature": sign(SECRET, one)}
            )
            assert answer.status_code == 204
        assert _rows(database_dsn, "SELECT count(*) FROM websub_pushes") == [(1,)]
        answer = await http.post(
            receiver.url, content=flood, headers={"X-Hub-Signature": sign(SECRET, flood)}
        )
        assert answer.status_code == 204
    assert _rows(database_dsn, "SELECT count(*) FROM websub_pushes") == [(1 + 50,)]


async def test_a_flood_of_bad_signatures_logs_a_summary(
    receiver: WebSubReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="atlas_core.pipeline.websub")
    body = _feed("UC" + "a" * 22, [_video_id(1)])
    async with httpx.AsyncClient() as http:
        for n in range(200):
            header = {"X-Hub-Signature": sign("wrong", body)} if n % 2 else {}
            assert (await http.post(receiver.url, content=body, headers=header)).status_code == 202
    lines = [r for r in caplog.records if "X-Hub-Signature" in r.getMessage()]
    assert 1 <= len(lines) <= 2, [r.getMessage() for r in lines]
