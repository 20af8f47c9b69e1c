"""The database's connection error, in a module of its own so that the pool (``database``)
and the embedded server (``embedded``) can both raise it without importing each other."""

from __future__ import annotations

__all__ = ["DatabaseConnectionError"]


class DatabaseConnectionError(ConnectionError):
    """PostgreSQL could not be reached. Names host and database, never the password."""
