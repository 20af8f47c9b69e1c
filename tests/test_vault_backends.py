"""What is particular to each backend: Hub commits, card and LFS; GCS uploads; local atomicity."""

from __future__ import annotations

import json
import logging
from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest
from hub_standin import HubStandIn
from vault_peers import (  # noqa: F401
    HUB_TOKEN,
    REPO,
    GCSEmulator,
    VaultFactory,
    gcs_server,
    hub_server,
    vault_factory,
)

import atlas_core
from atlas_core.config import load_settings
from atlas_core.storage import GCSVault, HuggingFaceVault, LocalVault, build_vault
from atlas_core.storage.huggingface import configs_of, render_card
from atlas_core.utils import health_check_all

DAY = date(2026, 1, 5)


def table(rows: int) -> pa.Table:
    return pa.table({"views": pa.array(range(rows), pa.int64())})


# -- Hugging Face -----------------------------------------------------------------------------
def test_hub_partition_replace_is_one_commit_delete_plus_add(
    vault_factory: VaultFactory,  # noqa: F811
    hub_server: HubStandIn,  # noqa: F811
) -> None:
    vault = vault_factory("huggingface")
    vault.write_partition("video_stats", DAY, table(3))
    vault.store_bytes("video_stats/dt=2026-01-05/part-1.parquet", b"older layout")
    before = len(hub_server.commits)
    vault.write_partition("video_stats", DAY, table(4))
    assert len(hub_server.commits) == before + 1
    ops = {(op["key"], op["value"]["path"]) for op in hub_server.commits[-1]["ops"]}
    assert ops == {
        ("deletedFile", "video_stats/dt=2026-01-05/part-1.parquet"),
        ("lfsFile", "video_stats/dt=2026-01-05/part-0.parquet"),
    }


def test_hub_card_gets_one_config_per_dataset_in_the_same_commit(
    vault_factory: VaultFactory,  # noqa: F811
    hub_server: HubStandIn,  # noqa: F811
) -> None:
    vault = vault_factory("huggingface")
    vault.store_bytes("README.md", b"---\nlicense: cc-by-4.0\n---\n\n# Our vault\n\nHello.\n")
    vault.write_partition("video_stats", DAY, table(1))
    paths = [op["value"]["path"] for op in hub_server.commits[-1]["ops"]]
    assert sorted(paths) == ["README.md", "video_stats/dt=2026-01-05/part-0.parquet"]
    vault.write_partition("video_stats", date(2026, 1, 6), table(1))
    assert [op["value"]["path"] for op in hub_server.commits[-1]["ops"]] == [
        "video_stats/dt=2026-01-06/part-0.parquet"
    ]
    vault.write_partition("channel_stats", DAY, table(1))
    card = hub_server.files(REPO)["README.md"].decode()
    assert configs_of(card) == ["channel_stats", "video_stats"]
    assert "license: cc-by-4.0" in card and "# Our vault\n\nHello." in card
    assert "data_files: video_stats/dt=*/*.parquet" in card
    assert "data_files: channel_stats/dt=*/*.parquet" in card


def test_hub_large_files_go_through_lfs_not_xet(
    vault_factory: VaultFactory,  # noqa: F811
    hub_server: HubStandIn,  # noqa: F811
) -> None:
    vault = vault_factory("huggingface")
    vault.store_visual_evidence("abc", [(0, b"\xff\xd8\xff zero"), (1, b"\xff\xd8\xff one")])
    vault.write_partition("video_stats", DAY, table(2))
    kinds = {
        op["value"]["path"]: op["key"] for commit in hub_server.commits for op in commit["ops"]
    }
    assert kinds["evidence/abc/0.jpg"] == "lfsFile"
    assert kinds["video_stats/dt=2026-01-05/part-0.parquet"] == "lfsFile"
    assert kinds["evidence/abc/manifest.json"] == "file"
    assert kinds["README.md"] == "file"
    puts = [path for method, path in hub_server.requests if method == "PUT"]
    assert len(puts) == 3 and all(p.startswith("/lfs/") for p in puts)
    assert not any("xet" in path for _, path in hub_server.requests)


def test_hub_evidence_is_one_commit_and_sends_the_token(
    vault_factory: VaultFactory,  # noqa: F811
    hub_server: HubStandIn,  # noqa: F811
) -> None:
    vault = vault_factory("huggingface")
    vault.store_json("seed.json", {})
    before = len(hub_server.commits)
    vault.store_visual_evidence("abc", [(i, b"jpeg %d" % i) for i in range(15)])
    assert len(hub_server.commits) == before + 1
    assert len(hub_server.commits[-1]["ops"]) == 16  # 15 frames + manifest
    assert f"Bearer {HUB_TOKEN}" in hub_server.auth_headers


def test_hub_listing_follows_pagination(
    vault_factory: VaultFactory,  # noqa: F811
    hub_server: HubStandIn,  # noqa: F811
) -> None:
    vault = vault_factory("huggingface")
    vault.store_visual_evidence("abc", [(i, b"jpeg %d" % i) for i in range(15)])
    hub_server.requests.clear()
    listed = vault.list_files("evidence/")
    assert len(listed) == 16 and listed[-1] == "evidence/abc/manifest.json"
    tree_calls = [p for m, p in hub_server.requests if "/tree/" in p]
    assert len(tree_calls) >= 3  # 17 entries (a folder + 16 files) at 7 per page
    assert vault.delete_prefix("evidence/abc/") == 16
    assert vault.list_files("evidence/") == []


def test_hub_creates_a_missing_repo_on_first_write(
    vault_factory: VaultFactory,  # noqa: F811
    hub_server: HubStandIn,  # noqa: F811
) -> None:
    vault = vault_factory("huggingface", repo_id="atlas/fresh")
    assert vault.health_check() is False
    vault.store_json("a.json", {"a": 1})
    assert hub_server.repos["atlas/fresh"].private is True
    assert vault.health_check() is True


def test_render_card_on_an_empty_card() -> None:
    text = render_card("", ["video_stats"])
    assert text.startswith("---\nconfigs:\n- config_name: video_stats\n")
    assert configs_of(text) == ["video_stats"]
    assert configs_of("# no front matter") == []


# -- GCS --------------------------------------------------------------------------------------
def test_gcs_uploads_are_preconditioned_and_big_ones_resumable(
    vault_factory: VaultFactory,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    vault = vault_factory("gcs")
    with caplog.at_level(logging.INFO, logger="gcp_storage_emulator.server"):
        vault.store_bytes("small.json", b"{}")
        vault.store_bytes("small.json", b"{}")
        vault.store_bytes("big.bin", b"x" * (8 * 1024 * 1024 + 1))
    lines = [r.getMessage() for r in caplog.records if r.name == "gcp_storage_emulator.server"]
    uploads = [line for line in lines if "/upload/storage/v1/b/" in line]
    assert any("uploadType=multipart" in u and "ifGenerationMatch=0" in u for u in uploads)
    assert any("uploadType=multipart" in u and "ifGenerationMatch=0" not in u for u in uploads)
    assert all("ifGenerationMatch=" in u for u in uploads if "uploadType=" in u)
    assert any("uploadType=resumable" in u for u in uploads)
    assert vault.fetch_bytes("big.bin") == b"x" * (8 * 1024 * 1024 + 1)


def test_gcs_retry_policies_are_explicit() -> None:
    vault = GCSVault("b", endpoint="http://127.0.0.1:9", retry_deadline=7.0)
    assert vault.read_retry.timeout == 7.0
    assert vault.write_retry.retry_policy is vault.read_retry
    assert vault.write_retry.get_retry_policy_if_conditions_met(
        query_params={"ifGenerationMatch": 0}
    )
    assert vault.write_retry.get_retry_policy_if_conditions_met(query_params={}) is None


# -- local ------------------------------------------------------------------------------------
def test_local_failed_write_keeps_the_old_partition_and_no_temp_files(tmp_path: Path) -> None:
    vault = LocalVault(tmp_path, fsync=True)
    vault.write_partition("video_stats", DAY, table(3))
    bad = pa.table({"gap": pa.array([pa.MonthDayNano([1, 2, 3])], pa.month_day_nano_interval())})
    with pytest.raises(ValueError, match="cannot write this table as Parquet"):
        vault.write_partition("video_stats", DAY, bad)
    kept = vault.read_partition("video_stats", DAY)
    assert kept is not None and kept.num_rows == 3
    leftovers = [p.name for p in tmp_path.rglob("*") if p.name.startswith(".tmp-")]
    assert leftovers == []
    assert vault.list_files("") == ["video_stats/dt=2026-01-05/part-0.parquet"]


def test_local_delete_prunes_empty_folders(tmp_path: Path) -> None:
    vault = LocalVault(tmp_path)
    vault.write_partition("video_stats", DAY, table(1))
    assert vault.delete_prefix("video_stats/") == 1
    assert not (tmp_path / "video_stats").exists()


# -- settings and singletons ---------------------------------------------------------------
def test_build_vault_from_settings(tmp_path: Path) -> None:
    local = build_vault(load_settings(_env_file=None, ATLAS_HOME=tmp_path))
    assert isinstance(local, LocalVault) and local.root == (tmp_path / "vault").resolve()
    gcs = build_vault(
        load_settings(
            _env_file=None,
            VAULT_PROVIDER="gcs",
            GCS_BUCKET_NAME="bkt",
            GCS_ENDPOINT="http://127.0.0.1:9",
        )
    )
    assert isinstance(gcs, GCSVault) and gcs.bucket_name == "bkt"
    hub = build_vault(
        load_settings(
            _env_file=None,
            VAULT_PROVIDER="huggingface",
            HF_DATASET_ID="org/vault",
            HF_TOKEN="hf_build_secret",
            HF_ENDPOINT="http://127.0.0.1:9",
            ATLAS_HOME=tmp_path,
        )
    )
    assert isinstance(hub, HuggingFaceVault) and "hf_build_secret" not in repr(hub)
    with pytest.raises(ValueError, match="needs GCS_BUCKET_NAME"):
        build_vault(load_settings(_env_file=None, VAULT_PROVIDER="gcs"))
    with pytest.raises(ValueError, match="needs HF_DATASET_ID"):
        build_vault(load_settings(_env_file=None, VAULT_PROVIDER="huggingface"))


async def test_singleton_and_health_check_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ATLAS_HOME", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", "postgresql://atlas@127.0.0.1:9/atlas")
    monkeypatch.setenv("DB_POOL_TIMEOUT_SECONDS", "0.5")
    atlas_core.reset()
    assert isinstance(atlas_core.vault, LocalVault)
    atlas_core.vault.store_json("x.json", {"ok": True})
    assert json.loads((tmp_path / "vault" / "x.json").read_text()) == {"ok": True}
    health = await health_check_all()
    assert health["vault"] is True and health["database"] is False


def test_backend_sdks_load_only_when_chosen(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = (
        "import sys; from atlas_core.config import load_settings; "
        "from atlas_core.storage import build_vault; "
        f"build_vault(load_settings(_env_file=None, ATLAS_HOME={str(tmp_path)!r})); "
        "print(sorted(m for m in ('google.cloud.storage', 'huggingface_hub') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
