"""The event log: every state change lands in ``system_events``.

    from atlas_core import events
    await events.emit("video.discovered", "dQw4w9WgXcQ", {"channel_id": "UC..."})

Emitting never breaks the caller: a failure is logged at ERROR and swallowed.
"""

from __future__ import annotations

import logging
from typing import Any

from atlas_core.database import DatabaseManager
from atlas_core.store.events import entities_with_event, insert_event

logger = logging.getLogger(__name__)

EventPayload = dict[str, Any]


class EventBus:
    """Writes events to ``system_events`` through a DatabaseManager."""

    def __init__(self, db: DatabaseManager) -> None:
        self._db = db

    async def emit(self, event_type: str, entity_id: str | None, payload: EventPayload) -> None:
        """Record one event. Never raises."""
        try:
            async with self._db.get_connection() as conn:
                await insert_event(conn, event_type, entity_id, payload)
        except Exception:
            logger.exception("could not record event %s for %s", event_type, entity_id)

    async def recorded(self, event_type: str, entity_ids: list[str]) -> set[str]:
        """Which of ``entity_ids`` have an event of ``event_type`` (an audit question: no
        step decides anything from the log, whose writes are best-effort)."""
        if not entity_ids:
            return set()
        async with self._db.get_connection() as conn:
            return await entities_with_event(conn, event_type, entity_ids)
