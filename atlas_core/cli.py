"""The ``atlas`` command.

atlas db start|stop|status   the embedded PostgreSQL as a background service (ATLAS_HOME)
atlas db psql [ARGS]     a psql shell on it (the server's own psql); atlas db bin: its programs
atlas migrate            apply pending database migrations
atlas health             check every component; exit 1 if any is down
atlas watch add REF...   track channels by id, @handle or URL
atlas watch list         show the watchlist
atlas watch remove ID    stop tracking a channel (its data stays until retention)
atlas forget ID...       delete everything Atlas holds about channels (--dry-run to preview)
atlas compliance         audit the compliance rules; exit 1 if one is broken
atlas reembed            re-embed stored frames with the configured embedder (resumable)
atlas websub serve       receive YouTube's push notifications at WEBSUB_CALLBACK_URL
atlas websub sync        subscribe the hub to every watched channel now (the sensor does too)
atlas demo               simulator + embedded database + Dagster UI on 127.0.0.1:3000
atlas --version
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable, Sequence

import atlas_core
from atlas_core.config import ConfigError
from atlas_core.db_errors import DatabaseConnectionError
from atlas_core.factories import build_youtube, read_settings
from atlas_core.migrate import MigrationError
from atlas_core.youtube.errors import YouTubeError
from atlas_core.youtube.websub import WebSubError

Handler = Callable[[argparse.Namespace], int]


def _cmd_db(args: argparse.Namespace) -> int:
    from atlas_core.embedded import server_status, start_server, stop_server

    settings = atlas_core.settings
    home = settings.ATLAS_HOME
    if args.action in ("psql", "bin"):
        return _db_client(args)
    if settings.DATABASE_URL is not None:
        print(
            "atlas: note: DATABASE_URL is set, so Atlas uses that server, not this one",
            file=sys.stderr,
        )
    # The lines below say what happened; the library's own start/stop log lines would repeat it.
    logging.getLogger("atlas_core.embedded").setLevel(logging.WARNING)
    if args.action == "start":
        status = start_server(home)
        print(("started: " if status.started else "already running: ") + status.describe())
        return 0
    if args.action == "stop":
        was = server_status(home)
        if stop_server(home, mode=args.mode):
            print(f"stopped embedded PostgreSQL (pid {was.pid}) in {was.pgdata}")
        else:
            print(server_status(home).describe())
        return 0
    status = server_status(home)
    print(status.describe())
    return 0 if status.running else 1


def _db_client(args: argparse.Namespace) -> int:
    """``atlas db bin`` prints the folder of the embedded server's own programs (psql,
    pg_dump, pg_restore of its major version); ``atlas db psql`` replaces this process with
    that psql, connected to the Atlas database (``--database NAME`` for another one)."""
    import os

    from atlas_core.embedded import client_bin_dir, embedded_dsn

    folder = client_bin_dir()
    if args.action == "bin":
        print(folder)
        return 0
    settings = atlas_core.settings
    extra = list(args.psql_args)
    if extra[:1] == ["--"]:
        extra = extra[1:]
    if settings.DATABASE_URL is not None:  # your own server: your own psql, the URL as given
        psql = "psql"
        target = settings.DATABASE_URL.get_secret_value()
    else:
        psql = str(folder / "psql")
        target = embedded_dsn(settings.ATLAS_HOME, args.database)
    sys.stdout.flush()
    os.execvp(psql, [psql, target, *extra])  # noqa: S606 - the user's own shell on their database
    return 0  # not reached


def _cmd_migrate(args: argparse.Namespace) -> int:
    from atlas_core.database import describe_dsn
    from atlas_core.migrate import migrate

    dsn = atlas_core.db.dsn
    applied = migrate(dsn)
    target = describe_dsn(dsn)
    if applied:
        print(f"applied {len(applied)} migration(s) to {target}: {', '.join(applied)}")
    else:
        print(f"database is up to date ({target})")
    return 0


def _cmd_health(args: argparse.Namespace) -> int:
    from atlas_core.utils import health_check_all

    async def run() -> dict[str, bool]:
        try:
            return await health_check_all()
        finally:
            await atlas_core.db.close()

    results = asyncio.run(run())
    width = max(len(name) for name in results)
    for name, ok in results.items():
        print(f"{name:<{width}}  {'ok' if ok else 'DOWN'}")
    return 0 if all(results.values()) else 1


def _cmd_watch(args: argparse.Namespace) -> int:
    from atlas_core.pipeline.watch import unwatch_channel, watch_channels
    from atlas_core.store.watchlist import watchlist_entries
    from atlas_core.youtube.parsing import parse_channel_ref, printable

    db = atlas_core.db

    async def add() -> int:
        for ref in args.refs:  # bad input costs no quota: check every reference first
            try:
                parse_channel_ref(ref)
            except ValueError as exc:
                print(f"atlas: {exc}", file=sys.stderr)
                return 2
        async with build_youtube(atlas_core.settings, db) as youtube:
            outcomes = await watch_channels(db, youtube, args.refs)
        for o in outcomes:
            detail = f"{o.channel_id}  {o.message}" if o.ok else o.message
            print(f"{o.status:<16} {printable(o.ref)}: {printable(detail)}")
        return 0 if all(o.ok for o in outcomes) else 1

    async def show() -> int:
        async with db.get_connection() as conn:
            entries = await watchlist_entries(conn)
        for channel_id, title, added_as in entries:
            shown = printable(title) if title else "(not fetched yet)"
            print(f"{channel_id}  {shown}  [{printable(added_as or channel_id)}]")
        print(f"{len(entries)} channel(s) watched")
        return 0

    async def remove() -> int:
        try:
            removed = await unwatch_channel(db, args.channel_id)
        except ValueError as exc:
            print(f"atlas: {exc}", file=sys.stderr)
            return 2
        shown = printable(args.channel_id)
        if removed:
            print(
                f"removed {shown}; its stored data stays until retention deletes it"
                f" — run `atlas forget {shown}` to delete it now"
            )
        else:
            print(f"{shown} was not watched")
        return 0 if removed else 1

    async def run() -> int:
        try:
            return await {"add": add, "list": show, "remove": remove}[args.action]()
        finally:
            await db.close()

    return asyncio.run(run())


def _bad_channel_ids(ids: list[str]) -> int:
    """Print one line and return 2 for the first malformed channel id; 0 when all are good."""
    from atlas_core.utils import validate_channel_id
    from atlas_core.youtube.parsing import printable

    for channel_id in ids:
        if not validate_channel_id(channel_id):
            print(
                f"atlas: {printable(channel_id)!r} is not a channel id; expected 'UC' followed"
                " by 22 characters (see `atlas watch list`)",
                file=sys.stderr,
            )
            return 2
    return 0


def _cmd_forget(args: argparse.Namespace) -> int:
    from atlas_core.pipeline.forget import forget_channel
    from atlas_core.storage import VaultError

    if bad := _bad_channel_ids(args.channel_ids):  # nothing is touched for a typo
        return bad
    db = atlas_core.db
    vault = atlas_core.vault

    async def run() -> int:
        status = 0
        try:
            for channel_id in args.channel_ids:
                try:
                    done = await forget_channel(db, vault, channel_id, dry_run=args.dry_run)
                except VaultError as exc:
                    print(
                        f"pending {channel_id}: the vault failed ({exc}); its rows stay fenced"
                        f" and nothing more is stored — run `atlas forget {channel_id}` again",
                        file=sys.stderr,
                    )
                    status = 1
                    continue
                rows = ", ".join(f"{t}={n}" for t, n in sorted(done.rows.items()) if n)
                if not done.held:
                    print(f"unknown {channel_id}: nothing stored")
                elif done.dry_run:
                    print(
                        f"would delete {channel_id}: {done.total_rows} row(s) ({rows or 'none'}),"
                        " its evidence folders and its rows in every vault partition"
                    )
                else:
                    print(
                        f"forgot {channel_id}: {done.total_rows} row(s) ({rows or 'none'}),"
                        f" {done.vault_files} evidence file(s), {done.vault_rows} vault row(s)"
                        f" in {done.partitions_rewritten} partition(s)"
                    )
            return status
        finally:
            await db.close()

    return asyncio.run(run())


def _cmd_compliance(args: argparse.Namespace) -> int:
    from atlas_core.pipeline.compliance import BROKEN, audit

    db = atlas_core.db

    async def run() -> int:
        try:
            rules = await audit(atlas_core.settings, db, atlas_core.vault)
        finally:
            await db.close()
        width = max(len(r.name) for r in rules)
        for rule in rules:
            print(f"{rule.status.upper():<7} {rule.name:<{width}}  {rule.evidence}")
        broken = [r for r in rules if r.status == BROKEN]
        print(f"{len(broken)} rule(s) broken" if broken else "all rules hold")
        return 1 if broken else 0

    return asyncio.run(run())


def _cmd_demo(args: argparse.Namespace) -> int:
    try:  # the demo's parts ship in the atlas wheel; atlas_core never imports them otherwise
        from atlas_simulator.demo import run_demo
    except ModuleNotFoundError as exc:
        package = (exc.name or "").split(".")[0]
        if package not in {"atlas_simulator", "atlas_assets"}:
            raise
        print(
            f"atlas demo: {package} is not installed; install the whole atlas wheel "
            "(`pip install atlas-*.whl`, or `pip install -e .` in a checkout) to get the demo",
            file=sys.stderr,
        )
        return 2
    return run_demo(port=args.port, sim_port=args.sim_port, seed=args.seed, speed=args.speed)


def _cmd_reembed(args: argparse.Namespace) -> int:
    from atlas_core.pipeline import Services
    from atlas_core.pipeline.vectors import reembed

    async def run() -> int:
        async with Services.open(atlas_core.settings) as svc:
            result = await reembed(svc, batch=args.batch, max_batches=args.max_batches)
        print(
            f"embedder={result.embedder} videos={result.videos} vectors={result.vectors} "
            f"skipped={result.skipped} remaining={result.remaining}"
        )
        return 0

    return asyncio.run(run())


def _add_reembed_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    reembed = commands.add_parser(
        "reembed",
        help="re-embed stored frames with the configured embedder, in batches (resumable)",
    )
    reembed.add_argument("--batch", type=int, default=200, help="videos per batch (default 200)")
    reembed.add_argument(
        "--max-batches", type=int, default=None, help="stop after N batches (default: all)"
    )
    reembed.set_defaults(handler=_cmd_reembed, starts_database=True)


def _cmd_websub(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from atlas_core.pipeline.websub import WebSubReceiver, sync_subscriptions

    settings = atlas_core.settings
    if settings.WEBSUB_CALLBACK_URL is None:
        raise ConfigError(
            "WEBSUB_CALLBACK_URL is not set: it is the public URL the hub pushes to, which "
            "must reach `atlas websub serve` (e.g. https://atlas.example.org/websub)"
        )
    if args.action == "serve":
        receiver = WebSubReceiver(settings, host=args.host, port=args.port)
        print(
            f"receiving pushes on {args.host}:{args.port} (callback {settings.WEBSUB_CALLBACK_URL})"
        )
        receiver.serve()
        return 0

    async def run() -> int:
        db = atlas_core.db
        try:
            sync = await sync_subscriptions(db, settings, datetime.now(UTC), limit=args.limit)
        finally:
            await db.close()
        print(
            f"subscribe_requested={len(sync.subscribed)} unsubscribe_requested="
            f"{len(sync.unsubscribed)} failed={len(sync.failed)} pending={sync.pending}"
        )
        for channel_id, error in sorted(sync.failed.items()):
            print(f"  {channel_id}: {error}", file=sys.stderr)
        return 1 if sync.failed else 0

    return asyncio.run(run())


def _add_websub_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    websub = commands.add_parser(
        "websub", help="YouTube push notifications (WebSub): serve the callback | sync"
    )
    actions = websub.add_subparsers(dest="action", metavar="ACTION", required=True)
    serve = actions.add_parser("serve", help="run the callback receiver (foreground)")
    serve.add_argument("--host", default="0.0.0.0", help="listen address (default 0.0.0.0)")
    serve.add_argument("--port", type=int, default=8090, help="listen port (default 8090)")
    sync = actions.add_parser(
        "sync", help="(re)subscribe watched channels, unsubscribe unwatched ones"
    )
    sync.add_argument("--limit", type=int, default=10_000, help="requests at most (default 10000)")
    websub.set_defaults(handler=_cmd_websub, starts_database=True)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="atlas",
        description="Atlas: YouTube intelligence data platform.",
    )
    parser.add_argument("--version", action="version", version=f"atlas {atlas_core.__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log at DEBUG level")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")

    db = commands.add_parser(
        "db", help="the embedded PostgreSQL under ATLAS_HOME: start | stop | status"
    )
    db_actions = db.add_subparsers(dest="action", metavar="ACTION", required=True)
    db_actions.add_parser("start", help="start it in the background (no-op if it runs)")
    stop = db_actions.add_parser("stop", help="stop it (no-op if it is not running)")
    stop.add_argument(
        "--mode",
        choices=("smart", "fast", "immediate"),
        default="fast",
        help="pg_ctl shutdown mode (default fast: disconnects clients, then stops)",
    )
    db_actions.add_parser("status", help="pid, socket and log; exit 1 if it is not running")
    psql = db_actions.add_parser(
        "psql",
        help="a psql shell on the Atlas database (the server's own psql 18); "
        "arguments after it go to psql, e.g. -c 'SELECT 1' or -l",
    )
    psql.add_argument(
        "--database", default="atlas", help="database on the embedded server (default atlas)"
    )
    psql.set_defaults(psql_args=[])  # main() hands everything after the options to psql
    db_actions.add_parser(
        "bin", help="print the folder of the server's own psql, pg_dump and pg_restore"
    )
    db.set_defaults(handler=_cmd_db)

    migrate = commands.add_parser("migrate", help="apply pending database migrations")
    migrate.set_defaults(handler=_cmd_migrate, starts_database=True)

    health = commands.add_parser("health", help="check each component; exit 1 if any is down")
    health.set_defaults(handler=_cmd_health)

    watch = commands.add_parser("watch", help="manage the watchlist of tracked channels")
    actions = watch.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="track channels: UC... id, @handle or channel URL")
    add.add_argument("refs", nargs="+", metavar="REF")
    actions.add_parser("list", help="show tracked channels")
    remove = actions.add_parser(
        "remove", help="stop tracking a channel (its data stays until retention; see forget)"
    )
    remove.add_argument("channel_id", metavar="CHANNEL_ID")
    watch.set_defaults(handler=_cmd_watch, starts_database=True)

    forget = commands.add_parser(
        "forget", help="delete every trace of channels: database rows, vectors, vault data"
    )
    forget.add_argument("channel_ids", nargs="+", metavar="CHANNEL_ID")
    forget.add_argument(
        "--dry-run", action="store_true", help="print what would go; change nothing"
    )
    forget.set_defaults(handler=_cmd_forget, starts_database=True)

    compliance = commands.add_parser(
        "compliance", help="audit each compliance rule with evidence; exit 1 if one is broken"
    )
    compliance.set_defaults(handler=_cmd_compliance, starts_database=True)

    demo = commands.add_parser(
        "demo", help="run everything locally: simulator, embedded database, Dagster UI + daemon"
    )
    demo.add_argument("--port", type=int, default=3000, help="Dagster UI port (default 3000)")
    demo.add_argument("--sim-port", type=int, default=8765, help="simulator port (default 8765)")
    demo.add_argument("--seed", type=int, default=7, help="simulated world seed (default 7)")
    demo.add_argument(
        "--speed", type=float, default=60.0, help="simulated seconds per real second (default 60)"
    )
    demo.set_defaults(handler=_cmd_demo)
    _add_reembed_parser(commands)
    _add_websub_parser(commands)
    return parser


def _start_embedded_database() -> None:
    """Commands that write start the embedded server when it is down (and leave it running:
    ``atlas db stop`` stops it); ``atlas health`` and Dagster processes only connect."""
    settings = atlas_core.settings
    if settings.DATABASE_URL is None:
        from atlas_core.embedded import start_server

        start_server(settings.ATLAS_HOME)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    words = list(sys.argv[1:] if argv is None else argv)
    passed: list[str] = []
    if words[:2] == ["db", "psql"]:  # `atlas db psql [--database NAME] [psql's own args]`
        head = 4 if words[2:3] == ["--database"] else 2
        words, passed = words[:head], words[head:]
    args = parser.parse_args(words)
    if passed:
        args.psql_args = passed
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        # The composition root: Settings read once; every command builds from them through
        # atlas_core.factories (the facade's atlas_core.db, .vault, ...).
        atlas_core.use_settings(read_settings())
        if getattr(args, "starts_database", False):
            _start_embedded_database()
        return handler(args)
    except (
        ConfigError,
        DatabaseConnectionError,
        MigrationError,
        YouTubeError,
        WebSubError,
    ) as exc:
        print(f"atlas: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
