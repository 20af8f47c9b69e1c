"""HuggingFaceVault: the vault in a Hugging Face dataset repository.

    vault = HuggingFaceVault("org/atlas-vault", token=settings.HF_TOKEN)
    vault.write_partition("video_stats", day, table)   # one commit: delete old + add new

Every write is ONE commit (``HfApi.create_commit``): a partition replace deletes the old files
and adds the new one in the same commit, evidence frames and their manifest go together, so
the Hub's commit-rate limits hold. The dataset card (``README.md``) carries ``configs:`` YAML
with one config per dataset (``data_files: <dataset>/dt=*/*.parquet``); it is added to the
commit that first writes a new dataset, so the Hub's viewer shows each table.

Large files (Parquet, images) go through the Hub's large-file storage: the client asks
``/preupload`` which files are LFS, then the LFS batch endpoint, then PUTs them. Content is
handed over as ``io.BytesIO``; huggingface_hub 2.x uses the classic LFS protocol for buffers
(it would pick Xet for raw bytes when hf_xet is installed), so uploads behave the same with or
without hf_xet. Downloads use ``hf_hub_download`` (HEAD + GET) into ``cache_dir``.
"""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from huggingface_hub import CommitOperationAdd, CommitOperationDelete, DatasetCard, HfApi
from huggingface_hub.errors import RemoteEntryNotFoundError, RepositoryNotFoundError
from huggingface_hub.hf_api import RepoFile
from pydantic import SecretStr

from atlas_core.storage import parquet
from atlas_core.storage.base import VaultStrategy


class _DropBufferFallbackNotice(logging.Filter):
    """Drop huggingface_hub's notice that buffers use LFS rather than Xet: that is our choice."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "binary IO buffer is not supported by Xet" not in record.getMessage()


logging.getLogger("huggingface_hub._commit_api").addFilter(_DropBufferFallbackNotice())

REPO_TYPE = "dataset"
CARD = "README.md"
# Operations per commit; the Hub advises keeping commits well under tens of thousands of files.
MAX_OPERATIONS = 1000


class HuggingFaceVault(VaultStrategy):
    """A vault in one Hub dataset repository (created, private, on first write if missing)."""

    name = "huggingface"

    def __init__(
        self,
        repo_id: str,
        *,
        token: str | SecretStr | None = None,
        endpoint: str | None = None,
        revision: str = "main",
        cache_dir: str | os.PathLike[str] | None = None,
        private: bool = True,
        timeout: float = 30.0,
    ) -> None:
        if not repo_id or repo_id.count("/") != 1:
            raise ValueError(
                f"invalid HF_DATASET_ID {repo_id!r}: expected 'namespace/name' of a dataset repo"
            )
        secret = token.get_secret_value() if isinstance(token, SecretStr) else token
        self._secret = secret or None
        self.api = HfApi(endpoint=endpoint, token=secret or False, library_name="atlas")
        self.repo_id = repo_id
        self.endpoint = self.api.endpoint
        self.revision = revision
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.private = private
        self.timeout = timeout
        self._repo_ready = False
        self._configs: set[str] | None = None

    def describe(self) -> str:
        return f"repo={self.repo_id!r}, endpoint={self.endpoint!r}, revision={self.revision!r}"

    def _redact(self, text: str) -> str:
        return text.replace(self._secret, "***") if self._secret else text

    # -- primitives -----------------------------------------------------------------------
    def _put(self, path: str, data: bytes, content_type: str | None) -> None:
        self._commit({path: data}, [], f"Atlas: write {path}")

    def _get(self, path: str) -> bytes | None:
        try:
            local = self.api.hf_hub_download(
                self.repo_id,
                path,
                repo_type=REPO_TYPE,
                revision=self.revision,
                cache_dir=self.cache_dir,
                etag_timeout=self.timeout,
            )
        except RemoteEntryNotFoundError:
            return None
        return Path(local).read_bytes()

    def _list(self, prefix: str) -> list[str]:
        folder = prefix.rpartition("/")[0]
        try:
            entries = self.api.list_repo_tree(
                self.repo_id,
                path_in_repo=folder or None,
                recursive=True,
                repo_type=REPO_TYPE,
                revision=self.revision,
            )
            return [e.path for e in entries if isinstance(e, RepoFile)]
        except RemoteEntryNotFoundError:
            return []  # the folder does not exist (yet)

    def _delete(self, paths: list[str]) -> None:
        for start in range(0, len(paths), MAX_OPERATIONS):
            chunk = paths[start : start + MAX_OPERATIONS]
            self._commit({}, chunk, f"Atlas: delete {len(chunk)} file(s) under {chunk[0]}")

    def _ping(self) -> None:
        self.api.dataset_info(self.repo_id, revision=self.revision, timeout=self.timeout)

    def _replace(self, prefix: str, files: Mapping[str, bytes]) -> None:
        self._ensure_repo()
        stale = [p for p in self._list(prefix) if p.startswith(prefix) and p not in files]
        self._commit(files, stale, f"Atlas: replace {prefix} ({len(files)} file(s))")

    # -- helpers --------------------------------------------------------------------------
    def _ensure_repo(self) -> None:
        if self._repo_ready:
            return
        try:
            self.api.dataset_info(self.repo_id, timeout=self.timeout)
        except RepositoryNotFoundError:
            self.api.create_repo(
                self.repo_id, repo_type=REPO_TYPE, private=self.private, exist_ok=True
            )
        self._repo_ready = True

    def _commit(self, files: Mapping[str, bytes], deletes: Iterable[str], message: str) -> None:
        """One commit adding ``files``, deleting ``deletes`` and updating the card if needed."""
        self._ensure_repo()
        additions = dict(files)
        card = self._card_for(additions)
        if card is not None:
            additions[CARD] = card
        operations: list[Any] = [
            CommitOperationAdd(path_in_repo=path, path_or_fileobj=io.BytesIO(data))
            for path, data in additions.items()
        ]
        operations += [CommitOperationDelete(path_in_repo=path) for path in deletes]
        self.api.create_commit(
            self.repo_id,
            operations,
            commit_message=message,
            repo_type=REPO_TYPE,
            revision=self.revision,
        )
        if card is not None:
            self._configs = set(configs_of(card.decode("utf-8")))

    def _card_for(self, additions: Mapping[str, bytes]) -> bytes | None:
        """The new README.md if a dataset written by ``additions`` has no config yet."""
        datasets = {p.split("/", 1)[0] for p in additions if p.endswith(".parquet")}
        datasets = {d for d in datasets if _is_dataset(d)}
        if not datasets:
            return None
        if self._configs is not None and datasets <= self._configs:
            return None
        raw = self._get(CARD)  # re-read: someone else may have changed the card
        current = raw.decode("utf-8") if raw else ""
        self._configs = set(configs_of(current))
        if datasets <= self._configs:
            return None
        return render_card(current, datasets | self._configs).encode("utf-8")


_DEFAULT_PROSE = (
    "# Atlas vault\n\nDaily Parquet partitions (`{table}/dt=YYYY-MM-DD/`) exported by Atlas, "
    "and visual evidence under `evidence/{video_id}/`.\n"
)


def configs_of(text: str) -> list[str]:
    """The config names declared in a dataset card's ``configs:`` metadata."""
    configs = DatasetCard(text, ignore_metadata_errors=True).data.get("configs")
    return [
        str(c["config_name"]) for c in configs or [] if isinstance(c, dict) and "config_name" in c
    ]


def render_card(text: str, datasets: Iterable[str]) -> str:
    """``text`` (or a fresh card) with a config for each of ``datasets``, sorted by name; the
    card's other metadata, its prose and existing configs' settings are kept."""
    card = DatasetCard(text if text.strip() else "---\n{}\n---\n" + _DEFAULT_PROSE)
    existing = {
        str(c["config_name"]): c
        for c in card.data.get("configs") or []
        if isinstance(c, dict) and "config_name" in c
    }
    card.data["configs"] = [
        existing.get(name) or {"config_name": name, "data_files": f"{name}/dt=*/*.parquet"}
        for name in sorted(set(datasets) | set(existing))
    ]
    if not card.text.strip():
        card.text = _DEFAULT_PROSE
    return str(card)


def _is_dataset(name: str) -> bool:
    try:
        parquet.check_dataset(name)
    except ValueError:
        return False
    return True
