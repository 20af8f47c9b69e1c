"""Daily Parquet partitions: Hive layout, typed schemas, zstd encoding, the dataset card.

    prepared = prepare(table, date(2026, 1, 5))   # checks a dt column if any, and drops it
    with PartitionWriter(path, schema, day) as w:  # streaming: one row group per batch
        w.write(batch)
    partition_path("video_stats", date(2026, 1, 5))
    # -> "video_stats/dt=2026-01-05/part-0.parquet"
    card = dataset_card({"video_stats": Table(schema, "Views per snapshot", {...})})

The day lives in the folder name only (``dt=YYYY-MM-DD``, Hive style), not in the file:
every reader derives the ``dt`` column from the path, and a copy inside the file would
conflict with it (pandas' ``read_parquet(folder)`` infers the key as a dictionary, pyarrow's
``partitioning="hive"`` as a string, and DuckDB as a DATE; a file column can match only one).
``with_day`` puts the column back for callers that read one partition.

Each table has one explicit Arrow schema, so a day whose column is all NULL still has the
column's type, and timestamps are ``timestamp[us, tz=UTC]`` on every day.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

CONTENT_TYPE = "application/vnd.apache.parquet"
COMPRESSION = "zstd"
PART_NAME = "part-0.parquet"
_DATASET = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,99}$")


def check_dataset(dataset: str) -> str:
    """Return ``dataset`` if it is a valid name (a letter, then letters, digits, ``_`` or ``-``)."""
    if not isinstance(dataset, str) or not _DATASET.fullmatch(dataset):
        raise ValueError(
            f"invalid dataset name {dataset!r}: expected a letter followed by up to 99 letters, "
            "digits, '_' or '-' (for example 'video_stats')"
        )
    return dataset


def _check_day(day: date) -> str:
    if not isinstance(day, date):
        raise ValueError(f"partition day must be a datetime.date, got {type(day).__name__}")
    if hasattr(day, "hour"):  # a datetime is a date too; its time part would be dropped
        raise ValueError(f"partition day must be a datetime.date, not a datetime ({day!r})")
    return day.isoformat()


def partition_prefix(dataset: str, day: date) -> str:
    """The folder of one day: ``<dataset>/dt=YYYY-MM-DD/``."""
    return f"{check_dataset(dataset)}/dt={_check_day(day)}/"


def partition_path(dataset: str, day: date) -> str:
    """The file of one day: ``<dataset>/dt=YYYY-MM-DD/part-0.parquet``."""
    return partition_prefix(dataset, day) + PART_NAME


def prepare(table: pa.Table, day: date) -> pa.Table:
    """``table`` ready to be ``day``'s partition: a ``dt`` column, if it has one, is checked to
    hold only ``day`` and dropped (the folder carries the day).

    Raises ValueError if ``table`` is not a pyarrow Table or its ``dt`` holds another day.
    """
    if not isinstance(table, pa.Table):
        raise ValueError(f"write_partition expects a pyarrow.Table, got {type(table).__name__}")
    value = _check_day(day)
    index = table.schema.get_field_index("dt")
    if index < 0:
        return table
    existing = table.column(index)
    if pa.types.is_dictionary(existing.type):
        existing = existing.cast(existing.type.value_type)
    as_text = existing.cast(pa.string()) if existing.type != pa.string() else existing
    others = {v for v in as_text.unique().to_pylist() if v != value}
    if others:
        shown = ", ".join(sorted(str(v) for v in others)[:3])
        raise ValueError(f"column 'dt' holds {shown}, expected only {value} for this partition")
    return table.remove_column(index)


def with_day(table: pa.Table, day: date) -> pa.Table:
    """One partition's table with its string ``dt`` column (from the folder) at the end; a
    file of the older layout that kept ``dt`` inside has it normalised the same way."""
    value = _check_day(day)
    column = pa.repeat(pa.scalar(value, pa.string()), table.num_rows)
    return prepare(table, day).append_column(pa.field("dt", pa.string(), nullable=False), column)


def write(table: pa.Table, sink: Any) -> None:
    """Write an already prepared table to a path or pyarrow sink with zstd.

    Raises ValueError when the table cannot be represented in Parquet (e.g. an interval column).
    """
    try:
        pq.write_table(table, sink, compression=COMPRESSION)
    except (pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
        raise ValueError(f"cannot write this table as Parquet: {exc}") from None


class PartitionWriter:
    """Streams record batches of ``schema`` into one day's Parquet file (zstd), each batch a
    row group, so a day never has to sit in memory at once. The file equals what
    ``write(prepare(table, day))`` writes for the same rows; a batch of another schema (a
    column whose type drifted) is refused with the column named."""

    def __init__(self, sink: Any, schema: pa.Schema, day: date) -> None:
        _check_day(day)
        if schema.get_field_index("dt") >= 0:
            raise ValueError("the streamed schema must not have a 'dt' column: the folder is dt")
        self.schema = schema
        self.rows = 0
        try:
            self._writer = pq.ParquetWriter(sink, self.schema, compression=COMPRESSION)
        except (pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
            raise ValueError(f"cannot write this schema as Parquet: {exc}") from None

    def write(self, batch: pa.RecordBatch) -> None:
        if batch.num_rows == 0:
            return
        if batch.schema != self.schema:
            drift = [
                f"{f.name}: {f.type} (expected {self.schema.field(f.name).type})"
                for f in batch.schema
                if f.name in self.schema.names and self.schema.field(f.name).type != f.type
            ]
            raise ValueError(
                f"batch schema differs from the table's: {', '.join(drift) or batch.schema.names}"
            )
        self._writer.write_batch(batch)
        self.rows += batch.num_rows

    def close(self) -> None:
        self._writer.close()

    def __enter__(self) -> PartitionWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def encode_partition(table: pa.Table, day: date) -> bytes:
    """The Parquet bytes of one day's partition."""
    prepared = prepare(table, day)
    sink = pa.BufferOutputStream()
    write(prepared, sink)
    return bytes(sink.getvalue().to_pybytes())


def decode(data: bytes, path: str) -> pa.Table:
    """Read Parquet bytes; raises ValueError naming ``path`` if they are not Parquet."""
    try:
        return pq.read_table(pa.BufferReader(data))
    except (pa.ArrowException, OSError) as exc:
        raise ValueError(f"{path!r} is not a readable Parquet file: {exc}") from None


# --- the dataset card ---------------------------------------------------------------------

CARD_PATH = "README.md"


def type_name(data_type: pa.DataType) -> str:
    """A column type as the card shows it (Arrow's own spelling)."""
    return str(data_type)


def dataset_card(tables: dict[str, tuple[pa.Schema, str, dict[str, str]]]) -> str:
    """The vault's README.md: YAML front matter declaring each table as a Hugging Face config
    (``data_files: <table>/dt=*/*.parquet``, so ``datasets.load_dataset(repo, table)`` reads
    it), then every table's columns with their Arrow types. ``tables``: name -> (schema,
    what a row is, column -> meaning). Deterministic: the same tables give the same text."""
    import yaml

    front = {
        "pretty_name": "Atlas vault",
        "tags": ["youtube", "time-series", "parquet"],
        "configs": [
            {"config_name": name, "data_files": f"{check_dataset(name)}/dt=*/*.parquet"}
            for name in sorted(tables)
        ],
    }
    lines = [
        "---",
        yaml.safe_dump(front, sort_keys=False, allow_unicode=True).rstrip(),
        "---",
        "# Atlas vault",
        "",
        "Daily Parquet partitions exported by Atlas: `<table>/dt=YYYY-MM-DD/part-0.parquet`",
        "(zstd). The day is the Hive partition folder, not a file column: DuckDB",
        "(`read_parquet('<table>/**/*.parquet', hive_partitioning = true)`), pandas and pyarrow",
        "(the table's folder) add a `dt` column from the path; `datasets.load_dataset(repo,",
        "'<table>')` reads a table's rows. Each table keeps one schema on every day;",
        "timestamps are `timestamp[us, tz=UTC]`. Visual evidence",
        "(frames, re-upload side-by-sides, spike charts) is under `evidence/<video_id>/`,",
        "weekly channel reports under `reports/<week>/`.",
    ]
    for name in sorted(tables):
        schema, about, columns = tables[name]
        lines += ["", f"## {name}", "", about, "", "| column | type | description |"]
        lines.append("|---|---|---|")
        for f in schema:
            lines.append(f"| `{f.name}` | `{type_name(f.type)}` | {columns.get(f.name, '')} |")
        lines.append("| `dt` | `string` (from the folder) | the export day, YYYY-MM-DD |")
    return "\n".join(lines) + "\n"
