"""Result rows, timing helpers, the run context and the scenario registry."""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

MiB = 1024 * 1024
GiB = 1024 * MiB

T = TypeVar("T")


@dataclass
class Row:
    """One measured comparison: apins against a reference (pins-python, curl, aria2c...).

    ``ratio`` is always "how many times better apins is" (reference time / apins time, or
    reference bytes / apins bytes for memory, or reference requests / apins requests), so
    a ratio above 1 favours apins. ``target`` is the minimum ratio the issue asks for.
    """

    group: str
    scenario: str
    unit: str
    apins: float | None = None
    reference: str = "pins-python"
    ref_value: float | None = None
    ratio: float | None = None
    target: float | None = None
    met: bool | None = None
    status: str = "ok"
    note: str = ""
    #: a target that is not a ratio (e.g. "<= 1 request"); shown instead of ``target``
    target_text: str = ""
    samples: dict[str, list[float]] = field(default_factory=dict)
    #: the registry name of the scenario that produced the row (for --merge)
    key: str = ""
    #: whose figure the ``apins`` column holds: "apins", or "pins-python" in an A/A row
    subject: str = "apins"
    #: bytes moved per sample when the samples are seconds and the values MB/s
    size: int | None = None

    def finish(self) -> Row:
        """Fill ``met`` from ``ratio`` and ``target``."""
        if self.ratio is not None and self.target is not None:
            self.met = self.ratio >= self.target
        return self

    def in_ms(self) -> Row:
        """The same row with its seconds (values and samples) turned into milliseconds."""
        self.unit = "ms"
        self.apins = None if self.apins is None else self.apins * 1000
        self.ref_value = None if self.ref_value is None else self.ref_value * 1000
        self.samples = {k: [x * 1000 for x in v] for k, v in self.samples.items()}
        return self

    def spread(self, side: str) -> tuple[float, float] | None:
        """(min, max) of one side's samples in the row's unit (see :func:`spread`)."""
        shown = self.apins if side == self.subject else self.ref_value
        return spread(self.samples.get(side), shown, self.size)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["apins_range"] = self.spread(self.subject)
        out["ref_range"] = self.spread(self.reference)
        return out


def spread(
    samples: list[float] | None, shown: float | None, size: int | None
) -> tuple[float, float] | None:
    """(min, max) of ``samples`` in the unit of ``shown`` (MB/s when ``size`` is given and the
    samples are seconds), or None when the samples are not what ``shown`` is the median of
    (a count, a derived figure, no samples)."""
    if not samples or shown is None or (size and min(samples) <= 0):
        return None
    mid = mbps(size, median(samples)) if size else median(samples)
    if abs(mid - shown) > 1e-9 * max(1.0, abs(shown)):
        return None
    vals = [mbps(size, x) for x in samples] if size else samples
    return min(vals), max(vals)


def unavailable(group: str, scenario: str, why: str) -> Row:
    """A row saying a scenario could not run (a missing feature or tool): never a fake number."""
    return Row(group, scenario, unit="-", status=f"not available yet: {why}")


def failed(group: str, scenario: str, exc: BaseException) -> Row:
    """A row recording that a scenario crashed (the message, never a number)."""
    while getattr(exc, "exceptions", None):  # an exception group: report its first leaf
        exc = exc.exceptions[0]  # type: ignore[attr-defined]
    text = f"{type(exc).__name__}: {exc}".replace("\n", " ")
    return Row(group, scenario, unit="-", status=f"error: {text[:300]}")


def median(xs: list[float]) -> float:
    return float(statistics.median(xs))


def mbps(size: int, seconds: float) -> float:
    """Throughput in MB/s (10^6 bytes per second, as curl and the issues report it)."""
    return size / seconds / 1e6


def timed(fn: Callable[[], T]) -> tuple[float, T]:
    """Run ``fn`` once; return (seconds, result)."""
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


async def atimed(coro: Awaitable[T]) -> tuple[float, T]:
    """Await ``coro``; return (seconds, result)."""
    t0 = time.perf_counter()
    out = await coro
    return time.perf_counter() - t0, out


def run_async(fn: Callable[[], Awaitable[T]]) -> T:
    """Run an async function on a fresh event loop (one per measurement, like a script)."""
    return asyncio.run(fn())  # type: ignore[arg-type]


def time_rows(
    group: str,
    scenario: str,
    apins_s: list[float],
    ref_s: list[float],
    *,
    reference: str = "pins-python",
    target: float | None = None,
    size: int | None = None,
    note: str = "",
    subject: str = "apins",
) -> Row:
    """A row from timing samples. With ``size`` the values are MB/s, else seconds.

    ``subject`` names whose samples ``apins_s`` are: an A/A row puts pins-python there and
    compares it with a second, interleaved series of pins-python runs.
    """
    a, r = median(apins_s), median(ref_s)
    if subject == reference:
        raise ValueError("an A/A row needs distinct labels for its two series")
    row = Row(
        group,
        scenario,
        unit="MB/s" if size else "s",
        apins=mbps(size, a) if size else a,
        reference=reference,
        ref_value=mbps(size, r) if size else r,
        ratio=r / a if a > 0 else None,
        target=target,
        note=note,
        samples={subject: apins_s, reference: ref_s},
        subject=subject,
        size=size,
    )
    return row.finish()


#: the reference label of an A/A row's second series of pins-python runs
PINS_AGAIN = "pins-python (2nd series)"


def aa_row(group: str, scenario: str, first: list[float], second: list[float],
           size: int | None = None, who: str = "pins-python") -> Row:  # fmt: skip
    """The A/A row: ``who`` (pins-python unless said) against itself, two series
    interleaved in the same run.

    Its ratio is the noise floor of the group: a ratio of apins against pins-python within
    this distance of 1 says nothing. A second series shorter than the first (see
    :func:`first_rounds`) is said in the row's note.
    """
    note = f"two interleaved series of the same {who} runs: the noise floor"
    if len(second) < len(first):
        note += (f"; the 2nd series has {len(second)} runs (the first {len(first)}), "
                 "to keep the whole run short")  # fmt: skip
    return time_rows(
        group, f"{scenario} (A/A: {who} against itself)", first, second,
        reference=f"{who} (2nd series)", size=size, subject=who, note=note,
    )  # fmt: skip


@dataclass
class Context:
    """What every scenario gets: sizes, run count, scratch space and the shared servers."""

    quick: bool
    runs: int
    work: Path
    servers: Any  # benchmarks._servers.Servers
    #: data prepared once per run and shared by scenarios (files, buckets, boards)
    state: dict[str, Any] = field(default_factory=dict)

    @property
    def n_runs(self) -> int:
        return self.runs

    def pick(self, full: int, quick: int) -> int:
        return quick if self.quick else full

    def fresh_dir(self, label: str) -> Path:
        """A new empty folder under the scratch space (e.g. a cold cache)."""
        path = self.work / f"{label}-{uuid.uuid4().hex[:8]}"
        path.mkdir(parents=True)
        return path

    @contextmanager
    def cold_cache(self, label: str) -> Iterator[Path]:
        """A fresh cache folder, also exported as PINS_CACHE_DIR, removed afterwards.

        Cold also means nothing remembered in memory: apins's process-wide memo of parsed
        data.txt files is emptied, so every cold run GETs data.txt as a new process would.
        """
        from apins._memo import METAS

        METAS.clear()
        path = self.fresh_dir(f"cache-{label}")
        old = os.environ.get("PINS_CACHE_DIR")
        os.environ["PINS_CACHE_DIR"] = str(path)
        try:
            yield path
        finally:
            if old is None:
                os.environ.pop("PINS_CACHE_DIR", None)
            else:
                os.environ["PINS_CACHE_DIR"] = old
            shutil.rmtree(path, ignore_errors=True)


def scratch_root() -> Path:
    """A scratch folder for one benchmark run (big files live here)."""
    return Path(tempfile.mkdtemp(prefix="apins-bench-"))


def alternate(runs: int, *steps: Callable[[], object]) -> None:
    """Run the steps ``runs`` times, reversing their order every other round."""
    for i in range(runs):
        for step in steps if i % 2 == 0 else steps[::-1]:
            step()


def first_rounds(k: int, step: Callable[[], object]) -> Callable[[], None]:
    """``step`` for :func:`alternate` that runs in the first ``k`` rounds only (an A/A
    second series of an expensive call, kept short)."""
    done = 0

    def run() -> None:
        nonlocal done
        if done < k:
            done += 1
            step()

    return run


Scenario = Callable[[Context], list[Row]]

#: name -> (group, function); filled by the scenario modules' @scenario decorators
REGISTRY: dict[str, tuple[str, Scenario]] = {}


def scenario(name: str, group: str) -> Callable[[Scenario], Scenario]:
    """Register a scenario under ``name`` (``--only`` matches names and their prefixes)."""

    def deco(fn: Scenario) -> Scenario:
        REGISTRY[name] = (group, fn)
        return fn

    return deco


def big_file(ctx: Context, size: int) -> Path:
    """A random file of ``size`` bytes, written once per run and shared by the groups."""
    key = f"file-{size}"
    if key not in ctx.state:
        ctx.state[key] = write_random_file(ctx.work / "data" / f"big-{size}.bin", size)
    path: Path = ctx.state[key]
    return path


def write_random_file(path: Path, size: int) -> Path:
    """A file of ``size`` incompressible bytes (written in 8 MiB chunks)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    chunk = os.urandom(8 * MiB)
    with open(path, "wb") as f:
        left = size
        i = 0
        while left > 0:
            n = min(left, len(chunk))
            # vary the chunk so no two chunks are equal (defeats any dedup)
            f.write(i.to_bytes(8, "little") + chunk[8:n] if n > 8 else chunk[:n])
            left -= n
            i += 1
    return path
