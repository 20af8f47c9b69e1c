"""The vault contract: :class:`VaultStrategy`, :class:`VaultError` and path checks.

    vault.store_json("metadata/video.json", {"id": "abc"})   # raises VaultError on failure
    vault.fetch_json("metadata/video.json")                   # dict, or None if missing/failed
    vault.list_files("metadata/")                             # sorted relative paths, [] on failure
    vault.write_partition("video_stats", date(2026, 1, 5), table)
    # -> "video_stats/dt=2026-01-05/part-0.parquet"

Every path is relative to the vault root and uses ``/``. Paths that could escape the root
(``..``, absolute paths, NUL, backslashes, empty segments) raise :class:`ValueError`.
Backends implement raising primitives; this module applies the error contract and builds JSON,
evidence and partitions on top of them.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from abc import ABC, abstractmethod
from collections.abc import Mapping
from datetime import date
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from atlas_core.storage import evidence, parquet

logger = logging.getLogger("atlas_core.storage")

JSON_CONTENT_TYPE = "application/json"


class VaultError(OSError):
    """An upload (or delete) failed. The message names the vault path, never a credential."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"vault write failed for {path!r}: {reason}")
        self.path = path


def clean_path(path: str, *, allow_empty: bool = False) -> str:
    """Validate a vault path and return it unchanged (leading ``./`` is not accepted either).

    Raises ValueError naming the path and what a valid one looks like.
    """
    expected = "expected a relative path like 'metadata/video.json' made of non-empty segments"
    if not isinstance(path, str):
        raise ValueError(f"vault path must be a string, got {type(path).__name__}; {expected}")
    if path == "" and allow_empty:
        return path
    problem = None
    if path == "":
        problem = "is empty"
    elif "\x00" in path:
        problem = "contains a NUL byte"
    elif "\\" in path:
        problem = "contains a backslash"
    elif path.startswith("/") or (len(path) > 1 and path[1] == ":"):
        problem = "is absolute"
    else:
        segments = path.removesuffix("/").split("/") if allow_empty else path.split("/")
        if any(s in ("..", ".") for s in segments):
            problem = "contains a '.' or '..' segment"
        elif any(s == "" for s in segments):
            problem = "contains an empty segment ('//' or a trailing '/')"
    if problem:
        raise ValueError(f"refused vault path {path!r}: it {problem}; {expected}")
    return path


def clean_prefix(prefix: str) -> str:
    """Like :func:`clean_path` but ``""`` (everything) and a trailing ``/`` are allowed."""
    return clean_path(prefix, allow_empty=True)


class VaultStrategy(ABC):
    """Object storage for Atlas. Synchronous; call it through ``asyncio.to_thread`` from async code.

    Uploads raise :class:`VaultError` naming the path; downloads return ``None`` and listings
    ``[]`` on failure (both logged). Bad paths raise ``ValueError`` before any I/O.

    A backend implements five raising primitives (``_put``, ``_get``, ``_list``, ``_delete``,
    ``_ping``); this class turns their exceptions into the contract above. Prefixes match like
    object-store prefixes: ``"metadata/"`` is a folder, ``"metadata/vid"`` any name starting so.
    """

    name = "vault"

    # -- primitives: raise on failure; the public methods below apply the error contract ----
    @abstractmethod
    def _put(self, path: str, data: bytes, content_type: str | None) -> None:
        """Write one object, replacing it."""

    @abstractmethod
    def _get(self, path: str) -> bytes | None:
        """One object's bytes; None only when it does not exist."""

    @abstractmethod
    def _list(self, prefix: str) -> list[str]:
        """Paths starting with ``prefix`` (any order)."""

    @abstractmethod
    def _delete(self, paths: list[str]) -> None:
        """Delete these objects (missing ones are fine)."""

    @abstractmethod
    def _ping(self) -> None:
        """Raise unless the root, bucket or repository answers."""

    def _replace(self, prefix: str, files: Mapping[str, bytes]) -> None:
        """Make ``files`` the only objects under folder ``prefix`` (ends with ``/``).

        Default: write every file, then delete the rest, so readers never see the folder empty.
        Backends with batch commits override this to do it in one step.
        """
        for path, data in files.items():
            self._put(path, data, content_type_for(path))
        stale = [p for p in self._list(prefix) if p not in files]
        if stale:
            self._delete(stale)

    def _redact(self, text: str) -> str:
        """``text`` with any credential of this backend masked (override when there is one)."""
        return text

    def describe(self) -> str:
        """Where this vault writes, for logs and reprs (no credentials)."""
        return ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.describe()})"

    def _fail(self, path: str, exc: BaseException) -> VaultError:
        reason = self._redact(f"{type(exc).__name__}: {exc}")
        error = VaultError(path, f"{reason} ({self.name} vault {self.describe()})")
        logger.error("%s", error)
        return error

    # -- the public API ----------------------------------------------------------------------
    def store_bytes(self, path: str, data: bytes, content_type: str | None = None) -> None:
        """Write ``data`` at ``path``, replacing it. Raises VaultError naming the path."""
        clean_path(path)
        if not isinstance(data, bytes | bytearray | memoryview):
            raise ValueError(f"store_bytes({path!r}) expects bytes, got {type(data).__name__}")
        try:
            self._put(path, bytes(data), content_type or content_type_for(path))
        except Exception as exc:
            raise self._fail(path, exc) from None

    def fetch_bytes(self, path: str) -> bytes | None:
        """The bytes at ``path``; None if missing or unreadable (logged at WARNING)."""
        clean_path(path)
        try:
            data = self._get(path)
        except Exception as exc:
            message = self._redact(f"{type(exc).__name__}: {exc}")
            logger.warning("%s vault: cannot read %r: %s", self.name, path, message)
            return None
        if data is None:
            logger.warning("%s vault: %r does not exist", self.name, path)
        return data

    def list_files(self, prefix: str = "", *, strict: bool = False) -> list[str]:
        """Sorted paths (relative to the root) starting with ``prefix``; [] on failure, or,
        with ``strict=True`` (forget, retention, scrub, the audit), VaultError naming the
        prefix: a path that destroys or certifies must not read an outage as "nothing"."""
        clean_prefix(prefix)
        try:
            return sorted(p for p in self._list(prefix) if p.startswith(prefix))
        except Exception as exc:
            if strict:
                raise self._fail(prefix, exc) from None
            message = self._redact(f"{type(exc).__name__}: {exc}")
            logger.error("%s vault: cannot list %r: %s", self.name, prefix, message)
            return []

    def delete_prefix(self, prefix: str) -> int:
        """Delete every object whose path starts with ``prefix``; return how many.

        ``prefix`` must not be empty (use a folder such as ``"video_stats/dt=2026-01-05/"``).
        Raises VaultError when listing or deleting fails.
        """
        clean_prefix(prefix)
        if not prefix:
            raise ValueError("delete_prefix('') would empty the whole vault; pass a folder prefix")
        try:
            paths = sorted(p for p in self._list(prefix) if p.startswith(prefix))
            if paths:
                self._delete(paths)
        except Exception as exc:
            raise self._fail(prefix, exc) from None
        return len(paths)

    def health_check(self) -> bool:
        """True when the root, bucket or repository answers; False otherwise (logged)."""
        try:
            self._ping()
        except Exception as exc:
            message = self._redact(f"{type(exc).__name__}: {exc}")
            logger.warning("%s vault %s is not healthy: %s", self.name, self.describe(), message)
            return False
        return True

    def store_json(self, path: str, data: Any) -> None:
        """Write ``data`` as UTF-8 JSON. Raises VaultError, or ValueError if not serialisable."""
        clean_path(path)
        try:
            body = json.dumps(data, ensure_ascii=False, sort_keys=True, default=_json_default)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"cannot store {path!r} as JSON: {exc}") from None
        self.store_bytes(path, body.encode("utf-8"), JSON_CONTENT_TYPE)

    def fetch_json(self, path: str) -> dict[str, Any] | None:
        """The JSON object at ``path``; None if missing, unreadable or not a JSON object."""
        raw = self.fetch_bytes(path)
        if raw is None:
            return None
        try:
            value = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            logger.error("%s vault: %r is not valid JSON: %s", self.name, path, exc)
            return None
        if not isinstance(value, dict):
            kind = type(value).__name__
            logger.error("%s vault: %r holds JSON %s, expected an object", self.name, path, kind)
            return None
        return value

    def store_visual_evidence(self, video_id: str, frames: list[tuple[int, bytes]]) -> None:
        """Store frames as ``evidence/<video_id>/<index>.jpg`` plus ``manifest.json``.

        Replaces any earlier evidence of that video (one commit on the Hub). Raises ValueError
        on a bad id or frame list, VaultError when the upload fails.
        """
        files = evidence.evidence_files(video_id, frames)
        prefix = evidence.evidence_prefix(video_id)
        try:
            self._replace(prefix, files)
        except Exception as exc:
            raise self._fail(prefix, exc) from None

    def write_partition(self, dataset: str, day: date, table: pa.Table) -> str:
        """Write ``table`` as ``<dataset>/dt=YYYY-MM-DD/part-0.parquet`` (zstd); return that path.

        The day is the folder (Hive ``dt=``), not a file column (``read_partition`` adds it);
        the partition is replaced, so a re-run leaves exactly one copy. An empty table still
        writes a valid file with its schema.
        Raises ValueError on a bad dataset name or table, VaultError when the upload fails.
        """
        path = parquet.partition_path(dataset, day)
        data = parquet.encode_partition(table, day)
        try:
            self._replace(parquet.partition_prefix(dataset, day), {path: data})
        except Exception as exc:
            raise self._fail(path, exc) from None
        return path

    def write_partition_file(self, dataset: str, day: date, source: str) -> str:
        """Make the Parquet file at local path ``source`` (written by
        ``parquet.PartitionWriter``) the day's partition; return its vault path. ``source``
        is consumed (moved or deleted). Raises VaultError naming the path when it fails."""
        path = parquet.partition_path(dataset, day)
        try:
            self._replace_file(parquet.partition_prefix(dataset, day), path, source)
        except Exception as exc:
            raise self._fail(path, exc) from None
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(source)
        return path

    def _replace_file(self, prefix: str, path: str, source: str) -> None:
        """``_replace`` with one file read from local disk (its compressed bytes only; backends
        that can move or stream a file override this)."""
        with open(source, "rb") as handle:
            self._replace(prefix, {path: handle.read()})

    def partition_rows(self, dataset: str, day: date) -> int | None:
        """Rows in one day's partition from the Parquet footers only (no table is decoded),
        or None when there is none or it is unreadable."""
        prefix = parquet.partition_prefix(dataset, day)
        total, found = 0, False
        for path in self.list_files(prefix):
            if not path.endswith(".parquet"):
                continue
            raw = self.fetch_bytes(path)
            if raw is None:
                return None
            try:
                total += pq.read_metadata(pa.BufferReader(raw)).num_rows
            except (pa.ArrowException, OSError):
                return None
            found = True
        return total if found else None

    def read_partition(self, dataset: str, day: date, *, strict: bool = False) -> pa.Table | None:
        """One day's partition as a table, or None if there is none (or it is unreadable).
        With ``strict=True``, None only when there is none: a listing or a read that fails,
        or a file that is not Parquet, raises VaultError naming the path."""
        prefix = parquet.partition_prefix(dataset, day)
        tables = []
        for path in self.list_files(prefix, strict=strict):
            if not path.endswith(".parquet"):
                continue
            if strict:
                try:
                    raw = self._get(path)
                    if raw is None:
                        raise FileNotFoundError("listed, then missing")
                    tables.append(parquet.decode(raw, path))
                except Exception as exc:
                    raise self._fail(path, exc) from None
                continue
            raw = self.fetch_bytes(path)
            if raw is None:
                return None
            tables.append(parquet.decode(raw, path))
        if not tables:
            return None
        tables = [parquet.with_day(t, day) for t in tables]  # dt comes from the folder
        return pa.concat_tables(tables) if len(tables) > 1 else tables[0]


def content_type_for(path: str) -> str | None:
    if path.endswith(".json"):
        return JSON_CONTENT_TYPE
    if path.endswith(".parquet"):
        return parquet.CONTENT_TYPE
    if path.endswith(".jpg"):
        return evidence.CONTENT_TYPE
    return None


def _json_default(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
