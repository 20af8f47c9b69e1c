"""One behavioural suite for every vault backend: local folder, GCS emulator, Hub stand-in."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import date, datetime

import pyarrow as pa
import pyarrow.dataset as pads
import pytest
from vault_peers import (  # noqa: F401
    BACKENDS,
    VaultFactory,
    gcs_server,
    hub_server,
    vault_factory,
)

from atlas_core.storage import VaultStrategy

DAY = date(2026, 1, 5)


@pytest.fixture(params=BACKENDS)
def vault(request: pytest.FixtureRequest, vault_factory: VaultFactory) -> VaultStrategy:  # noqa: F811
    return vault_factory(request.param)


def stats_table(rows: int, offset: int = 0) -> pa.Table:
    return pa.table(
        {
            "video_id": [f"vid{i:08d}" for i in range(offset, offset + rows)],
            "views": pa.array(range(offset, offset + rows), pa.int64()),
        }
    )


def test_json_round_trip_and_overwrite(vault: VaultStrategy) -> None:
    vault.store_json("metadata/video.json", {"id": "abc", "title": "Example", "day": DAY})
    assert vault.fetch_json("metadata/video.json") == {
        "id": "abc",
        "title": "Example",
        "day": "2026-01-05",
    }
    vault.store_json("metadata/video.json", {"id": "abc", "title": "Renamed"})
    assert vault.fetch_json("metadata/video.json") == {"id": "abc", "title": "Renamed"}


def test_missing_objects_are_none(vault: VaultStrategy) -> None:
    assert vault.fetch_json("metadata/nothing.json") is None
    assert vault.fetch_bytes("nothing/here.bin") is None


def test_json_that_is_not_an_object_reads_as_none(vault: VaultStrategy) -> None:
    vault.store_bytes("metadata/list.json", b"[1, 2]")
    vault.store_bytes("metadata/broken.json", b"{not json")
    assert vault.fetch_json("metadata/list.json") is None
    assert vault.fetch_json("metadata/broken.json") is None
    assert vault.fetch_bytes("metadata/list.json") == b"[1, 2]"


def test_list_files_sorted_relative_and_prefixed(vault: VaultStrategy) -> None:
    for name in ["metadata/b.json", "metadata/a.json", "metadata/sub/c.json", "other/x.json"]:
        vault.store_json(name, {"name": name})
    assert vault.list_files("metadata/") == [
        "metadata/a.json",
        "metadata/b.json",
        "metadata/sub/c.json",
    ]
    assert vault.list_files("metadata/a") == ["metadata/a.json"]
    assert vault.list_files("nothing/") == []
    assert "other/x.json" in vault.list_files("")


def test_large_object_round_trip(vault: VaultStrategy) -> None:
    """Over 8 MiB: the GCS client switches to its resumable upload, the Hub client to LFS."""
    blob = os.urandom(8 * 1024 * 1024 + 4096)
    vault.store_bytes("big/blob.bin", blob, content_type="application/octet-stream")
    fetched = vault.fetch_bytes("big/blob.bin")
    assert fetched is not None and hashlib.sha256(fetched).digest() == hashlib.sha256(blob).digest()


def test_write_partition_layout_and_read_back(vault: VaultStrategy) -> None:
    path = vault.write_partition("video_stats", DAY, stats_table(5))
    assert path == "video_stats/dt=2026-01-05/part-0.parquet"
    table = vault.read_partition("video_stats", DAY)
    assert table is not None
    assert table.column_names == ["video_id", "views", "dt"]
    assert table.column("dt").to_pylist() == ["2026-01-05"] * 5
    assert table.column("views").to_pylist() == [0, 1, 2, 3, 4]
    raw = vault.fetch_bytes(path)
    assert raw is not None and raw[:4] == b"PAR1"
    import pyarrow.parquet as pq

    meta = pq.ParquetFile(pa.BufferReader(raw)).metadata
    assert meta.row_group(0).column(0).compression == "ZSTD"


def test_rerun_replaces_the_day_leaving_one_copy(vault: VaultStrategy) -> None:
    vault.write_partition("video_stats", DAY, stats_table(5))
    # A stray file from an older layout in the same day's folder is removed by the replace.
    vault.store_bytes("video_stats/dt=2026-01-05/part-1.parquet", b"stale")
    vault.write_partition("video_stats", date(2026, 1, 6), stats_table(2))
    vault.write_partition("video_stats", DAY, stats_table(3, offset=100))
    assert vault.list_files("video_stats/") == [
        "video_stats/dt=2026-01-05/part-0.parquet",
        "video_stats/dt=2026-01-06/part-0.parquet",
    ]
    table = vault.read_partition("video_stats", DAY)
    assert table is not None and table.column("views").to_pylist() == [100, 101, 102]


def test_empty_table_writes_a_valid_file_with_schema(vault: VaultStrategy) -> None:
    empty = stats_table(0)
    vault.write_partition("video_stats", DAY, empty)
    table = vault.read_partition("video_stats", DAY)
    assert table is not None and table.num_rows == 0
    assert table.schema.names == ["video_id", "views", "dt"]
    assert table.schema.field("views").type == pa.int64()


def test_partition_with_its_own_dt_column(vault: VaultStrategy) -> None:
    table = stats_table(2).append_column("dt", pa.array([DAY, DAY], pa.date32()))
    vault.write_partition("video_stats", DAY, table)
    back = vault.read_partition("video_stats", DAY)
    assert back is not None and back.column("dt").to_pylist() == ["2026-01-05"] * 2
    wrong = stats_table(1).append_column("dt", pa.array(["2026-01-04"]))
    with pytest.raises(ValueError, match="'dt' holds 2026-01-04, expected only 2026-01-05"):
        vault.write_partition("video_stats", DAY, wrong)


def test_partition_arguments_are_checked(vault: VaultStrategy) -> None:
    with pytest.raises(ValueError, match=r"invalid dataset name '\.\./x'"):
        vault.write_partition("../x", DAY, stats_table(1))
    with pytest.raises(ValueError, match="not a datetime"):
        vault.write_partition("video_stats", datetime(2026, 1, 5, 12), stats_table(1))
    with pytest.raises(ValueError, match=r"expects a pyarrow\.Table"):
        vault.write_partition("video_stats", DAY, {"views": [1]})  # type: ignore[arg-type]
    assert vault.read_partition("video_stats", DAY) is None


def test_visual_evidence_layout_and_manifest(vault: VaultStrategy) -> None:
    frames = [(3, b"\xff\xd8\xff frame three"), (0, b"\xff\xd8\xff frame zero")]
    vault.store_visual_evidence("dQw4w9WgXcQ", frames)
    assert vault.list_files("evidence/dQw4w9WgXcQ/") == [
        "evidence/dQw4w9WgXcQ/0.jpg",
        "evidence/dQw4w9WgXcQ/3.jpg",
        "evidence/dQw4w9WgXcQ/manifest.json",
    ]
    assert vault.fetch_bytes("evidence/dQw4w9WgXcQ/3.jpg") == b"\xff\xd8\xff frame three"
    manifest = vault.fetch_json("evidence/dQw4w9WgXcQ/manifest.json")
    assert manifest is not None
    assert manifest["video_id"] == "dQw4w9WgXcQ" and manifest["frame_count"] == 2
    assert [f["index"] for f in manifest["frames"]] == [0, 3]
    zero = manifest["frames"][0]
    assert zero["size"] == len(frames[1][1])
    assert zero["sha256"] == hashlib.sha256(frames[1][1]).hexdigest()
    assert datetime.fromisoformat(manifest["created_at"]).tzinfo is not None
    # Storing again replaces the set: frame 3 is gone, frame 1 is new.
    vault.store_visual_evidence("dQw4w9WgXcQ", [(0, b"a"), (1, b"b")])
    assert vault.list_files("evidence/dQw4w9WgXcQ/") == [
        "evidence/dQw4w9WgXcQ/0.jpg",
        "evidence/dQw4w9WgXcQ/1.jpg",
        "evidence/dQw4w9WgXcQ/manifest.json",
    ]


@pytest.mark.parametrize(
    ("video_id", "frames", "message"),
    [
        ("../x", [(0, b"a")], "invalid video id '../x'"),
        ("vid", [], "needs at least one"),
        ("vid", [(-1, b"a")], "frame_index must be an int >= 0, got -1"),
        ("vid", [(0, b"")], "non-empty bytes"),
        ("vid", [(0, b"a"), (0, b"b")], "frame_index 0 appears twice"),
    ],
)
def test_bad_evidence_is_refused(
    vault: VaultStrategy, video_id: str, frames: list[tuple[int, bytes]], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        vault.store_visual_evidence(video_id, frames)
    assert vault.list_files("evidence/") == []


def test_delete_prefix_counts_and_removes(vault: VaultStrategy) -> None:
    vault.write_partition("video_stats", DAY, stats_table(1))
    vault.write_partition("video_stats", date(2026, 1, 6), stats_table(1))
    vault.store_json("keep/me.json", {})
    assert vault.delete_prefix("video_stats/dt=2026-01-05/") == 1
    assert vault.list_files("video_stats/") == ["video_stats/dt=2026-01-06/part-0.parquet"]
    assert vault.delete_prefix("video_stats/") == 1
    assert vault.delete_prefix("video_stats/") == 0
    assert vault.fetch_json("keep/me.json") == {}
    with pytest.raises(ValueError, match="would empty the whole vault"):
        vault.delete_prefix("")


ESCAPES = [
    ("../outside.json", "contains a '.' or '..' segment"),
    ("a/../../outside.json", "contains a '.' or '..' segment"),
    ("/etc/passwd", "is absolute"),
    ("C:/x.json", "is absolute"),
    ("a\\b.json", "contains a backslash"),
    ("a/b\x00.json", "contains a NUL byte"),
    ("a//b.json", "contains an empty segment"),
    ("", "is empty"),
]


@pytest.mark.parametrize(("path", "problem"), ESCAPES)
def test_path_escapes_are_refused(vault: VaultStrategy, path: str, problem: str) -> None:
    with pytest.raises(ValueError, match=f"refused vault path .*{problem}"):
        vault.store_json(path, {"x": 1})
    with pytest.raises(ValueError, match="refused vault path"):
        vault.store_bytes(path, b"x")
    with pytest.raises(ValueError, match="refused vault path"):
        vault.fetch_bytes(path)
    if path:
        with pytest.raises(ValueError, match="refused vault path"):
            vault.list_files(path)
        with pytest.raises(ValueError, match="refused vault path"):
            vault.delete_prefix(path)


def test_health_check(vault: VaultStrategy) -> None:
    vault.store_json("health/ok.json", {})  # the Hub repo exists once something was written
    assert vault.health_check() is True


def test_repr_names_the_location(vault: VaultStrategy) -> None:
    text = repr(vault)
    assert type(vault).__name__ in text
    assert "hf_standin_secret" not in text


def test_local_partitions_read_with_hive_partitioning(vault_factory: VaultFactory) -> None:  # noqa: F811
    local = vault_factory("local")
    local.write_partition("video_stats", DAY, stats_table(3))
    local.write_partition("video_stats", date(2026, 1, 6), stats_table(2, offset=10))
    root = local.root / "video_stats"  # type: ignore[attr-defined]
    table = pads.dataset(root, format="parquet", partitioning="hive").to_table()
    rows = sorted(zip(table.column("dt").to_pylist(), table.column("views").to_pylist()))
    assert rows[0] == ("2026-01-05", 0) and rows[-1] == ("2026-01-06", 11) and len(rows) == 5


@pytest.mark.parametrize("kind", ["gcs", "huggingface"])
def test_remote_partitions_read_with_hive_partitioning(
    vault_factory: VaultFactory,  # noqa: F811
    kind: str,
    tmp_path: os.PathLike[str],
) -> None:
    """Download a remote dataset folder as-is and read it the way a consumer would."""
    remote = vault_factory(kind)
    remote.write_partition("video_stats", DAY, stats_table(3))
    remote.write_partition("video_stats", date(2026, 1, 6), stats_table(2, offset=10))
    copy = os.path.join(tmp_path, "copy")
    for path in remote.list_files("video_stats/"):
        target = os.path.join(copy, *path.split("/"))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as handle:
            handle.write(remote.fetch_bytes(path) or b"")
    table = pads.dataset(
        os.path.join(copy, "video_stats"), format="parquet", partitioning="hive"
    ).to_table()
    assert sorted(set(table.column("dt").to_pylist())) == ["2026-01-05", "2026-01-06"]
    assert table.num_rows == 5


def test_manifest_is_plain_json(vault: VaultStrategy) -> None:
    vault.store_visual_evidence("abc", [(0, b"x")])
    raw = vault.fetch_bytes("evidence/abc/manifest.json")
    assert raw is not None and json.loads(raw)["frames"][0]["path"] == "evidence/abc/0.jpg"
