"""The alert outbox's shared pieces: a webhook sink, settings, Services whose notifier posts
to the sink (several may be open at once), writing alerts, and readers of the outbox and the
sink."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from webhook_sink import WebhookSink

from atlas_core.config import Settings, load_settings
from atlas_core.database import DatabaseManager
from atlas_core.notifications import Alert, AlertChannel, AlertLevel, DiscordNotifier
from atlas_core.pipeline import Services
from atlas_core.storage import LocalVault
from atlas_core.store.outbox import enqueue_alert

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


async def enqueue(svc: Services, *alerts: Alert) -> None:
    """Write ``alerts`` to the outbox, in one transaction."""
    async with svc.db.get_connection() as conn:
        for one in alerts:
            await enqueue_alert(conn, one)


def rows(dsn: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(
            "SELECT key, attempts, last_error, delivered_at IS NOT NULL,"
            " given_up_at IS NOT NULL FROM alert_outbox ORDER BY id"
        ).fetchall()


def titles(sink: WebhookSink, path: str = WATCH) -> list[str]:
    return [r.json["embeds"][0]["title"] for r in sink.delivered(path)]
