"""``apins watch BOARD PIN``: one line per new version until Ctrl-C."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from .context import Context
from .output import _default
from .read_cmds import meta_dict


def _line(meta: Any) -> str:
    created = meta.created_datetime
    when = created.strftime("%Y-%m-%d %H:%M:%S") if created is not None else ""
    return "  ".join(str(x) for x in (meta.version, when, meta.pin_hash or "", meta.title or ""))


async def cmd_watch(args: argparse.Namespace, ctx: Context) -> int:
    async with ctx.board(args.board) as board:
        async for meta in board.pin_watch(args.pin, interval=args.interval):
            if ctx.json:
                text = json.dumps(meta_dict(meta), default=_default, ensure_ascii=False)
            else:
                text = _line(meta).rstrip()
            sys.stdout.write(text + "\n")
            sys.stdout.flush()
    return 0


def _interval(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds: {text!r}")
    return value


def add_watch_command(sub: Any, common: argparse.ArgumentParser) -> None:
    """Register watch."""
    p = sub.add_parser(
        "watch", parents=[common],
        help="print the latest version, then each new one as it appears",
    )  # fmt: skip
    p.add_argument("board", help="board URL")
    p.add_argument("pin", help="pin name")
    p.add_argument(
        "--interval", type=_interval, default=1.0, metavar="SECONDS",
        help="seconds between two polls of the board (default: 1)",
    )  # fmt: skip
    p.set_defaults(func=cmd_watch)
