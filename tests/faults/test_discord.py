"""Discord fails (500, 429, 404, a hung webhook): alerts wait in the outbox and are
delivered exactly once later, or given up with an OPS alert; none is lost."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from outbox_helpers import HUNT, OPS, WATCH, OpenSvc, alert, enqueue, rows, titles
from webhook_sink import NOT_FOUND, Reply, WebhookSink, rate_limited

from atlas_core.notifications import AlertChannel, escape_markdown
from atlas_core.pipeline.alerts import deliver_alerts
from atlas_core.store.outbox import outbox_counts


@pytest.mark.parametrize(
    "first",
    [Reply(500), rate_limited(0.05), Reply(200, delay=2.0)],
    ids=["discord_500", "discord_429", "discord_hang"],
)
async def test_every_alert_is_delivered_despite_a_failing_discord(
    open_svc: OpenSvc,
    sink: WebhookSink,
    database_dsn: str,
    first: Reply,
    record_property: Callable[[str, object], None],
) -> None:
    sink.script(first, path=WATCH)
    async with open_svc(timeout=0.3, max_attempts=2, retry_delay=0.01, max_wait=1.0) as svc:
        await enqueue(svc, *(alert(n) for n in range(3)))
        now = datetime.now(UTC)
        await deliver_alerts(svc, now=now)
        await deliver_alerts(svc, now=now + timedelta(hours=1))  # the retry, if one was due
        async with svc.db.get_connection() as conn:
            counts = await outbox_counts(conn)
            record_property("alerts_lost", 3 - counts["delivered"])
            assert counts == {"pending": 0, "delivered": 3, "given_up": 0}
    assert len(sink.requests) >= 2  # the failed post was retried
    assert set(titles(sink)) == {"alert 0", "alert 1", "alert 2"}  # none lost
    if not first.delay:
        assert len(titles(sink)) == 3  # and none sent twice; a post abandoned on a hung
        # webhook may still land late: that is at-least-once, the outbox's promise


async def test_failed_posts_are_retried_by_later_drains_with_backoff(
    open_svc: OpenSvc, sink: WebhookSink, database_dsn: str
) -> None:
    sink.script(Reply(500), path=WATCH)
    async with open_svc() as svc:
        await enqueue(svc, alert(1))
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
        await enqueue(svc, *(alert(n) for n in range(3)), alert(9, AlertChannel.HUNT))
        result = await deliver_alerts(svc)
    assert len(sink.requests) == 2  # one hung watch post, one hunt post
    assert (result.delivered, result.failed) == (1, 3)
    assert titles(sink, HUNT) == ["alert 9"]
    assert [r[3] for r in rows(database_dsn)] == [False, False, False, True]


async def test_an_old_undeliverable_alert_is_given_up_with_an_ops_alert(
    open_svc: OpenSvc, sink: WebhookSink, database_dsn: str
) -> None:
    sink.script(NOT_FOUND, path=WATCH)
    later = datetime.now(UTC) + timedelta(hours=25)
    async with open_svc() as svc:
        await enqueue(svc, alert(1))
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
        await enqueue(
            one, *(alert(n, AlertChannel.HUNT, image_path=f"x/{n}.jpg") for n in range(40))
        )
        a, b = await asyncio.gather(deliver_alerts(one), deliver_alerts(two))
    assert a.delivered + b.delivered == 40 and a.delivered and b.delivered
    posted = sorted(r.json["embeds"][0]["title"] for r in sink.delivered(HUNT))
    assert posted == sorted(f"alert {n}" for n in range(40))
    async with open_svc() as svc, svc.db.get_connection() as conn:
        assert await outbox_counts(conn) == {"pending": 0, "delivered": 40, "given_up": 0}


async def test_hostile_youtube_text_cannot_ping_or_format(
    open_svc: OpenSvc, sink: WebhookSink
) -> None:
    hostile = "@everyone **FREE** [click](https://evil) <@&123> `x`"
    shown = escape_markdown(hostile)
    assert "@everyone" not in shown and "**" not in shown and "](" not in shown
    async with open_svc() as svc:
        await enqueue(svc, alert(1, fields={"title": shown}))
        await deliver_alerts(svc)
    [request] = sink.delivered(WATCH)
    body = request.json
    assert body["allowed_mentions"] == {"parse": []}
    assert json.dumps(body).count("@everyone") == 0
