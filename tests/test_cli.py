"""The `atlas` command, run as a user would."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import TYPE_CHECKING

import atlas_core

if TYPE_CHECKING:
    from conftest import RunCli


def test_version_and_help(run_cli: RunCli) -> None:
    out = run_cli("--version")
    assert out.returncode == 0 and atlas_core.__version__ in out.stdout
    helptext = run_cli("--help").stdout
    for command in ("db", "migrate", "health", "watch", "forget", "compliance", "demo"):
        assert command in helptext
    dbhelp = run_cli("db", "--help").stdout
    assert all(action in dbhelp for action in ("start", "stop", "status"))


def test_migrate_twice_then_health(
    run_cli: RunCli, empty_database_dsn: str, tmp_path: Path
) -> None:
    env = {"DATABASE_URL": empty_database_dsn, "ATLAS_HOME": str(tmp_path)}
    first = run_cli("migrate", env=env)
    assert first.returncode == 0, first.stderr
    assert "applied" in first.stdout and "0001_init.sql" in first.stdout
    second = run_cli("migrate", env=env)
    assert second.returncode == 0 and "up to date" in second.stdout
    health = run_cli("health", env=env)
    assert health.returncode == 0, health.stdout + health.stderr
    assert "database" in health.stdout and "ok" in health.stdout


def test_health_exits_1_when_database_is_down(run_cli: RunCli, tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        "DATABASE_URL": f"postgresql://atlas:pw-not-shown@127.0.0.1:{port}/atlas",
        "DB_POOL_TIMEOUT_SECONDS": "1",
        "ATLAS_HOME": str(tmp_path),
    }
    out = run_cli("health", env=env)
    assert out.returncode == 1
    assert "DOWN" in out.stdout
    assert "pw-not-shown" not in out.stdout + out.stderr
    migrate = run_cli("migrate", env=env)
    assert migrate.returncode == 2 and "Traceback" not in migrate.stderr
    assert f"port={port}" in migrate.stderr and "pw-not-shown" not in migrate.stderr


def test_bad_settings_exit_2_with_the_reason(run_cli: RunCli, tmp_path: Path) -> None:
    out = run_cli("health", env={"VAULT_PROVIDER": "dropbox", "ATLAS_HOME": str(tmp_path)})
    assert out.returncode == 2
    assert "VAULT_PROVIDER" in out.stderr and "'local', 'huggingface', 'gcs'" in out.stderr


def test_health_reports_an_unbuildable_vault_as_down(
    run_cli: RunCli, database_dsn: str, tmp_path: Path
) -> None:
    env = {
        "DATABASE_URL": database_dsn,
        "ATLAS_HOME": str(tmp_path),
        "VAULT_PROVIDER": "huggingface",  # without HF_DATASET_ID
    }
    out = run_cli("health", env=env)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "vault" in out.stdout and "DOWN" in out.stdout and "HF_DATASET_ID" in out.stderr
