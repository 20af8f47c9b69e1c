"""The one Definitions object Dagster loads (see workspace.yaml).

    dagster dev -w workspace.yaml          # or: atlas demo

Assets, checks, jobs, schedules and sensors are collected from the modules that define them
(``load_assets_from_modules`` and the like): a new one is picked up where it is written;
each job comes in with the schedule or sensor that launches it. Where
configuration comes from: the resources below. Each secret is an ``EnvVar`` (the UI shows
the variable's name, never its value); any setting not set here falls back to
``atlas_core.config.Settings``, i.e. the same-named environment variable or its default.
"""

from __future__ import annotations

import os

from dagster import AssetChecksDefinition, AssetsDefinition, EnvVar, load_definitions_from_modules

from atlas_assets import checks as checks_module
from atlas_assets import jobs, schedules, sensors
from atlas_assets.assets import alerts, retention, signals, vault, vision, youtube
from atlas_assets.resources import (
    AtlasResource,
    DatabaseResource,
    NotifierResource,
    VaultResource,
    YouTubeResource,
    setting_name,
)
from atlas_core.config import Settings

MODULES = [
    youtube,
    vision,
    signals,
    vault,
    alerts,
    retention,
    checks_module,
    jobs,
    schedules,
    sensors,
]


def secret(name: str) -> EnvVar | None:
    """``EnvVar(name)`` when the variable is set; None lets Settings apply its default
    (an unset ``EnvVar`` would fail the whole code location)."""
    return EnvVar(name) if os.environ.get(name) else None


SECRET_SETTINGS = frozenset(
    name for name, info in Settings.model_fields.items() if "SecretStr" in str(info.annotation)
)
RESOURCE_KEYS: dict[str, type[AtlasResource]] = {
    "database": DatabaseResource,
    "youtube": YouTubeResource,
    "vault": VaultResource,
    "notifier": NotifierResource,
}


def resources() -> dict[str, object]:
    """The deployment's resources: every secret setting a resource holds is an ``EnvVar``
    (when set), the rest come from Settings (the environment, or the defaults)."""
    return {
        key: resource(
            **{
                field: secret(setting_name(resource, field))
                for field in resource.model_fields
                if setting_name(resource, field) in SECRET_SETTINGS
            }
        )
        for key, resource in RESOURCE_KEYS.items()
    }


defs = load_definitions_from_modules(MODULES, resources=resources())
assets = [
    a
    for a in defs.assets or []
    if isinstance(a, AssetsDefinition) and not isinstance(a, AssetChecksDefinition)
]
checks = list(defs.asset_checks or [])
