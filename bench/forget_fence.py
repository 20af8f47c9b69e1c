"""Forget-fence scenarios of issue 19 (part A), measured on this tree: what a forget leaves
when a run is in flight, what it does with the vault down, what the audit says.

    PYTHONPATH=.:tests/simulator .venv/bin/python bench/forget_fence.py

Run it on an older checkout (same PYTHONPATH, its own tree) for the before figures. Prints one
line per scenario, then the cost of the fence triggers on a 50,000-row stats insert.
"""

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from atlas_simulator import SimulatorServer
from psycopg import sql

from atlas_core.config import Settings, load_settings
from atlas_core.database import DatabaseManager
from atlas_core.embedded import embedded_dsn, start_server, stop_server
from atlas_core.migrate import migrate
from atlas_core.notifications import DiscordNotifier
from atlas_core.pipeline import Services, discover_videos, refresh_channels
from atlas_core.pipeline.compliance import BROKEN, audit
from atlas_core.pipeline.forget import forget_channel
from atlas_core.storage import GCSVault, LocalVault

START = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def traces(dsn, ids):
    n = 0
    with psycopg.connect(dsn) as conn:
        for (t,) in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema=current_schema()"
            " AND table_type='BASE TABLE' AND table_name<>'schema_migrations'"
        ).fetchall():
            n += conn.execute(
                sql.SQL("SELECT count(*) FROM {} t WHERE t::text LIKE ANY(%s)").format(
                    sql.Identifier(t)
                ),
                ([f"%{i}%" for i in ids],),
            ).fetchone()[0]
    return n


def fresh(admin, name):
    with psycopg.connect(admin, autocommit=True) as c:
        c.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        c.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    p = psycopg.conninfo.conninfo_to_dict(admin)
    p["dbname"] = name
    dsn = psycopg.conninfo.make_conninfo(**p)
    migrate(dsn)
    return dsn


def settings(dsn, home, base="http://127.0.0.1:9"):
    return load_settings(
        _env_file=None,
        DATABASE_URL=dsn,
        ATLAS_HOME=home,
        YOUTUBE_API_BASE_URL=base,
        YOUTUBE_API_KEY_POOL_JSON='["pk"]',
        YOUTUBE_RETRY_DELAY_SECONDS=0.01,
        YOUTUBE_MAX_CONCURRENCY=1,
    )


async def inflight(dsn, home, discovery):
    with SimulatorServer(
        seed=6, keys=["pk"], clock=lambda: START, channels=2, videos=40, happenings=False
    ) as sim:
        target = sorted(sim.world.channels)[0]
        vids = [v.id for v in sim.world.videos.values() if v.channel_id == target]
        s = settings(dsn, home, sim.base_url)
        db = DatabaseManager(settings=s, timeout=30)
        async with Services.open(
            s,
            db=db,
            vault=LocalVault(home / "vault"),
            notifier=DiscordNotifier({}),
            clock=lambda: START,
        ) as svc:
            async with db.get_connection() as conn:
                for cid in sim.world.channels if not discovery else [target]:
                    await conn.execute("INSERT INTO watchlist (channel_id) VALUES (%s)", (cid,))
            await refresh_channels(svc)
            sim.faults.latency = 1.5
            task = asyncio.ensure_future(
                asyncio.gather(refresh_channels(svc), discover_videos(svc, target))
                if discovery
                else refresh_channels(svc)
            )
            await asyncio.sleep(0.5)
            await forget_channel(svc.db, svc.vault, target)
            err = ""
            try:
                await task
            except Exception as exc:
                err = type(exc).__name__
            rules = await audit(svc.settings, svc.db, svc.vault)
        await db.close()
    ok = not [r for r in rules if r.status == BROKEN]
    return traces(dsn, [target, *vids]), err, ok


async def vault_down(dsn, home):
    t = "UC" + "c" * 21 + "A"
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute("INSERT INTO watchlist (channel_id) VALUES (%s)", (t,))
        c.execute("INSERT INTO channels (id, title) VALUES (%s, 'a')", (t,))
    with socket.socket() as sock:  # a port where nothing listens: the bucket is down
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    down = GCSVault(
        "atlas-test", endpoint=f"http://127.0.0.1:{port}", retry_deadline=0.5, timeout=2
    )
    s = settings(dsn, home)
    db = DatabaseManager(settings=s, timeout=30)
    raised = "no"
    try:
        await forget_channel(db, down, t)
    except Exception as exc:
        raised = type(exc).__name__
    with psycopg.connect(dsn) as c:
        pending = c.execute("SELECT count(*) FROM forget_requests").fetchone()[0]
    rules = await audit(s, db, down)
    await db.close()
    return raised, pending, len([r for r in rules if r.status == BROKEN])


async def planted(dsn, home):
    t = "UC" + "f" * 21 + "A"
    s = settings(dsn, home)
    db = DatabaseManager(settings=s, timeout=30)
    v = LocalVault(home / "v2")
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute("INSERT INTO watchlist (channel_id) VALUES (%s)", (t,))
        c.execute("INSERT INTO channels (id, title) VALUES (%s, 'a')", (t,))
    await forget_channel(db, v, t)
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute("SET session_replication_role = replica")
        c.execute("INSERT INTO channels (id, title) VALUES (%s, 'back')", (t,))
    rules = await audit(s, db, v)
    await db.close()
    return len([r for r in rules if r.status == BROKEN])


def ids(dsn, home):
    base = {k: v for k, v in os.environ.items() if k not in Settings.model_fields}
    out = []
    for bad in ["x' OR '1'='1", "UCnotreal", ""]:
        p = subprocess.run(
            [sys.executable, "-m", "atlas_core.cli", "forget", bad],
            env={**base, "DATABASE_URL": dsn, "ATLAS_HOME": str(home)},
            capture_output=True,
            text=True,
        )
        out.append(p.returncode)
    return out


def trigger_cost(dsn):
    """rows/s of one 50,000-row stats INSERT with the fence triggers off / on, no digest / 100."""
    with psycopg.connect(dsn, autocommit=True) as c:
        if not c.execute("SELECT to_regclass('forgotten_ids')").fetchone()[0]:
            return print("fence triggers: none on this tree")
        c.execute("INSERT INTO channels (id,title) VALUES ('UCx','x')")
        c.execute(
            "INSERT INTO videos (id,channel_id,title)"
            " SELECT 'v'||g,'UCx','t' FROM generate_series(1,1000) g"
        )
        q = (
            "INSERT INTO video_stats_log (video_id, timestamp, views) SELECT 'v'||(g%1000+1),"
            " '2026-01-01'::timestamptz + (g/1000)*interval '1 min', g"
            " FROM generate_series(0,49999) g"
        )
        best = {}
        for _ in range(3):
            for mode, forgotten in (("DISABLE", 0), ("ENABLE", 0), ("ENABLE", 100)):
                c.execute("TRUNCATE video_stats_log, forgotten_ids")
                c.execute(
                    "INSERT INTO forgotten_ids (digest)"
                    " SELECT atlas_id_digest('f'||g) FROM generate_series(1,%s) g",
                    (forgotten,),
                )
                c.execute(f"ALTER TABLE video_stats_log {mode} TRIGGER atlas_fence")
                c.execute(f"ALTER TABLE video_stats_log {mode} TRIGGER atlas_fence_statement")
                t = time.perf_counter()
                c.execute(q)
                dt = time.perf_counter() - t
                best[(mode, forgotten)] = min(best.get((mode, forgotten), dt), dt)
        off = best[("DISABLE", 0)]
        for (mode, forgotten), dt in best.items():
            print(
                f"stats insert, fence {'off' if mode == 'DISABLE' else 'on'},"
                f" {forgotten} digest(s): "
                f"{50000 / dt:,.0f} rows/s (x{dt / off:.2f} the time without the fence)"
            )


async def main():
    home = Path(tempfile.mkdtemp(prefix="m19a-"))
    start_server(home)
    admin = embedded_dsn(home)
    try:
        for name, disc in (("refresh", False), ("refresh + first discovery", True)):
            n, err, ok = await inflight(
                fresh(admin, "m_" + name.split()[0] + str(disc)), home / name, disc
            )
            print(
                f"forget during {name} in flight: rows naming the channel after = {n}"
                f"; run error = {err or 'none'}; audit passes = {ok}"
            )
        r, p, b = await vault_down(fresh(admin, "m_vault"), home / "vd")
        print(
            f"forget with vault down: raised = {r}; pending requests = {p};"
            f" audit broken rules (vault down) = {b}"
        )
        print(
            "planted row of a forgotten channel: audit broken rules =",
            await planted(fresh(admin, "m_plant"), home / "pl"),
        )
        print(f"atlas forget malformed ids exit codes = {ids(fresh(admin, 'm_ids'), home / 'ids')}")
        trigger_cost(fresh(admin, "m_cost"))
    finally:
        stop_server(home, mode="immediate")
        shutil.rmtree(home, ignore_errors=True)


asyncio.run(main())
