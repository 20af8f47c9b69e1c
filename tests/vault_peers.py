"""Fixtures for the vault tests: a GCS emulator and a Hub stand-in on 127.0.0.1.

    from vault_peers import gcs_server, hub_server, vault_factory  # noqa: F401  (in a test module)

Both peers start once per session in a background thread and are wiped between tests.
``closed_port_url()`` gives an address where nothing listens (for "unreachable" cases).
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from gcp_storage_emulator.server import create_server
from hub_standin import HubStandIn

from atlas_core.storage import GCSVault, HuggingFaceVault, LocalVault, VaultStrategy

BUCKET = "atlas-test"
HUB_TOKEN = "hf_standin_secret_0123456789"
REPO = "atlas/vault"
BACKENDS = ["local", "gcs", "huggingface"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def closed_port_url() -> str:
    """An http URL on 127.0.0.1 where nothing listens (connection refused)."""
    return f"http://127.0.0.1:{free_port()}"


class GCSEmulator:
    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = create_server("127.0.0.1", self.port, in_memory=True, default_bucket=BUCKET)

    def wipe(self) -> None:
        self.server.wipe(keep_buckets=True)


@pytest.fixture(scope="session")
def gcs_server() -> Iterator[GCSEmulator]:
    # The emulator logs every missing object at ERROR; that is the expected "None" path here.
    logging.getLogger("gcp_storage_emulator").setLevel(logging.CRITICAL)
    emulator = GCSEmulator()
    emulator.server.start()
    yield emulator
    emulator.server.stop()


@pytest.fixture(scope="session")
def hub_server() -> Iterator[HubStandIn]:
    hub = HubStandIn(token=HUB_TOKEN, page_size=7).start()
    yield hub
    hub.stop()


VaultFactory = Callable[..., VaultStrategy]


@pytest.fixture
def vault_factory(
    gcs_server: GCSEmulator, hub_server: HubStandIn, tmp_path: Path
) -> Iterator[VaultFactory]:
    """``vault_factory("gcs")`` -> a fresh vault of that backend, on an emptied peer."""
    gcs_server.wipe()
    hub_server.reset()

    def make(kind: str, **options: Any) -> VaultStrategy:
        if kind == "local":
            return LocalVault(tmp_path / "vault", **options)
        if kind == "gcs":
            options.setdefault("endpoint", gcs_server.url)
            options.setdefault("retry_deadline", 2.0)
            return GCSVault(BUCKET, **options)
        if kind == "huggingface":
            options.setdefault("endpoint", hub_server.url)
            options.setdefault("token", HUB_TOKEN)
            options.setdefault("cache_dir", tmp_path / "hf-cache")
            return HuggingFaceVault(options.pop("repo_id", REPO), **options)
        raise AssertionError(kind)

    yield make
