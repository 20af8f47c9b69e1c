"""The event log: every state change lands in ``system_events``.

    from atlas_core import events
    await events.emit("video.discovered", "dQw4w9WgXcQ", {"channel_id": "UC..."})

Emitting never breaks the caller: a failure is logged at ERROR and swallowed.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from psycopg.types.json import Jsonb

from atlas_core.database import DatabaseManager

logger = logging.getLogger(__name__)

EventPayload = dict[str, Any]


def _dumps(value: Any) -> str:
    return json.dumps(value, default=str)


class EventBus:
    """Writes events to ``system_events`` through a DatabaseManager."""

    def __init__(self, db: DatabaseManager) -> None:
        self._db = db

    async def emit(self, event_type: str, entity_id: str | None, payload: EventPayload) -> None:
        """Record one event. Never raises."""
        try:
            async with self._db.get_connection() as conn:
                await conn.execute(
                    "INSERT INTO system_events (event_type, entity_id, payload)"
                    " VALUES (%s, %s, %s)",
                    (event_type, entity_id, Jsonb(payload, dumps=_dumps)),
                )
        except Exception:
            logger.exception("could not record event %s for %s", event_type, entity_id)

    async def recorded(self, event_type: str, entity_ids: list[str]) -> set[str]:
        """Which of ``entity_ids`` already have an event of ``event_type`` (for de-duplication)."""
        if not entity_ids:
            return set()
        async with self._db.get_connection() as conn:
            cur = await conn.execute(
                "SELECT DISTINCT entity_id FROM system_events"
                " WHERE event_type = %s AND entity_id = ANY(%s)",
                (event_type, entity_ids),
            )
            return {row[0] for row in await cur.fetchall()}
