"""DiscordNotifier against a real HTTP webhook sink on 127.0.0.1 (tests/webhook_sink.py).

Retries and rate-limit pauses run on an injected clock/sleep (FakeTime) so they take no real
time; digest windows, timeouts and the limiter's spacing run on the real clock, kept short.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from webhook_sink import NOT_FOUND, Recorded, Reply, WebhookSink, rate_limited

import atlas_core
from atlas_core.config import load_settings
from atlas_core.notifications import AlertChannel, AlertLevel, DiscordNotifier, build_notifier
from atlas_core.notifications.embeds import (
    DESCRIPTION_LIMIT,
    FIELD_NAME_LIMIT,
    FIELD_VALUE_LIMIT,
    TITLE_LIMIT,
    TOTAL_LIMIT,
    Alert,
    alert_embed,
    digest_embed,
)

TOKEN = "secret-token"
LOGGER = "atlas_core.notifications"


def path_for(channel: AlertChannel) -> str:
    return f"/api/webhooks/{len(channel.value)}0{channel.name}/{TOKEN}-{channel.value}"


class FakeTime:
    """A monotonic clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.waits: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.waits.append(round(seconds, 6))
        self.now += seconds
        await asyncio.sleep(0)


@pytest.fixture
def sink() -> Iterator[WebhookSink]:
    with WebhookSink() as server:
        yield server


Make = Callable[..., DiscordNotifier]


@pytest.fixture
async def make(sink: WebhookSink) -> AsyncIterator[Make]:
    """Build notifiers wired to the sink (every channel unless ``webhooks`` is given)."""
    made: list[DiscordNotifier] = []

    def build(fake: FakeTime | None = None, **options: Any) -> DiscordNotifier:
        options.setdefault("webhooks", {c: sink.url(path_for(c)) for c in AlertChannel})
        options.setdefault("environment", "test")
        options.setdefault("timeout", 2.0)
        options.setdefault("retry_delay", 0.01)
        options.setdefault("digest_threshold", 100)
        if fake is not None:
            options.update(clock=fake.clock, sleep=fake.sleep)
        notifier = DiscordNotifier(options.pop("webhooks"), **options)
        made.append(notifier)
        return notifier

    yield build
    for notifier in made:
        await notifier.aclose()


def embed_of(request: Recorded) -> dict[str, Any]:
    body = request.json
    assert set(body) == {"embeds", "allowed_mentions"} and len(body["embeds"]) == 1
    assert body["allowed_mentions"] == {"parse": []}
    embed: dict[str, Any] = body["embeds"][0]
    return embed


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


def embed_size(embed: dict[str, Any]) -> int:
    fields = embed.get("fields", [])
    return (
        len(embed["title"])
        + len(embed.get("description", ""))
        + len(embed["footer"]["text"])
        + sum(len(f["name"]) + len(f["value"]) for f in fields)
    )


# -- payload shape and limits -------------------------------------------------------------


async def test_each_level_and_channel_posts_one_embed(sink: WebhookSink, make: Make) -> None:
    notifier = make()
    before = datetime.now(UTC) - timedelta(seconds=1)
    for channel in AlertChannel:
        for level in AlertLevel:
            await notifier.send(
                f"{level.name} on {channel.value}",
                "Unusual velocity on video X",
                channel=channel,
                level=level,
                fields={"video_id": "abc123", "delta": "+500%"},
            )

    requests = sink.requests
    assert len(requests) == 16 and all(r.status == 200 for r in requests)
    pairs = [(c, lv) for c in AlertChannel for lv in AlertLevel]
    for request, (channel, level) in zip(requests, pairs, strict=True):
        assert request.path == path_for(channel)
        assert request.query == {"wait": ["true"]}
        assert request.headers["content-type"] == "application/json"
        embed = embed_of(request)
        assert set(embed) == {"title", "description", "color", "fields", "timestamp", "footer"}
        assert embed["title"] == f"{level.name} on {channel.value}"
        assert embed["description"] == "Unusual velocity on video X"
        assert embed["color"] == level.value
        assert embed["fields"] == [
            {"name": "video_id", "value": "abc123", "inline": True},
            {"name": "delta", "value": "+500%", "inline": True},
        ]
        assert embed["footer"] == {"text": "Atlas · test"}
        stamp = datetime.fromisoformat(embed["timestamp"])
        assert stamp.utcoffset() == timedelta(0)
        assert before <= stamp <= datetime.now(UTC)


async def test_defaults_and_existing_query_kept(sink: WebhookSink, make: Make) -> None:
    url = sink.url(path_for(AlertChannel.ALERTS)) + "?thread_id=42"
    notifier = make(webhooks={AlertChannel.ALERTS: url}, environment="prod")
    await notifier.send("Plain", "")  # reference defaults: ALERTS, INFO, no fields

    [request] = sink.delivered()
    assert request.query == {"thread_id": ["42"], "wait": ["true"]}
    embed = embed_of(request)
    assert embed["color"] == AlertLevel.INFO.value
    assert "fields" not in embed and "description" not in embed
    assert embed["footer"]["text"] == "Atlas · prod"


async def test_text_over_limits_is_shortened_visibly(sink: WebhookSink, make: Make) -> None:
    notifier = make()
    fields = {f"name-{i:02d}-" + "n" * 300: "v" * 2000 for i in range(30)}
    await notifier.send("T" * 300, "D" * 5000, AlertChannel.OPS, AlertLevel.CRITICAL, fields)

    [request] = sink.delivered()
    embed = embed_of(request)
    assert len(embed["title"]) == TITLE_LIMIT and embed["title"].endswith("…")
    assert len(embed["description"]) <= DESCRIPTION_LIMIT
    assert embed["description"].endswith("…")
    assert len(embed["fields"]) == 25
    assert embed["fields"][-1]["name"] == "…"
    assert embed["fields"][-1]["value"] == "6 more fields not shown"
    for item in embed["fields"]:
        assert 1 <= len(item["name"]) <= FIELD_NAME_LIMIT
        assert 1 <= len(item["value"]) <= FIELD_VALUE_LIMIT
    assert embed_size(embed) <= TOTAL_LIMIT
    assert embed["fields"][0]["name"].startswith("name-00-")


def test_total_limit_holds_even_when_field_names_alone_exceed_it() -> None:
    fields = tuple((f"{i}" + "n" * 400, "" if i % 2 else "v" * 2000) for i in range(25))
    alert = Alert("t" * 999, "", AlertChannel.HUNT, AlertLevel.WARNING, fields)
    embed = alert_embed(alert, footer="Atlas · test")
    assert embed_size(embed) <= TOTAL_LIMIT
    assert len(embed["fields"]) == 25
    assert all(f["name"] and f["value"] for f in embed["fields"])  # Discord rejects empty ones
    assert embed["fields"][-1]["name"] == "…"  # the last names gave way first
    assert embed["title"].endswith("…")


def test_a_huge_digest_lists_what_fits_and_counts_the_rest() -> None:
    alerts = [
        Alert(f"alert {i} " + "x" * 150, "d", AlertChannel.HUNT, AlertLevel.WARNING)
        for i in range(1000)
    ]
    embed = digest_embed(alerts, footer="Atlas · test", now=datetime.now(UTC))
    assert embed["title"] == "Alert digest: 1000 alerts on 'hunt'"
    assert len(embed["description"]) <= DESCRIPTION_LIMIT
    last_line = embed["description"].splitlines()[-1]
    assert last_line.startswith("… and ") and last_line.endswith(" more")
    assert embed["fields"][0] == {"name": "WARNING", "value": "1000", "inline": True}
    assert embed_size(embed) <= TOTAL_LIMIT


# -- retries, give-ups, timeouts ------------------------------------------------------------


@pytest.mark.parametrize("in_header", [False, True], ids=["body", "header"])
async def test_429_waits_retry_after_then_delivers_once(
    sink: WebhookSink, make: Make, caplog: pytest.LogCaptureFixture, in_header: bool
) -> None:
    fake = FakeTime()
    sink.script(rate_limited(0.75, in_header=in_header))
    await make(fake).send("Storm", "429 first", AlertChannel.HUNT, AlertLevel.WARNING)

    assert [r.status for r in sink.requests] == [429, 200]
    assert len(sink.delivered()) == 1
    assert fake.waits == [0.75]  # retry_after, not the 0.01 backoff, and not twice
    assert errors(caplog) == []


async def test_5xx_retries_with_backoff_then_delivers(sink: WebhookSink, make: Make) -> None:
    fake = FakeTime()
    sink.script(Reply(500), Reply(503, "upstream down"))
    await make(fake).send("Flaky", "500 then 503 then 200", AlertChannel.OPS)

    assert [r.status for r in sink.requests] == [500, 503, 200]
    assert fake.waits == [0.01, 0.02]


async def test_404_gives_up_after_one_try(
    sink: WebhookSink, make: Make, caplog: pytest.LogCaptureFixture
) -> None:
    fake = FakeTime()
    sink.script(NOT_FOUND, Reply(200))
    await make(fake).send("Gone", "deleted webhook", AlertChannel.HUNT)

    assert [r.status for r in sink.requests] == [404]
    assert fake.waits == []
    [message] = errors(caplog)
    assert "webhook for channel 'hunt'" in message
    assert "HTTP 404 (Unknown Webhook, code 10015), not retried" in message


async def test_persistent_5xx_is_bounded_and_logged(
    sink: WebhookSink, make: Make, caplog: pytest.LogCaptureFixture
) -> None:
    sink.script(*[Reply(502)] * 10)
    await make(FakeTime(), max_attempts=3).send("Down", "502 forever", AlertChannel.ALERTS)

    assert len(sink.requests) == 3
    [message] = errors(caplog)
    assert "channel 'alerts' gave up after 3 attempt(s), last: HTTP 502" in message


async def test_429_asking_too_long_a_wait_gives_up(
    sink: WebhookSink, make: Make, caplog: pytest.LogCaptureFixture
) -> None:
    fake = FakeTime()
    sink.script(rate_limited(120.0, is_global=True))
    await make(fake, max_wait=15.0).send("Banned", "global limit", AlertChannel.OPS)

    assert len(sink.requests) == 1 and fake.waits == []
    [message] = errors(caplog)
    assert "asked to wait 120s" in message


async def test_slow_server_times_out_without_raising(
    sink: WebhookSink, make: Make, caplog: pytest.LogCaptureFixture
) -> None:
    sink.script(Reply(200, delay=10.0), Reply(200, delay=10.0))
    notifier = make(timeout=0.2, max_attempts=2)
    started = time.monotonic()
    await notifier.send("Slow", "server hangs", AlertChannel.SURVEILLANCE)

    assert time.monotonic() - started < 2.0
    assert len(sink.requests) == 2
    [message] = errors(caplog)
    assert (
        "channel 'surveillance' gave up after 2 attempt(s), last: no answer within 0.2s" in message
    )


async def test_unreachable_webhook_is_logged(make: Make, caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/api/webhooks/1/{TOKEN}"
    await make(FakeTime(), webhooks={AlertChannel.OPS: url}, max_attempts=2).send(
        "x", "y", AlertChannel.OPS
    )
    [message] = errors(caplog)
    assert (
        "channel 'ops' gave up after 2 attempt(s), last: connection failed (ConnectError)"
        in message
    )


# -- unconfigured channels ----------------------------------------------------------------


async def test_channel_without_webhook_logs_at_info(
    sink: WebhookSink, make: Make, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    notifier = make(webhooks={AlertChannel.HUNT: sink.url(), AlertChannel.OPS: "  "})
    assert notifier.channels == {AlertChannel.HUNT}
    await notifier.send("Quota low", "10% left", AlertChannel.OPS, AlertLevel.WARNING, {"k": "v"})

    assert sink.requests == []
    [record] = [r for r in caplog.records if r.name == LOGGER]
    assert record.levelno == logging.INFO
    assert record.getMessage() == (
        "No Discord webhook for channel 'ops'; alert logged only: [WARNING] Quota low: 10% left"
        "\n  k: v"
    )
    await DiscordNotifier().send("Nothing configured", "still fine")  # the embedded default


# -- rate limits and digests --------------------------------------------------------------


async def test_limiter_spaces_a_burst_per_webhook(sink: WebhookSink, make: Make) -> None:
    notifier = make(rate_limit=(2, 0.4))
    started = time.monotonic()
    await asyncio.gather(*(notifier.send(f"a{i}", "burst", AlertChannel.HUNT) for i in range(6)))

    arrivals = sorted(r.received_at - started for r in sink.delivered())
    assert len(arrivals) == 6
    for index, arrival in enumerate(arrivals):  # two at once, then two per 0.4s
        assert arrival >= 0.4 * (index // 2) - 0.01


async def test_ratelimit_headers_pause_the_next_post(sink: WebhookSink, make: Make) -> None:
    fake = FakeTime()
    exhausted = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset-After": "1.5"}
    sink.script(Reply(200, {"id": "1"}, exhausted))
    notifier = make(fake)
    await notifier.send("first", "drains the bucket", AlertChannel.HUNT)
    await notifier.send("second", "waits for the reset", AlertChannel.HUNT)

    assert len(sink.delivered()) == 2
    assert fake.waits == [1.5]


async def test_storm_folds_into_one_digest(
    sink: WebhookSink, make: Make, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    notifier = make(digest_threshold=3, digest_window=60.0)
    levels = [AlertLevel.INFO] * 5 + [AlertLevel.CRITICAL] + [AlertLevel.SUCCESS] * 4
    for i, level in enumerate(levels):
        await notifier.send(f"alert {i}", "storm", AlertChannel.SURVEILLANCE, level)
    assert [embed_of(r)["title"] for r in sink.requests] == ["alert 0", "alert 1", "alert 2"]

    await notifier.flush()
    assert len(sink.requests) == 4
    digest = embed_of(sink.requests[3])
    assert digest["title"] == "Alert digest: 7 alerts on 'surveillance'"
    assert digest["color"] == AlertLevel.CRITICAL.value
    lines = digest["description"].splitlines()
    assert [line.split("** ", 1)[1] for line in lines] == [f"alert {i}" for i in range(3, 10)]
    assert "**CRITICAL** alert 5" in lines[2]
    counts = {f["name"]: f["value"] for f in digest["fields"]}
    assert counts["CRITICAL"] == "1" and counts["SUCCESS"] == "4" and counts["INFO"] == "2"
    assert list(counts)[:3] == ["CRITICAL", "SUCCESS", "INFO"]
    assert any("Alert storm on channel 'surveillance'" in r.getMessage() for r in caplog.records)

    await notifier.flush()  # nothing held any more
    assert len(sink.requests) == 4


async def test_digest_goes_out_when_the_window_closes(sink: WebhookSink, make: Make) -> None:
    notifier = make(digest_threshold=2, digest_window=0.4)
    started = time.monotonic()
    await asyncio.gather(*(notifier.send(f"s{i}", "d", AlertChannel.HUNT) for i in range(5)))
    assert len(sink.requests) == 2  # the held three returned without waiting for the window

    await asyncio.to_thread(sink.wait_for, 3, 2.0)
    digest = embed_of(sink.requests[2])
    assert digest["title"] == "Alert digest: 3 alerts on 'hunt'"
    assert sink.requests[2].received_at - started >= 0.4  # not before the window closed

    await notifier.send("after", "a new window", AlertChannel.HUNT)
    assert embed_of(sink.requests[3])["title"] == "after"


async def test_channels_fold_independently_and_one_held_alert_stays_plain(
    sink: WebhookSink, make: Make
) -> None:
    notifier = make(digest_threshold=1, digest_window=60.0)
    await notifier.send("hunt 1", "d", AlertChannel.HUNT)
    await notifier.send("hunt 2", "d", AlertChannel.HUNT, AlertLevel.WARNING)
    await notifier.send("ops 1", "d", AlertChannel.OPS)
    await notifier.aclose()  # flushes

    titles = {(r.path, embed_of(r)["title"]) for r in sink.requests}
    assert titles == {
        (path_for(AlertChannel.HUNT), "hunt 1"),
        (path_for(AlertChannel.OPS), "ops 1"),
        (path_for(AlertChannel.HUNT), "hunt 2"),
    }
    assert embed_of(sink.requests[-1])["color"] == AlertLevel.WARNING.value


async def test_many_coroutines_at_once(sink: WebhookSink, make: Make) -> None:
    notifier = make(digest_threshold=5, digest_window=60.0, rate_limit=(5, 0.2))
    await asyncio.gather(
        *(notifier.send(f"c{i}", "d", channel) for i in range(25) for channel in AlertChannel)
    )
    assert len(sink.requests) == 20  # 5 per channel
    await notifier.aclose()
    assert len(sink.requests) == 24
    digests = [embed_of(r)["title"] for r in sink.requests[20:]]
    assert sorted(digests) == sorted(
        f"Alert digest: 20 alerts on '{c.value}'" for c in AlertChannel
    )


def test_aclose_sends_held_alerts_and_a_later_send_opens_a_new_client(
    sink: WebhookSink, caplog: pytest.LogCaptureFixture
) -> None:
    """One notifier per Services, on that step's loop; closing flushes held digests."""
    notifier = DiscordNotifier(
        {AlertChannel.OPS: sink.url()}, digest_threshold=1, digest_window=60.0
    )

    async def step() -> None:
        for i in range(4):
            await notifier.send(f"step {i}", "d", AlertChannel.OPS)
        await notifier.aclose()
        await notifier.send("after close", "d", AlertChannel.OPS)
        await notifier.aclose()

    asyncio.run(step())
    titles = [embed_of(r)["title"] for r in sink.delivered()]
    assert titles == ["step 0", "Alert digest: 3 alerts on 'ops'", "after close"]
    assert errors(caplog) == []


# -- secrets ------------------------------------------------------------------------------


async def test_webhook_token_never_logged(
    sink: WebhookSink, make: Make, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}/api/webhooks/9/{TOKEN}"
    notifier = make(timeout=0.2, max_attempts=2, digest_threshold=2, digest_window=60.0)
    sink.script(
        rate_limited(0.01),
        Reply(500, {"message": f"echo {sink.url()}"}),
        NOT_FOUND,
        Reply(400, {"message": f"bad {sink.url(path_for(AlertChannel.OPS))}", "code": 50035}),
        Reply(200, delay=10.0),
        Reply(200, delay=10.0),
    )
    for level in AlertLevel:
        await notifier.send(f"{level.name} alert", "d", AlertChannel.HUNT, level)
    await notifier.flush()
    await notifier.send("ops", "d", AlertChannel.OPS)
    dead_notifier = make(webhooks={AlertChannel.ALERTS: dead}, max_attempts=1)
    await dead_notifier.send("dead", "d", AlertChannel.ALERTS, AlertLevel.CRITICAL)
    await make(webhooks={}).send("unset", "d", AlertChannel.HUNT)

    assert sink.requests and len(errors(caplog)) >= 3
    httpx_lines = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert httpx_lines and all("POST <webhook>?wait=true" in line for line in httpx_lines)
    assert TOKEN not in caplog.text
    for record in caplog.records:
        assert TOKEN not in record.getMessage()
    assert TOKEN not in repr(notifier) and TOKEN not in repr(dead_notifier)


def test_malformed_webhook_error_names_the_channel_not_the_url() -> None:
    with pytest.raises(ValueError, match="webhook for channel 'hunt' is not an http") as info:
        DiscordNotifier({AlertChannel.HUNT: f"ftp://example.com/api/webhooks/1/{TOKEN}"})
    assert TOKEN not in str(info.value)
    with pytest.raises(ValueError, match="digest_threshold must be >= 1"):
        DiscordNotifier(digest_threshold=0)


# -- settings and the singleton -----------------------------------------------------------


async def test_build_notifier_maps_settings(sink: WebhookSink) -> None:
    settings = load_settings(
        _env_file=None,
        ENV="test",
        DISCORD_WEBHOOK_SURVEILLANCE=sink.url(),
        DISCORD_TIMEOUT_SECONDS=3,
        DISCORD_DIGEST_THRESHOLD=1,
        DISCORD_DIGEST_WINDOW_SECONDS=60,
    )
    notifier = build_notifier(settings)
    assert notifier.channels == {AlertChannel.SURVEILLANCE}
    for i in range(3):
        await notifier.send(f"w{i}", "d", AlertChannel.SURVEILLANCE)
    await notifier.aclose()
    titles = [embed_of(r)["title"] for r in sink.delivered()]
    assert titles == ["w0", "Alert digest: 2 alerts on 'surveillance'"]
    assert embed_of(sink.requests[0])["footer"]["text"] == "Atlas · test"


async def test_singleton_reads_the_environment(
    sink: WebhookSink, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DISCORD_WEBHOOK_OPS", sink.url())
    monkeypatch.chdir(tmp_path)  # no stray .env
    notifier = atlas_core.notifier
    assert isinstance(notifier, DiscordNotifier)
    assert notifier.channels == {AlertChannel.OPS}
    await notifier.send("from the singleton", "d", atlas_core.AlertChannel.OPS)
    await notifier.aclose()
    assert [embed_of(r)["title"] for r in sink.delivered()] == ["from the singleton"]


def test_sink_scripts_per_path_and_answers_like_discord(sink: WebhookSink) -> None:
    import httpx

    sink.script(Reply(500), path="/api/webhooks/1/a")
    with httpx.Client() as client:
        assert client.post(sink.url("/api/webhooks/2/b"), json={}).status_code == 204
        assert client.post(sink.url("/api/webhooks/1/a"), json={}).status_code == 500
        answer = client.post(sink.url("/api/webhooks/1/a"), params={"wait": "true"}, json={})
    assert answer.status_code == 200 and answer.json()["id"] == "1"
    assert [r.status for r in sink.requests] == [204, 500, 200]


def test_bidi_controls_never_reach_an_embed() -> None:
    import json

    from atlas_core.notifications.embeds import Alert as EmbedAlert
    from atlas_core.notifications.embeds import alert_embed
    from atlas_core.youtube.parsing import BIDI_CONTROLS

    rlo = "Evil\u202egnp.exe \u2066x\u2069 \u200e\u200f"
    alert = EmbedAlert(rlo, rlo, AlertChannel.HUNT, AlertLevel.WARNING, ((rlo, rlo),))
    embed = alert_embed(alert, footer="Atlas")
    shown = json.dumps(embed, ensure_ascii=False)
    assert len(BIDI_CONTROLS) == 11 and not any(ch in shown for ch in BIDI_CONTROLS)
    assert embed["title"] == "Evilgnp.exe x "
