"""Shared pieces of the YouTube tests: settings (or a process's environment) for a simulator, a
recording sleep, and a checker of response bodies against YouTube's discovery document."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import googleapiclient
from atlas_simulator import SimulatorServer

from atlas_core.config import Settings, load_settings

START = datetime(2026, 1, 7, 12, 0, tzinfo=UTC)  # 04:00 in Los Angeles (PST)
DISCOVERY = (
    Path(googleapiclient.__file__).parent / "discovery_cache" / "documents" / "youtube.v3.json"
)


def sim_settings(
    database_dsn: str, sim: SimulatorServer, keys: list[str] | None = None, **overrides: Any
) -> Settings:
    values: dict[str, Any] = {
        "_env_file": None,
        "DATABASE_URL": database_dsn,
        "YOUTUBE_API_BASE_URL": sim.base_url,
        "YOUTUBE_API_KEY_POOL_JSON": json.dumps(keys or sim.world.api_keys),
        "COMPLIANCE_MODE": False,
        "YOUTUBE_RETRY_DELAY_SECONDS": 0.01,
        "YOUTUBE_TIMEOUT_SECONDS": 5,
        "YOUTUBE_MAX_ATTEMPTS": 5,
    }
    values.update(overrides)
    return load_settings(**values)


def sim_env(
    database_dsn: str, sim: SimulatorServer, keys: list[str], home: Path | None = None
) -> dict[str, str]:
    """The settings of an ``atlas`` process (or a Dagster run) on the test's database, calling
    the simulator with ``keys``; ``home`` is its ATLAS_HOME."""
    env = {
        "DATABASE_URL": database_dsn,
        "YOUTUBE_API_BASE_URL": sim.base_url,
        "YOUTUBE_API_KEY_POOL_JSON": json.dumps(keys),
    }
    return env if home is None else {**env, "ATLAS_HOME": str(home)}


class RecordingSleep:
    """Stands in for asyncio.sleep in the client's backoff: records each pause, waits none."""

    def __init__(self) -> None:
        self.pauses: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.pauses.append(seconds)


class DiscoverySchema:
    """Checks a response body field by field against youtube.v3.json, recursively."""

    def __init__(self) -> None:
        self.doc = json.loads(DISCOVERY.read_text())
        self.schemas: dict[str, Any] = self.doc["schemas"]
        self.fields_checked = 0

    def check(self, body: Any, schema_name: str) -> None:
        self._check(body, {"$ref": schema_name}, schema_name)

    def _check(self, value: Any, schema: dict[str, Any], path: str) -> None:
        if "$ref" in schema:
            schema = self.schemas[schema["$ref"]]
        self.fields_checked += 1
        kind = schema.get("type")
        if kind == "object" or "properties" in schema:
            assert isinstance(value, dict), f"{path}: expected an object, got {value!r}"
            properties = schema.get("properties", {})
            extra = schema.get("additionalProperties")
            for key, item in value.items():
                if key in properties:
                    self._check(item, properties[key], f"{path}.{key}")
                elif extra:
                    self._check(item, extra, f"{path}.{key}")
                else:
                    raise AssertionError(f"{path}.{key}: not a field of the discovery schema")
        elif kind == "array":
            assert isinstance(value, list), f"{path}: expected an array"
            for n, item in enumerate(value):
                self._check(item, schema["items"], f"{path}[{n}]")
        elif kind == "string":
            assert isinstance(value, str), f"{path}: expected a string, got {value!r}"
            fmt = schema.get("format")
            if fmt in ("uint64", "int64"):
                assert value.lstrip("-").isdigit(), f"{path}: {fmt} string, got {value!r}"
            elif fmt == "date-time":
                assert datetime.fromisoformat(value).tzinfo is not None, path
            if "enum" in schema:
                assert value in schema["enum"], f"{path}: {value!r} not in {schema['enum']}"
        elif kind == "integer":
            assert isinstance(value, int) and not isinstance(value, bool), f"{path}: integer"
        elif kind == "boolean":
            assert isinstance(value, bool), f"{path}: expected a boolean, got {value!r}"
        elif kind == "number":
            assert isinstance(value, int | float), path
        else:
            raise AssertionError(f"{path}: schema without a type: {schema}")
