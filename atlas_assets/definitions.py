"""The one Definitions object Dagster loads (see workspace.yaml).

    dagster-webserver -w workspace.yaml    # + dagster-daemon run -w workspace.yaml; or: atlas demo

Assets, checks, jobs, schedules and sensors are collected from the modules that define them
(``load_assets_from_modules`` and the like): a new one is picked up where it is written;
each job comes in with the schedule or sensor that launches it. Where
configuration comes from: the resources below. Each secret is an ``EnvVar`` (the UI shows
the variable's name, never its value); any setting not set here falls back to
``atlas_core.config.Settings``, i.e. the same-named environment variable or its default.
"""

from __future__ import annotations

import os
from types import ModuleType
from typing import TypeVar

from dagster import (
    Definitions,
    EnvVar,
    ScheduleDefinition,
    SensorDefinition,
    load_asset_checks_from_modules,
    load_assets_from_modules,
)

from atlas_assets import checks as checks_module
from atlas_assets import sensors, websub
from atlas_assets.assets import alerts, reports, retention, signals, vault, vision, youtube
from atlas_assets.resources import (
    AtlasResource,
    DatabaseResource,
    NotifierResource,
    VaultResource,
    WebSubResource,
    YouTubeResource,
    setting_name,
)
from atlas_assets.schedules import schedules_from_env
from atlas_core.config import Settings

ASSET_MODULES: list[ModuleType] = [youtube, vision, signals, vault, alerts, retention, reports]
MODULES: list[ModuleType] = [*ASSET_MODULES, checks_module, sensors, websub]
T = TypeVar("T")


def defined(kind: type[T], modules: list[ModuleType]) -> list[T]:
    """Every ``kind`` object the modules hold at top level, once each, in module order."""
    found: dict[int, T] = {}
    for module in modules:
        for value in vars(module).values():
            if isinstance(value, kind):
                found.setdefault(id(value), value)
    return list(found.values())


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
    "websub": WebSubResource,
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


assets = load_assets_from_modules(ASSET_MODULES)
checks = load_asset_checks_from_modules([checks_module])

defs = Definitions(
    assets=assets,
    asset_checks=checks,
    schedules=[*defined(ScheduleDefinition, MODULES), *schedules_from_env(os.environ)],
    sensors=defined(SensorDefinition, MODULES),
    resources=resources(),
)
