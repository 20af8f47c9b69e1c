"""One discovery of a channel at a time, however its run was launched.

async with discovery_lock(db, channel_id):   # waits while another discovery holds it
    ...                                       # the channel's API calls and writes

A PostgreSQL session advisory lock keyed by the channel, held on one pooled connection for
the discovery; a crashed holder's connection closes and the server releases its lock.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import psycopg

if TYPE_CHECKING:
    from atlas_core.database import DatabaseManager

log = logging.getLogger(__name__)

_KEY = "hashtextextended('atlas.discovery:' || %s, 0)"


@asynccontextmanager
async def discovery_lock(db: DatabaseManager, channel_id: str) -> AsyncIterator[None]:
    """Hold the channel's discovery lock for the block; a second holder waits for it."""
    async with db.get_connection() as conn:
        cur = await conn.execute(f"SELECT pg_try_advisory_lock({_KEY})", (channel_id,))
        row = await cur.fetchone()
        if not (row and row[0]):
            log.info("discovery of %s waits for the one already in progress", channel_id)
            await conn.execute(f"SELECT pg_advisory_lock({_KEY})", (channel_id,))
        await conn.commit()  # a session lock: it outlives the transaction, the connection idles
        try:
            yield
        finally:
            try:
                await conn.execute(f"SELECT pg_advisory_unlock({_KEY})", (channel_id,))
                await conn.commit()
            except psycopg.OperationalError:  # the connection is gone, and its lock with it
                log.warning("discovery lock of %s released by its lost connection", channel_id)
