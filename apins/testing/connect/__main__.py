"""``python -m apins.testing.connect --host H --port P --root DIR --user NAME:KEY[:ROLE] ...``"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys

from .core import UserSpec
from .server import ConnectEmulator


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m apins.testing.connect",
        description="Serve an emulator of the Posit Connect API that pins use.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=3939, help="port to bind; 0 picks a free one")
    p.add_argument("--root", required=True, help="folder holding the emulator's state")
    p.add_argument(
        "--user",
        action="append",
        default=[],
        metavar="NAME:API_KEY[:ROLE]",
        help="a user and API key (repeatable); ROLE is viewer, publisher or administrator",
    )
    p.add_argument(
        "--group",
        action="append",
        default=[],
        metavar="NAME:USER[,USER...]",
        help="a group and its members (repeatable)",
    )
    return p.parse_args(argv)


def _groups(texts: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for text in texts:
        name, sep, members = text.partition(":")
        if not name or not sep:
            raise ValueError("a group must be given as NAME:USER[,USER...]")
        out[name] = [m for m in members.split(",") if m]
    return out


async def _serve(
    args: argparse.Namespace, specs: list[UserSpec], groups: dict[str, list[str]]
) -> None:
    async with ConnectEmulator(
        args.root, specs, host=args.host, port=args.port, groups=groups
    ) as server:
        print(f"Connect emulator listening on {server.url}", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        await stop.wait()


def main(argv: list[str] | None = None) -> int:
    """Run until SIGINT/SIGTERM; returns the exit status."""
    args = _parse(argv)
    try:
        specs = [UserSpec.parse(text) for text in args.user]
        groups = _groups(args.group)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    asyncio.run(_serve(args, specs, groups))
    return 0


if __name__ == "__main__":
    sys.exit(main())
