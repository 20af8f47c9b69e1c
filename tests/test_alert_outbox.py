"""The alert outbox: enqueue with the cause, drain to a real local webhook sink."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from webhook_sink import NOT_FOUND, Reply, WebhookSink

from atlas_core.config import Settings, load_settings
from atlas_core.database import DatabaseManager
from atlas_core.notifications import (
    Alert,
    AlertChannel,
    AlertLevel,
    DiscordNotifier,
    escape_markdown,
)
from atlas_core.pipeline import Services
from atlas_core.pipeline.alerts import deliver_alerts
from atlas_core.storage import LocalVault
from atlas_core.store.outbox import due_alert_count, enqueue_alert, outbox_counts

WATCH = "/api/webhooks/1/watch-token"
HUNT = "/api/webhooks/2/hunt-token"
OPS = "/api/webhooks/3/ops-token"


@pytest.fixture
def sink() -> Iterator[WebhookSink]:
    with WebhookSink() as server:
        yield server


@pytest.fixture
def outbox_settings(database_dsn: str, tmp_path: Path) -> Settings:
    return load_settings(
        _env_file=None,
        DATABASE_URL=database_dsn,
        YOUTUBE_API_KEY_POOL_JSON='["k"]',
        YOUTUBE_API_BASE_URL="http://127.0.0.1:9/youtube/v3",
        ATLAS_HOME=tmp_path,
        DISCORD_DIGEST_THRESHOLD=3,
        ALERT_RETRY_BASE_SECONDS=60,
        ALERT_GIVE_UP_HOURS=24,
    )


OpenSvc = Callable[..., Any]


@pytest.fixture
async def open_svc(
    outbox_settings: Settings, sink: WebhookSink, tmp_path: Path
) -> AsyncIterator[OpenSvc]:
    """Services with a notifier on the sink; several may be open at once (two drainers)."""
    db = DatabaseManager(settings=outbox_settings)
    vault = LocalVault(tmp_path / "vault")
    notifiers: list[DiscordNotifier] = []

    def build(batch: int = 100, **options: Any) -> Any:
        options = {"timeout": 0.5, "max_attempts": 1, "retry_delay": 0.0, **options}
        notifier = DiscordNotifier(
            {
                AlertChannel.SURVEILLANCE: sink.url(WATCH),
                AlertChannel.HUNT: sink.url(HUNT),
                AlertChannel.OPS: sink.url(OPS),
            },
            **options,
        )
        notifiers.append(notifier)
        settings = outbox_settings.model_copy(update={"ALERT_BATCH_SIZE": batch})
        return Services.open(settings, db=db, vault=vault, notifier=notifier)

    yield build
    for notifier in notifiers:
        await notifier.aclose()
    await db.close()


def alert(n: int, channel: AlertChannel = AlertChannel.SURVEILLANCE, **kw: Any) -> Alert:
    return Alert(f"test:{n}", channel, AlertLevel.WARNING, f"alert {n}", f"body {n}", **kw)


def rows(dsn: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(
            "SELECT key, attempts, last_error, delivered_at IS NOT NULL,"
            " given_up_at IS NOT NULL FROM alert_outbox ORDER BY id"
        ).fetchall()


def titles(sink: WebhookSink, path: str = WATCH) -> list[str]:
    return [r.json["embeds"][0]["title"] for r in sink.delivered(path)]


async def test_a_key_is_stored_once_and_only_with_its_transaction(
    db: DatabaseManager, database_dsn: str
) -> None:
    async with db.get_connection() as conn:
        assert await enqueue_alert(conn, alert(1)) is True
        assert await enqueue_alert(conn, alert(1)) is False
    with pytest.raises(RuntimeError):
        async with db.get_connection() as conn:
            await enqueue_alert(conn, alert(2))
            raise RuntimeError("the cause failed")  # rolls the alert back with it
    assert [r[0] for r in rows(database_dsn)] == ["test:1"]
    assert due_alert_count(database_dsn) == 1


def test_alert_rejects_bad_values() -> None:
    with pytest.raises(ValueError, match=r"Alert\.key must be a non-empty string"):
        Alert(" ", AlertChannel.OPS, AlertLevel.INFO, "t", "d")
    with pytest.raises(ValueError, match="channel must be one of"):
        Alert("k", "nowhere", AlertLevel.INFO, "t", "d")  # type: ignore[arg-type]
    assert Alert("k", "ops", "CRITICAL", "t", "d").level is AlertLevel.CRITICAL  # type: ignore[arg-type]


async def test_failed_posts_are_retried_by_later_drains_with_backoff(
    open_svc: OpenSvc, sink: WebhookSink, database_dsn: str
) -> None:
    sink.script(Reply(500), path=WATCH)
    async with open_svc() as svc:
        async with svc.db.get_connection() as conn:
            await enqueue_alert(conn, alert(1))
        now = datetime.now(UTC)
        first = await deliver_alerts(svc, now=now)
        assert (first.delivered, first.failed) == (0, 1)
        assert rows(database_dsn) == [
            ("test:1", 1, "gave up after 1 attempt(s), last: HTTP 500", False, False)
        ]
        too_soon = await deliver_alerts(svc, now=now + timedelta(seconds=59))
        assert too_soon.posts == 0 and len(sink.requests) == 1
        second = await deliver_alerts(svc, now=now + timedelta(seconds=61))
    assert second.delivered == 1
    assert rows(database_dsn) == [("test:1", 2, None, True, False)]
    assert titles(sink) == ["alert 1"]


async def test_a_hung_webhook_is_tried_once_per_drain_and_other_channels_still_go(
    open_svc: OpenSvc, sink: WebhookSink, database_dsn: str
) -> None:
    sink.script(Reply(200, delay=2.0), path=WATCH)
    async with open_svc(timeout=0.3) as svc:
        async with svc.db.get_connection() as conn:
            for n in range(3):
                await enqueue_alert(conn, alert(n))
            await enqueue_alert(conn, alert(9, AlertChannel.HUNT))
        result = await deliver_alerts(svc)
    assert len(sink.requests) == 2  # one hung watch post, one hunt post
    assert (result.delivered, result.failed) == (1, 3)
    assert titles(sink, HUNT) == ["alert 9"]
    assert [r[3] for r in rows(database_dsn)] == [False, False, False, True]


async def test_many_pending_alerts_fold_into_one_digest(
    open_svc: OpenSvc, sink: WebhookSink, database_dsn: str
) -> None:
    async with open_svc() as svc:
        async with svc.db.get_connection() as conn:
            for n in range(7):
                await enqueue_alert(conn, alert(n))
        result = await deliver_alerts(svc)
    assert (result.delivered, result.posts, result.digests) == (7, 1, 1)
    assert titles(sink) == ["Alert digest: 7 alerts on 'surveillance'"]
    assert all(r[3] for r in rows(database_dsn))


async def test_an_old_undeliverable_alert_is_given_up_with_an_ops_alert(
    open_svc: OpenSvc, sink: WebhookSink, database_dsn: str
) -> None:
    sink.script(NOT_FOUND, path=WATCH)
    later = datetime.now(UTC) + timedelta(hours=25)
    async with open_svc() as svc:
        async with svc.db.get_connection() as conn:
            await enqueue_alert(conn, alert(1))
        result = await deliver_alerts(svc, now=later)
        assert result.given_up == 1
        assert await svc.events.recorded("alert.given_up", ["1"]) == {"1"}
    stored = rows(database_dsn)
    assert stored[0][:2] == ("test:1", 1) and stored[0][4] is True
    assert "Unknown Webhook" in stored[0][2]
    # The OPS alert went out in the same drain.
    assert stored[1][0] == "alert.given_up:1" and stored[1][3] is True
    [ops] = sink.delivered(OPS)
    assert ops.json["embeds"][0]["title"] == "Alert could not be delivered"


async def test_two_concurrent_drainers_post_each_alert_once(
    open_svc: OpenSvc, sink: WebhookSink, database_dsn: str
) -> None:
    sink.script(*[Reply(200, {"id": "1"}, delay=0.02) for _ in range(40)], path=HUNT)
    async with open_svc(batch=5) as one, open_svc(batch=5) as two:  # small claims: shared
        async with one.db.get_connection() as conn:
            for n in range(40):
                await enqueue_alert(conn, alert(n, AlertChannel.HUNT, image_path=f"x/{n}.jpg"))
        a, b = await asyncio.gather(deliver_alerts(one), deliver_alerts(two))
    assert a.delivered + b.delivered == 40 and a.delivered and b.delivered
    posted = sorted(r.json["embeds"][0]["title"] for r in sink.delivered(HUNT))
    assert posted == sorted(f"alert {n}" for n in range(40))
    async with open_svc() as svc, svc.db.get_connection() as conn:
        assert await outbox_counts(conn) == {"pending": 0, "delivered": 40, "given_up": 0}


async def test_an_image_is_attached_from_the_vault(open_svc: OpenSvc, sink: WebhookSink) -> None:
    jpeg = b"\xff\xd8\xff\xe0 a thumbnail"
    async with open_svc() as svc:
        svc.vault.store_bytes("evidence/abc/0.jpg", jpeg)
        async with svc.db.get_connection() as conn:
            await enqueue_alert(conn, alert(1, AlertChannel.HUNT, image_path="evidence/abc/0.jpg"))
        assert (await deliver_alerts(svc)).delivered == 1
    [request] = sink.delivered(HUNT)
    assert request.files == {"files[0]": ("0.jpg", jpeg)}
    assert request.json["embeds"][0]["image"] == {"url": "attachment://0.jpg"}
    assert request.json["allowed_mentions"] == {"parse": []}


async def test_hostile_youtube_text_cannot_ping_or_format(
    open_svc: OpenSvc, sink: WebhookSink
) -> None:
    hostile = "@everyone **FREE** [click](https://evil) <@&123> `x`"
    shown = escape_markdown(hostile)
    assert "@everyone" not in shown and "**" not in shown and "](" not in shown
    async with open_svc() as svc:
        async with svc.db.get_connection() as conn:
            await enqueue_alert(conn, alert(1, fields={"title": shown}))
        await deliver_alerts(svc)
    [request] = sink.delivered(WATCH)
    body = request.json
    assert body["allowed_mentions"] == {"parse": []}
    assert json.dumps(body).count("@everyone") == 0
