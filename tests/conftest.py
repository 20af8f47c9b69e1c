"""Shared fixtures: one embedded PostgreSQL per test session, a fresh database per test.

The session server lives in a temporary folder; a template database is migrated once and
every test gets ``CREATE DATABASE ... TEMPLATE`` of it, so tests are independent and fast.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Protocol

import psycopg
import pytest
from psycopg import sql
from pydantic import SecretStr

import atlas_core
from atlas_core.config import Settings, load_settings
from atlas_core.database import DatabaseManager
from atlas_core.embedded import started_dsn, stop_server
from atlas_core.migrate import migrate
from atlas_core.notifications import AlertChannel, DiscordNotifier
from atlas_core.pipeline import Services
from atlas_core.storage import LocalVault
from atlas_core.utils import utc_now

pytest_plugins = ["outbox_helpers"]  # the outbox fixtures (sink, open_svc), shared by two suites

TEMPLATE = "atlas_template"
ROOT = Path(__file__).resolve().parent.parent
_counter = itertools.count()


@pytest.fixture(autouse=True, scope="session")
def _clean_environment() -> Iterator[None]:
    """Tests see no Atlas settings from the developer's shell or .env file."""
    saved = {k: os.environ.pop(k) for k in list(os.environ) if k in Settings.model_fields}
    yield
    os.environ.update(saved)


@pytest.fixture(autouse=True)
def _fresh_singletons() -> Iterator[None]:
    """Each test reads the environment afresh: the facade's and the resources' Settings
    (each read once per process otherwise) are forgotten around it."""
    _forget_settings()
    yield
    _forget_settings()


def _forget_settings() -> None:
    atlas_core.reset()
    resources = sys.modules.get("atlas_assets.resources")  # only if a test imported Dagster's
    if resources is not None:
        resources.forget_settings()


@pytest.fixture(scope="session")
def pg_home() -> Iterator[Path]:
    """ATLAS_HOME of the session's embedded server (outside pytest's rotating tmp folders,
    which another concurrent pytest session may prune)."""
    home = Path(tempfile.mkdtemp(prefix="atlas-test-pg-"))
    yield home
    stop_server(home)
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def admin_dsn(pg_home: Path) -> str:
    """DSN of the session server's maintenance database, with a migrated template beside it."""
    admin = started_dsn(pg_home, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(TEMPLATE)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(TEMPLATE)))
    migrate(with_database(admin, TEMPLATE))
    return admin


def with_database(dsn: str, name: str) -> str:
    """The same server DSN pointed at another database."""
    params = psycopg.conninfo.conninfo_to_dict(dsn)
    params["dbname"] = name
    return psycopg.conninfo.make_conninfo(**params)  # type: ignore[arg-type]


def create_database(admin: str, template: str | None = TEMPLATE) -> str:
    name = f"t{os.getpid()}_{next(_counter)}"
    query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template:
        query = sql.SQL("{} TEMPLATE {}").format(query, sql.Identifier(template))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(query)
    return with_database(admin, name)


def drop_database(admin: str, dsn: str) -> None:
    name = psycopg.conninfo.conninfo_to_dict(dsn)["dbname"]
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(str(name)))
        )


@pytest.fixture
def database_dsn(admin_dsn: str) -> Iterator[str]:
    """A fresh, migrated database for one test."""
    dsn = create_database(admin_dsn)
    yield dsn
    drop_database(admin_dsn, dsn)


@pytest.fixture
def empty_database_dsn(admin_dsn: str) -> Iterator[str]:
    """A fresh database with no schema at all (for migration tests)."""
    dsn = create_database(admin_dsn, template=None)
    yield dsn
    drop_database(admin_dsn, dsn)


@pytest.fixture
def fresh_home() -> Iterator[Path]:
    """An empty ATLAS_HOME outside pytest's 0700 folders (the server may run as
    ``pgserver``); an embedded server started in it is stopped (immediate) at the end."""
    home = Path(tempfile.mkdtemp(prefix="atlas-test-home-"))
    yield home
    stop_server(home, mode="immediate")
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def settings(database_dsn: str, tmp_path: Path) -> Settings:
    """Settings for one test: its own database and ATLAS_HOME, nothing from the environment."""
    return load_settings(_env_file=None, DATABASE_URL=database_dsn, ATLAS_HOME=tmp_path / "home")


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[DatabaseManager]:
    manager = DatabaseManager(settings=settings, min_size=1, max_size=4, timeout=10)
    yield manager
    await manager.close()


@pytest.fixture
def svc_webhooks() -> dict[AlertChannel, str]:
    """The ``svc`` notifier's webhooks; a module overrides this to post to its sink."""
    return {}


@pytest.fixture
def svc_clock() -> Callable[[], datetime]:
    """The ``svc`` run's tick; a module overrides this to pin or move it."""
    return utc_now


@pytest.fixture
def svc_settings(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    """The ``svc`` Settings: the test's, and when the module has a ``sim`` fixture, the
    YouTube client calls that simulator (key ``pk``); a module overrides this for others."""
    try:
        sim = request.getfixturevalue("sim")
    except pytest.FixtureLookupError:
        return settings
    return settings.model_copy(
        update={
            "YOUTUBE_API_BASE_URL": sim.base_url,
            "YOUTUBE_API_KEY_POOL_JSON": SecretStr('["pk"]'),
        }
    )


@pytest.fixture
async def svc(
    svc_settings: Settings,
    tmp_path: Path,
    svc_webhooks: dict[AlertChannel, str],
    svc_clock: Callable[[], datetime],
) -> AsyncIterator[Services]:
    """Services on ``svc_settings`` (the test's database) with a local vault under the test's
    folder, a notifier on ``svc_webhooks`` and the run's tick from ``svc_clock``."""
    notifier = DiscordNotifier(dict(svc_webhooks))
    async with Services.open(
        svc_settings, vault=LocalVault(tmp_path / "vault"), notifier=notifier, clock=svc_clock
    ) as services:
        yield services
    await notifier.aclose()


class RunCli(Protocol):
    def __call__(
        self,
        *args: str,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        timeout: float = 120,
    ) -> subprocess.CompletedProcess[str]: ...


def _run_cli(
    *args: str,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in Settings.model_fields}
    return subprocess.run(
        [sys.executable, "-m", "atlas_core.cli", *args],
        env={**base, "PYTHONPATH": str(ROOT), **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
    )


@pytest.fixture
def run_cli() -> RunCli:
    """``atlas ARGS`` as a user runs it (``python -m atlas_core.cli``, this checkout's code) in
    a process of its own: no Atlas setting of the test's environment reaches it, only
    ``env``'s."""
    return _run_cli
