"""The vault fails in the middle of an export: no partial file is published, the day is
not reported complete, and a retry completes it."""

from __future__ import annotations

from pathlib import Path

import pytest
from drills import START, open_services, sim_settings, simulator, watch_all

from atlas_core.pipeline import snapshot_video_stats
from atlas_core.pipeline.exports import export_day, verify_day
from atlas_core.storage import LocalVault, VaultError
from atlas_core.store.exports import EXPORTS


async def test_a_vault_path_unwritable_mid_export_publishes_nothing_partial(
    database_dsn: str, tmp_path: Path
) -> None:
    day = START.date()
    first, second, *rest = list(EXPORTS)
    root = tmp_path / "vault"
    vault = LocalVault(root)
    with simulator(120) as sim:
        settings = sim_settings(database_dsn, sim, tmp_path)
        async with open_services(settings, tmp_path, vault=vault) as svc:
            await watch_all(svc, sim)
            await snapshot_video_stats(svc, sorted(sim.world.videos))
            # The second dataset's folder cannot be created: the export fails after the first.
            root.mkdir(parents=True)
            (root / second).write_text("not a folder")
            with pytest.raises(VaultError, match=second):
                await export_day(svc.db, vault, day)
            files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
            # the first dataset's partition, whole; the blocker; no temp file, no half file
            assert files == sorted([f"{first}/dt={day}/part-0.parquet", second])
            assert vault.read_partition(first, day).num_rows == 120  # type: ignore[union-attr]
            missing = await verify_day(svc.db, vault, day)
            assert [m.split()[0] for m in missing] == [second, *rest]  # not reported complete

            (root / second).unlink()  # the operator fixes the vault; the retry completes
            counts = await export_day(svc.db, vault, day)
            assert await verify_day(svc.db, vault, day) == []
    assert counts["video_stats_log"] == 120 and all(counts[d] > 0 for d in counts)
    parts = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    assert parts == sorted(f"{d}/dt={day}/part-0.parquet" for d in EXPORTS)  # one copy each
