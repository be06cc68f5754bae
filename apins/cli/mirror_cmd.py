"""The mirror sub-command: ``apins mirror SOURCE TARGET``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .._mirror import MirrorReport, VersionRef, mirror
from .._mirror.shard import Shard, parse_shard
from .context import Context
from .errors import FAILED, NOT_FOUND, UsageError, one_line
from .output import emit_json


def versions_arg(text: str) -> str | int:
    """``all``, ``latest`` or a positive number (argparse type)."""
    if text in ("all", "latest"):
        return text
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected all, latest or a number, not {text!r}"
        ) from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number, not {n}")
    return n


def report_exit(report: MirrorReport) -> int:
    """0 when nothing failed; 3 when every failure is a missing pin/version; else 1."""
    if report.ok:
        return 0
    return NOT_FOUND if all(f.not_found for f in report.failed) else FAILED


def shard_arg(text: str) -> Shard:
    """``k/n`` with 0 <= k < n (argparse type)."""
    try:
        return parse_shard(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


async def cmd_mirror(args: argparse.Namespace, ctx: Context) -> int:
    if args.source == args.target:
        raise UsageError("source and target are the same board")
    bar = None if args.dry_run else ctx.bar("mirror")

    def announce(doomed: list[VersionRef]) -> None:
        """Say what --delete is about to delete, before it does (stderr under --json)."""
        out = sys.stderr if ctx.json else sys.stdout
        for ref in doomed:
            out.write(f"will delete {ref.pin} {ref.version}\n")
        out.flush()

    try:
        async with ctx.board(args.source) as source, ctx.board(args.target) as target:
            report = await mirror(
                source,
                target,
                names=args.pin or None,
                versions=args.versions,
                since=args.since,
                dry_run=args.dry_run,
                delete=args.delete,
                concurrency=args.concurrency,
                stop_on_error=args.stop_on_error,
                progress=bar,
                shard=args.shard,
                allow_empty_source=args.allow_empty_source,
                before_delete=announce,
            )
    finally:
        if bar is not None:
            bar.close()
    if ctx.json:
        emit_json(report.to_dict())
    else:
        for ref in report.copied:
            print(f"{'would copy' if report.dry_run else 'copied'} {ref.pin} {ref.version}")
        for ref in report.deleted:
            print(f"{'would delete' if report.dry_run else 'deleted'} {ref.pin} {ref.version}")
        print(report.summary())
    for f in report.failed:
        where = f.pin + (f" {f.version}" if f.version else "")
        sys.stderr.write(one_line(f.error).replace("error: ", f"error: {where}: ", 1) + "\n")
    return report_exit(report)


def add_mirror_command(sub: Any, common: argparse.ArgumentParser) -> None:
    """Register mirror."""
    p = sub.add_parser(
        "mirror",
        parents=[common],
        help="copy pin versions from one board to another, as bytes",
        description=(
            "Copy every version the target lacks, as bytes (data.txt byte for byte, files\n"
            "verified). Re-running skips what is already there, so an interrupted mirror\n"
            "finishes. Boards on one S3 endpoint copy server-side."
        ),
    )
    p.add_argument("source", help="board URL to copy from")
    p.add_argument("target", help="board URL to copy to")
    p.add_argument("--pin", action="append", metavar="NAME", help="only this pin (repeatable)")
    p.add_argument(
        "--versions", type=versions_arg, default="all", metavar="{all,latest,N}",
        help="which versions of each pin (default: all)",
    )  # fmt: skip
    p.add_argument("--since", metavar="TIME", help="only versions created at or after TIME")
    p.add_argument(
        "--dry-run", action="store_true", help="report what would happen; change nothing"
    )
    p.add_argument(
        "--delete", action="store_true",
        help="also delete target versions (and pins) the source does not have",
    )  # fmt: skip
    p.add_argument(
        "--allow-empty-source", action="store_true",
        help="with --delete: go on even if the source lists no pins (empties the target)",
    )  # fmt: skip
    p.add_argument(
        "--concurrency", type=int, default=8, metavar="N",
        help="versions and file transfers in flight (default: 8)",
    )  # fmt: skip
    p.add_argument("--stop-on-error", action="store_true", help="stop at the first failure")
    p.add_argument(
        "--shard", type=shard_arg, metavar="K/N",
        help="only the pins whose name hashes to K mod N (0 <= K < N): run 0/N..N-1/N "
        "anywhere to split one mirror",
    )  # fmt: skip
    p.set_defaults(func=cmd_mirror)
