"""The audit log's table, ``system_events``: one row per state change, written best-effort.

async with db.get_connection() as conn:
    await insert_event(conn, "video.discovered", "dQw4w9WgXcQ", {"channel_id": "UC..."})
"""

from __future__ import annotations

import json
from typing import Any

from psycopg import AsyncConnection
from psycopg.types.json import Jsonb


def _dumps(value: Any) -> str:
    return json.dumps(value, default=str)


async def insert_event(
    conn: AsyncConnection, event_type: str, entity_id: str | None, payload: dict[str, Any]
) -> None:
    await conn.execute(
        "INSERT INTO system_events (event_type, entity_id, payload) VALUES (%s, %s, %s)",
        (event_type, entity_id, Jsonb(payload, dumps=_dumps)),
    )


async def entities_with_event(
    conn: AsyncConnection, event_type: str, entity_ids: list[str]
) -> set[str]:
    """Which of ``entity_ids`` have an event of ``event_type`` (audits and tests)."""
    cur = await conn.execute(
        "SELECT DISTINCT entity_id FROM system_events"
        " WHERE event_type = %s AND entity_id = ANY(%s)",
        (event_type, entity_ids),
    )
    return {row[0] for row in await cur.fetchall()}
