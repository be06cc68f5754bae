"""The ``apins`` command line: a thin layer over the async API (one ``anyio.run`` per call).

apins list s3://bucket/board --endpoint-url http://127.0.0.1:8333
apins mirror connect://connect.example.org ./backup --versions latest --json
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Sequence
from typing import TextIO

import anyio

from .._redact import redact_exception_text, redact_text
from .context import Context
from .errors import exit_code, one_line
from .logs import setup_logging
from .parser import build_parser

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return its exit code (0 ok, 1 error, 2 usage, 3 not found)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    ctx = Context.from_args(args)
    setup_logging(debug=ctx.debug, debug_all=ctx.debug_all)
    warnings.showwarning = _show_warning
    try:
        code: int = anyio.run(args.func, args, ctx)
    except KeyboardInterrupt:
        sys.stderr.write("apins: interrupted\n")
        return 130
    except Exception as exc:
        if ctx.debug:
            sys.stderr.write(redact_exception_text(exc))
        sys.stderr.write(one_line(exc) + "\n")
        return exit_code(exc)
    sys.stdout.flush()
    return code


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    """Warnings (e.g. "serving the cache: the store is unreachable") as one plain line."""
    text = redact_text(" ".join(str(message).split()))
    (file or sys.stderr).write(f"apins: warning: {text}\n")
