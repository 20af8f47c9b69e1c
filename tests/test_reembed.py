"""Re-embedding with a new embedder: in batches, from the vault, resumable, never vector-less."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest
from vision_images import jpeg, scene

from atlas_core.cli import build_parser
from atlas_core.config import load_settings
from atlas_core.database import DatabaseManager
from atlas_core.pipeline import Services
from atlas_core.pipeline.vectors import reembed
from atlas_core.storage import LocalVault
from atlas_core.store.vectors import write_vectors

OLD = "perceptual-32x16"


@pytest.fixture
async def svc(database_dsn: str, tmp_path: Path) -> AsyncIterator[Services]:
    settings = load_settings(
        _env_file=None,
        DATABASE_URL=database_dsn,
        YOUTUBE_API_BASE_URL="http://127.0.0.1:9/youtube/v3",
        YOUTUBE_API_KEY_POOL_JSON='["k"]',
        ATLAS_HOME=tmp_path,
    )
    db = DatabaseManager(settings=settings)
    async with Services.open(settings, db=db, vault=LocalVault(tmp_path / "vault")) as services:
        yield services
    await db.close()


async def _rows(svc: Services) -> dict[str, set[str]]:
    async with svc.db.get_connection() as conn:
        cur = await conn.execute("SELECT video_id, embedder FROM video_vectors")
        out: dict[str, set[str]] = {}
        for video_id, embedder in await cur.fetchall():
            out.setdefault(video_id, set()).add(embedder)
        return out


async def test_reembed_resumes_after_interruption_and_keeps_old_rows_until_new_exist(
    svc: Services,
) -> None:
    ids = [f"vid{i}" for i in range(5)]
    old = np.ones(512, np.float32) / np.sqrt(512)
    async with svc.db.get_connection() as conn:
        await conn.execute("INSERT INTO channels (id, title) VALUES ('UCa', 'A')")
        for vid in ids:
            await conn.execute(
                "INSERT INTO videos (id, channel_id, title) VALUES (%s, 'UCa', 't')", (vid,)
            )
            await write_vectors(conn, [(vid, 0, old, "thumbnail:old")], embedder=OLD)
    for i, vid in enumerate(ids[:4]):  # vid4 has no stored frames
        svc.vault.store_visual_evidence(vid, [(0, jpeg(scene(i)))])
    new = svc.embedder.name
    assert new != OLD

    first = await reembed(svc, batch=2, max_batches=1)  # "interrupted" after one batch
    assert (first.videos, first.vectors, first.remaining) == (2, 10, 3)  # 5 rows a frame
    rows = await _rows(svc)
    assert rows["vid0"] == rows["vid1"] == {new}
    assert all(rows[v] == {OLD} for v in ids[2:])  # not yet done: old rows still there

    second = await reembed(svc, batch=2)
    assert (second.videos, second.skipped, second.remaining) == (2, 1, 0)
    rows = await _rows(svc)
    assert all(rows[v] == {new} for v in ids[:4])
    assert rows["vid4"] == {OLD}  # could not be re-embedded: keeps its vectors
    async with svc.db.get_connection() as conn:
        cur = await conn.execute(
            "SELECT count(*) FROM system_events WHERE event_type = 'vectors.reembed_skipped'"
        )
        assert await cur.fetchone() == (1,)
        cur = await conn.execute("SELECT count(*) FROM video_vectors WHERE embedder = %s", (new,))
        # frame, mirror, zoomed and its mirror, and grey (the scenes are in colour)
        assert await cur.fetchone() == (20,)
    assert (await reembed(svc)).videos == 0  # nothing left: idempotent

    with pytest.raises(ValueError, match="batch must be >= 1"):
        await reembed(svc, batch=0)


def test_reembed_command_is_in_the_cli() -> None:
    args = build_parser().parse_args(["reembed", "--batch", "50", "--max-batches", "2"])
    assert (args.batch, args.max_batches) == (50, 2)
