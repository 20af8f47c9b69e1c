"""Destructive and audit paths fail loudly: with the vault unreachable, forget raises and stays
pending, scrub and retention raise before deleting anything, and the audit does not pass.

The vault is a GCS bucket (the emulator) holding a partition that names the channel; the
"unreachable" vault is the same client pointed at a closed port, as when the bucket is down.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import psycopg
import pyarrow as pa
import pytest
from drills import open_services, sim_settings
from vault_peers import (  # noqa: F401
    BUCKET,
    GCSEmulator,
    closed_port_url,
    gcs_server,
)

from atlas_core.pipeline.compliance import BROKEN, audit
from atlas_core.pipeline.forget import forget_channel
from atlas_core.storage import GCSVault, LocalVault, VaultError
from atlas_core.storage.scrub import drop_partitions_before, scrub_partitions

DAY = date(2026, 11, 20)
TARGET = "UC" + "c" * 21 + "A"


class _NoSim:
    base_url = "http://127.0.0.1:9"


def _down() -> GCSVault:
    return GCSVault(BUCKET, endpoint=closed_port_url(), retry_deadline=0.5, timeout=2)


def test_scrub_and_retention_raise_on_an_unreachable_vault() -> None:
    with pytest.raises(VaultError):
        scrub_partitions(_down(), [TARGET], [])
    with pytest.raises(VaultError):
        drop_partitions_before(_down(), DAY)


def test_a_local_vault_that_cannot_be_listed_raises_when_strict(tmp_path: Path) -> None:
    root = tmp_path / "vault"
    root.write_text("not a folder")  # a mount gone wrong
    vault = LocalVault(root)
    assert vault.list_files("") == []  # casual reads still swallow
    with pytest.raises(VaultError):
        vault.list_files("", strict=True)
    with pytest.raises(VaultError):
        vault.read_partition("channels", DAY, strict=True)


async def test_forget_with_the_vault_down_raises_and_stays_pending(
    database_dsn: str,
    tmp_path: Path,
    gcs_server: GCSEmulator,  # noqa: F811
) -> None:
    gcs_server.wipe()
    up = GCSVault(BUCKET, endpoint=gcs_server.url, retry_deadline=2.0)
    up.write_partition("channels", DAY, pa.table({"id": [TARGET, "UCother"], "title": ["a", "b"]}))
    with psycopg.connect(database_dsn, autocommit=True) as conn:
        conn.execute("INSERT INTO watchlist (channel_id) VALUES (%s)", (TARGET,))
        conn.execute("INSERT INTO channels (id, title) VALUES (%s, 'a')", (TARGET,))
    settings = sim_settings(database_dsn, _NoSim(), tmp_path)  # type: ignore[arg-type]
    async with open_services(settings, tmp_path, vault=_down()) as svc:
        with pytest.raises(VaultError):
            await forget_channel(svc.db, svc.vault, TARGET)
        with psycopg.connect(database_dsn) as conn:
            pending = conn.execute("SELECT channel_id, vault_done FROM forget_requests").fetchall()
        assert pending == [(TARGET, False)]
        rules = {r.name: r for r in await audit(svc.settings, svc.db, svc.vault)}
        assert rules["vault readable by the audit"].status == BROKEN
        assert rules["forget requests completed"].status == BROKEN
    async with open_services(settings, tmp_path, vault=up) as svc:  # the bucket is back
        done = await forget_channel(svc.db, svc.vault, TARGET)
    assert done.vault_rows == 1 and done.rows["channels"] == 1
    table = up.read_partition("channels", DAY)
    assert table is not None and table.column("id").to_pylist() == ["UCother"]
    with psycopg.connect(database_dsn) as conn:
        assert conn.execute("SELECT count(*) FROM forget_requests").fetchone() == (0,)


async def test_the_audit_fails_when_it_cannot_see_the_vault(
    database_dsn: str, tmp_path: Path
) -> None:
    settings = sim_settings(database_dsn, _NoSim(), tmp_path)  # type: ignore[arg-type]
    async with open_services(settings, tmp_path, vault=_down()) as svc:
        rules = await audit(svc.settings, svc.db, svc.vault)
    assert any(r.status == BROKEN and "vault" in r.name for r in rules), rules
