"""Frame vectors: 512-d only, replaced on re-write, near-duplicates across channels."""

from __future__ import annotations

import numpy as np
import pytest

from atlas_core.database import DatabaseManager
from atlas_core.store.vectors import nearest_other_channel, write_vectors


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
