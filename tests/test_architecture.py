"""The layering rules, checked on the source (ast), so they cannot silently erode:

- ``atlas_core`` never imports ``atlas_assets`` or Dagster;
- only ``atlas_core/store/`` executes SQL (``.execute``/``.executemany``/``.copy`` calls),
  bar the migration runner and the embedded server's bootstrap;
- ``store/`` imports no vision or notification module;
- ``load_settings`` is called only by the composition root (``atlas_core.factories``).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "atlas_core"
SQL_CALLS = {"execute", "executemany", "copy"}
# The migration runner, the embedded server's bootstrap, and the pool's liveness probe
# (``SELECT 1`` in DatabaseManager.health_check: the pool must not depend on the store).
SQL_ALLOWED = {"atlas_core/migrate.py", "atlas_core/embedded.py", "atlas_core/database.py"}


def _files(folder: Path) -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(folder.rglob("*.py")):
        yield path.relative_to(ROOT).as_posix(), ast.parse(path.read_text(), str(path))


def _imports(tree: ast.Module) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def test_the_library_never_imports_the_dagster_layer() -> None:
    bad = [
        f"{name}: imports {module}"
        for name, tree in _files(CORE)
        for module in _imports(tree)
        if module.split(".")[0] == "dagster"
        or module.startswith("dagster_")
        or module.split(".")[0] == "atlas_assets"
    ]
    assert bad == []


def test_only_the_store_executes_sql() -> None:
    bad = [
        f"{name}:{node.lineno}: .{node.func.attr}(...)"
        for name, tree in _files(CORE)
        if not name.startswith("atlas_core/store/") and name not in SQL_ALLOWED
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in SQL_CALLS
    ]
    assert bad == [], "SQL belongs in atlas_core/store/"
    assert not list((ROOT / "atlas_assets").rglob("*.sql"))


def test_the_dagster_layer_executes_no_sql() -> None:
    bad = [
        f"{name}:{node.lineno}"
        for name, tree in _files(ROOT / "atlas_assets")
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in SQL_CALLS
    ]
    assert bad == []


def test_the_store_imports_no_vision_or_notification_module() -> None:
    bad = [
        f"{name}: imports {module}"
        for name, tree in _files(CORE / "store")
        for module in _imports(tree)
        if module.startswith(("atlas_core.vision", "atlas_core.notifications"))
    ]
    assert bad == []


def test_settings_are_read_only_by_the_composition_root() -> None:
    allowed = {"atlas_core/config.py", "atlas_core/factories.py"}
    bad = [
        f"{name}:{node.lineno}"
        for folder in (CORE, ROOT / "atlas_assets")
        for name, tree in _files(folder)
        if name not in allowed
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and getattr(node.func, "id", getattr(node.func, "attr", None)) == "load_settings"
    ]
    assert bad == []


def test_the_stores_embedder_constants_match_the_vision_code() -> None:
    from atlas_core.store import vectors
    from atlas_core.vision.embedder import DIMENSION, PerceptualEmbedder

    assert (vectors.DIMENSION, vectors.DEFAULT_EMBEDDER) == (DIMENSION, PerceptualEmbedder.name)


def test_the_database_and_the_embedded_server_do_not_import_each_other() -> None:
    trees = dict(_files(CORE))
    assert "atlas_core.database" not in set(_imports(trees["atlas_core/embedded.py"]))


def test_no_decision_reads_the_event_log() -> None:
    """``system_events`` is an audit log written best-effort: only its own module writes and
    reads it, the health checks count it, retention deletes (and, until missing channels get
    a column, dates) its rows."""
    allowed = {
        "atlas_core/store/events.py",
        "atlas_core/store/health.py",
        "atlas_core/store/retention.py",
    }
    bad = [
        f"{name}:{node.lineno}"
        for name, tree in _files(CORE)
        if name not in allowed
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and "FROM system_events" in node.value
    ]
    assert bad == []
