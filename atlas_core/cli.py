"""The ``atlas`` command.

atlas migrate            apply pending database migrations
atlas health             check every component; exit 1 if any is down
atlas simulator          serve a simulated YouTube Data API v3 (--port, --seed, --keys)
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

Handler = Callable[[argparse.Namespace], int]


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


def _cmd_simulator(args: argparse.Namespace) -> int:
    from atlas_core.youtube.simulator.serve import run

    keys = [k.strip() for k in args.keys.split(",") if k.strip()] if args.keys else None
    return run(
        port=args.port,
        seed=args.seed,
        keys=keys,
        host=args.host,
        speed=args.speed,
        channels=args.channels,
        videos=args.videos,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="atlas",
        description="Atlas: YouTube intelligence data platform.",
    )
    parser.add_argument("--version", action="version", version=f"atlas {atlas_core.__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log at DEBUG level")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")

    migrate = commands.add_parser("migrate", help="apply pending database migrations")
    migrate.set_defaults(handler=_cmd_migrate)

    health = commands.add_parser("health", help="check each component; exit 1 if any is down")
    health.set_defaults(handler=_cmd_health)

    sim = commands.add_parser("simulator", help="serve a simulated YouTube Data API v3")
    sim.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 = any)")
    sim.add_argument("--seed", type=int, default=7, help="world seed (default 7)")
    sim.add_argument("--keys", help="accepted API keys, comma-separated (default: a demo key)")
    sim.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    sim.add_argument("--speed", type=float, default=1.0, help="simulated seconds per second")
    sim.add_argument("--channels", type=int, default=6, help="channels in the world (default 6)")
    sim.add_argument("--videos", type=int, help="videos at start (default 10-40 per channel)")
    sim.set_defaults(handler=_cmd_simulator)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        return handler(args)
    except ConfigError as exc:
        print(f"atlas: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
