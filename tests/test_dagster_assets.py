"""The Dagster graph end to end: simulator -> embedded PostgreSQL -> vault, alerts at a sink."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pyarrow.dataset as ds
import pytest
from atlas_simulator import SimulatorServer
from dagster import AssetSelection, DagsterInstance, materialize
from webhook_sink import WebhookSink

from atlas_assets.assets.alerts import deliver_alerts_job
from atlas_assets.definitions import assets, checks
from atlas_assets.resources import (
    DatabaseResource,
    NotifierResource,
    VaultResource,
    YouTubeResource,
)
from atlas_assets.runtime import AS_OF_TAG

START = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
KEY = "sim-key-0001"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture
def sim(clock: Clock) -> Iterator[SimulatorServer]:
    with SimulatorServer(seed=11, keys=[KEY], clock=clock, channels=3, videos=24) as server:
        yield server


@pytest.fixture
def sink() -> Iterator[WebhookSink]:
    with WebhookSink() as server:
        yield server


@pytest.fixture
def resources(
    database_dsn: str,
    tmp_path: Path,
    sim: SimulatorServer,
    sink: WebhookSink,
    monkeypatch: pytest.MonkeyPatch,
):
    # Secrets reach Atlas only through the environment, as in production.
    monkeypatch.setenv("YOUTUBE_API_KEY_POOL_JSON", json.dumps([KEY]))
    monkeypatch.setenv("DISCORD_WEBHOOK_SURVEILLANCE", sink.url("/api/webhooks/1/watch-token"))
    monkeypatch.setenv("DISCORD_WEBHOOK_HUNT", sink.url("/api/webhooks/2/hunt-token"))
    monkeypatch.setenv("DISCORD_WEBHOOK_OPS", sink.url("/api/webhooks/3/ops-token"))
    return {
        "database": DatabaseResource(database_url=database_dsn, atlas_home=str(tmp_path)),
        "youtube": YouTubeResource(api_base_url=sim.base_url),
        "vault": VaultResource(provider="local", local_path=str(tmp_path / "vault")),
        "notifier": NotifierResource(),
    }


def watch(dsn: str, channel_ids: list[str]) -> None:
    with psycopg.connect(dsn) as conn:
        for cid in channel_ids:
            conn.execute("INSERT INTO watchlist (channel_id) VALUES (%s)", (cid,))


def counts(dsn: str) -> dict[str, int]:
    tables = [
        "channels",
        "videos",
        "channel_stats_log",
        "video_stats_log",
        "video_vectors",
        "channel_history",
    ]
    with psycopg.connect(dsn) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}  # type: ignore[index]


def run_graph(resources, instance: DagsterInstance, channel_ids: list[str], as_of: datetime):
    tags = {AS_OF_TAG: as_of.isoformat()}
    selection = AssetSelection.assets
    results = [
        materialize(
            assets,
            selection=selection("channels", "channel_stats_log"),
            resources=resources,
            instance=instance,
            tags=tags,
        )
    ]
    for cid in channel_ids:
        results.append(
            materialize(
                assets,
                selection=selection("videos"),
                partition_key=cid,
                resources=resources,
                instance=instance,
                tags=tags,
            )
        )
    results.append(
        materialize(
            [*assets, *checks],
            selection=selection("video_stats_log", "video_vectors", "velocity_anomalies"),
            resources=resources,
            instance=instance,
            tags=tags,
        )
    )
    results.append(
        materialize(
            assets,
            selection=selection("vault_partitions"),
            partition_key=as_of.date().isoformat(),
            resources=resources,
            instance=instance,
            tags=tags,
        )
    )
    assert all(r.success for r in results)
    # Steps post their alerts right away when a webhook is set; the delivery job drains the rest.
    delivered = deliver_alerts_job.execute_in_process(resources=resources, instance=instance)
    assert delivered.success
    return results


def test_whole_graph_twice_leaves_the_same_rows(
    resources, database_dsn: str, sim: SimulatorServer, sink: WebhookSink, tmp_path: Path
) -> None:
    world = sim.world_json()
    channel_ids = world["channel_ids"]
    watch(database_dsn, channel_ids)
    instance = DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("channels", channel_ids)

    first = run_graph(resources, instance, channel_ids, START)
    after_first = counts(database_dsn)
    assert after_first["channels"] == len(channel_ids)
    assert after_first["videos"] == len(world["video_ids"])
    assert after_first["video_stats_log"] == len(world["video_ids"])
    assert after_first["channel_stats_log"] == len(channel_ids)
    assert after_first["video_vectors"] >= len(world["video_ids"])

    run_graph(resources, instance, channel_ids, START)
    assert counts(database_dsn) == after_first

    # Metadata reports what was done, quota included.
    channel_meta = first[0].asset_materializations_for_node("channels_and_stats")[0].metadata
    assert channel_meta["channels"].value == len(channel_ids)
    assert channel_meta["quota_units"].value == 1
    stats_meta = first[-2].asset_materializations_for_node("video_stats_log")[0].metadata
    assert stats_meta["quota_units"].value == -(-len(world["video_ids"]) // 50)
    # Tables carry their name, column schema and row count (the catalog's row count plot).
    assert stats_meta["dagster/row_count"].value == after_first["video_stats_log"]
    assert stats_meta["dagster/table_name"].value == "video_stats_log"
    columns = [c.name for c in stats_meta["dagster/column_schema"].schema.columns]
    assert columns == ["video_id", "timestamp", "views", "likes", "comment_count", "observed_at"]
    for node, key in (("channels_and_stats", "channels"), ("video_vectors", "video_vectors")):
        [meta] = [
            m.metadata
            for r in first
            for m in r.asset_materializations_for_node(node)
            if m.asset_key.to_user_string() == key
        ]
        assert meta["dagster/row_count"].value == after_first[key]
        assert isinstance(meta["seconds"].value, float)
    export = first[-1].asset_materializations_for_node("vault_partitions")[0].metadata
    assert export["dagster/row_count"].value > 0
    [complete] = first[-1].get_asset_check_evaluations()
    assert complete.check_name == "export_complete" and complete.passed
    # Secrets never reach run config or metadata.
    for result in first:
        shown = str(result.dagster_run.run_config) + str(result.get_asset_materialization_events())
        assert KEY not in shown and "watch-token" not in shown

    day = START.date().isoformat()
    files = sorted(
        p.relative_to(tmp_path / "vault").as_posix()
        for p in (tmp_path / "vault").rglob("*.parquet")
    )
    assert [f for f in files if f.startswith("video_stats_log/")] == [
        f"video_stats_log/dt={day}/part-0.parquet"
    ]
    table = ds.dataset(tmp_path / "vault" / "video_stats_log", partitioning="hive").to_table()
    assert table.num_rows == after_first["video_stats_log"]


def test_the_worlds_happenings_reach_the_right_alerts(
    resources, database_dsn: str, sim: SimulatorServer, sink: WebhookSink, clock: Clock
) -> None:
    """Seed 11's timeline: view spikes at 13:00, a rename at 14:00, a deletion at 15:00,
    re-uploads at 17:00 and 17:30 (see GET /_sim/world)."""
    world = sim.world_json()
    happenings = {h["kind"]: h for h in world["happenings"]}
    channel_ids = world["channel_ids"]
    watch(database_dsn, channel_ids)
    instance = DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("channels", channel_ids)

    def titles(path: str) -> list[str]:
        return [r.json["embeds"][0]["title"] for r in sink.delivered() if r.path == path]

    for minutes in (0, 40, 100):  # three snapshots, the last after the spike
        clock.now = START + timedelta(minutes=minutes)
        run_graph(resources, instance, channel_ids, clock.now)
    assert "Views velocity anomaly" in titles("/api/webhooks/1/watch-token")
    spiked = happenings["view_spike"]["video_id"]
    assert any(spiked in json.dumps(r.json) for r in sink.delivered())

    clock.now = START + timedelta(hours=2, minutes=30)  # after the rename
    run_graph(resources, instance, channel_ids, clock.now)
    with psycopg.connect(database_dsn) as conn:
        history = conn.execute("SELECT channel_id, new_title FROM channel_history").fetchall()
    assert history == [
        (happenings["channel_renamed"]["channel_id"], happenings["channel_renamed"]["detail"])
    ]
    assert "Channel renamed" in titles("/api/webhooks/1/watch-token")

    clock.now = START + timedelta(hours=6)  # after the deletion and both re-uploads
    run_graph(resources, instance, channel_ids, clock.now)
    assert "Videos disappeared" in titles("/api/webhooks/1/watch-token")
    hunt = [r.json for r in sink.delivered() if r.path == "/api/webhooks/2/hunt-token"]
    copy = happenings["reupload"]
    original = copy["detail"].removeprefix("copy of ")
    assert any(copy["video_id"] in json.dumps(m) and original in json.dumps(m) for m in hunt)
    assert sink.requests and sink.delivered("/api/webhooks/3/ops-token") == []  # nothing failed


def test_one_run_discovers_a_range_of_channel_partitions(
    resources, database_dsn: str, sim: SimulatorServer
) -> None:
    """A batched discovery run: one run over a range of `channels` partitions checks the
    channels its config names (the planner's due ones), records each check, and leaves the
    channel in between alone; a single partition (the UI) is checked unconditionally."""
    from atlas_assets.partitions import (
        ASSET_PARTITION_RANGE_END_TAG,
        ASSET_PARTITION_RANGE_START_TAG,
    )

    world = sim.world_json()
    channel_ids = world["channel_ids"]
    assert len(channel_ids) == 3
    watch(database_dsn, channel_ids)
    instance = DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("channels", channel_ids)
    first, skipped, last = channel_ids
    range_tags = {
        AS_OF_TAG: START.isoformat(),
        ASSET_PARTITION_RANGE_START_TAG: first,
        ASSET_PARTITION_RANGE_END_TAG: last,
    }
    result = materialize(
        assets,
        selection=AssetSelection.assets("videos"),
        resources=resources,
        instance=instance,
        tags=range_tags,
        run_config={"ops": {"videos": {"config": {"channel_ids": [first, last]}}}},
    )
    assert result.success
    with psycopg.connect(database_dsn) as conn:
        per_channel = dict(
            conn.execute("SELECT channel_id, count(*) FROM videos GROUP BY channel_id").fetchall()
        )
        checked = [r[0] for r in conn.execute("SELECT channel_id FROM channel_discovery_checks")]
    videos_of = {c["id"]: len(c["video_ids"]) for c in world["channels"]}
    expected = {c: videos_of[c] for c in (first, last)}
    assert per_channel == expected and all(expected.values())
    assert sorted(checked) == sorted([first, last])
    # One materialization per checked channel; the channel between them is not materialized.
    events = result.asset_materializations_for_node("videos")
    assert {m.partition: m.metadata["new_videos"].value for m in events} == expected
    assert {m.metadata["channels_in_run"].value for m in events} == {3}
    assert instance.get_materialized_partitions(events[0].asset_key) == {first, last}

    one = materialize(
        assets,
        selection=AssetSelection.assets("videos"),
        partition_key=skipped,
        resources=resources,
        instance=instance,
        tags={AS_OF_TAG: START.isoformat()},
    )
    assert one.success
    assert [m.partition for m in one.asset_materializations_for_node("videos")] == [skipped]
    with psycopg.connect(database_dsn) as conn:
        owners = {r[0] for r in conn.execute("SELECT DISTINCT channel_id FROM videos")}
    assert owners == set(channel_ids)
