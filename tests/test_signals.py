"""The velocity scan remembers what it alerted in columns, not in alert keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from atlas_core.config import Settings
from atlas_core.pipeline import Services, scan_anomalies
from atlas_core.storage import LocalVault

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
VIDEO = "aaaaaaaaaaA"


def _snapshots(dsn: str, points: list[tuple[datetime, int]]) -> None:
    with psycopg.connect(dsn, options="-c timezone=UTC") as conn:
        conn.execute("INSERT INTO channels (id, title) VALUES ('UCa', 'a') ON CONFLICT DO NOTHING")
        conn.execute("INSERT INTO watchlist (channel_id) VALUES ('UCa') ON CONFLICT DO NOTHING")
        conn.execute(
            "INSERT INTO videos (id, channel_id, title) VALUES (%s, 'UCa', 'v')"
            " ON CONFLICT DO NOTHING",
            (VIDEO,),
        )
        for at, views in points:
            conn.execute(
                "INSERT INTO video_stats_log (video_id, timestamp, observed_at, views)"
                " VALUES (%s, %s, %s, %s)",
                (VIDEO, at.replace(tzinfo=None), at, views),
            )


def _subjects(dsn: str) -> list[tuple[str, datetime]]:
    with psycopg.connect(dsn, options="-c timezone=UTC") as conn:
        return conn.execute(  # type: ignore[return-value]
            "SELECT subject_id, subject_at FROM alert_outbox ORDER BY id"
        ).fetchall()


async def test_one_spike_alerts_once_and_is_remembered_in_columns(
    settings: Settings, database_dsn: str, tmp_path: Path
) -> None:
    hour = timedelta(hours=1)
    _snapshots(database_dsn, [(T0 - 2 * hour, 0), (T0 - hour, 100), (T0, 1_100)])
    vault = LocalVault(tmp_path / "vault")
    async with Services.open(settings, vault=vault, clock=lambda: T0) as svc:
        first = await scan_anomalies(svc)
    assert [a.video_id for a in first.alerted] == [VIDEO]
    assert _subjects(database_dsn) == [(VIDEO, T0)]

    # An hour later the same spike goes on: within the episode, no second alert.
    _snapshots(database_dsn, [(T0 + hour, 5_000)])
    async with Services.open(settings, vault=vault, clock=lambda: T0 + hour) as svc:
        again = await scan_anomalies(svc)
    assert [a.video_id for a in again.alerted] == []
    assert _subjects(database_dsn) == [(VIDEO, T0)]
    # The asset's table keeps both spikes seen, and which one alerted; a re-run adds nothing.
    async with Services.open(settings, vault=vault, clock=lambda: T0 + hour) as svc:
        await scan_anomalies(svc)
    with psycopg.connect(database_dsn, options="-c timezone=UTC") as conn:
        table = conn.execute(
            "SELECT video_id, at, views_per_hour, alerted FROM velocity_anomalies ORDER BY at"
        ).fetchall()
    assert table == [(VIDEO, T0, 1_000.0, True), (VIDEO, T0 + hour, 3_900.0, False)]


def test_migration_0028_backfills_subjects_from_older_keys(database_dsn: str) -> None:
    backfill = (Path(__file__).parents[1] / "migrations" / "0028_alert_subject.sql").read_text()
    update = backfill[backfill.index("UPDATE") : backfill.index(";", backfill.index("UPDATE"))]
    with psycopg.connect(database_dsn, options="-c timezone=Europe/Paris") as conn:
        conn.execute(
            "INSERT INTO alert_outbox (key, channel, level, title, description, fields)"
            " VALUES ('video.velocity_anomaly:aaaaaaaaaaA@20261120T120000', 'surveillance',"
            " 'warning', 't', 'd', '{}'), ('reupload:x', 'hunt', 'warning', 't', 'd', '{}')"
        )
        conn.execute(update)
        rows = conn.execute(
            "SELECT subject_id, subject_at FROM alert_outbox ORDER BY key DESC"
        ).fetchall()
    assert rows == [("aaaaaaaaaaA", T0), (None, None)]


async def test_the_hunt_queue_reads_state_not_the_event_log(database_dsn: str) -> None:
    from atlas_core.database import DatabaseManager
    from atlas_core.store.vectors import (
        record_vector_skip,
        videos_needing_embedder,
        videos_without_vectors,
    )
    from atlas_core.store.videos import record_presence

    ids = ["aaaaaaaaaaA", "bbbbbbbbbbA", "ccccccccccA"]
    with psycopg.connect(database_dsn) as conn:
        conn.execute("INSERT INTO channels (id, title) VALUES ('UCa', 'a')")
        conn.execute("INSERT INTO watchlist (channel_id) VALUES ('UCa')")
        for n, vid in enumerate(ids):
            conn.execute(
                "INSERT INTO videos (id, channel_id, title, published_at)"
                " VALUES (%s, 'UCa', 'v', now() - make_interval(hours => %s))",
                (vid, n),
            )
        # Events alone decide nothing (the log is best-effort, for audits).
        conn.execute(
            "INSERT INTO system_events (event_type, entity_id, payload)"
            " SELECT unnest(ARRAY['video.missing', 'vectors.skipped']), %s, '{}'",
            (ids[0],),
        )
    db = DatabaseManager(database_dsn)
    try:
        async with db.get_connection() as conn:
            assert await videos_without_vectors(conn) == ids
            await record_presence(conn, [], [ids[0]], T0)
            await record_vector_skip(conn, ids[1], "embed", "e1", "no thumbnail")
            assert await videos_without_vectors(conn) == [ids[2]]
            await record_presence(conn, [ids[0]], [], T0)  # it came back
            assert await videos_without_vectors(conn) == [ids[0], ids[2]]
            assert await videos_needing_embedder(conn, "e2") == []
    finally:
        await db.close()
