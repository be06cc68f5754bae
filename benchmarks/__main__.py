"""``python -m benchmarks [--quick] [--only NAME ...] [--runs N] [--out PATH] [--markdown PATH]``.

Runs the scenarios (all, or those whose name or group prefix is given to --only), prints
the table and writes every row with its raw samples to --out as JSON. ``--markdown PATH``
renders an existing results file as the Markdown table used in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import signal
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `tests.servers` lives at the repository root
    sys.path.insert(0, str(ROOT))

from . import azure, connect, folder, gcs, memory, mirror, s3, scaleout, service, url, wan  # noqa: E402,F401  (register scenarios)
from ._core import REGISTRY, Context, Row, failed, scratch_root  # noqa: E402
from ._report import markdown_table, text_table  # noqa: E402
from ._servers import Servers  # noqa: E402


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    p.add_argument("--quick", action="store_true", help="small sizes: a smoke test (~2 min)")
    p.add_argument("--only", nargs="+", metavar="NAME",
                   help=f"scenarios or groups to run: {', '.join(REGISTRY)} (a prefix such "
                   "as 's3' selects a group)")  # fmt: skip
    p.add_argument("--runs", type=int, default=None, help="runs per measurement (default 5)")
    p.add_argument("--out", default="benchmarks/results.json", help="where to write JSON")
    p.add_argument("--merge", action="store_true",
                   help="keep the rows of --out for scenarios not run this time")  # fmt: skip
    p.add_argument("--markdown", metavar="RESULTS", help="print RESULTS as a Markdown table")
    p.add_argument("--list", action="store_true", help="list the scenarios and exit")
    return p.parse_args(argv)


#: run (and report) in the order of the issues: S3, WAN, memory, import, URL, folder, Connect...
ORDER = ("s3.", "wan.", "import", "url.", "folder.", "connect.", "mirror.", "dask.", "gcs.",
         "azure.", "service.")  # fmt: skip


def _rank(name: str) -> int:
    return next((i for i, p in enumerate(ORDER) if name.startswith(p)), len(ORDER))


def _selected(only: list[str] | None) -> list[str]:
    ordered = sorted(REGISTRY, key=_rank)  # stable: registration order within a group
    if not only:
        return ordered
    names = [n for n in ordered if any(n == o or n.startswith(o + ".") for o in only)]
    unknown = [o for o in only if not any(n == o or n.startswith(o + ".") for n in REGISTRY)]
    if unknown:
        raise SystemExit(f"unknown scenario(s): {', '.join(unknown)}; try --list")
    return names


def _machine() -> dict[str, object]:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
    }


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in (
        "apins",
        "pins",
        "s3fs",
        "gcsfs",
        "adlfs",
        "azure-storage-blob",
        "aiobotocore",
        "aiohttp",
        "pyarrow",
        "pandas",
    ):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "-"
    return out


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    if args.list:
        for name in _selected(None):
            print(f"{name:18} {REGISTRY[name][0]}")
        return 0
    if args.markdown:
        print(markdown_table(json.loads(Path(args.markdown).read_text())["rows"]))
        return 0
    names = _selected(args.only)
    # SIGTERM unwinds like Ctrl-C, so the servers below are stopped and scratch removed
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    runs = args.runs or (3 if args.quick else 5)
    work = scratch_root()
    ctx = Context(quick=args.quick, runs=runs, work=work, servers=Servers(work))
    rows: list[Row] = []
    started = time.monotonic()
    try:
        for name in names:
            group, fn = REGISTRY[name]
            t0 = time.monotonic()
            print(f"== {name} ({group})", file=sys.stderr, flush=True)
            try:
                got = fn(ctx)
            except Exception as exc:  # one broken scenario must not hide the others
                traceback.print_exc()
                got = [failed(group, name, exc)]
            for r in got:
                r.key = name
            rows.extend(got)
            for r in got:
                print(text_table([r.to_json()]).splitlines()[-1], file=sys.stderr, flush=True)
            print(f"   {time.monotonic() - t0:.1f} s", file=sys.stderr, flush=True)
    finally:
        ctx.servers.stop()
        shutil.rmtree(work, ignore_errors=True)
    new_rows = [r.to_json() for r in rows]
    out = Path(args.out)
    if args.merge and out.exists():
        old = [r for r in json.loads(out.read_text())["rows"] if r.get("key") not in names]
        order = {n: i for i, n in enumerate(_selected(None))}
        new_rows = sorted(old + new_rows, key=lambda r: order.get(r.get("key", ""), 99))
    result = {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "quick": args.quick,
        "runs": runs,
        "seconds": round(time.monotonic() - started, 1),
        "machine": _machine(),
        "versions": _versions(),
        "merged": bool(args.merge),
        "rows": new_rows,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(text_table(result["rows"]))  # type: ignore[arg-type]
    print(f"\n{len(rows)} rows in {result['seconds']} s; written to {out}")
    broken = [r for r in rows if r.status.startswith("error")]
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
