"""Failure semantics: uploads raise naming the path; downloads give None; listings give []."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest
from hub_standin import HubStandIn
from vault_peers import (  # noqa: F401
    HUB_TOKEN,
    VaultFactory,
    closed_port_url,
    gcs_server,
    hub_server,
    vault_factory,
)

from atlas_core.storage import GCSVault, HuggingFaceVault, LocalVault, VaultError

DAY = date(2026, 1, 5)


def test_hub_server_error_on_commit_raises_with_path(
    vault_factory: VaultFactory,  # noqa: F811
    hub_server: HubStandIn,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    vault = vault_factory("huggingface")
    vault.store_json("metadata/first.json", {"ok": True})
    hub_server.fail_commits = 1
    with pytest.raises(VaultError, match=r"vault write failed for 'metadata/video\.json'.*500"):
        vault.store_json("metadata/video.json", {"id": "abc"})
    assert "metadata/video.json" not in hub_server.files("atlas/vault")
    hub_server.fail_commits = 1
    with pytest.raises(VaultError) as info:
        vault.write_partition("video_stats", DAY, pa.table({"views": [1]}))
    assert info.value.path == "video_stats/dt=2026-01-05/part-0.parquet"
    hub_server.fail_commits = 1
    with pytest.raises(VaultError, match="evidence/abc/"):
        vault.store_visual_evidence("abc", [(0, b"jpeg")])
    # Nothing half-written, and the vault works again once the server does.
    assert vault.list_files("video_stats/") == []
    assert vault.list_files("evidence/") == []
    vault.store_json("metadata/video.json", {"id": "abc"})
    assert vault.fetch_json("metadata/video.json") == {"id": "abc"}
    assert HUB_TOKEN not in caplog.text


def test_hub_bad_token_is_never_echoed(
    vault_factory: VaultFactory,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    wrong = "hf_wrong_token_ABCDEFGHIJ"
    vault = vault_factory("huggingface", token=wrong)
    with pytest.raises(VaultError) as info:
        vault.store_json("metadata/video.json", {})
    assert "metadata/video.json" in str(info.value)
    assert wrong not in str(info.value) and wrong not in repr(vault)
    assert vault.fetch_bytes("metadata/video.json") is None
    assert vault.list_files("") == []
    assert vault.health_check() is False
    assert wrong not in caplog.text


def test_hub_unknown_repo_reads_as_empty(vault_factory: VaultFactory) -> None:  # noqa: F811
    vault = vault_factory("huggingface", repo_id="atlas/never-created")
    assert vault.list_files("") == []
    assert vault.fetch_json("metadata/video.json") is None
    assert vault.read_partition("video_stats", DAY) is None
    assert vault.health_check() is False


def test_hub_unreachable_upload_raises_fast() -> None:
    vault = HuggingFaceVault("atlas/vault", token=HUB_TOKEN, endpoint=closed_port_url())
    with pytest.raises(VaultError, match=r"'metadata/video\.json'.*ConnectError"):
        vault.store_json("metadata/video.json", {})
    assert vault.health_check() is False


def test_hub_unreachable_reads_return_none_and_empty(tmp_path: Path) -> None:
    """Slow by design (~23 s): huggingface_hub backs off 1+2+4+8+8 s on connection errors.

    The two reads run side by side, and in a test of their own: on a connection error the
    client closes its process-wide HTTP session, which breaks requests other threads have in
    flight, so nothing else may talk to the Hub meanwhile.
    """
    vault = HuggingFaceVault(
        "atlas/vault", token=HUB_TOKEN, endpoint=closed_port_url(), cache_dir=tmp_path
    )
    with ThreadPoolExecutor(2) as pool:
        listing = pool.submit(vault.list_files, "video_stats/")
        fetched = pool.submit(vault.fetch_bytes, "metadata/video.json")
        assert listing.result(timeout=60) == []
        assert fetched.result(timeout=60) is None


def test_gcs_unreachable(caplog: pytest.LogCaptureFixture) -> None:
    vault = GCSVault("atlas-test", endpoint=closed_port_url(), retry_deadline=0.5, timeout=2)
    with pytest.raises(VaultError, match=r"vault write failed for 'metadata/video\.json'"):
        vault.store_json("metadata/video.json", {"id": "abc"})
    with pytest.raises(VaultError, match=r"video_stats/dt=2026-01-05/part-0\.parquet"):
        vault.write_partition("video_stats", DAY, pa.table({"views": [1]}))
    with caplog.at_level(logging.WARNING, logger="atlas_core.storage"):
        assert vault.list_files("metadata/") == []
        assert vault.fetch_bytes("metadata/video.json") is None
        assert vault.fetch_json("metadata/video.json") is None
    assert "cannot list 'metadata/'" in caplog.text
    assert "cannot read 'metadata/video.json'" in caplog.text
    assert vault.health_check() is False
    with pytest.raises(VaultError, match="'metadata/'"):
        vault.delete_prefix("metadata/")


def test_gcs_missing_bucket(gcs_server: object) -> None:  # noqa: F811
    vault = GCSVault("no-such-bucket", endpoint=gcs_server.url, retry_deadline=0.5)  # type: ignore[attr-defined]
    assert vault.health_check() is False
    assert vault.list_files("") == []
    assert vault.fetch_bytes("a.json") is None


def test_local_root_that_is_a_file(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    vault = LocalVault(blocker)
    with pytest.raises(VaultError, match=r"vault write failed for 'metadata/video\.json'"):
        vault.store_json("metadata/video.json", {})
    with pytest.raises(VaultError, match=r"video_stats/dt=2026-01-05/part-0\.parquet"):
        vault.write_partition("video_stats", DAY, pa.table({"views": [1]}))
    assert vault.fetch_bytes("metadata/video.json") is None
    assert vault.list_files("") == []
    assert vault.health_check() is False


def test_local_missing_root_lists_empty(tmp_path: Path) -> None:
    vault = LocalVault(tmp_path / "absent")
    assert vault.list_files("") == []
    assert vault.fetch_json("x.json") is None
    assert vault.health_check() is True  # creates the root


def test_local_symlink_out_of_root_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "vault"
    root.mkdir()
    (root / "link").symlink_to(outside)
    vault = LocalVault(root)
    with pytest.raises(VaultError, match="resolves outside"):
        vault.store_json("link/escape.json", {})
    assert list(outside.iterdir()) == []
    assert vault.fetch_bytes("link/escape.json") is None


def test_json_that_cannot_be_serialised(tmp_path: Path) -> None:
    vault = LocalVault(tmp_path)
    with pytest.raises(ValueError, match=r"cannot store 'a\.json' as JSON: set is not JSON"):
        vault.store_json("a.json", {"x": {1, 2}})
    with pytest.raises(ValueError, match="expects bytes, got str"):
        vault.store_bytes("a.bin", "text")  # type: ignore[arg-type]
