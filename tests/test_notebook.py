"""A real Jupyter notebook (nbclient + ipykernel) using the sync facade inside the kernel's
running event loop."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

from tests._helpers import PYTHON, REPO

CELLS = [
    "import asyncio, sys\nasyncio.get_running_loop()  # Jupyter runs a loop\nprint(sys.executable)",
    "from apins import sync as pins\nimport pyarrow as pa\nboard = pins.board_folder(BOARD)\n"
    "print(board.pin_list())",
    "m1 = board.pin_write(pa.table({'city': ['Oslo', 'Lima'], 'temp': [3.5, 19.0]}), 'weather',"
    " type='parquet', title='weather')\n"
    "m2 = board.pin_write(pa.table({'city': ['Oslo', 'Lima', 'Pune'], 'temp': [3.5, 19.0, 31.25]}),"
    " 'weather', type='parquet')\n"
    "print(m1.version != m2.version)",
    "df = board.pin_read('weather', output='pandas')\nprint(df.to_dict('list'))",
    "old = board.pin_read('weather', m1.version)\nprint(old.to_pydict())",
    "import json\nprint(json.dumps([v.version for v in board.pin_versions('weather')]))\n"
    "print(json.dumps([m1.version, m2.version]))",
    "print(board.pin_list(), board.pin_meta('weather').title)",
]


@pytest.fixture
def kernel_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A ``python3`` kernelspec that runs this venv's python, with the repo importable."""
    prefix = tmp_path / "jupyter"
    subprocess.run(
        [PYTHON, "-m", "ipykernel", "install", "--prefix", str(prefix), "--name", "python3"],
        check=True,
        capture_output=True,
    )
    spec = json.loads((prefix / "share/jupyter/kernels/python3/kernel.json").read_text())
    assert spec["argv"][0] == PYTHON
    monkeypatch.setenv("JUPYTER_PATH", str(prefix / "share" / "jupyter"))
    monkeypatch.setenv("PYTHONPATH", str(REPO))


def _stdout(cell: Any) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stdout")


def test_notebook_uses_sync_facade(tmp_path: Path, kernel_env: None) -> None:
    board_dir = tmp_path / "board"
    board_dir.mkdir()  # an empty board (a missing one raises BoardNotFound)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(f"BOARD = {str(board_dir)!r}")] + [
        nbformat.v4.new_code_cell(src) for src in CELLS
    ]
    client = NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()  # raises CellExecutionError if any cell fails

    out = [_stdout(c) for c in nb.cells[1:]]
    assert out[0].strip() == PYTHON
    assert out[1].strip() == "[]"
    assert out[2].strip() == "True"
    assert out[3].strip() == "{'city': ['Oslo', 'Lima', 'Pune'], 'temp': [3.5, 19.0, 31.25]}"
    assert out[4].strip() == "{'city': ['Oslo', 'Lima'], 'temp': [3.5, 19.0]}"
    listed, written = (json.loads(line) for line in out[5].strip().splitlines())
    assert listed == written and len(listed) == 2
    assert out[6].strip() == "['weather'] weather: a pinned 3 x 2 data frame"
    assert (board_dir / "weather").is_dir()
    assert sorted(p.name for p in (board_dir / "weather").iterdir()) == listed
