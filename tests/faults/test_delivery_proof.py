"""A 200 that is not Discord's is not a delivery: a proxy's HTML page, an empty body or a 204
(what a webhook answers without ``wait=true``) leaves the alert pending, retried later, and it
is delivered once Discord answers with the message it created."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from outbox_helpers import WATCH, OpenSvc, alert, enqueue, titles
from webhook_sink import Reply, WebhookSink

from atlas_core.pipeline.alerts import deliver_alerts
from atlas_core.store.outbox import outbox_counts

CAPTIVE_PORTAL = "<html><body>Please sign in to the guest Wi-Fi</body></html>"


@pytest.mark.parametrize(
    "impostor",
    [Reply(200, CAPTIVE_PORTAL), Reply(200, b""), Reply(204), Reply(200, {"ok": True})],
    ids=["html_200", "empty_200", "no_content_204", "json_without_id"],
)
async def test_only_a_discord_message_counts_as_delivered(
    open_svc: OpenSvc,
    sink: WebhookSink,
    database_dsn: str,
    impostor: Reply,
    record_property: Callable[[str, object], None],
) -> None:
    sink.script(*[impostor] * 3, path=WATCH)  # every post of the first drain
    async with open_svc(max_attempts=1, retry_delay=0.01) as svc:
        await enqueue(svc, *(alert(n) for n in range(3)))
        now = datetime.now(UTC)
        first = await deliver_alerts(svc, now=now)
        async with svc.db.get_connection() as conn:
            counts = await outbox_counts(conn)
        record_property("alerts_lost", counts["delivered"])  # "delivered", never retried
        assert counts == {"pending": 3, "delivered": 0, "given_up": 0}
        assert first.delivered == 0
        # Discord is back (the sink's default: 200 with the message object): delivered.
        await deliver_alerts(svc, now=now + timedelta(hours=1))
        async with svc.db.get_connection() as conn:
            assert await outbox_counts(conn) == {"pending": 0, "delivered": 3, "given_up": 0}
    proven = [r for r in sink.requests if r.status == 200 and r.query.get("wait") == ["true"]]
    assert all(r.query.get("wait") == ["true"] for r in sink.requests)  # every post asks for proof
    assert {"alert 0", "alert 1", "alert 2"} <= set(titles(sink))
    assert len(proven) >= 3
