"""Frame vectors: 512-d only, replaced on re-write, near-duplicates across channels."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from atlas_core.database import DatabaseManager
from atlas_core.store.vectors import (
    MIRROR_ROWS,
    QUERY_ONLY_ROWS,
    Original,
    candidates_for,
    clear_thumbnail_attempts,
    compare_frames_of,
    hunt_queue,
    is_query_row,
    nearest_other_channel,
    originals_of,
    queries_of,
    record_reupload_pair,
    record_thumbnail_failure,
    reupload_pairs_known,
    thumbnail_attempts,
    vectors_of,
    videos_without_vectors,
    videos_without_vectors_by_reason,
    write_compare_frame,
    write_vectors,
)


async def _seed(db: DatabaseManager) -> None:
    async with db.get_connection() as conn:
        await conn.execute("INSERT INTO channels (id, title) VALUES ('UCa', 'A'), ('UCb', 'B')")
        await conn.execute(
            "INSERT INTO videos (id, channel_id, title) VALUES "
            "('orig', 'UCa', 'o'), ('copy', 'UCb', 'c'), ('other', 'UCb', 'x'), ('sib', 'UCa', 's')"
        )


def unit(seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=512).astype(np.float32)
    return v / np.linalg.norm(v)


async def test_near_duplicate_found_only_across_channels(db: DatabaseManager) -> None:
    await _seed(db)
    base = unit(1)
    near = base + 0.01 * unit(2)
    async with db.get_connection() as conn:
        await write_vectors(
            conn,
            [
                ("orig", 0, base, "t"),
                ("copy", 0, near / np.linalg.norm(near), "t"),
                ("other", 0, unit(3), "t"),
                ("sib", 0, base, "t"),
            ],
        )
        matches = await nearest_other_channel(conn, "copy", max_distance=0.05)
    assert [(m.match_video_id, m.match_channel_id) for m in matches][:2] == [
        ("orig", "UCa"),
        ("sib", "UCa"),
    ]
    assert all(m.distance < 0.05 for m in matches)
    async with db.get_connection() as conn:
        # 'sib' is on orig's own channel: never reported as orig's re-upload
        own = await nearest_other_channel(conn, "orig", max_distance=0.05)
    assert {m.match_video_id for m in own} == {"copy"}


async def test_rewrite_replaces_and_bad_shapes_are_refused(db: DatabaseManager) -> None:
    await _seed(db)
    async with db.get_connection() as conn:
        await write_vectors(conn, [("orig", 0, unit(1), "a")])
        await write_vectors(conn, [("orig", 0, unit(2), "b")])
        cur = await conn.execute("SELECT count(*), min(source_type) FROM video_vectors")
        assert await cur.fetchone() == (1, "b")
    with pytest.raises(ValueError, match="expected 512 finite values"):
        async with db.get_connection() as conn:
            await write_vectors(conn, [("orig", 1, np.zeros(128, dtype=np.float32), "a")])
    bad = unit(4)
    bad[0] = np.nan
    with pytest.raises(ValueError, match="finite"):
        async with db.get_connection() as conn:
            await write_vectors(conn, [("orig", 1, bad, "a")])


async def test_thumbnail_failures_wait_for_retry_and_permanent_ones_leave_the_queue(
    db: DatabaseManager,
) -> None:
    await _seed(db)
    async with db.get_connection() as conn:
        await conn.execute("INSERT INTO watchlist (channel_id) VALUES ('UCa'), ('UCb')")
        assert set(await videos_without_vectors(conn)) == {"orig", "copy", "other", "sib"}
        # transient: out of the queue until its retry is due, then back in
        first = await record_thumbnail_failure(conn, "copy", "frame 0: HTTP 503", False, 3600)
        again = await record_thumbnail_failure(conn, "copy", "frame 0: HTTP 503", False, -1)
        assert (first.attempts, again.attempts) == (1, 2)
        assert await thumbnail_attempts(conn, "copy") == 2
        assert "copy" in await videos_without_vectors(conn)
        await record_thumbnail_failure(conn, "copy", "frame 0: ConnectError", False, 3600)
        assert "copy" not in await videos_without_vectors(conn)
        # permanent: gone for good, and counted by reason
        await record_thumbnail_failure(conn, "other", "frame 0: HTTP 404", True, 0)
        await record_thumbnail_failure(conn, "sib", "undecodable: not an image", True, 0)
        assert set(await videos_without_vectors(conn)) == {"orig"}
        reasons = await videos_without_vectors_by_reason(conn)
        assert reasons == {"pending": 1, "retrying": 1, "thumbnail_gone": 1, "undecodable": 1}
        await conn.commit()  # the sensor reads over its own connection
        waiting, _ = await asyncio.to_thread(hunt_queue, conn.info.dsn)
        assert waiting == 1
        # a success clears the record
        await clear_thumbnail_attempts(conn, "copy")
        assert await thumbnail_attempts(conn, "copy") == 0


async def test_compare_frames_are_kept_per_version(db: DatabaseManager) -> None:
    await _seed(db)
    async with db.get_connection() as conn:
        await write_compare_frame(conn, "orig", 0, "v1", b"one")
        await write_compare_frame(conn, "orig", 0, "v1", b"two")  # replaced
        await write_compare_frame(conn, "copy", 0, "v0", b"old")
        assert await compare_frames_of(conn, ["orig", "copy", "nope"], "v1") == {"orig": b"two"}
        assert await compare_frames_of(conn, [], "v1") == {}


async def test_stage_one_queries_own_frames_in_one_batch_and_knows_pairs(
    db: DatabaseManager,
) -> None:
    await _seed(db)
    base, flipped = unit(1), unit(4)
    rows = [
        ("orig", 0, base, "t"),
        ("orig", MIRROR_ROWS, flipped, "t"),  # the original's mirror row
        ("copy", 0, flipped, "t"),  # a mirrored copy: near the original's mirror row
        ("copy", MIRROR_ROWS, base, "t"),
        ("copy", 2 * MIRROR_ROWS, unit(3), "t"),  # its zoomed centre: queried too
        ("copy", 3 * MIRROR_ROWS, unit(2), "t"),  # the zoomed centre's mirror: never queried
        ("copy", QUERY_ONLY_ROWS, unit(6), "t"),  # a shifted window: queried, never stored
        ("other", 0, unit(3), "t"),
        ("sib", 0, unit(5), "t"),
    ]
    async with db.get_connection() as conn:
        assert await write_vectors(conn, rows) == len(rows) - 1
        assert [r[1] for r in await vectors_of(conn, "copy")] == [0, 1000, 2000, 3000]
        copy = [r for r in rows if r[0] == "copy"]
        found = await candidates_for(conn, queries_of(copy, "UCb"), k=2)
        # The copy's frame, zoomed centre and shifted window are queried (not its mirror
        # rows), other channels only.
        assert {c.frame_index for c in found} == {0, 2 * MIRROR_ROWS, QUERY_ONLY_ROWS}
        assert all(is_query_row(f) for f in (0, 2 * MIRROR_ROWS, 2 * MIRROR_ROWS + 3))
        assert not any(is_query_row(f) for f in (MIRROR_ROWS, 3 * MIRROR_ROWS, MIRROR_ROWS + 3))
        own = min((c for c in found if c.frame_index == 0), key=lambda c: c.distance)
        assert (own.match_video_id, own.match_frame_index) == ("orig", MIRROR_ROWS)
        assert own.distance < 1e-5
        assert {c.match_channel_id for c in found} == {"UCa"}
        assert not any(c.match_frame_index >= QUERY_ONLY_ROWS for c in found)
        stored = await vectors_of(conn, "orig")
        assert [r[1] for r in stored] == [0, MIRROR_ROWS]
        # Many videos' queries at once: each query keeps its own video and frame.
        stored = await vectors_of(conn, "orig")
        assert [r[1] for r in stored] == [0, MIRROR_ROWS]
        both = await candidates_for(
            conn, [("copy", 0, flipped, "UCb"), ("other", 0, unit(3), "UCb")], k=1
        )
        assert sorted(c.video_id for c in both) == ["copy", "other"]  # k=1 per query
        assert [c.match_video_id for c in both if c.video_id == "copy"] == ["orig"]
        assert await candidates_for(conn, []) == []
        await record_reupload_pair(conn, "orig", "copy", 0.9)
        known = await reupload_pairs_known(conn, [("copy", "orig"), ("other", "orig")])
        assert known == {("copy", "orig")}
        # The originals of recorded copies, the copy on either side of the sorted pair.
        await record_reupload_pair(conn, "other", "again", 0.95)  # "again" < "other"
        originals = await originals_of(conn, ["copy", "again", "orig", "unknown"])
        assert originals == {
            "copy": [Original("orig", 1, root=True)],
            "again": [Original("other", 1, root=True)],
        }
        assert await originals_of(conn, []) == {}


async def test_the_originals_of_a_copy_of_a_copy_put_the_root_of_its_chain_first(
    db: DatabaseManager,
) -> None:
    """Copies of one video found side by side are recorded against each other: the video
    they all copy comes first among a copy's originals, whatever was recorded before it."""
    async with db.get_connection() as conn:
        # "src" is copied by c1..c5; each copy found its earlier siblings before the source
        # (they were nearer), and c5 was recorded against c1..c4 only. "x" copies c5.
        copies = ["c1", "c2", "c3", "c4", "c5"]
        for n, copy in enumerate(copies):
            for sibling in copies[:n]:
                await record_reupload_pair(conn, sibling, copy, 0.9)
            if copy != "c5":
                await record_reupload_pair(conn, "src", copy, 0.9)
        await record_reupload_pair(conn, "c5", "x", 0.9)
        await record_reupload_pair(conn, "x", "y", 0.9)  # a copy of x: not x's original
        originals = await originals_of(conn, ["c5", "x", "src", "c1"])
    assert originals["c5"][0] == Original("src", 2, root=True)
    assert [o.video_id for o in originals["c5"][1:]] == ["c1", "c2", "c3", "c4"]
    assert all(o.depth == 1 and not o.root for o in originals["c5"][1:])
    assert originals["x"][0] == Original("src", 3, root=True)
    assert [(o.video_id, o.depth) for o in originals["x"][1:]] == [
        ("c5", 1),
        ("c1", 2),
        ("c2", 2),
        ("c3", 2),
        ("c4", 2),
    ]
    assert originals["c1"] == [Original("src", 1, root=True)]
    assert "src" not in originals  # recorded as nobody's copy
