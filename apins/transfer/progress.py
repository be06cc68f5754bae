"""Progress helpers: sum the events of many transfers, or drive a tqdm bar."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..stores.base import ProgressEvent


class ProgressAggregator:
    """A progress callback that sums the transfers it sees and reports the totals.

    ``callback(done, total)`` receives the bytes moved so far over every key and the sum of
    the known totals (None while some transfer's total is unknown). Pass the aggregator
    itself wherever a ProgressCallback is expected.
    """

    def __init__(self, callback: Callable[[int, int | None], None]) -> None:
        self._callback = callback
        self._done: dict[str, int] = {}
        self._total: dict[str, int | None] = {}
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
        self._done[event.key] = event.done
        self._total[event.key] = event.total
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
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        self.bar.close()


def tqdm_progress(desc: str | None = None, **tqdm_kwargs: Any) -> TqdmProgress:
    """A callback that shows a byte progress bar (a widget in notebooks, text elsewhere).

    Needs tqdm: ``pip install apins[progress]``. Extra keyword arguments go to ``tqdm``.
    """
    try:
        from tqdm.auto import tqdm
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "tqdm_progress() needs tqdm; install it with: pip install 'apins[progress]'"
        ) from exc
    options: dict[str, Any] = {"unit": "B", "unit_scale": True, "unit_divisor": 1024}
    options.update(tqdm_kwargs)
    return TqdmProgress(tqdm(desc=desc, total=None, **options))
