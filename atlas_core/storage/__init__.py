"""Object storage ("the vault"): one interface, three backends.

    from atlas_core import vault                 # the singleton, built from settings
    vault.store_json("metadata/video.json", {"id": "abc"})
    vault.write_partition("video_stats", date(2026, 1, 5), table)

    from atlas_core.factories import build_vault, read_settings
    build_vault(read_settings(VAULT_PROVIDER="local"))   # -> LocalVault(ATLAS_HOME/vault)

``VAULT_PROVIDER`` picks the backend: ``local`` (default), ``gcs`` (``GCS_BUCKET_NAME``,
``GCS_PROJECT``, optional ``GCS_ENDPOINT`` for an emulator) or ``huggingface``
(``HF_DATASET_ID``, ``HF_TOKEN``, optional ``HF_ENDPOINT``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from atlas_core.storage.base import VaultError, VaultStrategy, clean_path
from atlas_core.storage.local import LocalVault

if TYPE_CHECKING:
    from atlas_core.config import Settings
    from atlas_core.storage.gcs import GCSVault
    from atlas_core.storage.huggingface import HuggingFaceVault

__all__ = [
    "GCSVault",
    "HuggingFaceVault",
    "LocalVault",
    "VaultError",
    "VaultStrategy",
    "build_vault",
    "clean_path",
]


def build_vault(settings: Settings) -> VaultStrategy:
    """The backend ``settings.VAULT_PROVIDER`` names, configured from ``settings``.

    Raises ValueError naming the missing setting (e.g. HF_DATASET_ID for huggingface).
    """
    provider = settings.VAULT_PROVIDER
    if provider == "local":
        return LocalVault(settings.vault_path)
    if provider == "gcs":
        from atlas_core.storage.gcs import GCSVault  # the Google SDK loads only when chosen

        if not settings.GCS_BUCKET_NAME:
            raise ValueError("VAULT_PROVIDER=gcs needs GCS_BUCKET_NAME (the bucket to write to)")
        return GCSVault(
            settings.GCS_BUCKET_NAME,
            project=settings.GCS_PROJECT,
            endpoint=settings.GCS_ENDPOINT,
        )
    if provider == "huggingface":
        from atlas_core.storage.huggingface import HuggingFaceVault  # likewise the Hub SDK

        if not settings.HF_DATASET_ID:
            raise ValueError(
                "VAULT_PROVIDER=huggingface needs HF_DATASET_ID (a dataset repo 'namespace/name')"
            )
        return HuggingFaceVault(
            settings.HF_DATASET_ID,
            token=settings.HF_TOKEN,
            endpoint=settings.HF_ENDPOINT,
            cache_dir=settings.ATLAS_HOME / "cache" / "huggingface",
        )
    raise ValueError(
        f"unknown VAULT_PROVIDER {provider!r}; expected 'local', 'gcs' or 'huggingface'"
    )


def __getattr__(name: str) -> Any:
    """``GCSVault`` and ``HuggingFaceVault`` import their SDKs on first access only."""
    if name == "GCSVault":
        from atlas_core.storage.gcs import GCSVault

        return GCSVault
    if name == "HuggingFaceVault":
        from atlas_core.storage.huggingface import HuggingFaceVault

        return HuggingFaceVault
    raise AttributeError(f"module 'atlas_core.storage' has no attribute {name!r}")
