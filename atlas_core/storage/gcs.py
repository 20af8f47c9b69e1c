"""GCSVault: the vault in a Google Cloud Storage bucket.

    vault = GCSVault("atlas-vault", project="my-project")            # credentials from ADC
    vault = GCSVault("atlas-test", endpoint="http://127.0.0.1:9023")  # an emulator, anonymous

Every upload carries ``if_generation_match`` (0 = "must not exist yet", otherwise the
generation just read), which makes it idempotent, so the client's retry policy applies to it.
The policies are explicit: reads and listings use ``DEFAULT_RETRY`` bounded by
``retry_deadline``; uploads use a ``ConditionalRetryPolicy`` that retries only requests that
carry a generation precondition. A lost race (HTTP 412) re-reads the generation and tries again.
Objects over 8 MiB go through the client's resumable upload.
"""

from __future__ import annotations

from typing import Any

from google.api_core.exceptions import NotFound, PreconditionFailed
from google.cloud import storage
from google.cloud.storage.retry import (
    DEFAULT_RETRY,
    ConditionalRetryPolicy,
    is_generation_specified,
)

from atlas_core.storage.base import VaultStrategy

_RACE_ATTEMPTS = 3


class GCSVault(VaultStrategy):
    """A vault in one GCS bucket, optionally under a key prefix."""

    name = "gcs"

    def __init__(
        self,
        bucket: str,
        *,
        project: str | None = None,
        endpoint: str | None = None,
        credentials: Any = None,
        client: storage.Client | None = None,
        retry_deadline: float = 60.0,
        timeout: float = 60.0,
    ) -> None:
        if not bucket:
            raise ValueError("GCSVault needs a bucket name (GCS_BUCKET_NAME)")
        if client is None:
            options = {"api_endpoint": endpoint} if endpoint else None
            if endpoint and credentials is None:
                from google.auth.credentials import AnonymousCredentials

                credentials = AnonymousCredentials()  # type: ignore[no-untyped-call]
            client = storage.Client(
                project=project or ("atlas-local" if endpoint else None),
                credentials=credentials,
                client_options=options,
            )
        self.client = client
        self.bucket_name = bucket
        self.endpoint = endpoint
        self.timeout = timeout
        self._bucket = client.bucket(bucket)
        self.read_retry = DEFAULT_RETRY.with_timeout(retry_deadline)
        self.write_retry = ConditionalRetryPolicy(
            self.read_retry, is_generation_specified, ["query_params"]
        )

    def describe(self) -> str:
        where = f", endpoint={self.endpoint!r}" if self.endpoint else ""
        return f"bucket={self.bucket_name!r}{where}"

    def _generation(self, path: str) -> int:
        blob = self._bucket.get_blob(path, retry=self.read_retry, timeout=self.timeout)
        return int(blob.generation) if blob is not None and blob.generation else 0

    def _put(self, path: str, data: bytes, content_type: str | None) -> None:
        for attempt in range(1, _RACE_ATTEMPTS + 1):
            generation = self._generation(path)
            blob = self._bucket.blob(path)
            try:
                blob.upload_from_string(
                    data,
                    content_type=content_type or "application/octet-stream",
                    if_generation_match=generation,
                    retry=self.write_retry,
                    timeout=self.timeout,
                )
                return
            except PreconditionFailed:
                if attempt == _RACE_ATTEMPTS:
                    raise

    def _get(self, path: str) -> bytes | None:
        try:
            data = self._bucket.blob(path).download_as_bytes(
                retry=self.read_retry, timeout=self.timeout
            )
        except NotFound:
            return None
        return bytes(data)

    def _list(self, prefix: str) -> list[str]:
        blobs = self.client.list_blobs(
            self._bucket, prefix=prefix or None, retry=self.read_retry, timeout=self.timeout
        )
        return [str(blob.name) for blob in blobs]

    def _delete(self, paths: list[str]) -> None:
        for path in paths:
            try:
                self._bucket.delete_blob(path, retry=self.read_retry, timeout=self.timeout)
            except NotFound:
                continue

    def _ping(self) -> None:
        if not self._bucket.exists(retry=self.read_retry, timeout=min(self.timeout, 10.0)):
            raise LookupError(f"bucket {self.bucket_name!r} does not exist")
