"""Database connections: one async pool per DatabaseManager.

    from atlas_core import db
    async with db.get_connection() as conn:
        rows = await (await conn.execute("SELECT id FROM channels")).fetchall()

The pool (``psycopg_pool.AsyncConnectionPool``) opens lazily on first use, registers pgvector
types on each new connection and checks each connection on checkout, so a restarted server
never hands out a dead one. An exhausted pool raises ``PoolTimeout``. A pool belongs to the
event loop it was opened in: used from another loop (each Dagster step has its own), the
manager keeps one pool per loop; close it from the loop that used it.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, TypeVar

import psycopg
from pgvector.psycopg import register_vector_async
from psycopg import AsyncConnection
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from atlas_core.db_errors import DatabaseConnectionError

if TYPE_CHECKING:
    from atlas_core.config import Settings

logger = logging.getLogger(__name__)

T = TypeVar("T")

# A lost connection (server restarted or shut down) is retried this many times, 0.5 s, 1 s,
# 2 s, 4 s apart: long enough for ``pg_ctl restart`` to bring the server back.
WRITE_ATTEMPTS = 5

__all__ = [
    "DatabaseConnectionError",
    "DatabaseManager",
    "PoolTimeout",
    "describe_dsn",
    "resolve_dsn",
]


def resolve_dsn(settings: Settings, *, start_embedded: bool = False) -> str:
    """``DATABASE_URL`` if set, else the embedded server under ``ATLAS_HOME``.

    The embedded server is only connected to, unless ``start_embedded`` (plain CLI processes
    only: never from a Dagster process); when it is down this raises ``DatabaseConnectionError``
    saying to run ``atlas db start``.
    """
    if settings.DATABASE_URL is not None:
        return settings.DATABASE_URL.get_secret_value()
    from atlas_core.embedded import embedded_dsn, start_server

    if start_embedded:
        start_server(settings.ATLAS_HOME)
    return embedded_dsn(settings.ATLAS_HOME)


def describe_dsn(dsn: str) -> str:
    """``host=... port=... dbname=... user=...`` without the password, for messages."""
    try:
        params = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        return "an unparseable connection string"
    parts = [f"{k}={params[k]}" for k in ("host", "port", "dbname", "user") if params.get(k)]
    return " ".join(parts) or "default libpq settings"


async def _configure(conn: AsyncConnection) -> None:
    try:
        await register_vector_async(conn)
    except psycopg.ProgrammingError:
        # The vector extension is not installed yet (database not migrated).
        logger.debug("pgvector types not registered: extension missing")
    # register_vector_async runs a query; leave the connection idle, not in a transaction.
    if not conn.autocommit:
        await conn.rollback()


class DatabaseManager:
    """Owns an async connection pool to Atlas's PostgreSQL.

    Give it a ``dsn`` or ``settings`` (never neither: it does not read the environment itself).
    Without ``dsn`` it connects to ``DATABASE_URL`` or the embedded server under ``ATLAS_HOME``;
    ``start_embedded=True`` lets it start that server (plain CLI processes; Dagster processes
    leave it False and get one clear error when the server is down).
    """

    def __init__(
        self,
        dsn: str | None = None,
        *,
        settings: Settings | None = None,
        min_size: int | None = None,
        max_size: int | None = None,
        timeout: float | None = None,
        start_embedded: bool = False,
    ) -> None:
        if dsn is None and settings is None:
            raise TypeError(
                "DatabaseManager needs a dsn or settings; build one from Settings with "
                "atlas_core.factories.build_database(settings)"
            )
        self._dsn = dsn
        self._settings = settings
        self._start_embedded = start_embedded
        self._min_size = min_size if min_size is not None else _pool_setting(settings, "MIN", 1)
        self._max_size = max_size if max_size is not None else _pool_setting(settings, "MAX", 10)
        self._timeout = (
            timeout
            if timeout is not None
            else float(settings.DB_POOL_TIMEOUT_SECONDS if settings else 30.0)
        )
        # A pool is bound to the event loop that opened it; each loop gets its own.
        self._pools: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, AsyncConnectionPool[AsyncConnection]
        ] = weakref.WeakKeyDictionary()

    @property
    def dsn(self) -> str:
        """The connection string (contains the password if there is one: do not log it)."""
        if self._dsn is None:
            assert self._settings is not None
            self._dsn = resolve_dsn(self._settings, start_embedded=self._start_embedded)
        return self._dsn

    def __repr__(self) -> str:
        target = describe_dsn(self._dsn) if self._dsn else "unresolved"
        return f"<DatabaseManager {target} pools={len(self._pools)}>"

    async def initialize(self) -> None:
        """Open this event loop's pool (idempotent). Raises DatabaseConnectionError."""
        loop = asyncio.get_running_loop()
        if loop in self._pools:
            return
        pool: AsyncConnectionPool[AsyncConnection] = AsyncConnectionPool(
            self.dsn,
            min_size=self._min_size,
            max_size=self._max_size,
            timeout=self._timeout,
            kwargs={"options": "-c timezone=UTC"},  # TIMESTAMPTZ values arrive in UTC
            open=False,
            configure=_configure,
            check=AsyncConnectionPool.check_connection,
            name="atlas",
        )
        try:
            await pool.open(wait=True, timeout=self._timeout)
        except (PoolTimeout, psycopg.OperationalError) as exc:
            await pool.close()
            raise DatabaseConnectionError(
                f"cannot connect to PostgreSQL ({describe_dsn(self.dsn)}) within "
                f"{self._timeout:g}s: {_reason(exc)}"
            ) from None
        self._pools[loop] = pool

    async def close(self) -> None:
        """Close this event loop's pool; the manager can be initialized again afterwards."""
        pool = self._pools.pop(asyncio.get_running_loop(), None)
        if pool is not None:
            await pool.close()

    async def health_check(self) -> bool:
        """True when a ``SELECT 1`` round-trip succeeds."""
        try:
            async with self.get_connection() as conn:
                cur = await conn.execute("SELECT 1")  # a liveness probe, not a query of data
                return (await cur.fetchone()) == (1,)
        except Exception as exc:
            logger.warning("database health check failed: %s", _reason(exc))
            return False

    @asynccontextmanager
    async def get_connection(self) -> AsyncIterator[AsyncConnection]:
        """Borrow a connection; committed on success, rolled back on error."""
        await self.initialize()
        async with self._pools[asyncio.get_running_loop()].connection() as conn:
            yield conn

    async def in_transaction(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """``await work(conn)`` in one transaction; when the connection is lost mid-way (the
        server restarted), the transaction is rolled back and ``work`` runs again on a fresh
        connection, up to ``WRITE_ATTEMPTS`` times. ``work`` must be idempotent and keep its
        results in its return value (a failed attempt's side effects are rolled back)."""
        from atlas_core.utils import retry_async

        @retry_async(WRITE_ATTEMPTS, delay=0.5, backoff=2.0, exceptions=(psycopg.OperationalError,))
        async def attempt() -> T:
            async with self.get_connection() as conn:
                return await work(conn)

        return await attempt()


def _pool_setting(settings: Settings | None, which: str, default: int) -> int:
    return int(getattr(settings, f"DB_POOL_{which}_SIZE", default)) if settings else default


def _reason(exc: BaseException) -> str:
    """The first line of an error, which for libpq never contains the password."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
