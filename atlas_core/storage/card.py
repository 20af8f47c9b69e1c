"""The Hub dataset card (``README.md``) with one ``configs:`` entry per exported table.

    text = render_card("", ["video_stats"])
    # ---
    # configs:
    # - config_name: video_stats
    #   data_files: video_stats/dt=*/*.parquet
    # ---
    configs_of(text)   # ["video_stats"]

Other YAML metadata and the card's prose are kept; existing configs keep their settings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import yaml

_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?\n)?---\s*(?:\n|\Z)", re.DOTALL)
_DEFAULT_PROSE = (
    "# Atlas vault\n\nDaily Parquet partitions (`<table>/dt=YYYY-MM-DD/`) exported by Atlas, "
    "and visual evidence under `evidence/<video_id>/`.\n"
)


def _split(text: str) -> tuple[dict[str, Any], str]:
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    loaded = yaml.safe_load(match.group(1) or "") or {}
    if not isinstance(loaded, dict):
        raise ValueError("README.md front matter is not a YAML mapping")
    return loaded, text[match.end() :]


def configs_of(text: str) -> list[str]:
    """The config names declared in a card's ``configs:`` metadata."""
    meta, _ = _split(text)
    configs = meta.get("configs") or []
    return [str(c["config_name"]) for c in configs if isinstance(c, dict) and "config_name" in c]


def render_card(text: str, datasets: Iterable[str]) -> str:
    """``text`` (or a fresh card) with a config for each of ``datasets``, sorted by name."""
    meta, prose = _split(text)
    existing = {
        str(c["config_name"]): c
        for c in meta.get("configs") or []
        if isinstance(c, dict) and "config_name" in c
    }
    meta["configs"] = [
        existing.get(name) or {"config_name": name, "data_files": f"{name}/dt=*/*.parquet"}
        for name in sorted(set(datasets) | set(existing))
    ]
    body = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True)
    return f"---\n{body}---\n\n{prose.lstrip() or _DEFAULT_PROSE}"
