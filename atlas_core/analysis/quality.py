"""Data-quality checks over stored data (the Dagster asset checks call these).

async with db.get_connection() as conn:
    drops = await implausible_drops(conn, max_drop=0.5)
"""

from __future__ import annotations

from atlas_core.store.velocity import implausible_drops

__all__ = ["implausible_drops"]
