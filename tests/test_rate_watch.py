"""The rule that joins a slow first download stream with ranges (``_RateWatch``), fed with
arrival times: a hiccup of a fast stream must not split it, a slow stream must."""

from __future__ import annotations

from apins.transfer.download import _RateWatch

MiB = 1024 * 1024


def feed(arrivals: list[tuple[float, int]]) -> float | None:
    """Replays (time, bytes) arrivals; returns the time at which the watch said "slow"."""
    clock = [0.0]
    fired: list[float] = []
    watch = _RateWatch(100e6, lambda: fired.append(clock[0]), clock=lambda: clock[0])
    for at, n in arrivals:
        clock[0] = at
        watch(n)
    return fired[0] if fired else None


def stream(start: float, end: float, rate: float, chunk: int = MiB) -> list[tuple[float, int]]:
    step = chunk / rate
    count = int((end - start) / step)
    return [(start + i * step, chunk) for i in range(1, count + 1)]


def test_a_start_up_stall_of_a_fast_stream_does_not_split_it() -> None:
    # first byte, then 0.3 s of nothing, then 500 MB/s for 3 s
    arrivals = [(0.0, MiB), *stream(0.3, 3.3, 500e6)]
    assert feed(arrivals) is None


def test_a_short_stall_mid_transfer_does_not_split() -> None:
    arrivals = [(0.0, MiB), *stream(0.0, 2.2, 500e6), *stream(2.5, 5.0, 500e6)]
    assert feed(arrivals) is None


def test_a_stream_below_the_floor_splits_within_about_half_a_second() -> None:
    fired = feed([(0.0, MiB), *stream(0.0, 3.0, 25e6)])
    assert fired is not None and 0.5 <= fired < 0.6


def test_a_stream_that_slows_down_later_splits() -> None:
    arrivals = [(0.0, MiB), *stream(0.0, 4.0, 500e6), *stream(4.0, 8.0, 20e6)]
    fired = feed(arrivals)
    assert fired is not None and 4.0 < fired < 6.1
