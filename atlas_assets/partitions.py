"""Partitions: one per UTC day (exports), one per watched channel (discovery).
Nothing here reads the environment.

The daily partitions run up to today (``end_offset=1``): today's partition is open, so a run
or backfill for it exports the rows so far; ``export_closed_day`` rewrites a day after it ends.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

from dagster import BetaWarning, DailyPartitionsDefinition, DynamicPartitionsDefinition, RunRequest

# The run tags that make a run cover a partition range (documented for backfills and run
# requests; Dagster reads them back as ``RunRequest.partition_key_range``).
ASSET_PARTITION_RANGE_START_TAG = "dagster/asset_partition_range_start"
ASSET_PARTITION_RANGE_END_TAG = "dagster/asset_partition_range_end"

# The assets' backfill policies (BackfillPolicy.single_run / multi_run) are how ranges of these
# partitions run; Dagster 1.13 still calls the `backfill_policy` parameter beta and warns once
# per asset in every process that loads the definitions (the demo's log, each run's stderr).
# Only that notice is silenced; any other BetaWarning still shows.
warnings.filterwarnings(
    "ignore", message=r"Parameter `backfill_policy` of function `asset`", category=BetaWarning
)

DAILY_START = "2026-01-01"  # the first day Atlas has data for; backfills start here

daily = DailyPartitionsDefinition(start_date=DAILY_START, timezone="UTC", end_offset=1)
channels = DynamicPartitionsDefinition(name="channels")

# Channels per discovery run: a tick's runs are ceil(due channels / chunk), and a UI backfill
# of `videos` runs this many partitions per run (the asset's multi-run backfill policy).
DISCOVERY_CHUNK = 500


def channel_range_requests(
    ordered_keys: Sequence[str],
    targets: Sequence[str],
    chunk: int,
    *,
    run_key: str,
    tags: dict[str, str] | None = None,
    only_targets: bool = True,
) -> list[RunRequest]:
    """Runs over ``channels`` partition ranges covering ``targets``, ``chunk`` targets per run.

    ``ordered_keys`` is the partitions' own order (Dagster's ranges follow it). Each run's
    range spans its chunk's first and last target; with ``only_targets`` its config names
    the targets, so the channels between them that are not due are not checked."""
    if chunk < 1:
        raise ValueError(f"discovery chunk size must be at least 1 channel, got {chunk}")
    position = {k: i for i, k in enumerate(ordered_keys)}
    wanted = sorted((position[t], t) for t in set(targets) if t in position)
    requests = []
    for n in range(0, len(wanted), chunk):
        group = [t for _, t in wanted[n : n + chunk]]
        config = {"ops": {"videos": {"config": {"channel_ids": group}}}} if only_targets else {}
        requests.append(
            RunRequest(
                run_key=f"{run_key}#{n // chunk}",
                run_config=config,
                tags={
                    **(tags or {}),
                    ASSET_PARTITION_RANGE_START_TAG: group[0],
                    ASSET_PARTITION_RANGE_END_TAG: group[-1],
                },
            )
        )
    return requests
