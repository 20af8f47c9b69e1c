"""LocalVault: the vault as a folder (default ``ATLAS_HOME/vault``).

    vault = LocalVault("/srv/atlas/vault")
    vault.store_json("metadata/video.json", {"id": "abc"})

Writes are atomic: a temporary file in the same folder, flushed (and fsynced when ``fsync``
is on), then ``os.replace``. Readers never see a half-written object.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pyarrow as pa

from atlas_core.storage import parquet
from atlas_core.storage.base import VaultStrategy, clean_path

_TMP_PREFIX = ".tmp-"


class LocalVault(VaultStrategy):
    """A vault in a local folder, created on first write."""

    name = "local"

    def __init__(self, root: str | os.PathLike[str], *, fsync: bool = False) -> None:
        self.root = Path(root).expanduser().resolve()
        self.fsync = fsync

    def describe(self) -> str:
        return f"root={str(self.root)!r}"

    def _file(self, path: str) -> Path:
        target = self.root.joinpath(*clean_path(path).split("/"))
        # Refuse a symlinked folder that leads outside the root.
        if self.root not in target.resolve().parents:
            raise ValueError(f"refused vault path {path!r}: it resolves outside {self.root}")
        return target

    @contextlib.contextmanager
    def _atomic(self, path: str) -> Iterator[str]:
        """Yield a temp file name beside ``path``; when the block succeeds it replaces ``path``."""
        target = self._file(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=_TMP_PREFIX, dir=target.parent)
        os.close(fd)
        try:
            yield tmp
            if self.fsync:
                _fsync(tmp, os.O_RDONLY)
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        if self.fsync:
            _fsync(str(target.parent), os.O_RDONLY)

    def _put(self, path: str, data: bytes, content_type: str | None) -> None:
        with self._atomic(path) as tmp, open(tmp, "wb") as handle:
            handle.write(data)

    def _replace_file(self, prefix: str, path: str, source: str) -> None:
        """Move the file into place atomically (no copy in memory), then drop the rest."""
        with self._atomic(path) as tmp:
            shutil.move(source, tmp)
        stale = [p for p in self._list(prefix) if p != path]
        if stale:
            self._delete(stale)

    def _get(self, path: str) -> bytes | None:
        target = self._file(path)
        try:
            return target.read_bytes()
        except FileNotFoundError:
            return None

    def _list(self, prefix: str) -> list[str]:
        folder = prefix.rpartition("/")[0]
        base = self.root.joinpath(*folder.split("/")) if folder else self.root
        if not base.is_dir():
            if self.root.exists() and not self.root.is_dir():
                raise NotADirectoryError(f"vault root {self.root} is not a folder")
            return []
        found = []
        for dirpath, _dirs, names in os.walk(base, onerror=_raise):
            rel = Path(dirpath).relative_to(self.root).as_posix()
            for name in names:
                if name.startswith(_TMP_PREFIX):
                    continue
                found.append(name if rel == "." else f"{rel}/{name}")
        return found

    def _delete(self, paths: list[str]) -> None:
        for path in paths:
            target = self._file(path)
            with contextlib.suppress(FileNotFoundError):
                target.unlink()
            self._prune(target.parent)

    def _prune(self, folder: Path) -> None:
        """Remove empty folders up to (not including) the root."""
        while folder != self.root and self.root in folder.parents:
            try:
                folder.rmdir()
            except OSError:
                return
            folder = folder.parent

    def _ping(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if not os.access(self.root, os.W_OK | os.X_OK):
            raise PermissionError(f"{self.root} is not writable")

    def write_partition(self, dataset: str, day: date, table: pa.Table) -> str:
        """As :meth:`VaultStrategy.write_partition`, streaming Parquet straight to the file."""
        path = parquet.partition_path(dataset, day)
        prepared = parquet.prepare(table, day)

        def write() -> None:
            with self._atomic(path) as tmp:
                parquet.write(prepared, tmp)
            stale = [p for p in self._list(parquet.partition_prefix(dataset, day)) if p != path]
            self._delete(stale)

        self._guard(path, write)
        return path

    def _guard(self, path: str, action: Callable[[], None]) -> None:
        try:
            action()
        except ValueError:
            raise
        except Exception as exc:
            raise self._fail(path, exc) from None


def _raise(exc: OSError) -> None:
    raise exc


def _fsync(name: str, flags: int) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(name, flags)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
