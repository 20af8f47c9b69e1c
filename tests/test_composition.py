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
from atlas_assets.assets.alerts import deliver_alerts_job
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


def test_a_missing_vision_model_fails_only_the_vision_step_and_delivery_still_delivers(
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

    delivery = deliver_alerts_job.execute_in_process(resources=resources, instance=instance)
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
        assert svc.built == set()
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


def test_definitions_are_collected_from_their_modules() -> None:
    from atlas_assets.definitions import defs

    jobs = {j.name for j in defs.resolve_all_job_defs()}
    assert {
        "check_stats_freshness",
        "deliver_alerts",
        "discover_videos",
        "export_vault",
        "hunt_reuploads",
        "refresh_stats",
        "retention_job",
        "sync_websub_subscriptions",
        "weekly_channel_reports_job",
    } <= jobs
    assert {s.name for s in defs.schedules or []} == {
        "apply_retention",
        "check_stats_freshness",
        "discover_uploads",
        "export_closed_day",
        "refresh_stats",
        "weekly_channel_report",
    }
    assert {s.name for s in defs.sensors or []} == {
        "alerts_sensor",
        "hunt_sensor",
        "ops_failure_alert",
        "watchlist_sensor",
        "websub_pushes",
        "websub_subscriptions",
    }


def test_stats_freshness_runs_on_its_own_schedule(database_dsn: str) -> None:
    """A refresh that stopped is caught: the freshness check has a job and schedule of its
    own, which runs the check alone (no refresh)."""
    import psycopg

    from atlas_assets.definitions import defs

    with psycopg.connect(database_dsn) as conn:
        conn.execute("INSERT INTO channels (id, title) VALUES ('UCa', 'a')")
        conn.execute("INSERT INTO watchlist (channel_id) VALUES ('UCa')")
    job = defs.resolve_job_def("check_stats_freshness")
    result = job.execute_in_process(
        resources={"database": DatabaseResource(database_url=database_dsn)},
        instance=DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    [evaluation] = result.get_asset_check_evaluations()
    assert evaluation.check_name == "stats_fresh_per_channel" and not evaluation.passed
    assert result.get_asset_materialization_events() == []
