"""Partitions: one per day (exports), one per tracked channel (discovery)."""

from __future__ import annotations

from dagster import DailyPartitionsDefinition, DynamicPartitionsDefinition

from atlas_core.config import load_settings

daily = DailyPartitionsDefinition(
    start_date=load_settings().DAILY_PARTITIONS_START.isoformat(), timezone="UTC"
)
channels = DynamicPartitionsDefinition(name="channels")
