"""Smoke test of the benchmark harness: a cheap scenario runs and yields ratio rows.

No timing is asserted; the numbers themselves belong to `nox -s bench`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_quick_import_scenario_produces_ratio_rows(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--only", "import", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(out.read_text())
    assert result["quick"] is True
    rows = result["rows"]
    assert rows, "no rows written"
    for row in rows:
        assert row["status"] == "ok"
        assert row["key"] == "import"
        assert row["reference"] == "pins-python"
        assert row["ratio"] is not None and row["ratio"] > 0
        assert len(row["samples"]["apins"]) == len(row["samples"]["pins-python"]) >= 3
    # the table printed on stdout names every scenario
    for row in rows:
        assert row["scenario"][:40] in proc.stdout


def test_quick_folder_scenario_reports_spreads_and_a_pins_aa_row(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--only", "folder", "--runs", "3",
         "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = json.loads(out.read_text())["rows"]
    assert [r["status"] for r in rows] == ["ok", "ok"]
    main, aa = rows
    assert (main["subject"], main["reference"]) == ("apins", "pins-python")
    assert (aa["subject"], aa["reference"]) == ("pins-python", "pins-python (2nd series)")
    assert "A/A" in aa["scenario"]
    for row in rows:  # medians in ms with the min-max of three samples around them
        lo, hi = row["apins_range"]
        assert lo <= row["apins"] <= hi
        assert len(row["samples"][row["subject"]]) == 3
    assert aa["samples"]["pins-python"] == main["samples"]["pins-python"]


def test_quick_s3_upload_reports_a_pins_aa_row_and_cpu_per_mb(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--only", "s3.upload", "--runs", "2",
         "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = {r["scenario"]: r for r in json.loads(out.read_text())["rows"]}
    main = rows["pin_upload 16 MiB file"]
    aa = rows["pin_upload 16 MiB file (A/A: pins-python against itself)"]
    assert (aa["subject"], aa["reference"]) == ("pins-python", "pins-python (2nd series)")
    assert aa["samples"]["pins-python"] == main["samples"]["pins-python"]
    assert len(aa["samples"]["pins-python (2nd series)"]) == 2
    for who in ("server", "client"):
        cpu = rows[f"pin_upload 16 MiB file: {who} CPU per MB"]
        assert cpu["unit"] == "CPU ms/MB" and cpu["target"] is None and cpu["met"] is None
        # SeaweedFS and either client spend some CPU on every MB, and less than a second
        for side in ("apins", "pins-python"):
            assert all(0 < x < 1000 for x in cpu["samples"][side]), cpu["samples"]


def test_unknown_scenario_is_refused() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--only", "no-such-scenario"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode != 0
    assert "unknown scenario" in proc.stderr
