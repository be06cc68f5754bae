"""The benchmark report: medians with the spread of their samples, and A/A rows."""

from __future__ import annotations

import pytest

from benchmarks._core import PINS_AGAIN, MiB, aa_row, alternate, first_rounds, time_rows
from benchmarks._report import markdown_table, text_table


def test_throughput_row_shows_min_max_in_mb_per_s_for_an_even_sample_count() -> None:
    # 1, 2, 4 and 8 seconds for 100 MB: medians of seconds (3 s) -> 33.3 MB/s
    row = time_rows("g", "download", [1.0, 2.0, 4.0, 8.0], [2.0, 2.0], size=100_000_000)
    data = row.to_json()
    assert data["apins"] == pytest.approx(100 / 3)
    assert data["apins_range"] == pytest.approx((12.5, 100.0))
    assert data["ref_range"] == pytest.approx((50.0, 50.0))
    assert "33.3 (12.5-100)" in markdown_table([data])


def test_millisecond_rows_keep_their_spread() -> None:
    row = time_rows("g", "warm read", [0.001, 0.003, 0.002], [0.010, 0.030, 0.020]).in_ms()
    data = row.to_json()
    assert data["apins"] == pytest.approx(2.0) and data["apins_range"] == pytest.approx((1, 3))
    assert data["ref_range"] == pytest.approx((10.0, 30.0))
    assert row.ratio == pytest.approx(10.0)


def test_a_count_row_has_no_spread() -> None:
    row = time_rows("g", "requests", [1.0, 1.0], [5.0, 5.0])
    row.apins, row.ref_value = 1, 5  # a derived figure: the samples are not its median
    row.samples = {"apins": [0.1, 0.2], "pins-python": [0.3, 0.4]}
    data = row.to_json()
    assert data["apins_range"] is None and data["ref_range"] is None
    assert "(0." not in text_table([data]).splitlines()[-1]


def test_aa_row_compares_pins_python_with_its_own_second_series() -> None:
    first, second = [1.0, 1.1, 0.9], [1.0, 1.2, 1.0]
    row = aa_row("S3", "cold pin_download", first, second, size=256 * MiB)
    assert row.subject == "pins-python" and row.reference == PINS_AGAIN
    assert row.samples == {"pins-python": first, PINS_AGAIN: second}
    assert row.ratio == pytest.approx(1.0)
    assert row.to_json()["apins_range"] is not None
    assert "A/A: pins-python against itself" in markdown_table([row.to_json()])


def test_a_short_second_series_is_said_in_the_aa_rows_note() -> None:
    row = aa_row("Mirror", "mirror S3 -> S3", [30.0, 29.0, 31.0, 30.0, 28.0], [31.0, 29.0])
    assert "2nd series has 2 runs (the first 5)" in row.note
    assert row.ratio == pytest.approx(30.0 / 30.0)
    same = aa_row("Mirror", "mirror S3 -> S3", [30.0, 29.0], [31.0, 29.0])
    assert "2nd series has" not in same.note


def test_an_aa_row_of_another_subject_names_it() -> None:
    row = aa_row("Dask", "mirror", [2.0, 2.2], [2.1, 2.3], who="2 workers")
    assert (row.subject, row.reference) == ("2 workers", "2 workers (2nd series)")
    assert "(A/A: 2 workers against itself)" in row.scenario
    assert row.to_json()["ref_range"] == pytest.approx((2.1, 2.3))


def test_first_rounds_runs_a_step_in_the_first_rounds_only() -> None:
    calls: list[str] = []
    alternate(5, lambda: calls.append("a"), first_rounds(2, lambda: calls.append("b")))
    assert calls.count("a") == 5 and calls.count("b") == 2
    assert calls[:4] == ["a", "b", "b", "a"]  # alternating order in the rounds it runs


def test_an_aa_row_with_one_label_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="distinct"):
        time_rows("g", "x", [1.0], [1.0], reference="pins-python", subject="pins-python")


def test_profile_names_the_s3_operation_of_each_aiohttp_request() -> None:
    from benchmarks._profile import s3_operation

    base = "http://127.0.0.1:9000/bkt"
    lst = f"GET {base}/?list-type=2&prefix=b%2F&X-Amz-Signature=*** -> 200, 512 bytes, 1.0 ms"
    get = f"GET {base}/b/big/v/big.bin?X-Amz-Signature=*** -> 200, 1048576 bytes, 3.0 ms"
    assert s3_operation(lst) == "ListObjectsV2"
    assert s3_operation(get) == "GetObject"
    assert s3_operation(f"PUT {base}/b/x -> 200, 3 bytes, 1.0 ms") == "PUT (aiohttp)"
