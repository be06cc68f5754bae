"""Issue 13: pin_download on a folder board (the files are already local: no transfer)."""

from __future__ import annotations

import time
from pathlib import Path

from ._core import Context, MiB, Row, aa_row, alternate, big_file, run_async, scenario, time_rows

GROUP = "Folder board"


def _folder_board(ctx: Context) -> Path:
    """A folder board holding the big file as the pin ``big`` (made once per run)."""
    if "folder" not in ctx.state:
        import apins

        root = ctx.fresh_dir("folder-board")
        big = big_file(ctx, ctx.pick(256 * MiB, 16 * MiB))

        async def setup() -> None:
            async with apins.board_folder(root) as board:
                await board.pin_upload(big, name="big")

        run_async(setup)
        _settle(root)
        ctx.state["folder"] = root
    path: Path = ctx.state["folder"]
    return path


def _settle(root: Path) -> None:
    """Wait until every file of the board is older than the racy-timestamp window
    (``apins._stat_stamp``): the steady state of a board whose pins were written earlier.
    A file changed within that window is hashed again on each call (its stat cannot vouch
    for its bytes yet); measured right after the upload, the first calls all fell in it."""
    from apins._stat_stamp import racy_ns

    for path in root.rglob("*"):
        if path.is_file():
            ctime = path.stat().st_ctime_ns
            wait = ctime + racy_ns(ctime) - time.time_ns()
            if wait > 0:
                time.sleep(wait / 1e9 + 0.01)


def _apins(root: Path, size: int) -> float:
    import apins

    async def go() -> float:
        async with apins.board_folder(root) as board:
            t0 = time.perf_counter()
            paths = await board.pin_download("big")
            dt = time.perf_counter() - t0
        assert Path(paths[0]).stat().st_size == size
        return dt

    return run_async(go)


def _pins(root: Path, size: int) -> float:
    import pins

    board = pins.board_folder(str(root))
    t0 = time.perf_counter()
    paths = board.pin_download("big")
    dt = time.perf_counter() - t0
    assert Path(paths[0]).stat().st_size == size
    return dt


@scenario("folder.download", GROUP)
def download(ctx: Context) -> list[Row]:
    root = _folder_board(ctx)
    size = big_file(ctx, ctx.pick(256 * MiB, 16 * MiB)).stat().st_size
    t: dict[str, list[float]] = {"a": [], "p": [], "p2": []}
    alternate(
        ctx.runs,
        lambda: t["a"].append(_apins(root, size)),
        lambda: t["p"].append(_pins(root, size)),
        lambda: t["p2"].append(_pins(root, size)),
    )
    name = f"pin_download of a {size // MiB} MiB file pin (a new board object per call)"
    note = ("both return the path inside the board folder; pins-python checks nothing, "
            "apins must not hand out a file whose bytes no longer match pin_hash; measured "
            "once the pin's files are older than the 100 ms racy-timestamp window")  # fmt: skip
    rows = [
        time_rows(GROUP, name, t["a"], t["p"], target=0.25, note=note),
        aa_row(GROUP, name, t["p"], t["p2"]),
    ]
    return [r.in_ms() for r in rows]
