"""Migration runner: plain SQL files in ``migrations/``, applied in order, once.

The files ship inside the wheel as ``atlas_core/migrations/*.sql`` (package data, found with
``importlib.resources``), so ``atlas migrate`` works from any directory with only the wheel
installed; in a source checkout (an editable install, or ``PYTHONPATH``) the repository's
top-level ``migrations/`` folder is used.

    from atlas_core.migrate import migrate
    applied = migrate(dsn)               # -> names of the files applied now ([] if none)

Each pending file runs in its own transaction and is recorded in ``schema_migrations`` with
its SHA-256. A session advisory lock keeps two processes from migrating at once (the second
waits, then finds nothing to do). A file edited after it was applied stops the runner before
anything runs, naming the file.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import psycopg

from atlas_core.database import DatabaseConnectionError, describe_dsn
from atlas_core.store.connect import connect

logger = logging.getLogger(__name__)


ADVISORY_LOCK_KEY = 0x41544C4153  # "ATLAS"
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


class MigrationError(RuntimeError):
    """The migrations cannot be applied as they are."""


def shipped_migrations() -> Path:
    """This installation's migrations: the wheel's package data, else the checkout's folder."""
    packaged = Path(str(resources.files("atlas_core").joinpath("migrations")))
    if packaged.is_dir():  # atlas_core is a regular package on disk, so this is a real path
        return packaged
    return Path(__file__).resolve().parent.parent / "migrations"


MIGRATIONS_DIR = shipped_migrations()


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """The migration files in ``directory``, in version order."""
    if not directory.is_dir():
        raise MigrationError(
            f"migrations folder not found: {directory} (an installed wheel carries it as "
            "atlas_core/migrations; a source checkout has it at the top level)"
        )
    found: list[Migration] = []
    for path in sorted(directory.glob("*.sql")):
        match = _NAME.match(path.name)
        if not match:
            raise MigrationError(
                f"migration file {path.name!r} is misnamed; expected NNNN_lowercase_name.sql"
            )
        found.append(Migration(int(match.group(1)), path.name, path.read_text(encoding="utf-8")))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"two migration files share a version number in {directory}")
    return found


def migrate(dsn: str, directory: Path = MIGRATIONS_DIR, lock_timeout_s: float = 300.0) -> list[str]:
    """Apply every pending migration; return the names applied now."""
    migrations = discover(directory)
    applied_now: list[str] = []
    try:
        connection = connect(dsn, autocommit=True, timeout=30)
    except psycopg.OperationalError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DatabaseConnectionError(
            f"cannot connect to PostgreSQL ({describe_dsn(dsn)}) to migrate: {reason}"
        ) from None
    with connection as conn:
        conn.execute(f"SET lock_timeout = '{int(lock_timeout_s * 1000)}ms'")
        conn.execute("SELECT pg_advisory_lock(%s)", (ADVISORY_LOCK_KEY,))
        try:
            conn.execute(
                """CREATE TABLE IF NOT EXISTS schema_migrations (
                       version INTEGER PRIMARY KEY,
                       name TEXT NOT NULL,
                       checksum TEXT NOT NULL,
                       applied_at TIMESTAMPTZ NOT NULL DEFAULT NOW())"""
            )
            rows = conn.execute("SELECT version, name, checksum FROM schema_migrations").fetchall()
            recorded = {version: (name, checksum) for version, name, checksum in rows}
            _refuse_edited(migrations, recorded)
            for migration in migrations:
                if migration.version in recorded:
                    continue
                logger.info("applying migration %s", migration.name)
                try:
                    with conn.transaction():
                        conn.execute(migration.sql.encode())  # bytes: run as a script, no params
                        conn.execute(
                            "INSERT INTO schema_migrations (version, name, checksum) "
                            "VALUES (%s, %s, %s)",
                            (migration.version, migration.name, migration.checksum),
                        )
                except psycopg.Error as exc:
                    raise MigrationError(
                        f"migration {migration.name} failed and was rolled back: {exc}"
                    ) from exc
                applied_now.append(migration.name)
            if applied_now:  # fence every table naming a channel or video, later ones too
                row = conn.execute("SELECT to_regprocedure('atlas_install_fence()')").fetchone()
                if row and row[0]:
                    conn.execute("SELECT atlas_install_fence()")
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (ADVISORY_LOCK_KEY,))
    return applied_now


def _refuse_edited(migrations: list[Migration], recorded: dict[int, tuple[str, str]]) -> None:
    for migration in migrations:
        if migration.version not in recorded:
            continue
        name, checksum = recorded[migration.version]
        if checksum != migration.checksum:
            raise MigrationError(
                f"migration {migration.name} was edited after it was applied (as {name}); "
                "restore the original file and put the change in a new migration"
            )
