"""`atlas watch add/list/remove` against the simulator, as a user would run them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
import pytest
from atlas_simulator import SimulatorServer
from youtube_helpers import sim_env

if TYPE_CHECKING:
    from conftest import RunCli


@pytest.fixture
def sim() -> Iterator[SimulatorServer]:
    with SimulatorServer(seed=5, keys=["cli-key"], channels=3, videos=6) as server:
        yield server


def test_watch_add_list_remove(
    run_cli: RunCli, sim: SimulatorServer, database_dsn: str, tmp_path: Path
) -> None:
    env = sim_env(database_dsn, sim, ["cli-key"], home=tmp_path)
    channels = list(sim.world.channels.values())
    by_handle, by_id, by_url = channels[0], channels[1], channels[2]
    # Malformed input: one line, exit 2, and not a single API call (no quota spent).
    for bad_ref in ("not a channel!", "https://www.youtube.com/@abc%00def", "@abc\x1bdef"):
        rejected = run_cli("watch", "add", by_id.id, bad_ref, env=env)
        assert rejected.returncode == 2 and rejected.stdout == ""
        assert len(rejected.stderr.strip().splitlines()) == 1, rejected.stderr
        assert "Traceback" not in rejected.stderr
    assert sim.api_requests() == []

    added = run_cli(
        "watch",
        "add",
        f"@{by_handle.handle.lstrip('@')}",
        by_id.id,
        f"https://www.youtube.com/channel/{by_url.id}",
        "@no-such-handle-anywhere",
        env=env,
    )
    assert added.returncode == 1, added.stderr  # a ref was not found
    lines = added.stdout.splitlines()
    assert sum(line.startswith("added") for line in lines) == 3
    assert any(line.startswith("not found") and "no-such-handle" in line for line in lines)

    again = run_cli("watch", "add", by_id.id, env=env)
    assert again.returncode == 0 and again.stdout.startswith("already watched")

    listed = run_cli("watch", "list", env=env)
    assert listed.returncode == 0
    for channel in channels:
        assert channel.id in listed.stdout
    assert "3 channel(s) watched" in listed.stdout

    removed = run_cli("watch", "remove", by_id.id, env=env)
    assert removed.returncode == 0 and f"removed {by_id.id}" in removed.stdout
    assert f"atlas forget {by_id.id}" in removed.stdout  # data stays until retention
    bad = run_cli("watch", "remove", "@handle", env=env)
    assert bad.returncode == 2 and "expected 'UC' followed by 22 characters" in bad.stderr
    with psycopg.connect(database_dsn) as conn:
        watched = {r[0] for r in conn.execute("SELECT channel_id FROM watchlist")}
        kept = conn.execute("SELECT count(*) FROM channels").fetchone()
    assert watched == {by_handle.id, by_url.id}
    assert kept == (3,)  # removing from the watchlist keeps the channel's data
    assert "cli-key" not in added.stdout + added.stderr + listed.stdout
