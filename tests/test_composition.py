"""One composition root: clients are built through atlas_core.factories, only when a step
uses them, from Settings read once per process."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from dagster import DagsterInstance, materialize
from outbox_helpers import OPS, alert, titles
from webhook_sink import WebhookSink

import atlas_core
from atlas_assets.assets.alerts import alert_deliveries
from atlas_assets.assets.vision import video_vectors
from atlas_assets.resources import (
    DatabaseResource,
    NotifierResource,
    VaultResource,
    YouTubeResource,
    settings_from,
)
from atlas_core.config import Settings
from atlas_core.database import DatabaseManager
from atlas_core.factories import build_database
from atlas_core.notifications import AlertChannel
from atlas_core.pipeline import Services
from atlas_core.store.outbox import enqueue_alert


def test_a_missing_vision_model_fails_only_the_vision_step(
    database_dsn: str, tmp_path: Path, sink: WebhookSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "no-such-model.onnx"
    monkeypatch.setenv("VISION_MODEL_PATH", str(missing))
    monkeypatch.setenv("DISCORD_WEBHOOK_OPS", sink.url(OPS))
    monkeypatch.setenv("YOUTUBE_API_KEY_POOL_JSON", '["k"]')
    resources = {
        "database": DatabaseResource(database_url=database_dsn, atlas_home=str(tmp_path)),
        "youtube": YouTubeResource(api_base_url="http://127.0.0.1:9/youtube/v3"),
        "vault": VaultResource(provider="local", local_path=str(tmp_path / "vault")),
        "notifier": NotifierResource(),
    }
    asyncio.run(_enqueue(resources["database"].settings()))
    instance = DagsterInstance.ephemeral()

    vision = materialize(
        [video_vectors], resources=resources, instance=instance, raise_on_error=False
    )
    assert not vision.success
    [failure] = vision.get_step_failure_events()
    assert "VISION_MODEL_PATH" in str(failure.step_failure_data.error)
    assert str(missing) in str(failure.step_failure_data.error)

    delivery = materialize([alert_deliveries], resources=resources, instance=instance)
    assert delivery.success
    assert titles(sink, OPS) == ["alert 1"]


async def _enqueue(settings: Settings) -> None:
    db = build_database(settings)
    try:
        async with db.get_connection() as conn:
            assert await enqueue_alert(conn, alert(1, AlertChannel.OPS))
    finally:
        await db.close()


async def test_services_build_nothing_a_step_does_not_use(settings: Settings) -> None:
    broken = settings.model_copy(update={"VISION_MODEL_PATH": "/nonexistent/model.onnx"})
    async with Services.open(broken) as svc:
        assert await svc.db.health_check()
        assert svc._youtube is None and svc._notifier is None and svc._embedder is None
        with pytest.raises(ValueError, match="VISION_MODEL_PATH"):
            svc.embedder


def test_a_database_manager_never_reads_the_environment_itself() -> None:
    with pytest.raises(TypeError, match="dsn or settings"):
        DatabaseManager()


def test_resources_read_settings_once_per_process(database_dsn: str) -> None:
    database = DatabaseResource(database_url=database_dsn)
    assert database.settings() is database.settings()
    assert settings_from(database) is DatabaseResource(database_url=database_dsn).settings()


def test_the_facade_builds_through_the_factories(settings: Settings) -> None:
    atlas_core.use_settings(settings)
    assert atlas_core.settings is settings
    assert atlas_core.db.dsn == settings.DATABASE_URL.get_secret_value()  # type: ignore[union-attr]
    assert atlas_core.vault.health_check()
