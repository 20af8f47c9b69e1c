"""What the Dagster catalog shows about each asset: owner, kinds, tags, and for tables their
name and column schema (``dagster/table_name``, ``dagster/column_schema``); materializations
add ``dagster/row_count`` (:func:`table_metadata`). ``tests/test_schema.py`` compares every
column schema here with the migrated database's own catalog, so the two cannot drift."""

from __future__ import annotations

from typing import Any

from dagster import TableColumn, TableSchema

from atlas_core.store.tables import RowCount

OWNERS = ["team:atlas-data"]


def tags(domain: str, cadence: str) -> dict[str, str]:
    """Tags every asset carries: its domain and how often it refreshes."""
    return {"domain": domain, "cadence": cadence}


def _cols(*columns: tuple[str, str, str]) -> TableSchema:
    return TableSchema(
        columns=[TableColumn(name, type, description) for name, type, description in columns]
    )


SCHEMAS: dict[str, TableSchema] = {
    "channels": _cols(
        ("id", "varchar(50)", "YouTube channel id (UC + 22 characters), primary key"),
        ("title", "varchar(255)", "current title; changes are logged in channel_history"),
        ("country", "varchar(10)", "country the channel declares, if any"),
        ("custom_url", "varchar(100)", "the channel's @handle"),
        ("created_at", "timestamptz", "when the channel was created on YouTube"),
        ("is_verified", "boolean", "verified badge"),
        ("last_scraped_at", "timestamptz", "last refresh of this row"),
    ),
    "channel_stats_log": _cols(
        ("channel_id", "varchar(50)", "the channel"),
        ("timestamp", "timestamptz", "the run's tick (idempotency key)"),
        ("view_count", "bigint", "total views of the channel"),
        ("subscriber_count", "bigint", "subscribers (rounded by YouTube)"),
        ("video_count", "integer", "public uploads"),
        ("observed_at", "timestamptz", "when YouTube served the answer (its Date header)"),
    ),
    "videos": _cols(
        ("id", "varchar(20)", "YouTube video id, primary key"),
        ("channel_id", "varchar(50)", "uploading channel"),
        ("title", "text", "title at discovery"),
        ("published_at", "timestamptz", "when YouTube published it"),
        ("duration", "integer", "length in seconds"),
        ("wiki_topics", "text[]", "Wikipedia topic URLs YouTube assigns"),
        ("discovered_at", "timestamptz", "when Atlas first saw it"),
        ("missing_since", "timestamptz", "since when the API no longer returns it (null: found)"),
    ),
    "video_stats_log": _cols(
        ("video_id", "varchar(20)", "the video"),
        ("timestamp", "timestamptz", "the run's tick (idempotency key)"),
        ("views", "bigint", "views at that moment"),
        ("likes", "bigint", "likes (null when hidden)"),
        ("comment_count", "bigint", "comments (null when disabled)"),
        ("observed_at", "timestamptz", "when YouTube served the answer (its Date header)"),
    ),
    "video_vectors": _cols(
        ("video_id", "varchar(20)", "the video"),
        ("frame_index", "integer", "which thumbnail/frame"),
        ("vector", "vector(512)", "embedding, cosine distance via HNSW"),
        ("source_type", "varchar(50)", "what the frame came from"),
        ("created_at", "timestamptz", "when it was embedded"),
        ("embedder", "varchar(100)", "the embedder that produced the vector (primary key part)"),
    ),
    "velocity_anomalies": _cols(
        ("video_id", "varchar(20)", "the video"),
        ("at", "timestamptz", "the snapshot tick the spike was seen at"),
        ("views_per_hour", "double precision", "views per hour up to that snapshot"),
        ("previous_per_hour", "double precision", "views per hour over the interval before"),
        ("channel_confirmed", "boolean", "found on its first snapshot, its channel's views jumped"),
        ("alerted", "boolean", "whether it alerted (false: within an earlier spike's episode)"),
        ("found_at", "timestamptz", "when the scan found it"),
    ),
}


def table_definition(table: str) -> dict[str, Any]:
    """Definition-time metadata of a table asset: its name and column schema."""
    return {"dagster/table_name": table, "dagster/column_schema": SCHEMAS[table]}


def table_metadata(table: str, rows: RowCount) -> dict[str, Any]:
    """Materialization metadata of a table asset, with its row count (plotted over time) and
    how it was counted (exact, or PostgreSQL's estimate on large tables)."""
    return {
        **table_definition(table),
        "dagster/row_count": rows.rows,
        "row_count_method": rows.method,
    }
