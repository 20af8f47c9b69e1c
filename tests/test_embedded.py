"""The embedded server: shared across processes, data survives a restart."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import psycopg

from atlas_core.embedded import embedded_dsn, pgdata_dir

HOLD = textwrap.dedent(
    """
    import sys
    from atlas_core.embedded import embedded_dsn
    import psycopg
    dsn = embedded_dsn(sys.argv[1])
    with psycopg.connect(dsn) as conn:
        print(conn.execute("SELECT pg_postmaster_start_time()").fetchone()[0], flush=True)
    sys.stdin.readline()   # hold the server until told to exit
    """
)


def _start_time(dsn: str) -> str:
    with psycopg.connect(dsn) as conn:
        return str(conn.execute("SELECT pg_postmaster_start_time()").fetchone()[0])  # type: ignore[index]


def test_second_process_joins_the_running_server(tmp_path: Path) -> None:
    home = tmp_path / "shared-home"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(home)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        started_by_other = holder.stdout.readline().strip()
        assert started_by_other, "holder process did not report its server"
        # This process attaches to the very same postmaster instead of starting another.
        assert _start_time(embedded_dsn(home)) == started_by_other
        postmasters = (pgdata_dir(home) / "postmaster.pid").read_text().splitlines()[0]
        assert postmasters.isdigit()
    finally:
        assert holder.stdin is not None
        holder.stdin.write("\n")
        holder.stdin.flush()
        holder.wait(timeout=30)


WRITE = textwrap.dedent(
    """
    import sys
    from atlas_core.embedded import embedded_dsn
    import psycopg
    with psycopg.connect(embedded_dsn(sys.argv[1]), autocommit=True) as conn:
        if sys.argv[2] == "write":
            conn.execute("CREATE TABLE kept (v text)")
            conn.execute("INSERT INTO kept VALUES ('survives')")
        else:
            print(conn.execute("SELECT v FROM kept").fetchone()[0])
    """
)


def test_data_survives_a_restart(tmp_path: Path) -> None:
    home = tmp_path / "restart-home"
    subprocess.run([sys.executable, "-c", WRITE, str(home), "write"], check=True, timeout=60)
    # The last process exited, so the server stopped; the next one starts it again.
    assert not (pgdata_dir(home) / "postmaster.pid").exists()
    out = subprocess.run(
        [sys.executable, "-c", WRITE, str(home), "read"],
        check=True,
        timeout=60,
        capture_output=True,
        text=True,
    )
    assert out.stdout.strip() == "survives"
