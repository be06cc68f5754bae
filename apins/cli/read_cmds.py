"""Reading sub-commands: list, versions, meta, search, download."""

from __future__ import annotations

import argparse
import re
import shutil
from pathlib import Path
from typing import Any

import anyio.to_thread

from ..meta import Meta, meta_to_dict
from .context import Context
from .errors import UsageError
from .output import emit_json, emit_lines, emit_table, human_size, notice


async def cmd_list(args: argparse.Namespace, ctx: Context) -> int:
    async with ctx.board(args.board) as board:
        names = await board.pin_list()
    if ctx.json:
        emit_json(names)
    elif names:
        emit_lines(names)
    else:
        notice(f"no pins on {args.board}")
    return 0


async def cmd_versions(args: argparse.Namespace, ctx: Context) -> int:
    async with ctx.board(args.board) as board:
        versions = await board.pin_versions(args.pin)
    rows = [
        {"version": v.version, "created": v.created, "hash": v.hash, "active": v.active,
         "size": v.size}
        for v in versions
    ]  # fmt: skip
    if ctx.json:
        emit_json(rows)
    else:
        emit_table(["version", "created", "hash"], [[r["version"], r["created"], r["hash"]]
                                                    for r in rows])  # fmt: skip
    return 0


def meta_dict(meta: Any) -> dict[str, Any]:
    """Metadata as plain data: data.txt's fields plus ``name`` and ``version``."""
    data = meta_to_dict(meta) if isinstance(meta, Meta) else dict(meta.original_fields)
    return {"name": meta.name, "version": meta.version, **data}


async def cmd_meta(args: argparse.Namespace, ctx: Context) -> int:
    async with ctx.board(args.board) as board:
        meta = await board.pin_meta(args.pin, args.version)
        raw = None if ctx.json else await board.backend.read_meta_raw(args.pin, meta.version or "")
    if raw is None:
        emit_json(meta_dict(meta))
    else:
        emit_lines([f"# {args.pin} version {meta.version}"])
        print(raw.decode("utf-8", errors="replace"), end="" if raw.endswith(b"\n") else "\n")
    return 0


async def cmd_search(args: argparse.Namespace, ctx: Context) -> int:
    if args.pattern is not None:
        try:
            re.compile(args.pattern)
        except re.error as e:
            raise UsageError(f"{args.pattern!r} is not a valid regular expression: {e}") from None
    async with ctx.board(args.board) as board:
        metas = await board.pin_search(args.pattern)
    if ctx.json:
        emit_json([meta_dict(m) for m in metas])
        return 0
    if not metas:
        what = "no pins" if args.pattern is None else f"no pin matches {args.pattern!r}"
        notice(f"{what} on {args.board}")
        return 0
    emit_table(
        ["name", "type", "title", "created", "size"],
        [
            [m.name, ",".join(m.types), m.title, m.created_datetime, human_size(m.total_size)]
            for m in metas
        ],
    )
    return 0


async def cmd_download(args: argparse.Namespace, ctx: Context) -> int:
    bar = ctx.bar(f"download {args.pin}")
    try:
        async with ctx.board(args.board) as board:
            paths = await board.pin_download(args.pin, args.version, args.hash, progress=bar)
    finally:
        if bar is not None:
            bar.close()
    if args.output is not None:
        out = Path(args.output)

        def copy() -> list[str]:
            out.mkdir(parents=True, exist_ok=True)
            return [str(shutil.copyfile(p, out / Path(p).name)) for p in paths]

        paths = await anyio.to_thread.run_sync(copy)
    if ctx.json:
        emit_json(paths)
    else:
        emit_lines(paths)
    return 0


def add_read_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    """Register list, versions, meta, search and download."""
    p = sub.add_parser("list", parents=[common], help="list the pins on a board")
    p.add_argument("board", help="board URL")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("versions", parents=[common], help="list the versions of a pin")
    p.add_argument("board", help="board URL")
    p.add_argument("pin", help="pin name")
    p.set_defaults(func=cmd_versions)

    p = sub.add_parser("meta", parents=[common], help="show a version's metadata (data.txt)")
    p.add_argument("board", help="board URL")
    p.add_argument("pin", help="pin name")
    p.add_argument("--version", dest="version", help="version (default: the latest)")
    p.set_defaults(func=cmd_meta)

    p = sub.add_parser("search", parents=[common], help="search pin names and titles")
    p.add_argument("board", help="board URL")
    p.add_argument("pattern", nargs="?", help="regular expression (default: every pin)")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser(
        "download", parents=[common], help="fetch a version's files (verified) and print paths"
    )
    p.add_argument("board", help="board URL")
    p.add_argument("pin", help="pin name")
    p.add_argument("--version", dest="version", help="version (default: the latest)")
    p.add_argument("--hash", help="refuse unless the version's hash starts with this")
    p.add_argument("-o", "--output", help="copy the files into this folder")
    p.set_defaults(func=cmd_download)
