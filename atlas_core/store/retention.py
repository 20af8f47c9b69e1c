"""Retention and erasure: find aged or source-deleted data, delete a channel or videos entirely.

async with db.get_connection() as conn:
    counts = await delete_stats_before(conn, cutoff)          # {"video_stats_log": n, ...}
    stale = await stale_metadata(conn, cutoff)                 # what to refresh or delete
    counts = await delete_channels(conn, ["UC..."])            # every row of these channels

Cutoffs are passed as aware UTC datetimes, so the SQL works whether the columns are TIMESTAMP
(UTC, compared on a UTC session) or TIMESTAMPTZ.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from psycopg import AsyncConnection, sql
from psycopg.types.json import Jsonb

# Events that record what compliance itself did: counts only, kept as the audit trail.
AUDIT_EVENTS = ("retention.applied", "forget.applied", "source_deleted.purged")

Counts = dict[str, int]


def _ts(moment: datetime) -> datetime:
    """A cutoff as an aware UTC datetime (naive means UTC): compared correctly with TIMESTAMP
    (UTC) columns and with TIMESTAMPTZ ones."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def add_counts(total: Counts, more: Counts) -> Counts:
    for table, n in more.items():
        total[table] = total.get(table, 0) + n
    return total


async def delete_stats_before(conn: AsyncConnection, cutoff: datetime) -> Counts:
    """Delete stats snapshots taken before ``cutoff``."""
    counts: Counts = {}
    for table in ("video_stats_log", "channel_stats_log"):
        cur = await conn.execute(
            f"DELETE FROM {table} WHERE timestamp < %s",
            (_ts(cutoff),),
        )
        counts[table] = cur.rowcount
    return counts


@dataclass(frozen=True)
class Stale:
    """Metadata last refreshed before the cutoff, split by whether its channel is watched."""

    watched_channels: list[str] = field(default_factory=list)
    unwatched_channels: list[str] = field(default_factory=list)
    watched_videos: list[str] = field(default_factory=list)
    unwatched_videos: list[str] = field(default_factory=list)


# A video's last refresh is its latest stats snapshot (the same videos.list call refreshes its
# metadata) or its discovery, whichever is later.
_VIDEO_REFRESHED = (
    "GREATEST(v.discovered_at,"
    " (SELECT max(s.timestamp) FROM video_stats_log s WHERE s.video_id = v.id))"
)


async def stale_metadata(conn: AsyncConnection, cutoff: datetime) -> Stale:
    cut = _ts(cutoff)
    cur = await conn.execute(
        "SELECT c.id, w.channel_id IS NOT NULL FROM channels c"
        " LEFT JOIN watchlist w ON w.channel_id = c.id"
        " WHERE c.last_scraped_at IS NULL OR c.last_scraped_at < %s ORDER BY c.id",
        (cut,),
    )
    channels = await cur.fetchall()
    cur = await conn.execute(
        f"SELECT v.id, w.channel_id IS NOT NULL FROM videos v"
        f" LEFT JOIN watchlist w ON w.channel_id = v.channel_id"
        f" WHERE COALESCE({_VIDEO_REFRESHED}, '-infinity') < %s ORDER BY v.id",
        (cut,),
    )
    videos = await cur.fetchall()
    return Stale(
        watched_channels=[c for c, watched in channels if watched],
        unwatched_channels=[c for c, watched in channels if not watched],
        watched_videos=[v for v, watched in videos if watched],
        unwatched_videos=[v for v, watched in videos if not watched],
    )


async def delete_vectors_before(conn: AsyncConnection, cutoff: datetime) -> tuple[int, list[str]]:
    """Delete frame vectors made before ``cutoff``; (rows, their video ids). Watched videos get
    new ones from the vectors step."""
    cur = await conn.execute(
        "DELETE FROM video_vectors WHERE created_at < %s RETURNING video_id", (_ts(cutoff),)
    )
    rows = await cur.fetchall()
    return len(rows), sorted({r[0] for r in rows})


async def delete_compare_frames(conn: AsyncConnection, video_ids: Sequence[str]) -> int:
    """Delete the compare frames (``vision.compare.Frame``, made from a video's thumbnail) of
    these videos: they go with the vectors and evidence made from the same thumbnail."""
    if not video_ids:
        return 0
    cur = await conn.execute(
        "DELETE FROM compare_frames WHERE video_id = ANY(%s)", (list(video_ids),)
    )
    return cur.rowcount


async def vector_videos_before(conn: AsyncConnection, cutoff: datetime) -> list[str]:
    """Videos with frame vectors made before ``cutoff`` (what delete_vectors_before removes)."""
    cur = await conn.execute(
        "SELECT DISTINCT video_id FROM video_vectors WHERE created_at < %s ORDER BY 1",
        (_ts(cutoff),),
    )
    return [r[0] for r in await cur.fetchall()]


async def delete_history_before(conn: AsyncConnection, cutoff: datetime) -> int:
    cur = await conn.execute("DELETE FROM channel_history WHERE changed_at < %s", (_ts(cutoff),))
    return cur.rowcount


async def delete_events_before(conn: AsyncConnection, cutoff: datetime) -> int:
    """Events carry API data (titles, counts): older ones go, except the audit trail."""
    cur = await conn.execute(
        "DELETE FROM system_events WHERE created_at < %s AND event_type <> ALL(%s)",
        (_ts(cutoff), list(AUDIT_EVENTS)),
    )
    return cur.rowcount


async def delete_outbox_before(conn: AsyncConnection, cutoff: datetime) -> int:
    """Delivered or given-up alerts (they quote titles and counts) older than the window."""
    cur = await conn.execute(
        "DELETE FROM alert_outbox WHERE created_at < %s"
        " AND (delivered_at IS NOT NULL OR given_up_at IS NOT NULL)",
        (_ts(cutoff),),
    )
    return cur.rowcount


async def delete_outbox_mentions(conn: AsyncConnection, ids: Sequence[str]) -> int:
    """Alerts, pending or not, whose key, text, fields or image name one of ``ids``."""
    cur = await conn.execute(
        "DELETE FROM alert_outbox o WHERE EXISTS (SELECT 1 FROM unnest(%s::text[]) AS i(id)"
        " WHERE strpos(o.key || o.title || o.description || o.fields::text"
        " || coalesce(o.image_path, ''), i.id) > 0)",
        (list(ids),),
    )
    return cur.rowcount


async def id_columns(conn: AsyncConnection) -> list[tuple[str, str, str]]:
    """Every (table, column, kind) naming a channel or a video by id, read from the catalog
    (``atlas_id_columns()``, migration 0016): what forget deletes and the fence guards."""
    cur = await conn.execute("SELECT table_name, column_name, kind FROM atlas_id_columns()")
    return [(r[0], r[1], r[2]) for r in await cur.fetchall()]


async def _delete_by_id(
    conn: AsyncConnection, kind: str, ids: list[str], counts: Counts, *, skip: Sequence[str] = ()
) -> None:
    """Delete rows naming ``ids`` (of ``kind``) from every covered table except ``skip`` and
    the parent tables (channels, videos), which go last."""
    by_table: dict[str, list[str]] = {}
    for table, column, col_kind in await id_columns(conn):
        if col_kind == kind and table not in ("channels", "videos", *skip):
            by_table.setdefault(table, []).append(column)
    for table, columns in sorted(by_table.items()):
        where = sql.SQL(" OR ").join(
            sql.SQL("{} = ANY(%(ids)s)").format(sql.Identifier(c)) for c in columns
        )
        cur = await conn.execute(
            sql.SQL("DELETE FROM {} WHERE ").format(sql.Identifier(table)) + where, {"ids": ids}
        )
        add_counts(counts, {table: cur.rowcount})


async def delete_videos(conn: AsyncConnection, video_ids: Sequence[str]) -> Counts:
    """Delete these videos and every row naming them (vectors, snapshots, re-upload pairs,
    pushes, their events and alerts; every table of ``atlas_id_columns()``)."""
    ids = list(video_ids)
    counts: Counts = dict.fromkeys(
        (
            "video_vectors",
            "video_stats_log",
            "reupload_pairs",
            "system_events",
            "alert_outbox",
            "videos",
        ),
        0,
    )
    if not ids:
        return counts
    await _delete_by_id(conn, "video", ids, counts)
    counts["alert_outbox"] += await delete_outbox_mentions(conn, ids)
    cur = await conn.execute(
        "DELETE FROM system_events WHERE entity_id = ANY(%s) OR payload->>'matches' = ANY(%s)"
        " OR payload->>'video_id' = ANY(%s) OR payload->>'original_id' = ANY(%s)",
        (ids, ids, ids, ids),
    )
    counts["system_events"] += cur.rowcount
    cur = await conn.execute("DELETE FROM videos WHERE id = ANY(%s)", (ids,))
    counts["videos"] = cur.rowcount
    return counts


async def channel_video_ids(conn: AsyncConnection, channel_ids: Sequence[str]) -> list[str]:
    cur = await conn.execute(
        "SELECT id FROM videos WHERE channel_id = ANY(%s) ORDER BY id", (list(channel_ids),)
    )
    return [r[0] for r in await cur.fetchall()]


async def stored_video_ids(conn: AsyncConnection, video_ids: Sequence[str]) -> list[str]:
    """Which of these ids are stored videos."""
    cur = await conn.execute(
        "SELECT id FROM videos WHERE id = ANY(%s) ORDER BY id", (list(video_ids),)
    )
    return [r[0] for r in await cur.fetchall()]


async def delete_channels(
    conn: AsyncConnection, channel_ids: Sequence[str], video_ids: Sequence[str] = ()
) -> Counts:
    """Delete these channels and every row about them or their videos (``video_ids`` adds
    videos recorded earlier, e.g. by an interrupted forget): every table of
    ``atlas_id_columns()``, the watchlist included, plus events and alerts naming them."""
    ids = list(channel_ids)
    counts: Counts = {}
    if not ids:
        return counts
    videos = sorted(set(await channel_video_ids(conn, ids)) | set(video_ids))
    await _delete_by_id(conn, "channel", ids, counts)
    add_counts(counts, await delete_videos(conn, videos))
    cur = await conn.execute(
        "DELETE FROM system_events WHERE entity_id = ANY(%s) OR payload->>'channel_id' = ANY(%s)"
        " OR payload->>'match_channel_id' = ANY(%s)",
        (ids, ids, ids),
    )
    add_counts(counts, {"system_events": cur.rowcount})
    add_counts(counts, {"alert_outbox": await delete_outbox_mentions(conn, ids)})
    cur = await conn.execute("DELETE FROM channels WHERE id = ANY(%s)", (ids,))
    counts["channels"] = cur.rowcount
    return counts


@dataclass(frozen=True)
class Missing:
    """Channels and videos the API reported missing before the grace cutoff and not seen since."""

    channels: list[str] = field(default_factory=list)
    videos: list[str] = field(default_factory=list)


async def missing_past_grace(conn: AsyncConnection, cutoff: datetime) -> Missing:
    """A ``channel.missing`` / ``video.missing`` event marks when the API stopped returning an
    entity (its ``missing_since``); one that reappeared has a snapshot after it."""
    cut = _ts(cutoff)
    cur = await conn.execute(
        """SELECT c.id FROM channels c
           JOIN (SELECT entity_id, min(created_at) AS since FROM system_events
                 WHERE event_type = 'channel.missing' GROUP BY entity_id) m ON m.entity_id = c.id
           WHERE m.since < %s AND NOT EXISTS (
               SELECT 1 FROM channel_stats_log s WHERE s.channel_id = c.id
               AND s.timestamp > m.since)
           ORDER BY c.id""",
        (cut,),
    )
    channels = [r[0] for r in await cur.fetchall()]
    cur = await conn.execute(
        """SELECT v.id FROM videos v
           JOIN (SELECT entity_id, min(created_at) AS since FROM system_events
                 WHERE event_type = 'video.missing' GROUP BY entity_id) m ON m.entity_id = v.id
           WHERE m.since < %s AND NOT EXISTS (
               SELECT 1 FROM video_stats_log s WHERE s.video_id = v.id AND s.timestamp > m.since)
           ORDER BY v.id""",
        (cut,),
    )
    return Missing(channels=channels, videos=[r[0] for r in await cur.fetchall()])


async def pending_missing(conn: AsyncConnection) -> dict[str, int]:
    """How many channels / videos are marked missing and still stored (waiting for purge)."""
    out: dict[str, int] = {}
    for kind, table in (("channel", "channels"), ("video", "videos")):
        cur = await conn.execute(
            f"SELECT count(*) FROM {table} t WHERE EXISTS (SELECT 1 FROM system_events e"
            f" WHERE e.event_type = %s AND e.entity_id = t.id)",
            (f"{kind}.missing",),
        )
        row = await cur.fetchone()
        out[table] = int(row[0]) if row else 0
    return out


# ---- forget requests ------------------------------------------------------------------------


async def open_forget_request(conn: AsyncConnection, channel_id: str) -> tuple[list[str], bool]:
    """Record (or resume) the forgetting of a channel: (its video ids, vault already done).

    Locks ``forgotten_ids`` exclusively until the transaction ends (delete the rows in it):
    every writer in flight read it in its transaction, so it commits first and its rows are
    seen here, and writers after it see the digests; records the digests of
    the channel and its videos in ``forgotten_ids`` so no later write stores them (the
    migration 0016 triggers); and removes the channel from the watchlist."""
    await conn.execute("LOCK TABLE forgotten_ids IN ACCESS EXCLUSIVE MODE")
    videos = await channel_video_ids(conn, [channel_id])
    cur = await conn.execute(
        """INSERT INTO forget_requests (channel_id, video_ids) VALUES (%s, %s)
           ON CONFLICT (channel_id) DO UPDATE SET video_ids = ARRAY(
               SELECT DISTINCT unnest(forget_requests.video_ids || EXCLUDED.video_ids) ORDER BY 1)
           RETURNING video_ids, vault_done""",
        (channel_id, videos),
    )
    row = await cur.fetchone()
    assert row is not None
    await conn.execute(
        "INSERT INTO forgotten_ids (digest) SELECT atlas_id_digest(i)"
        " FROM unnest(%s::text[]) AS i ON CONFLICT DO NOTHING",
        ([channel_id, *row[0]],),
    )
    await conn.execute("DELETE FROM watchlist WHERE channel_id = %s", (channel_id,))
    return list(row[0]), bool(row[1])


async def mark_forget_vault_done(conn: AsyncConnection, channel_id: str) -> None:
    await conn.execute(
        "UPDATE forget_requests SET vault_done = TRUE WHERE channel_id = %s", (channel_id,)
    )


async def record_forget_counts(conn: AsyncConnection, channel_id: str, counts: Counts) -> None:
    """Add rows deleted by this attempt to the request's tally."""
    await conn.execute(
        "UPDATE forget_requests SET deleted = (SELECT coalesce(jsonb_object_agg(k,"
        " coalesce((deleted->>k)::bigint, 0) + coalesce((%s::jsonb->>k)::bigint, 0)), '{}')"
        " FROM (SELECT jsonb_object_keys(deleted || %s::jsonb) AS k) AS keys)"
        " WHERE channel_id = %s",
        (Jsonb(counts), Jsonb(counts), channel_id),
    )


async def close_forget_request(conn: AsyncConnection, channel_id: str) -> Counts:
    """Delete the request; returns the rows its attempts deleted, per table."""
    cur = await conn.execute(
        "DELETE FROM forget_requests WHERE channel_id = %s RETURNING deleted", (channel_id,)
    )
    row = await cur.fetchone()
    return {k: int(v) for k, v in (row[0] if row else {}).items()}


async def pending_forget_requests(conn: AsyncConnection) -> list[str]:
    cur = await conn.execute("SELECT channel_id FROM forget_requests ORDER BY requested_at")
    return [r[0] for r in await cur.fetchall()]


async def unforget(conn: AsyncConnection, channel_id: str) -> None:
    """Lift the fence of a channel watched again (``atlas watch add``): its digest goes, unless
    a forget of it is still unfinished."""
    await conn.execute(
        "DELETE FROM forgotten_ids WHERE digest = atlas_id_digest(%s)"
        " AND NOT EXISTS (SELECT 1 FROM forget_requests WHERE channel_id = %s)",
        (channel_id, channel_id),
    )


async def is_forgotten(conn: AsyncConnection, ids: Sequence[str]) -> list[str]:
    """Which of these channel or video ids are fenced (forgotten)."""
    cur = await conn.execute(
        "SELECT i FROM unnest(%s::text[]) AS i WHERE EXISTS"
        " (SELECT 1 FROM forgotten_ids f WHERE f.digest = atlas_id_digest(i)) ORDER BY i",
        (list(ids),),
    )
    return [r[0] for r in await cur.fetchall()]


async def channel_footprint(conn: AsyncConnection, channel_id: str) -> Counts:
    """Rows per table that forgetting this channel would delete (for --dry-run and for
    telling an unknown id from a stored one)."""
    videos = await channel_video_ids(conn, [channel_id])
    counts: Counts = {"channels": 0, "videos": len(videos)}
    for table, column, kind in await id_columns(conn):
        if table == "videos":
            continue
        ids = [channel_id] if kind == "channel" else videos
        cur = await conn.execute(
            sql.SQL("SELECT count(*) FROM {} WHERE {} = ANY(%s)").format(
                sql.Identifier(table), sql.Identifier(column)
            ),
            (ids,),
        )
        row = await cur.fetchone()
        counts[table] = counts.get(table, 0) + (int(row[0]) if row else 0)
    cur = await conn.execute(
        "SELECT count(*) FROM system_events WHERE entity_id = ANY(%s)"
        " OR payload->>'channel_id' = %s OR payload->>'match_channel_id' = %s"
        " OR payload->>'matches' = ANY(%s) OR payload->>'video_id' = ANY(%s)",
        ([channel_id, *videos], channel_id, channel_id, videos, videos),
    )
    row = await cur.fetchone()
    counts["system_events"] = int(row[0]) if row else 0
    cur = await conn.execute(
        "SELECT count(*) FROM alert_outbox o WHERE EXISTS (SELECT 1 FROM unnest(%s::text[])"
        " AS i(id) WHERE strpos(o.key || o.title || o.description || o.fields::text"
        " || coalesce(o.image_path, ''), i.id) > 0)",
        ([channel_id, *videos],),
    )
    row = await cur.fetchone()
    counts["alert_outbox"] = int(row[0]) if row else 0
    return counts


async def fenced_rows(conn: AsyncConnection) -> Counts:
    """Rows per table that name a forgotten channel or video (digest in ``forgotten_ids``),
    or a channel that is neither stored nor watched (never watched): what the audit's rule
    "nothing stored of a forgotten or never-watched channel" counts. Empty when it holds."""
    out: Counts = {}
    for table, column, kind in await id_columns(conn):
        forgotten = sql.SQL(
            "EXISTS (SELECT 1 FROM forgotten_ids f WHERE f.digest = atlas_id_digest(t.{c}))"
        ).format(c=sql.Identifier(column))
        if kind == "channel" and table not in ("channels", "watchlist"):
            forgotten = forgotten + sql.SQL(
                " OR (NOT EXISTS (SELECT 1 FROM channels c WHERE c.id = t.{c})"
                " AND NOT EXISTS (SELECT 1 FROM watchlist w WHERE w.channel_id = t.{c}))"
            ).format(c=sql.Identifier(column))
        cur = await conn.execute(
            sql.SQL("SELECT count(*) FROM {} t WHERE ").format(sql.Identifier(table)) + forgotten
        )
        row = await cur.fetchone()
        if row and row[0]:
            out[table] = out.get(table, 0) + int(row[0])
    cur = await conn.execute(
        "SELECT count(*) FROM system_events e WHERE EXISTS (SELECT 1 FROM forgotten_ids f"
        " WHERE f.digest = ANY(ARRAY[atlas_id_digest(e.entity_id),"
        " atlas_id_digest(e.payload->>'channel_id'), atlas_id_digest(e.payload->>'video_id'),"
        " atlas_id_digest(e.payload->>'match_channel_id'),"
        " atlas_id_digest(e.payload->>'matches')]))"
    )
    row = await cur.fetchone()
    if row and row[0]:
        out["system_events"] = int(row[0])
    return out


async def oldest_per_table(conn: AsyncConnection) -> dict[str, datetime | None]:
    """The oldest stored datum of each API-data table, by the time it was last refreshed."""
    queries = {
        "channels": "SELECT min(last_scraped_at) FROM channels",
        "videos": f"SELECT min({_VIDEO_REFRESHED}) FROM videos v",
        "video_stats_log": "SELECT min(timestamp) FROM video_stats_log",
        "channel_stats_log": "SELECT min(timestamp) FROM channel_stats_log",
        "video_vectors": "SELECT min(created_at) FROM video_vectors",
        "channel_history": "SELECT min(changed_at) FROM channel_history",
        "system_events": "SELECT min(created_at) FROM system_events"
        " WHERE event_type <> ALL(%(audit)s)",
    }
    out: dict[str, datetime | None] = {}
    for table, query in queries.items():
        params = {"audit": list(AUDIT_EVENTS)} if "%(audit)s" in query else None
        cur = await conn.execute(query, params)
        row = await cur.fetchone()
        out[table] = row[0] if row else None
    return out


async def last_event(conn: AsyncConnection, event_type: str) -> tuple[datetime, dict] | None:  # type: ignore[type-arg]
    cur = await conn.execute(
        "SELECT created_at, payload FROM system_events WHERE event_type = %s"
        " ORDER BY created_at DESC LIMIT 1",
        (event_type,),
    )
    row = await cur.fetchone()
    return (row[0], row[1]) if row else None
