"""Partitions: one per UTC day (exports), one per watched channel (discovery).
Nothing here reads the environment."""

from __future__ import annotations

from dagster import DailyPartitionsDefinition, DynamicPartitionsDefinition

DAILY_START = "2026-01-01"  # the first day Atlas has data for; backfills start here

daily = DailyPartitionsDefinition(start_date=DAILY_START, timezone="UTC")
channels = DynamicPartitionsDefinition(name="channels")
