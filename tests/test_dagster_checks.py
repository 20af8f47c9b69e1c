"""The asset checks that matter: each is shown passing and failing on real data."""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Awaitable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from dagster import AssetCheckResult, DagsterInstance, materialize

from atlas_assets.assets.vault import vault_partitions
from atlas_assets.checks import (
    hunt_alert_rate,
    quota_headroom_today,
    stats_fresh_per_channel,
)
from atlas_assets.resources import DatabaseResource, VaultResource, YouTubeResource
from atlas_core.analysis.health import alert_rate_is_anomalous, quota_headroom, stale_channels
from atlas_core.database import DatabaseManager
from atlas_core.pipeline.exports import verify_day
from atlas_core.storage import build_vault
from atlas_core.youtube.quota import quota_day


async def _awaited(value: Awaitable[object]) -> object:
    return await value


def _result(value: object) -> AssetCheckResult:
    """A check's result; the checks are async, so invoking one returns a coroutine."""
    if inspect.isawaitable(value):
        value = asyncio.run(_awaited(value))
    assert isinstance(value, AssetCheckResult)
    return value


def test_stats_freshness_fails_for_a_channel_without_a_recent_snapshot(database_dsn: str) -> None:
    database = DatabaseResource(database_url=database_dsn)
    with psycopg.connect(database_dsn) as conn:
        conn.execute("INSERT INTO channels (id, title) VALUES ('UCa', 'a'), ('UCb', 'b')")
        conn.execute("INSERT INTO watchlist (channel_id) VALUES ('UCa'), ('UCb')")
        conn.execute(
            "INSERT INTO channel_stats_log (channel_id, timestamp, view_count)"
            " VALUES ('UCa', now() - interval '10 minutes', 1),"
            " ('UCb', now() - interval '5 hours', 1)"
        )
    stale = _result(stats_fresh_per_channel(database=database))
    assert not stale.passed
    assert stale.metadata["stale_channels"].value == 1
    assert "UCb" in str(stale.metadata["examples"].value)
    with psycopg.connect(database_dsn) as conn:
        conn.execute("INSERT INTO channel_stats_log (channel_id, view_count) VALUES ('UCb', 2)")
    assert _result(stats_fresh_per_channel(database=database)).passed


def test_quota_headroom_fails_when_the_days_rate_overruns(database_dsn: str) -> None:
    database = DatabaseResource(database_url=database_dsn)
    youtube = YouTubeResource(api_key_pool_json=json.dumps(["k1"]), compliance_mode=True)
    assert _result(quota_headroom_today(database=database, youtube=youtube)).passed
    # The check reads the clock when it runs; the quota day may turn over (midnight in
    # Los Angeles) between here and there, so the spend is written for both days.
    now = datetime.now(UTC)
    days = sorted({quota_day(now), quota_day(now + timedelta(hours=1))})
    with psycopg.connect(database_dsn) as conn:
        for day in days:
            conn.execute(
                "INSERT INTO youtube_quota_ledger (quota_day, key_fingerprint, key_index, units)"
                " VALUES (%s, 'abcdefabcdef', 0, 9990)",
                (day,),
            )
    overrun = _result(quota_headroom_today(database=database, youtube=youtube))
    assert overrun.metadata["units_used"].value == 9990
    assert date.fromisoformat(str(overrun.metadata["quota_day"].value)) in days
    # 9,990 units already spent: unless the day is almost over, the rate overruns 10,000.
    assert overrun.passed == (overrun.metadata["units_projected"].value <= 10_000)
    assert overrun.metadata["units_capacity"].value == 10_000


def test_quota_headroom_rule() -> None:
    # 08:00 UTC on Jan 7 is midnight in Los Angeles: 6 h later, 3,000 units -> 12,000 a day.
    six_hours_in = datetime(2026, 1, 7, 14, 0, tzinfo=UTC)
    over = quota_headroom(3000, 10_000, six_hours_in)
    assert (over.projected, over.enough, over.hours_left) == (12_000, False, 18.0)
    assert quota_headroom(2000, 10_000, six_hours_in).enough
    # The spring-forward day has 23 hours: 6 h in, 2,400 units -> 9,200.
    dst = quota_headroom(2400, 10_000, datetime(2026, 3, 8, 14, 0, tzinfo=UTC))
    assert dst.projected == 9200 and dst.enough
    with pytest.raises(ValueError, match="aware datetime"):
        quota_headroom(1, 1, datetime(2026, 1, 7))


def test_hunt_alert_rate_fails_on_a_flood(database_dsn: str) -> None:
    database = DatabaseResource(database_url=database_dsn)

    def emit(count: int, age: str) -> None:
        with psycopg.connect(database_dsn) as conn:
            for i in range(count):
                conn.execute(
                    "INSERT INTO system_events (event_type, entity_id, created_at)"
                    f" VALUES ('reupload.suspected', %s, now() - interval '{age}')",
                    (f"v{age}{i}",),
                )

    emit(14, "3 days")  # two a day over the past week
    emit(5, "1 hour")
    calm = _result(hunt_alert_rate(database=database))
    assert calm.passed and calm.metadata["alerts_last_24h"].value == 5
    emit(20, "2 hours")
    flood = _result(hunt_alert_rate(database=database))
    assert not flood.passed and flood.metadata["baseline_per_day"].value == 2.0


def test_health_rules() -> None:
    now = datetime(2026, 11, 28, 12, tzinfo=UTC)
    latest = {"UCa": now - timedelta(hours=1), "UCb": now - timedelta(hours=4), "UCc": None}
    assert sorted(stale_channels(latest, now, timedelta(hours=3))) == ["UCb", "UCc"]
    assert not alert_rate_is_anomalous(9, 0.0)  # under the floor
    assert alert_rate_is_anomalous(11, 0.0)
    assert not alert_rate_is_anomalous(25, 10.0) and alert_rate_is_anomalous(31, 10.0)


def test_export_completeness_blocks_when_the_vault_disagrees(
    database_dsn: str, tmp_path: Path
) -> None:
    """A vault that silently drops rows fails the blocking check and so the run."""
    day = date(2026, 11, 27)
    with psycopg.connect(database_dsn) as conn:
        conn.execute("INSERT INTO channels (id, title) VALUES ('UCa', 'a')")
        conn.execute(
            "INSERT INTO channel_stats_log (channel_id, timestamp, view_count)"
            " VALUES ('UCa', '2026-11-27 10:00+00', 1), ('UCa', '2026-11-27 11:00+00', 2)"
        )
    vault = VaultResource(provider="local", local_path=str(tmp_path / "vault"))
    resources = {"database": DatabaseResource(database_url=database_dsn), "vault": vault}
    ok = materialize(
        [vault_partitions],
        partition_key=day.isoformat(),
        resources=resources,
        instance=DagsterInstance.ephemeral(),
    )
    assert ok.success and ok.get_asset_check_evaluations()[0].passed

    # A partition that disagrees with the database is what the check reports.
    store = build_vault(vault.settings())
    written = store.read_partition("channel_stats_log", day)
    assert written is not None and written.num_rows == 2
    store.write_partition("channel_stats_log", day, written.slice(0, 1))

    async def verify() -> list[str]:
        manager = DatabaseManager(database_dsn)
        try:
            return await verify_day(manager, store, day)
        finally:
            await manager.close()

    problems = asyncio.run(verify())
    assert problems == ["channel_stats_log 2026-11-27: vault 1 rows, database 2"]
    [spec] = vault_partitions.check_specs
    assert spec.name == "export_complete" and spec.blocking
