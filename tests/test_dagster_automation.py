"""Sensors, backfills through Dagster's own CLI, and the run-failure alert."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg
import pyarrow.dataset as ds
import pytest
from atlas_simulator import SimulatorServer
from dagster import (
    AssetSelection,
    DagsterInstance,
    EnvVar,
    PartitionKeyRange,
    SensorResult,
    SkipReason,
    build_run_status_sensor_context,
    build_sensor_context,
    instance_for_test,
    materialize,
)
from outbox_helpers import OpenSvc, alert, titles
from webhook_sink import WebhookSink

from atlas_assets.definitions import assets
from atlas_assets.resources import (
    DatabaseResource,
    NotifierResource,
    VaultResource,
    YouTubeResource,
)
from atlas_assets.sensors import ops_failure_alert, watchlist_sensor
from atlas_core.config import Settings
from atlas_core.pipeline.alerts import posting_new_alerts
from atlas_core.store.outbox import enqueue_alert

ROOT = Path(__file__).resolve().parent.parent


def test_watchlist_sensor_registers_new_channels_then_skips(database_dsn: str) -> None:
    database = {"database": DatabaseResource(database_url=database_dsn)}
    instance = DagsterInstance.ephemeral()
    with psycopg.connect(database_dsn) as conn:
        conn.execute("INSERT INTO watchlist (channel_id) VALUES ('UCaaaaaaaaaaaaaaaaaaaaaA')")

    result = watchlist_sensor(build_sensor_context(instance=instance, resources=database))
    assert isinstance(result, SensorResult)
    assert [r.partition_key_range for r in result.run_requests or []] == [
        PartitionKeyRange("UCaaaaaaaaaaaaaaaaaaaaaA", "UCaaaaaaaaaaaaaaaaaaaaaA")
    ]
    [add] = result.dynamic_partitions_requests or []
    assert list(add.partition_keys) == ["UCaaaaaaaaaaaaaaaaaaaaaA"]  # type: ignore[union-attr]
    instance.add_dynamic_partitions("channels", ["UCaaaaaaaaaaaaaaaaaaaaaA"])

    again = watchlist_sensor(
        build_sensor_context(instance=instance, cursor=result.cursor, resources=database)
    )
    assert isinstance(again, SkipReason) and "unchanged" in (again.skip_message or "")

    with psycopg.connect(database_dsn) as conn:
        conn.execute("INSERT INTO watchlist (channel_id) VALUES ('UCbbbbbbbbbbbbbbbbbbbbbA')")
        conn.execute("DELETE FROM watchlist WHERE channel_id = 'UCaaaaaaaaaaaaaaaaaaaaaA'")
    third = watchlist_sensor(
        build_sensor_context(instance=instance, cursor=result.cursor, resources=database)
    )
    assert isinstance(third, SensorResult)
    assert [r.partition_key_range for r in third.run_requests or []] == [
        PartitionKeyRange("UCbbbbbbbbbbbbbbbbbbbbbA", "UCbbbbbbbbbbbbbbbbbbbbbA")
    ]
    kinds = {type(r).__name__: list(r.partition_keys) for r in third.dynamic_partitions_requests}  # type: ignore[union-attr]
    assert kinds == {
        "AddDynamicPartitionsRequest": ["UCbbbbbbbbbbbbbbbbbbbbbA"],
        "DeleteDynamicPartitionsRequest": ["UCaaaaaaaaaaaaaaaaaaaaaA"],
    }


def _seed_days(dsn: str, days: list[date]) -> None:
    from atlas_core.utils import as_utc

    with psycopg.connect(dsn) as conn:
        conn.execute("INSERT INTO channels (id, title) VALUES ('UCbf', 'backfill')")
        conn.execute("INSERT INTO videos (id, channel_id, title) VALUES ('vidbf', 'UCbf', 't')")
        for n, day in enumerate(days):
            for hour in range(n + 2):  # a different row count per day
                ts = as_utc(datetime(day.year, day.month, day.day, hour, tzinfo=UTC))
                conn.execute(
                    "INSERT INTO video_stats_log (video_id, timestamp, views) VALUES (%s, %s, %s)",
                    ("vidbf", ts, 100 * hour),
                )


def test_three_day_backfill_through_the_dagster_cli(database_dsn: str, tmp_path: Path) -> None:
    days = [date(2026, 11, 18) + timedelta(days=i) for i in range(3)]
    _seed_days(database_dsn, days)
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    vault = tmp_path / "vault"
    env = {k: v for k, v in os.environ.items() if k not in Settings.model_fields}
    env.update(
        DATABASE_URL=database_dsn,
        VAULT_PROVIDER="local",
        LOCAL_VAULT_PATH=str(vault),
        ATLAS_HOME=str(tmp_path / "home"),
        DAGSTER_HOME=str(home),
    )
    command = [
        sys.executable,
        "-m",
        "dagster",
        "asset",
        "materialize",
        "-m",
        "atlas_assets.definitions",
        "--select",
        "vault_partitions",
        "--partition-range",
        f"{days[0]}...{days[-1]}",
    ]
    for _ in range(2):  # re-running the range replaces each day, never duplicates it
        done = subprocess.run(
            command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stderr[-3000:]

    files = sorted(p.relative_to(vault).as_posix() for p in vault.rglob("*.parquet"))
    stats_files = [f for f in files if f.startswith("video_stats_log/")]
    assert [f.split("/")[1] for f in stats_files] == [f"dt={d}" for d in days]
    table = ds.dataset(vault / "video_stats_log", partitioning="hive").to_table()
    per_day = table.group_by("dt").aggregate([("video_id", "count")]).to_pylist()
    assert sorted((str(r["dt"]), r["video_id_count"]) for r in per_day) == [
        (str(d), n + 2) for n, d in enumerate(days)
    ]


@pytest.fixture
def sink() -> Iterator[WebhookSink]:
    with WebhookSink() as server:
        yield server


def test_failed_run_alerts_ops_with_run_id_and_error(
    database_dsn: str, tmp_path: Path, sink: WebhookSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    ops_url = sink.url("/api/webhooks/9/ops-secret-token")
    monkeypatch.setenv("DISCORD_WEBHOOK_OPS", ops_url)  # reaches the sensor as an EnvVar
    monkeypatch.setenv("YOUTUBE_API_KEY_POOL_JSON", json.dumps(["wrong-key"]))
    instance = DagsterInstance.ephemeral()
    with psycopg.connect(database_dsn) as conn:
        conn.execute("INSERT INTO watchlist (channel_id) VALUES ('UCaaaaaaaaaaaaaaaaaaaaaA')")
    with SimulatorServer(seed=3, keys=["good-key"], channels=2, videos=4) as sim:
        result = materialize(
            assets,
            selection=AssetSelection.assets("channels", "channel_stats_log"),
            resources={
                "database": DatabaseResource(database_url=database_dsn),
                "youtube": YouTubeResource(
                    api_base_url=sim.base_url,
                    api_key_pool_json=EnvVar("YOUTUBE_API_KEY_POOL_JSON"),  # type: ignore[arg-type]
                ),
                "vault": VaultResource(provider="local", local_path=str(tmp_path)),
                "notifier": NotifierResource(),
            },
            instance=instance,
            raise_on_error=False,
        )
    assert not result.success
    failure = result.get_run_failure_event()
    context = build_run_status_sensor_context(
        sensor_name="ops_failure_alert",
        dagster_instance=instance,
        dagster_run=result.dagster_run,
        dagster_event=failure,
        resources={"notifier": NotifierResource(webhook_ops=EnvVar("DISCORD_WEBHOOK_OPS"))},  # type: ignore[arg-type]
    ).for_run_failure()
    ops_failure_alert(context)

    [alert] = sink.delivered()
    embed = alert.json["embeds"][0]
    assert embed["title"].startswith("Run failed")
    assert result.run_id in json.dumps(embed)
    assert "channels_and_stats" in embed["description"]
    assert "keyInvalid" in embed["description"]  # the step's own error, not just "failed"
    assert "ops-secret-token" not in json.dumps(embed)


def test_shipped_instance_configs_validate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from atlas_simulator.demo import DEMO_DAGSTER_YAML
    from dagster._core.instance.config import dagster_instance_config

    for name in ("DAGSTER_PG_USERNAME", "DAGSTER_PG_PASSWORD", "DAGSTER_PG_HOST", "DAGSTER_PG_DB"):
        monkeypatch.setenv(name, "x")
    prod = tmp_path / "prod"
    prod.mkdir()
    (prod / "dagster.yaml").write_text((ROOT / "atlas_assets/deploy/dagster.yaml").read_text())
    config, _ = dagster_instance_config(str(prod))
    assert "postgres" in str(config["storage"]) and config["concurrency"]["pools"]
    assert config["freshness"] == {"enabled": True}
    demo = tmp_path / "demo"
    demo.mkdir()
    (demo / "dagster.yaml").write_text(DEMO_DAGSTER_YAML)
    demo_config = dagster_instance_config(str(demo))[0]
    assert demo_config["telemetry"] == {"enabled": False}
    assert demo_config["freshness"] == {"enabled": True}


def test_schedules_stamp_runs_with_their_tick(
    database_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    tick = datetime(2026, 11, 27, 13, 0, tzinfo=UTC)
    with instance_for_test() as instance:
        _check_schedules(instance, tick, database_dsn, monkeypatch)


def _check_schedules(
    instance: DagsterInstance, tick: datetime, dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dagster import build_schedule_context

    from atlas_assets.resources import forget_settings
    from atlas_assets.runtime import AS_OF_TAG
    from atlas_assets.schedules import build_schedules

    refresh_schedule, discovery_schedule, export_schedule = build_schedules(discovery_chunk=2)
    request = refresh_schedule(build_schedule_context(instance, scheduled_execution_time=tick))
    assert request.tags[AS_OF_TAG] == tick.isoformat()  # type: ignore[union-attr]

    database = {"database": DatabaseResource(database_url=dsn)}

    def evaluate():  # type: ignore[no-untyped-def]
        # As a context manager: its resources (and the instance state they enter) are
        # released, so no later test sees this instance.
        with build_schedule_context(
            instance, scheduled_execution_time=tick, resources=database
        ) as context:
            return discovery_schedule(context)  # type: ignore[operator]

    skipped = evaluate()
    assert isinstance(skipped, SkipReason) and "no channels" in (skipped.skip_message or "")
    keys = [f"UC{c * 21}{n}A" for n, c in enumerate("abcde")]
    with psycopg.connect(dsn) as conn:
        for key in keys:
            conn.execute("INSERT INTO watchlist (channel_id) VALUES (%s)", (key,))
        # Checked a minute ago, no upload history (dormant cadence): not due this tick.
        conn.execute(
            "INSERT INTO channel_discovery_checks (channel_id, checked_at) VALUES (%s, %s)",
            (keys[1], tick - timedelta(minutes=1)),
        )
    instance.add_dynamic_partitions("channels", keys)
    # Five channels fit the discovery reserve: every one is checked each tick, the one
    # checked a minute ago included, in chunks of 2.
    everyone = evaluate()
    assert [r.run_config["ops"]["videos"]["config"]["channel_ids"] for r in everyone] == [
        keys[0:2],
        keys[2:4],
        keys[4:5],
    ]
    # Without that rule the cadence decides.
    monkeypatch.setenv("PLANNER_REFRESH_ALL_WHEN_AFFORDABLE", "false")
    forget_settings()  # Settings are read once per process: read the changed environment
    requests = evaluate()
    # 4 due channels in chunks of 2: two runs, each a partition range naming its channels.
    assert [r.partition_key_range for r in requests] == [
        PartitionKeyRange(keys[0], keys[2]),
        PartitionKeyRange(keys[3], keys[4]),
    ]
    assert [r.run_config["ops"]["videos"]["config"]["channel_ids"] for r in requests] == [
        [keys[0], keys[2]],
        [keys[3], keys[4]],
    ]
    assert {r.tags[AS_OF_TAG] for r in requests} == {tick.isoformat()}
    assert len({r.run_key for r in requests}) == 2
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "INSERT INTO channel_discovery_checks (channel_id, checked_at)"
            " SELECT unnest(%s::text[]), %s ON CONFLICT (channel_id) DO UPDATE"
            " SET checked_at = EXCLUDED.checked_at",
            (keys, tick - timedelta(minutes=1)),
        )
    nothing = evaluate()
    assert isinstance(nothing, SkipReason) and "no channel due" in (nothing.skip_message or "")

    midnight = datetime(2026, 11, 28, 0, 30, tzinfo=UTC)  # closes the day that just ended
    closing = export_schedule(build_schedule_context(instance, scheduled_execution_time=midnight))
    assert closing.partition_key == "2026-11-27"  # type: ignore[union-attr]


def test_cron_overrides_are_validated_with_dagsters_parser() -> None:
    from atlas_assets.schedules import REFRESH_CRON, cron_from_env

    assert cron_from_env({}, "REFRESH_CRON", REFRESH_CRON) == REFRESH_CRON
    assert cron_from_env({"REFRESH_CRON": "*/2 * * * *"}, "REFRESH_CRON", REFRESH_CRON) == (
        "*/2 * * * *"
    )
    with pytest.raises(ValueError, match=r"REFRESH_CRON='every hour' is not a valid cron"):
        cron_from_env({"REFRESH_CRON": "every hour"}, "REFRESH_CRON", REFRESH_CRON)


def test_definitions_read_no_environment_at_import_of_partitions_and_schedules() -> None:
    """Importing the orchestration modules with a broken environment still works."""
    env = {**os.environ, "REFRESH_CRON": "not a cron", "DATABASE_URL": "mysql://nope"}
    code = "import atlas_assets.partitions, atlas_assets.schedules, atlas_assets.sensors"
    assert subprocess.run([sys.executable, "-c", code], env=env).returncode == 0
    broken = subprocess.run(
        [sys.executable, "-c", "import atlas_assets.definitions"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert broken.returncode != 0 and "REFRESH_CRON='not a cron'" in broken.stderr


def test_every_asset_has_catalog_metadata() -> None:
    """Kinds, owner, tags and a description that renders (no raw <...> swallowed as HTML);
    tables name themselves and their columns; each scheduled asset has a freshness policy (the
    on-demand alert drainer runs only when alerts are due, so staleness means nothing there)."""
    from atlas_assets.definitions import defs

    specs = list(defs.resolve_all_asset_specs())
    assert {s.key.to_user_string() for s in specs} >= {"channels", "vault_partitions"}
    for spec in specs:
        name = spec.key.to_user_string()
        assert spec.kinds and spec.owners == ["team:atlas-data"], name
        assert {"domain", "cadence"} <= set(spec.tags), name
        assert spec.description and "<" not in spec.description, name
        assert (spec.freshness_policy is not None) == (spec.tags["cadence"] != "on-demand"), name
        if name in {"channels", "channel_stats_log", "videos", "video_stats_log"}:
            assert spec.metadata["dagster/table_name"] == name
            assert spec.metadata["dagster/column_schema"].columns


async def test_a_long_step_posts_each_alert_seconds_after_its_commit(
    open_svc: OpenSvc, sink: WebhookSink
) -> None:
    """An alert committed early in a long step (a hunt of 500 videos) reaches the webhook
    while the step still runs, not when it ends; the one committed last, after the body."""
    async with open_svc() as svc:
        async with posting_new_alerts(svc, every_seconds=0.2):
            async with svc.db.get_connection() as conn:
                await enqueue_alert(conn, alert(1))
            committed = time.monotonic()
            [first] = await asyncio.to_thread(sink.wait_for, 1, 10.0)
            async with svc.db.get_connection() as conn:
                await enqueue_alert(conn, alert(2))
    assert first.received_at - committed < 3.0
    assert titles(sink) == ["alert 1", "alert 2"]


def test_delivery_is_an_op_job_without_freshness() -> None:
    """Posting stores no table: the retry path is a job of one op, not an asset."""
    from atlas_assets.assets.alerts import deliver_alerts_job
    from atlas_assets.definitions import defs

    assert [n.name for n in deliver_alerts_job.nodes] == ["post_due_alerts"]
    keys = {s.key.to_user_string() for s in defs.resolve_all_asset_specs()}
    assert "alert_deliveries" not in keys
    assert deliver_alerts_job.executor_def.name == "in_process"
