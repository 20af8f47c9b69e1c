"""Partitions: one per UTC day (exports), one per watched channel (discovery).
Nothing here reads the environment.

The daily partitions run up to today (``end_offset=1``): today's partition is open, so a run
or backfill for it exports the rows so far; ``export_closed_day`` rewrites a day after it ends.
"""

from __future__ import annotations

from dagster import DailyPartitionsDefinition, DynamicPartitionsDefinition

DAILY_START = "2026-01-01"  # the first day Atlas has data for; backfills start here

daily = DailyPartitionsDefinition(start_date=DAILY_START, timezone="UTC", end_offset=1)
channels = DynamicPartitionsDefinition(name="channels")
