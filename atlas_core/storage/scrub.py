"""Removing data from the vault: aged partitions, a channel's rows inside partitions, evidence.

    folders = partition_folders(vault)                       # [(dataset, day), ...]
    dropped = drop_partitions_before(vault, date(2026, 10, 1))
    rows = scrub_partitions(vault, {"UC..."}, {"vid1", "vid2"})  # rewrites affected files
    files = drop_evidence(vault, ["vid1", "vid2"])

Synchronous like the vault itself: call through ``asyncio.to_thread`` from async code.
These paths destroy or certify, so they read the vault strictly: an unreachable or failing
backend raises VaultError instead of looking empty.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

import pyarrow as pa
import pyarrow.compute as pc

from atlas_core.storage import evidence, parquet
from atlas_core.storage.base import VaultStrategy

_PARTITION = re.compile(r"^([A-Za-z][A-Za-z0-9_-]{0,99})/dt=(\d{4}-\d{2}-\d{2})/")
# Columns that hold a channel id or a video id in the exported datasets.
_ID_COLUMNS = ("id", "channel_id", "video_id")
_REUPLOAD = re.compile(r"^evidence/[^/]+/reupload-([A-Za-z0-9_-]{1,64})\.jpg$")


def partition_folders(vault: VaultStrategy) -> list[tuple[str, date]]:
    """Every (dataset, day) that has files in the vault, sorted."""
    found: set[tuple[str, date]] = set()
    for path in vault.list_files("", strict=True):
        match = _PARTITION.match(path)
        if match:
            try:
                found.add((match.group(1), date.fromisoformat(match.group(2))))
            except ValueError:
                continue
    return sorted(found)


def drop_partitions_before(vault: VaultStrategy, day: date) -> int:
    """Delete every partition of a day before ``day``; returns the number of files deleted."""
    deleted = 0
    for dataset, when in partition_folders(vault):
        if when < day:
            deleted += vault.delete_prefix(parquet.partition_prefix(dataset, when))
    return deleted


def _without(table: pa.Table, ids: pa.Array) -> pa.Table:
    keep = None
    for name in _ID_COLUMNS:
        if name in table.column_names:
            hit = pc.fill_null(pc.is_in(table.column(name), value_set=ids), False)
            keep = pc.invert(hit) if keep is None else pc.and_(keep, pc.invert(hit))
    return table if keep is None else table.filter(keep)


def scrub_partitions(
    vault: VaultStrategy, channel_ids: Iterable[str], video_ids: Iterable[str]
) -> tuple[int, int]:
    """Rewrite each partition holding rows of these channels or videos without them;
    returns (rows removed, partitions rewritten). Re-running it finds nothing more to do."""
    ids = pa.array(sorted(set(channel_ids) | set(video_ids)), pa.string())
    if len(ids) == 0:
        return 0, 0
    removed = rewritten = 0
    for dataset, day in partition_folders(vault):
        table = vault.read_partition(dataset, day, strict=True)
        if table is None:
            continue
        kept = _without(table, ids)
        if kept.num_rows == table.num_rows:
            continue
        vault.write_partition(dataset, day, kept)
        removed += table.num_rows - kept.num_rows
        rewritten += 1
    return removed, rewritten


def drop_evidence(vault: VaultStrategy, video_ids: Iterable[str]) -> int:
    """Delete the evidence folders of these videos, and any other video's side-by-side image
    naming one of them (``evidence/<copy>/reupload-<original>.jpg``); returns the number of
    files deleted. Raises VaultError when the vault cannot be listed or written."""
    wanted = set(video_ids)
    deleted = sum(vault.delete_prefix(evidence.evidence_prefix(v)) for v in sorted(wanted))
    for path in evidence_naming(vault, wanted):
        deleted += vault.delete_prefix(path)
    return deleted


def evidence_naming(vault: VaultStrategy, video_ids: Iterable[str]) -> list[str]:
    """Evidence files outside the videos' own folders that name one of them."""
    wanted = set(video_ids)
    if not wanted:
        return []
    found = []
    for path in vault.list_files(evidence.ROOT + "/", strict=True):
        match = _REUPLOAD.match(path)
        if match and match.group(1) in wanted:
            found.append(path)
    return found


def evidence_videos(vault: VaultStrategy) -> dict[str, list[str]]:
    """Video id -> its evidence files, for every evidence folder (strict listing)."""
    out: dict[str, list[str]] = {}
    for path in vault.list_files(evidence.ROOT + "/", strict=True):
        parts = path.split("/")
        if len(parts) >= 3:
            out.setdefault(parts[1], []).append(path)
    return out


def partition_ids(vault: VaultStrategy) -> dict[str, set[str]]:
    """Every id (channel or video) named in each dataset's partitions (strict reads)."""
    out: dict[str, set[str]] = {}
    for dataset, day in partition_folders(vault):
        table = vault.read_partition(dataset, day, strict=True)
        if table is None:
            continue
        ids = out.setdefault(dataset, set())
        for name in _ID_COLUMNS:
            if name in table.column_names:
                ids.update(v for v in table.column(name).to_pylist() if v is not None)
    return out


def vault_summary(vault: VaultStrategy) -> dict[str, object]:
    """What the vault holds: partitions per dataset with the oldest day, evidence folders."""
    folders = partition_folders(vault)
    datasets: dict[str, list[date]] = {}
    for dataset, day in folders:
        datasets.setdefault(dataset, []).append(day)
    return {
        "partitions": {d: len(days) for d, days in datasets.items()},
        "oldest_partition": min((day for _, day in folders), default=None),
        "evidence_videos": len(evidence_videos(vault)),
    }
