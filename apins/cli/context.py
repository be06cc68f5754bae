"""What every sub-command gets: the parsed options and a way to open boards."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .boards import S3Options, open_board, s3_options
from .progress import Bar, make_bar

if TYPE_CHECKING:
    from ..board import Board


@dataclass(frozen=True, slots=True)
class Context:
    """Global options, resolved (flags before or after the sub-command both count)."""

    json: bool
    debug: bool
    debug_all: bool
    progress: bool
    s3: S3Options
    allow_pickle_read: bool | None

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Context:
        return cls(
            json=bool(getattr(args, "json", False)),
            debug=bool(getattr(args, "debug", False) or getattr(args, "debug_all", False)),
            debug_all=bool(getattr(args, "debug_all", False)),
            progress=not getattr(args, "no_progress", False),
            s3=s3_options(
                getattr(args, "endpoint_url", None),
                getattr(args, "region", None),
                getattr(args, "profile", None),
            ),
            allow_pickle_read=None,
        )

    def board(self, spec: str) -> Board:
        """The board named by ``spec`` (see :func:`apins.cli.boards.open_board`)."""
        return open_board(spec, self.s3, allow_pickle_read=self.allow_pickle_read)

    def bar(self, desc: str) -> Bar | None:
        """A progress bar for transfers, or None (--no-progress, no terminal, no tqdm)."""
        return make_bar(desc, self.progress)
