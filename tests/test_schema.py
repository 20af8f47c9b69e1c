"""The migrated schema matches the API reference column for column, with its deliberate
changes: every time is TIMESTAMPTZ (0005) and stats rows record ``observed_at`` (0006)."""

from __future__ import annotations

import psycopg
import pytest

# table -> [(column, data_type, max_length, default_contains, nullable)]
REFERENCE: dict[str, list[tuple[str, str, int | None, str | None, bool]]] = {
    "channels": [
        ("id", "character varying", 50, None, False),
        ("title", "character varying", 255, None, False),
        ("country", "character varying", 10, None, True),
        ("custom_url", "character varying", 100, None, True),
        ("created_at", "timestamp with time zone", None, None, True),
        ("is_verified", "boolean", None, "false", True),
        ("last_scraped_at", "timestamp with time zone", None, "now()", True),
    ],
    "videos": [
        ("id", "character varying", 20, None, False),
        ("channel_id", "character varying", 50, None, True),
        ("title", "text", None, None, False),
        ("published_at", "timestamp with time zone", None, None, True),
        ("duration", "integer", None, None, True),
        ("wiki_topics", "ARRAY", None, None, True),
        ("discovered_at", "timestamp with time zone", None, "now()", True),
        ("missing_since", "timestamp with time zone", None, None, True),  # 0029
    ],
    "video_vectors": [
        ("video_id", "character varying", 20, None, False),
        ("frame_index", "integer", None, None, False),
        ("vector", "USER-DEFINED", None, None, False),
        ("source_type", "character varying", 50, None, True),
        ("created_at", "timestamp with time zone", None, "now()", True),
        ("embedder", "character varying", 100, None, False),
    ],
    "system_events": [
        ("id", "uuid", None, "gen_random_uuid()", False),
        ("event_type", "character varying", 50, None, False),
        ("entity_id", "character varying", 50, None, True),
        ("payload", "jsonb", None, None, True),
        ("created_at", "timestamp with time zone", None, "now()", True),
    ],
    "channel_stats_log": [
        ("channel_id", "character varying", 50, None, False),
        ("timestamp", "timestamp with time zone", None, "now()", False),
        ("view_count", "bigint", None, None, True),
        ("subscriber_count", "bigint", None, None, True),
        ("video_count", "integer", None, None, True),
        ("observed_at", "timestamp with time zone", None, "now()", False),
    ],
    "video_stats_log": [
        ("video_id", "character varying", 20, None, False),
        ("timestamp", "timestamp with time zone", None, "now()", False),
        ("views", "bigint", None, None, True),
        ("likes", "bigint", None, None, True),
        ("comment_count", "bigint", None, None, True),
        ("observed_at", "timestamp with time zone", None, "now()", False),
    ],
    "channel_history": [
        ("id", "uuid", None, "gen_random_uuid()", False),
        ("channel_id", "character varying", 50, None, True),
        ("changed_at", "timestamp with time zone", None, "now()", True),
        ("old_title", "character varying", 255, None, True),
        ("new_title", "character varying", 255, None, True),
        ("event_type", "character varying", 50, None, False),
    ],
}

PRIMARY_KEYS = {
    "channels": ["id"],
    "videos": ["id"],
    "video_vectors": ["video_id", "embedder", "frame_index"],
    "system_events": ["id"],
    "channel_stats_log": ["channel_id", "timestamp"],
    "video_stats_log": ["video_id", "timestamp"],
    "channel_history": ["id"],
}

FOREIGN_KEYS = {
    ("videos", "channel_id", "channels", "id"),
    ("video_vectors", "video_id", "videos", "id"),
    ("channel_stats_log", "channel_id", "channels", "id"),
    ("video_stats_log", "video_id", "videos", "id"),
    ("channel_history", "channel_id", "channels", "id"),
}


@pytest.fixture
def conn(database_dsn: str):
    with psycopg.connect(database_dsn) as connection:
        yield connection


@pytest.mark.parametrize("table", sorted(REFERENCE))
def test_columns_match_reference(conn: psycopg.Connection, table: str) -> None:
    rows = conn.execute(
        """SELECT column_name, data_type, character_maximum_length, column_default,
                  is_nullable = 'YES'
           FROM information_schema.columns
           WHERE table_schema = 'public' AND table_name = %s ORDER BY ordinal_position""",
        (table,),
    ).fetchall()
    assert [r[0] for r in rows] == [c[0] for c in REFERENCE[table]]
    for (name, dtype, length, default, nullable), expected in zip(rows, REFERENCE[table]):
        _, e_type, e_len, e_default, e_nullable = expected
        assert (dtype, length, nullable) == (e_type, e_len, e_nullable), name
        if e_default is None:
            assert default is None, name
        else:
            assert default is not None and e_default in default.lower(), name


def test_array_and_vector_types(conn: psycopg.Connection) -> None:
    (wiki,) = conn.execute(
        "SELECT udt_name FROM information_schema.columns "
        "WHERE table_name = 'videos' AND column_name = 'wiki_topics'"
    ).fetchone()
    assert wiki == "_text"
    (vector_type,) = conn.execute(
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = 'video_vectors'::regclass AND attname = 'vector'"
    ).fetchone()
    assert vector_type == "vector(512)"


def test_primary_keys(conn: psycopg.Connection) -> None:
    for table, columns in PRIMARY_KEYS.items():
        rows = conn.execute(
            """SELECT a.attname FROM pg_index i
               JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
               WHERE i.indrelid = %s::regclass AND i.indisprimary
               ORDER BY array_position(i.indkey, a.attnum)""",
            (table,),
        ).fetchall()
        assert [r[0] for r in rows] == columns, table


def test_foreign_keys(conn: psycopg.Connection) -> None:
    rows = conn.execute(
        """SELECT tc.table_name, kcu.column_name, ccu.table_name, ccu.column_name
           FROM information_schema.table_constraints tc
           JOIN information_schema.key_column_usage kcu USING (constraint_name, table_schema)
           JOIN information_schema.constraint_column_usage ccu USING (constraint_name, table_schema)
           WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = 'public'
             AND tc.table_name = ANY(%s)""",
        (list(REFERENCE),),
    ).fetchall()
    assert set(rows) == FOREIGN_KEYS


def test_workload_indexes(conn: psycopg.Connection) -> None:
    indexes = dict(
        conn.execute("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'")
    )
    hnsw = [d for d in indexes.values() if "video_vectors" in d and "hnsw" in d]
    assert hnsw and "vector_cosine_ops" in hnsw[0]
    assert any("video_stats_log" in d and '("timestamp")' in d for d in indexes.values())
    assert any("channel_stats_log" in d and '("timestamp")' in d for d in indexes.values())
    assert any("system_events" in d and "(event_type, created_at)" in d for d in indexes.values())
    (ext,) = conn.execute("SELECT count(*) FROM pg_extension WHERE extname = 'vector'").fetchone()
    assert ext == 1


# PostgreSQL's own type names -> the short ones the Dagster catalog shows.
_SHORT_TYPES = {"character varying": "varchar", "timestamp with time zone": "timestamptz"}


def _short(pg_type: str) -> str:
    for long, short in _SHORT_TYPES.items():
        pg_type = pg_type.replace(long, short)
    return pg_type


def test_the_dagster_catalog_matches_the_database(conn: psycopg.Connection) -> None:
    """Every table asset's ``dagster/column_schema`` lists the table's columns, in order and
    with their types, as the migrated database's catalog has them."""
    from atlas_assets.catalog import SCHEMAS

    for table, schema in SCHEMAS.items():
        rows = conn.execute(
            """SELECT a.attname, format_type(a.atttypid, a.atttypmod)
               FROM pg_attribute a
               WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped
               ORDER BY a.attnum""",
            (table,),
        ).fetchall()
        assert rows, f"no table {table}"
        actual = [(name, _short(pg_type)) for name, pg_type in rows]
        assert [(c.name, c.type) for c in schema.columns] == actual, table
