"""Logging for the ``apins`` command: ``--debug`` shows apins's own records, ``--debug-all``
adds the client libraries' (botocore, aiohttp...); every record is redacted on the way out."""

from __future__ import annotations

import logging
import sys

from .._redact import RedactingFilter, install

FORMAT = "apins: %(levelname)s: %(name)s: %(message)s"

_handler: logging.Handler | None = None


def setup_logging(*, debug: bool, debug_all: bool) -> None:
    """One stderr handler on the root logger, scrubbing secrets; levels from the flags.

    Without flags only errors are shown. ``--debug`` turns the ``apins`` loggers to DEBUG
    and leaves third-party loggers at WARNING; ``--debug-all`` turns every logger to DEBUG.
    """
    global _handler
    install()
    root = logging.getLogger()
    if _handler is not None:  # main() called again in one process (tests, notebooks)
        root.removeHandler(_handler)
    _handler = logging.StreamHandler(sys.stderr)
    _handler.setFormatter(logging.Formatter(FORMAT))
    _handler.addFilter(RedactingFilter())
    root.addHandler(_handler)
    if debug_all:
        root.setLevel(logging.DEBUG)
        logging.getLogger("apins").setLevel(logging.DEBUG)
    elif debug:
        root.setLevel(logging.WARNING)
        logging.getLogger("apins").setLevel(logging.DEBUG)
    else:
        root.setLevel(logging.ERROR)
        logging.getLogger("apins").setLevel(logging.ERROR)
