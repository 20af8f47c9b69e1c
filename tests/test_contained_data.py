"""Bad data from the API is contained: stored as sanitised, compared the way it is stored."""

from __future__ import annotations

from datetime import UTC, datetime

from atlas_core.database import DatabaseManager
from atlas_core.pipeline.channels import channel_row
from atlas_core.store.channels import upsert_channels
from atlas_core.youtube.parsing import parse_channel

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


async def test_a_long_nul_title_is_stored_and_never_reported_as_a_rename(
    db: DatabaseManager,
) -> None:
    item = {"id": "UC" + "b" * 22, "snippet": {"title": "\x00Hostile " + "y" * 300}}
    row = channel_row(parse_channel(item))
    async with db.get_connection() as conn:
        assert await upsert_channels(conn, [row], NOW) == []
        again = channel_row(parse_channel(item))
        assert await upsert_channels(conn, [again], NOW) == []  # same as stored: no rename
        cur = await conn.execute("SELECT title FROM channels")
        [(title,)] = await cur.fetchall()
    assert title == row.title and len(title) == 255 and title.startswith("Hostile")
