"""Progress for transfers: sum the events of many transfers, draw one tqdm bar, and turn a
verb's ``progress=`` argument (True, False, None or a callback) into a callback.

``APINS_PROGRESS=0`` in the environment turns every bar off (explicit callbacks still run).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from ..stores.base import ProgressCallback, ProgressEvent

#: what a verb's ``progress=`` accepts: True for a bar, False for none, None for the board's
#: default, or a callback receiving :class:`~apins.ProgressEvent`\\ s
Progress = bool | ProgressCallback | None


class ProgressAggregator:
    """A progress callback that sums the transfers it sees and reports the totals.

    ``callback(done, total)`` receives the bytes moved so far over every transfer leg (a
    mirror's download and upload of one key count separately) and the sum of the known
    totals (None while some leg's total is unknown).
    """

    def __init__(self, callback: Callable[[int, int | None], None]) -> None:
        self._callback = callback
        self._done: dict[tuple[str, str], int] = {}
        self._total: dict[tuple[str, str], int | None] = {}
        self.finished: set[str] = set()

    @property
    def done(self) -> int:
        return sum(self._done.values())

    @property
    def total(self) -> int | None:
        totals = list(self._total.values())
        if any(t is None for t in totals):
            return None
        return sum(t for t in totals if t is not None)

    def __call__(self, event: ProgressEvent) -> None:
        leg = (event.direction, event.key)
        self._done[leg] = event.done
        self._total[leg] = event.total
        if event.finished:
            self.finished.add(event.key)
        self._callback(self.done, self.total)


class TqdmProgress(ProgressAggregator):
    """A progress callback drawing one tqdm bar for all transfers; ``close()`` when done."""

    def __init__(self, bar: Any) -> None:
        self.bar = bar
        super().__init__(self._update)

    def _update(self, done: int, total: int | None) -> None:
        if total is not None and self.bar.total != total:
            self.bar.total = total
            self.bar.refresh()
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        self.bar.close()


def bars_disabled() -> bool:
    """True when ``APINS_PROGRESS`` is set to 0/false/no/off."""
    return os.environ.get("APINS_PROGRESS", "").strip().lower() in {"0", "false", "no", "off"}


def tqdm_progress(desc: str | None = None, **tqdm_kwargs: Any) -> TqdmProgress:
    """A callback that shows a byte progress bar (the widget in Jupyter, text elsewhere).

    Extra keyword arguments go to ``tqdm``.
    """
    from tqdm.auto import tqdm

    options: dict[str, Any] = {"unit": "B", "unit_scale": True, "unit_divisor": 1024}
    options.update(tqdm_kwargs)
    if bars_disabled():
        options["disable"] = True
    return TqdmProgress(tqdm(desc=desc, total=None, **options))


def terminal_bar(desc: str) -> TqdmProgress | None:
    """A text bar on stderr when it is a terminal and bars are not turned off; else None."""
    if bars_disabled() or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return TqdmProgress(
        tqdm(desc=desc, total=None, unit="B", unit_scale=True, unit_divisor=1024, file=sys.stderr)
    )


@contextmanager
def progress_scope(
    progress: Progress, default: Progress, desc: str
) -> Iterator[ProgressCallback | None]:
    """The callback a verb passes down: ``progress``, else the board's ``default``; True
    becomes a bar named ``desc`` that is closed when the verb ends."""
    chosen = default if progress is None else progress
    if chosen is None or chosen is False:
        yield None
        return
    if chosen is True:
        if bars_disabled():
            yield None
            return
        bar = tqdm_progress(desc)
        try:
            yield bar
        finally:
            bar.close()
        return
    if not callable(chosen):
        raise TypeError(f"progress= takes True, False, None or a callback, not {chosen!r}")
    yield chosen
