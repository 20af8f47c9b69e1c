"""Daily Parquet partitions in the vault, backfillable over any range in one run.

Today's partition is open: a run for it writes the rows so far and its check compares the
vault with what the run read (rows keep arriving); once the day has ended,
``export_closed_day`` rewrites it and the check compares with the database.
"""

from collections.abc import Iterator
from datetime import date, datetime, timedelta

from dagster import (
    AllPartitionMapping,
    AssetCheckResult,
    AssetCheckSpec,
    AssetDep,
    AssetExecutionContext,
    BackfillPolicy,
    FreshnessPolicy,
    MaterializeResult,
    MetadataValue,
    asset,
)

from atlas_assets import partitions
from atlas_assets.assets.youtube import stopwatch
from atlas_assets.catalog import OWNERS, tags
from atlas_assets.resources import DatabaseResource, VaultResource
from atlas_assets.runtime import database_only, md_table
from atlas_core.pipeline.exports import ensure_card, export_day, verify_day
from atlas_core.storage import VaultStrategy
from atlas_core.utils import utc_now

EXPORT_COMPLETE = "export_complete"


@asset(
    group_name="vault",
    partitions_def=partitions.daily,
    backfill_policy=BackfillPolicy.single_run(),
    deps=[
        "video_stats_log",
        "channel_stats_log",
        "channels",
        AssetDep("videos", partition_mapping=AllPartitionMapping()),
    ],
    check_specs=[
        AssetCheckSpec(
            EXPORT_COMPLETE,
            asset="vault_partitions",
            blocking=True,
            description="Every exported day's Parquet row counts equal the database's for "
            "that day (for today, still open: the rows the run read); a failure fails the "
            "run, so the day is not reported as published.",
        )
    ],
    owners=OWNERS,
    kinds={"parquet", "postgres"},
    tags=tags("vault", "daily"),
    freshness_policy=FreshnessPolicy.time_window(
        fail_window=timedelta(hours=27), warn_window=timedelta(hours=25)
    ),
    description="One partition per UTC day: that day's rows of video_stats_log and "
    "channel_stats_log, plus a snapshot of channels and videos, as one Parquet file per "
    "dataset in the vault (e.g. video_stats_log/dt=2026-11-28/part-0.parquet). Re-running a "
    "day replaces it; today's partition is open and holds the rows so far.",
)
async def vault_partitions(  # type: ignore[no-untyped-def]  # yields the MaterializeResult, then the check
    context: AssetExecutionContext, database: DatabaseResource, vault: VaultResource
):
    store = vault.get()
    window = context.partition_time_window
    days = [d.date() for d in _days(window.start, window.end)]
    today = utc_now().date()
    totals: dict[str, int] = {}
    mismatches: list[str] = []
    with stopwatch() as took:
        async with database_only(database) as db:
            await ensure_card(store)  # README.md: every table and column, a config each
            for day in days:
                counts = await export_day(db, store, day)
                for dataset, n in counts.items():
                    totals[dataset] = totals.get(dataset, 0) + n
                if day >= today:  # open: rows written after the export are the next run's
                    mismatches += written_mismatches(store, day, counts)
                else:
                    mismatches += await verify_day(db, store, day)
                context.log.info(
                    "exported %s%s: %s", day, " (open)" if day >= today else "", counts
                )
    yield MaterializeResult(
        metadata={
            "days": len(days),
            "open_day": any(d >= today for d in days),
            "dagster/row_count": sum(totals.values()),
            **{f"rows_{k}": v for k, v in totals.items()},
            "seconds": took["seconds"],
            "preview": MetadataValue.md(md_table(("dataset", "rows"), sorted(totals.items()))),
        },
    )
    yield AssetCheckResult(
        check_name=EXPORT_COMPLETE,
        passed=not mismatches,
        metadata={
            "mismatches": len(mismatches),
            "details": "; ".join(mismatches) or "none",
            "days": len(days),
        },
    )


def written_mismatches(store: VaultStrategy, day: date, counts: dict[str, int]) -> list[str]:
    """Datasets whose stored partition for ``day`` does not hold the rows the export read."""
    problems = []
    for dataset, expected in counts.items():
        table = store.read_partition(dataset, day)
        stored = -1 if table is None else table.num_rows
        if stored != expected:
            problems.append(f"{dataset} {day}: vault {stored} rows, export read {expected}")
    return problems


def _days(start: datetime, end: datetime) -> Iterator[datetime]:
    day = start
    while day < end:
        yield day
        day += timedelta(days=1)
