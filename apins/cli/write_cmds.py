"""Writing sub-commands: upload, prune, delete, write-manifest, sweep."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import PinsError
from .context import Context
from .errors import UsageError
from .output import emit_json, emit_lines, notice
from .read_cmds import meta_dict

if TYPE_CHECKING:
    from ..board import Board


def _metadata(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        data = json.loads(text)
    except ValueError as e:
        raise UsageError(f"--metadata must be a JSON object: {e}") from None
    if not isinstance(data, dict):
        raise UsageError('--metadata must be a JSON object, e.g. \'{"source": "x"}\'')
    return data


async def cmd_upload(args: argparse.Namespace, ctx: Context) -> int:
    files = [Path(f) for f in args.files]
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise UsageError(f"not a file: {', '.join(missing)}")
    if len(files) > 1 and not args.name:
        raise UsageError(
            f"{len(files)} files make one pin, which needs a name: add -n NAME (--name NAME)"
        )
    metadata = _metadata(args.metadata)
    bar = ctx.bar(f"upload {args.name or files[0].name}")
    try:
        async with ctx.board(args.board) as board:
            before = await _versions_or_none(board, args.name or files[0].name)
            meta = await board.pin_upload(
                files,
                args.name,
                title=args.title,
                description=args.description,
                metadata=metadata,
                versioned=False if args.unversioned else None,
                force_identical_write=args.force,
                tags=args.tag or None,
                progress=bar,
            )
    finally:
        if bar is not None:
            bar.close()
    unchanged = meta.version in before
    if ctx.json:
        emit_json({**meta_dict(meta), "unchanged": unchanged})
    elif unchanged:
        emit_lines([f"{meta.name} {meta.version}"])
        notice(
            f"unchanged: {meta.name} already holds this content as version {meta.version}; "
            "nothing was written (--force writes a new version anyway)"
        )
    else:
        emit_lines([f"{meta.name} {meta.version}"])
    return 0


async def _versions_or_none(board: Board, name: str) -> set[str]:
    """The pin's version names, or an empty set for a pin (or board) that does not exist."""
    try:
        return {v.version for v in await board.pin_versions(name)}
    except PinsError:
        return set()


async def cmd_prune(args: argparse.Namespace, ctx: Context) -> int:
    if (args.keep is None) == (args.days is None):
        raise UsageError("prune needs exactly one of --keep N or --days D")
    async with ctx.board(args.board) as board:
        gone = await board.pin_versions_prune(args.pin, n=args.keep, days=args.days)
    names = [v.version for v in gone]
    if ctx.json:
        emit_json({"pin": args.pin, "deleted": names})
    else:
        emit_lines([f"deleted {args.pin} {v}" for v in names] or ["nothing to delete"])
    return 0


async def cmd_delete(args: argparse.Namespace, ctx: Context) -> int:
    if args.version is not None and len(args.pins) != 1:
        raise UsageError("--version deletes a version of one pin; name exactly one pin")
    async with ctx.board(args.board) as board:
        if args.version is not None:
            pin = args.pins[0]
            await board.pin_version_delete(pin, args.version)
            deleted = [{"pin": pin, "version": args.version}]
        else:
            await board.pin_delete(args.pins)
            deleted = [{"pin": p, "version": None} for p in args.pins]
    if ctx.json:
        emit_json({"deleted": deleted})
    else:
        emit_lines(
            [f"deleted {d['pin']}" + (f" {d['version']}" if d["version"] else "") for d in deleted]
        )
    return 0


async def cmd_write_manifest(args: argparse.Namespace, ctx: Context) -> int:
    async with ctx.board(args.board) as board:
        manifest = await board.write_board_manifest()
    if ctx.json:
        emit_json(manifest)
    else:
        count = sum(len(v) for v in manifest.values())
        emit_lines([f"wrote _pins.yaml: {len(manifest)} pin(s), {count} version(s)"])
    return 0


async def cmd_sweep(args: argparse.Namespace, ctx: Context) -> int:
    if args.grace < 0:
        raise UsageError("--grace must not be negative")
    async with ctx.board(args.board) as board:
        removed = await board.sweep(grace=args.grace, name=args.pin)
    if ctx.json:
        emit_json({"removed": removed})
    else:
        emit_lines([f"removed {r}" for r in removed] or ["nothing to sweep"])
    return 0


def add_write_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    """Register upload, prune, delete, write-manifest and sweep."""
    p = sub.add_parser("upload", parents=[common], help="pin local files as a new version")
    p.add_argument("board", help="board URL")
    p.add_argument("files", nargs="+", help="files to pin (type 'file')")
    p.add_argument("-n", "--name", help="pin name (default: the file's name)")
    p.add_argument("--title", help="title")
    p.add_argument("--description", help="description")
    p.add_argument("--metadata", help="user metadata as a JSON object")
    p.add_argument("--tag", action="append", help="a tag (repeat for several)")
    p.add_argument("--force", action="store_true", help="write even if the content is unchanged")
    p.add_argument("--unversioned", action="store_true", help="replace the pin's only version")
    p.set_defaults(func=cmd_upload)

    p = sub.add_parser("prune", parents=[common], help="delete old versions of a pin")
    p.add_argument("board", help="board URL")
    p.add_argument("pin", help="pin name")
    p.add_argument("--keep", type=int, metavar="N", help="keep the N newest versions")
    p.add_argument("--days", type=float, metavar="D", help="keep versions younger than D days")
    p.set_defaults(func=cmd_prune)

    p = sub.add_parser("delete", parents=[common], help="delete pins, or one version of a pin")
    p.add_argument("board", help="board URL")
    p.add_argument("pins", nargs="+", metavar="pin", help="pin name(s)")
    p.add_argument("--version", dest="version", help="delete only this version")
    p.set_defaults(func=cmd_delete)

    p = sub.add_parser(
        "write-manifest", parents=[common], help="write _pins.yaml (for URL-board readers)"
    )
    p.add_argument("board", help="board URL")
    p.set_defaults(func=cmd_write_manifest)

    p = sub.add_parser(
        "sweep",
        parents=[common],
        help="remove what crashed writers left (staging, uploads, bundles)",
    )
    p.add_argument("board", help="board URL")
    p.add_argument("pin", nargs="?", help="only this pin (default: the whole board)")
    p.add_argument(
        "--grace", type=float, default=600.0, metavar="SECONDS",
        help="only leftovers untouched this long (default 600; 0 only if no writer is busy)",
    )  # fmt: skip
    p.set_defaults(func=cmd_sweep)
