"""The wheel's contents: every package folder is listed, and atlas_core never needs the rest.

The wheel itself is built, installed and run by ``.ci/wheel-smoke`` (called from ``.ci/run``).
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

from setuptools import find_namespace_packages

ROOT = Path(__file__).resolve().parent.parent


def test_every_package_folder_is_in_the_wheel() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    on_disk = {
        name
        for top in ("atlas_core", "atlas_assets", "atlas_simulator")
        for name in [top, *(f"{top}.{sub}" for sub in find_namespace_packages(ROOT / top))]
        if "__pycache__" not in name
    }
    missing = sorted(on_disk - listed)
    assert not missing, f"add {missing} to [tool.setuptools] packages in pyproject.toml"
    assert config["package-dir"]["atlas_core.migrations"] == "migrations"
    assert "atlas_core.migrations" in listed


def test_library_and_definitions_import_without_the_simulator() -> None:
    # A fresh interpreter in which `import atlas_simulator` fails: atlas_core, its CLI and the
    # Dagster definitions still import, and `atlas demo` says in one line how to get the demo.
    code = (
        "import sys; sys.modules['atlas_simulator'] = None\n"
        "import atlas_core, atlas_core.cli, atlas_assets.definitions\n"
        "raise SystemExit(atlas_core.cli.main(['demo']))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("atlas demo:")]
    assert len(lines) == 1 and "atlas_simulator is not installed" in lines[0], done.stderr
