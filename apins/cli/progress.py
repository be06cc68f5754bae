"""Progress bars for CLI transfers: one bar on stderr, only when it is a terminal."""

from __future__ import annotations

from ..transfer.progress import TqdmProgress, terminal_bar


def make_bar(desc: str, enabled: bool) -> TqdmProgress | None:
    """A bar unless ``--no-progress``, ``APINS_PROGRESS=0`` or stderr is not a terminal."""
    return terminal_bar(desc) if enabled else None


Bar = TqdmProgress
