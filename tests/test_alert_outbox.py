"""The alert outbox: enqueue with the cause, drain to a real local webhook sink."""

from __future__ import annotations

import pytest
from outbox_helpers import HUNT, OpenSvc, alert, rows, titles
from webhook_sink import WebhookSink

from atlas_core.database import DatabaseManager
from atlas_core.notifications import Alert, AlertChannel, AlertLevel
from atlas_core.pipeline.alerts import deliver_alerts
from atlas_core.store.outbox import due_alert_count, enqueue_alert


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
