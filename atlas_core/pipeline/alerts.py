"""Alerts from the outbox to Discord: posted by the step that wrote them, retried by a drain.

    await deliver_new_alerts(svc)             # right after a step commits: seconds, bounded
    async with posting_new_alerts(svc):       # a long step: its alerts posted as it commits them
        ...
    result = await deliver_alerts(svc)        # the retry path: AlertDelivery(delivered=3, ...)

Pipeline steps write alerts (``enqueue_alert`` in the transaction of their cause). Right
after the step's work, :func:`deliver_new_alerts` posts the alerts never tried yet, within
``INLINE_BUDGET_SECONDS``; what it cannot post in that time, or what fails, stays in the
outbox for :func:`deliver_alerts` (the ``deliver_alerts`` job), which posts every due alert.
Per channel, more than ``DISCORD_DIGEST_THRESHOLD`` due alerts without an image go out as ONE
digest embed. A failed post is retried by a later drain after ``ALERT_RETRY_BASE_SECONDS``
doubling per attempt (capped by ``ALERT_RETRY_MAX_SECONDS``); once an alert is older than
``ALERT_GIVE_UP_HOURS`` it is given up, with an ``alert.given_up`` event and an OPS alert.
A webhook that does not answer at all is not tried again in the same drain. Rows are
claimed with ``FOR UPDATE SKIP LOCKED`` and a lease, so two deliverers (a step and a drain,
or two drains) never post the same alert, and one that dies hands its rows back when the
lease ends.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from atlas_core.notifications.alert import Alert
from atlas_core.notifications.discord import DeliveryError
from atlas_core.notifications.embeds import Alert as EmbedAlert
from atlas_core.notifications.embeds import alert_embed, digest_embed, shorten
from atlas_core.notifications.levels import AlertChannel, AlertLevel
from atlas_core.pipeline.services import Services
from atlas_core.store.outbox import (
    OutboxRow,
    claim_due,
    enqueue_alert,
    give_up,
    mark_delivered,
    mark_failed,
    release,
)

logger = logging.getLogger(__name__)

_FILE_NAME = re.compile(r"[^A-Za-z0-9._-]")
# How long a step spends posting its own new alerts after its work is done. A post still
# waiting at the end is abandoned and left to the drain (Discord may or may not have it: the
# same doubt as any timeout, resolved at-least-once).
INLINE_BUDGET_SECONDS = 5.0
# How often a running step looks for alerts committed since its last look (a hunt of 500
# videos takes minutes; its first match must not wait for the last video).
POLL_SECONDS = 2.0


@dataclass(frozen=True)
class AlertDelivery:
    delivered: int = 0  # alerts that reached Discord (or were logged: channel without webhook)
    posts: int = 0  # webhook posts made (a digest is one)
    digests: int = 0
    failed: int = 0  # to be retried by a later drain
    given_up: int = 0
    released: int = 0  # claimed, then handed back untried (the step's time was up)


async def deliver_alerts(svc: Services, *, now: datetime | None = None) -> AlertDelivery:
    """Post every due alert; see the module docstring. ``now`` defaults to the wall clock."""
    settings = svc.settings
    moment = now or datetime.now(UTC)
    totals = _Totals()
    unreachable: set[AlertChannel] = set()
    while True:
        async with svc.db.get_connection() as conn:
            rows = await claim_due(
                conn,
                moment,
                limit=settings.ALERT_BATCH_SIZE,
                lease_seconds=settings.ALERT_CLAIM_LEASE_SECONDS,
            )
        if not rows:
            break
        await _deliver_rows(svc, rows, moment, totals, unreachable, deadline=None)
    return totals.result()


async def deliver_new_alerts(
    svc: Services, *, budget_seconds: float = INLINE_BUDGET_SECONDS
) -> AlertDelivery:
    """Post the alerts never tried yet, spending at most about ``budget_seconds``; the rest
    (and every failure) is left to :func:`deliver_alerts`. Never raises for a delivery
    problem: the step that calls it has done its work."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + budget_seconds
    moment = datetime.now(UTC)
    totals = _Totals()
    try:
        async with svc.db.get_connection() as conn:
            rows = await claim_due(
                conn,
                moment,
                limit=svc.settings.ALERT_BATCH_SIZE,
                lease_seconds=svc.settings.ALERT_CLAIM_LEASE_SECONDS,
                fresh_only=True,
            )
        if rows:
            await _deliver_rows(svc, rows, moment, totals, set(), deadline=deadline)
    except Exception:  # the outbox keeps the alerts; the drain retries them
        logger.exception("posting new alerts right away failed; the deliver_alerts job retries")
    return totals.result()


@asynccontextmanager
async def posting_new_alerts(
    svc: Services,
    *,
    every_seconds: float = POLL_SECONDS,
    budget_seconds: float = INLINE_BUDGET_SECONDS,
) -> AsyncIterator[None]:
    """While the body runs, post the alerts never tried yet every ``every_seconds`` (each
    look bounded by ``budget_seconds``), so an alert committed mid-step reaches Discord
    seconds after its commit; when the body is done, look once more. An alert the body
    commits is posted at most about ``every_seconds + budget_seconds`` later, whatever the
    step's length. Delivery problems never reach the body (see :func:`deliver_new_alerts`)."""
    stop = asyncio.Event()

    async def poll() -> None:
        while True:
            try:
                await asyncio.wait_for(stop.wait(), timeout=every_seconds)
                return
            except TimeoutError:
                await deliver_new_alerts(svc, budget_seconds=budget_seconds)

    poller = asyncio.create_task(poll())
    try:
        yield
    finally:
        stop.set()
        await poller
    await deliver_new_alerts(svc, budget_seconds=budget_seconds)


async def _deliver_rows(
    svc: Services,
    rows: list[OutboxRow],
    moment: datetime,
    totals: _Totals,
    unreachable: set[AlertChannel],
    *,
    deadline: float | None,
) -> None:
    """Post claimed rows by channel (digests as configured); every row ends delivered,
    failed (rescheduled or given up) or, past ``deadline``, released untried."""
    loop = asyncio.get_running_loop()
    by_channel: dict[AlertChannel, list[OutboxRow]] = {}
    for row in rows:
        by_channel.setdefault(row.alert.channel, []).append(row)
    for channel, group in by_channel.items():
        if channel in unreachable:
            await _failed(
                svc, group, "webhook did not answer earlier in this drain", moment, totals
            )
            continue
        posts = _posts(group, svc.settings.DISCORD_DIGEST_THRESHOLD)
        for index, batch in enumerate(posts):
            left = None if deadline is None else deadline - loop.time()
            if left is not None and left <= 0:
                rest = [r for later in posts[index:] for r in later]
                async with svc.db.get_connection() as conn:
                    await release(conn, [r.id for r in rest], moment)
                totals.released += len(rest)
                break
            try:
                await asyncio.wait_for(_post(svc, channel, batch, moment), timeout=left)
            except DeliveryError as exc:
                await _failed(svc, batch, str(exc), moment, totals)
                if exc.unreachable:
                    unreachable.add(channel)
                    rest = [r for later in posts[index + 1 :] for r in later]
                    await _failed(svc, rest, f"webhook unreachable: {exc}", moment, totals)
                    break
            except TimeoutError:
                reason = f"no answer within the step's {left:.1f}s for posting its alerts"
                await _failed(svc, batch, reason, moment, totals)
            except Exception as exc:  # a vault read failing: retried like a post
                await _failed(svc, batch, f"{type(exc).__name__}: {exc}", moment, totals)
            else:
                async with svc.db.get_connection() as conn:
                    await mark_delivered(conn, [r.id for r in batch], moment)
                totals.delivered += len(batch)
                totals.posts += 1
                totals.digests += len(batch) > 1


@dataclass
class _Totals:
    delivered: int = 0
    posts: int = 0
    digests: int = 0
    failed: int = 0
    given_up: int = 0
    released: int = 0

    def result(self) -> AlertDelivery:
        return AlertDelivery(
            delivered=self.delivered,
            posts=self.posts,
            digests=self.digests,
            failed=self.failed,
            given_up=self.given_up,
            released=self.released,
        )


def _posts(group: list[OutboxRow], threshold: int) -> list[list[OutboxRow]]:
    """What to post: alerts with an image one by one; the others one by one, or as one
    digest when there are more than ``threshold`` of them."""
    plain = [r for r in group if r.alert.image_path is None]
    images = [[r] for r in group if r.alert.image_path is not None]
    if len(plain) > threshold:
        return [plain, *images]
    return [[r] for r in plain] + images


async def _post(
    svc: Services, channel: AlertChannel, batch: list[OutboxRow], now: datetime
) -> None:
    footer: str = getattr(svc.notifier, "footer", "Atlas")
    if len(batch) > 1:
        embed = digest_embed([_embed_alert(r) for r in batch], footer=footer, now=now)
        await svc.notifier.post(channel, embed)
        return
    [row] = batch
    embed = alert_embed(_embed_alert(row), footer=footer)
    attachment = await _attachment(svc, row.alert)
    if attachment is not None:
        embed["image"] = {"url": f"attachment://{attachment[0]}"}
    await svc.notifier.post(channel, embed, attachment)


async def _attachment(svc: Services, alert: Alert) -> tuple[str, bytes] | None:
    if alert.image_path is None:
        return None
    data = await asyncio.to_thread(svc.vault.fetch_bytes, alert.image_path)
    if data is None:
        logger.warning(
            "alert %r: image %r is not in the vault; sent without it", alert.key, alert.image_path
        )
        return None
    name = _FILE_NAME.sub("_", alert.image_path.rsplit("/", 1)[-1]) or "image.jpg"
    return name, data


def _embed_alert(row: OutboxRow) -> EmbedAlert:
    alert = row.alert
    return EmbedAlert(
        title=alert.title,
        description=alert.description,
        channel=alert.channel,
        level=alert.level,
        fields=tuple(alert.fields.items()),
        at=row.created_at,
    )


async def _failed(
    svc: Services, rows: Sequence[OutboxRow], error: str, now: datetime, totals: _Totals
) -> None:
    """Reschedule with backoff, or give up on the rows older than ALERT_GIVE_UP_HOURS."""
    if not rows:
        return
    settings = svc.settings
    max_age = timedelta(hours=settings.ALERT_GIVE_UP_HOURS)
    expired = [r for r in rows if now - r.created_at >= max_age]
    retry = [r for r in rows if r not in expired]
    async with svc.db.get_connection() as conn:
        for row in retry:
            delay = min(
                settings.ALERT_RETRY_BASE_SECONDS * 2 ** max(row.attempts - 1, 0),
                settings.ALERT_RETRY_MAX_SECONDS,
            )
            await mark_failed(conn, [row.id], error, now + timedelta(seconds=delay))
        await give_up(conn, [r.id for r in expired], error, now)
        for row in expired:
            if row.alert.channel is not AlertChannel.OPS:
                await enqueue_alert(conn, _ops_alert(row, error))
    for row in expired:
        await svc.events.emit("alert.given_up", str(row.id), _given_up_payload(row, error))
        logger.error(
            "alert %r given up after %d attempt(s) since %s: %s",
            row.alert.key,
            row.attempts,
            row.created_at.isoformat(),
            error,
        )
    totals.failed += len(retry)
    totals.given_up += len(expired)


def _given_up_payload(row: OutboxRow, error: str) -> dict[str, Any]:
    return {
        "key": row.alert.key,
        "channel": row.alert.channel.value,
        "title": row.alert.title,
        "attempts": row.attempts,
        "created_at": row.created_at.isoformat(),
        "last_error": error,
    }


def _ops_alert(row: OutboxRow, error: str) -> Alert:
    return Alert(
        key=f"alert.given_up:{row.id}",
        channel=AlertChannel.OPS,
        level=AlertLevel.CRITICAL,
        title="Alert could not be delivered",
        description=(
            f"An alert for channel '{row.alert.channel.value}' was given up after "
            f"{row.attempts} attempt(s); it is kept in the alert outbox."
        ),
        fields={"title": shorten(row.alert.title, 200), "last_error": shorten(error, 500)},
    )
