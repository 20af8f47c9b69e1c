"""The alert outbox: enqueue with the cause, drain to a real local webhook sink."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import pytest
from dagster import (
    DagsterInstance,
    DagsterRun,
    DagsterRunStatus,
    RunRequest,
    SkipReason,
    asset,
    build_sensor_context,
    materialize,
)
from outbox_helpers import HUNT, WATCH, OpenSvc, alert, enqueue, rows, titles
from webhook_sink import Reply, WebhookSink

from atlas_assets.assets.alerts import alerts_sensor
from atlas_assets.resources import DatabaseResource, NotifierResource
from atlas_assets.runtime import services
from atlas_core.database import DatabaseManager
from atlas_core.notifications import Alert, AlertChannel, AlertLevel
from atlas_core.pipeline.alerts import deliver_alerts, deliver_new_alerts
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
        await enqueue(svc, *(alert(n) for n in range(7)))
        result = await deliver_alerts(svc)
    assert (result.delivered, result.posts, result.digests) == (7, 1, 1)
    assert titles(sink) == ["Alert digest: 7 alerts on 'surveillance'"]
    assert all(r[3] for r in rows(database_dsn))


async def test_an_image_is_attached_from_the_vault(open_svc: OpenSvc, sink: WebhookSink) -> None:
    jpeg = b"\xff\xd8\xff\xe0 a thumbnail"
    async with open_svc() as svc:
        svc.vault.store_bytes("evidence/abc/0.jpg", jpeg)
        await enqueue(svc, alert(1, AlertChannel.HUNT, image_path="evidence/abc/0.jpg"))
        assert (await deliver_alerts(svc)).delivered == 1
    [request] = sink.delivered(HUNT)
    assert request.files == {"files[0]": ("0.jpg", jpeg)}
    assert request.json["embeds"][0]["image"] == {"url": "attachment://0.jpg"}
    assert request.json["allowed_mentions"] == {"parse": []}


# --- alerts in seconds: the step that writes an alert posts it --------------------------------


def test_a_step_posts_its_alert_with_no_delivery_run(
    database_dsn: str, sink: WebhookSink, tmp_path: Path
) -> None:
    # An asset whose step commits an alert through the Dagster layer's step preamble
    # (atlas_assets.runtime.services), as Atlas's assets do: the alert reaches the webhook
    # when the step's work ends, in the same run; no deliver_alerts run exists.
    seen_during_step: list[list[str]] = []

    @asset
    async def writes_an_alert(  # type: ignore[no-untyped-def]  # Dagster reads `context` bare
        context, database: DatabaseResource, notifier: NotifierResource
    ) -> None:
        async with services(context, database, notifier=notifier) as svc:
            await enqueue(svc, alert(1))
            seen_during_step.append(titles(sink))

    with DagsterInstance.ephemeral() as instance:
        result = materialize(
            [writes_an_alert],
            instance=instance,
            resources={
                "database": DatabaseResource(database_url=database_dsn, atlas_home=str(tmp_path)),
                "notifier": NotifierResource(webhook_surveillance=sink.url(WATCH)),
            },
        )
        assert result.success
        assert [r.job_name for r in instance.get_runs()] == ["__ephemeral_asset_job__"]
    assert seen_during_step == [[]]  # nothing is posted before the step's work is done
    assert titles(sink) == ["alert 1"]
    assert rows(database_dsn) == [("test:1", 1, None, True, False)]
    assert due_alert_count(database_dsn) == 0


async def test_new_alerts_are_posted_once_even_beside_a_drain(
    open_svc: OpenSvc, sink: WebhookSink, database_dsn: str
) -> None:
    async with open_svc() as svc:
        await enqueue(svc, *(alert(n) for n in range(2)))
        async with open_svc() as drain:
            inline, drained = await asyncio.gather(deliver_new_alerts(svc), deliver_alerts(drain))
        again = await deliver_alerts(svc)
    assert inline.delivered + drained.delivered == 2 and again.delivered == 0
    assert sorted(titles(sink)) == ["alert 0", "alert 1"]  # each once


async def test_the_step_leaves_retries_to_the_drain(
    open_svc: OpenSvc, sink: WebhookSink, database_dsn: str
) -> None:
    sink.script(Reply(500), path=WATCH)
    async with open_svc() as svc:
        await enqueue(svc, alert(1))
        failed = await deliver_new_alerts(svc)
        assert (failed.delivered, failed.failed) == (0, 1)
        again = await deliver_new_alerts(svc)  # a tried alert is the drain's, never the step's
    assert again == type(again)()
    [row] = rows(database_dsn)
    assert row[1] == 1 and "500" in row[2] and not row[3]


async def test_a_slow_webhook_costs_the_step_its_budget_only(
    open_svc: OpenSvc, sink: WebhookSink, database_dsn: str
) -> None:
    sink.script(Reply(200, delay=5.0), path=WATCH)
    async with open_svc(timeout=30.0) as svc:
        await enqueue(svc, *(alert(n) for n in range(2)))
        started = time.monotonic()
        result = await deliver_new_alerts(svc, budget_seconds=0.5)
        took = time.monotonic() - started
    assert took < 3.0, f"the step waited {took:.1f}s on Discord with a 0.5s budget"
    assert result.delivered == 0 and result.failed == 1 and result.released == 1
    by_key = {r[0]: r for r in rows(database_dsn)}
    assert by_key["test:1"][1] == 0  # released untried: due for the drain at once
    assert due_alert_count(database_dsn) == 1


def _with_run(instance: DagsterInstance, status: DagsterRunStatus) -> None:
    instance.add_run(DagsterRun(job_name="deliver_alerts", run_id=str(uuid.uuid4()), status=status))


async def test_alerts_sensor_waits_for_the_step_and_for_a_running_drain(
    db: DatabaseManager, database_dsn: str, tmp_path: Path
) -> None:
    database = DatabaseResource(database_url=database_dsn, atlas_home=str(tmp_path))

    def tick(instance: DagsterInstance) -> RunRequest | SkipReason:
        context = build_sensor_context(instance=instance, resources={"database": database})
        return alerts_sensor(context)  # type: ignore[no-any-return]

    async with db.get_connection() as conn:
        await enqueue_alert(conn, alert(1))
    with DagsterInstance.ephemeral() as instance:
        fresh = tick(instance)  # the step that wrote it is posting it
        assert isinstance(fresh, SkipReason) and "no alert due" in str(fresh.skip_message)
        async with db.get_connection() as conn:
            await conn.execute("UPDATE alert_outbox SET created_at = now() - interval '10 minutes'")
        request = tick(instance)
        assert isinstance(request, RunRequest) and request.tags["atlas/alerts_due"] == "1"
        _with_run(instance, DagsterRunStatus.STARTED)
        busy = tick(instance)
        assert isinstance(busy, SkipReason) and "is on it" in str(busy.skip_message)
