"""Issue 15: examples/pin_service.py under load, beside the same service on pins-python.

Both services run as their own processes on loopback, serving one table pin on S3
(SeaweedFS). The load generator (here, one event loop) keeps 100 clients busy until it has
made ``requests`` requests or ``seconds`` have passed, and reports requests per second and
the p50/p99 latency of each request, and the CPU time the service process spent per request
(from ``/proc/<pid>/stat``: the figure that stays put when the machine is busy, where
requests per second also measure the load generator and whatever else shares the cores).
Each service answers a short warm-up load on a route before its measured runs. Two routes:

* ``/rows``: a page of the in-memory table (the pin is read once per version);
* ``/latest-meta``: the pin's latest metadata, asked of S3 on every request.

The apins service is also measured twice (A/A), which shows the noise of the machine.
"""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._boards import feature, pins_available
from ._core import Context, Row, median, scenario, unavailable
from ._proc import process_cpu

GROUP = "Service under load (100 clients, pin on S3)"
ROOT = Path(__file__).resolve().parent.parent
CLIENTS = 100
ROWS = 20_000
#: the reference label of the A/A rows' second series of apins runs
APINS_AGAIN = "apins (2nd series)"
#: requests each service answers on a route before its measured runs
WARM_UP = 300


@dataclass
class Load:
    """One load run: requests done, failures, seconds, latencies in seconds, and the
    service's CPU seconds during the run (None where /proc is not there)."""

    done: int
    failed: int
    seconds: float
    latencies: list[float]
    cpu: float | None = None

    @property
    def cpu_per_request(self) -> float | None:
        """The service's CPU time per successful request, in microseconds."""
        if self.cpu is None or not self.done:
            return None
        return self.cpu / self.done * 1e6

    @property
    def rps(self) -> float:
        return self.done / self.seconds if self.seconds > 0 else 0.0

    def quantile(self, q: float) -> float:
        xs = sorted(self.latencies)
        return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else float("nan")


async def generate(url: str, path: str, *, requests: int, seconds: float) -> Load:
    """``CLIENTS`` concurrent clients until ``requests`` are made or ``seconds`` pass."""
    import aiohttp

    assert url.startswith("http://127.0.0.1:"), "the load generator is for loopback only"
    latencies: list[float] = []
    failed = 0
    budget = iter(range(requests))
    deadline = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=CLIENTS)

    async def client(session: aiohttp.ClientSession, seed: int) -> None:
        nonlocal failed
        rnd = random.Random(seed)
        for _ in budget:
            if time.perf_counter() > deadline:
                return
            params = {"offset": str(rnd.randrange(ROWS - 100)), "limit": "100"}
            t0 = time.perf_counter()
            try:
                async with session.get(url + path, params=params) as r:
                    await r.read()
                    ok = r.status == 200
            except aiohttp.ClientError:
                ok = False
            if ok:
                latencies.append(time.perf_counter() - t0)
            else:
                failed += 1

    async with aiohttp.ClientSession(connector=connector) as session:
        t0 = time.perf_counter()
        await asyncio.gather(*(client(session, i) for i in range(CLIENTS)))
        elapsed = time.perf_counter() - t0
    return Load(len(latencies), failed, elapsed, latencies)


class Service:
    """A service process; ``url`` once it listens and has loaded the pin."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("listening on "):
            self.stop()
            raise RuntimeError(f"{argv[1]} did not start: {line!r}")
        self.url = line.split()[-1]
        asyncio.run(self._wait_ready())

    async def _wait_ready(self, timeout: float = 120) -> None:
        import aiohttp

        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as s:
            while time.monotonic() < deadline:
                async with s.get(self.url + "/version") as r:
                    if r.status == 200:
                        return
                await asyncio.sleep(0.1)
        raise TimeoutError("the service never loaded the pin")

    def cpu_seconds(self) -> float | None:
        """User + system CPU time of the process so far, all threads (Linux only)."""
        return process_cpu(self.proc.pid)

    def load(self, path: str, *, requests: int, seconds: float) -> Load:
        """One load run on ``path``, with the CPU time the service spent on it."""
        before = self.cpu_seconds()
        out = asyncio.run(generate(self.url, path, requests=requests, seconds=seconds))
        after = self.cpu_seconds()
        if before is not None and after is not None:
            out.cpu = after - before
        return out

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _setup(ctx: Context) -> dict[str, Any]:
    if "service" in ctx.state:
        return ctx.state["service"]  # type: ignore[no-any-return]
    import pyarrow as pa

    from ._boards import apins_s3
    from ._core import run_async

    server = ctx.servers.seaweed
    bucket = server.make_bucket("svc")
    table = pa.table({"gen": [1] * ROWS, "i": list(range(ROWS)),
                      "name": [f"row {i}" for i in range(ROWS)]})  # fmt: skip

    async def write() -> None:
        async with apins_s3(server, bucket, "svc", False) as board:
            await board.pin_write(table, "rows", type="parquet")

    run_async(write)
    env = dict(os.environ)
    env.update(AWS_ACCESS_KEY_ID=server.access_key, AWS_SECRET_ACCESS_KEY=server.secret_key)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    spec = f"s3://{bucket}/svc"
    ctx.state["service"] = {
        "env": env,
        "apins": [sys.executable, str(ROOT / "examples" / "pin_service.py"),
                  f"{spec}?endpoint_url={server.endpoint_url}&region={server.region}", "rows",
                  "--port", "0", "--interval", "5"],
        "pins": [sys.executable, str(ROOT / "benchmarks" / "_pins_service.py"), spec, "rows",
                 "--endpoint-url", server.endpoint_url, "--region", server.region,
                 "--interval", "5"],
    }  # fmt: skip
    return ctx.state["service"]  # type: ignore[no-any-return]


def _rows(name: str, a: list[Load], p: list[Load], a2: list[Load], note: str) -> list[Row]:
    def stat(loads: list[Load], what: str) -> float:
        return median([_one(x, what) for x in loads])

    measures = [("rps", "req/s"), ("p50", "ms"), ("p99", "ms")]
    if all(x.cpu_per_request is not None for x in a + p + a2):
        measures.append(("cpu", "µs"))
    label = {"rps": "requests per second", "p50": "p50 latency", "p99": "p99 latency",
             "cpu": "service CPU per request"}  # fmt: skip
    out = []
    # the A/A row's reference is a series of its own: its samples (and spread) are a2's
    for ref_name, ref in (("pins-python", p), (APINS_AGAIN, a2)):
        aa = " (A/A: apins against itself)" if ref_name == APINS_AGAIN else ""
        for what, unit in measures:
            av, rv = stat(a, what), stat(ref, what)
            ratio = (av / rv if what == "rps" else rv / av) if av > 0 and rv > 0 else None
            failures = sum(x.failed for x in a) + sum(x.failed for x in ref)
            out.append(Row(
                GROUP, f"{name}: {label[what]}{aa}", unit=unit, apins=av, reference=ref_name,
                ref_value=rv, ratio=ratio,
                note=(note if not aa else "two identical runs: the noise floor")
                + (f"; {failures} failed requests" if failures else ""),
                samples={"apins": [_one(x, what) for x in a],
                         ref_name: [_one(x, what) for x in ref]},
            ))  # fmt: skip
    return out


def _one(load: Load, what: str) -> float:
    if what == "rps":
        return load.rps
    if what == "cpu":
        return load.cpu_per_request or 0.0
    return load.quantile(0.5 if what == "p50" else 0.99) * 1000


@scenario("service.load", GROUP)
def load(ctx: Context) -> list[Row]:
    why = pins_available() or feature("aiohttp")
    if why:
        return [unavailable(GROUP, "service under load", why)]
    setup = _setup(ctx)
    requests = ctx.pick(3000, 600)
    seconds = ctx.pick(20.0, 10.0)
    services = {k: Service(setup[k], setup["env"]) for k in ("apins", "pins")}
    rows: list[Row] = []
    try:
        for path, note in (
            ("/rows", "the table is in memory: the HTTP stack and JSON, not S3"),
            ("/latest-meta", "S3 asked per request: apins shares one listing among "
                             "overlapping requests; pins-python lists per request in threads"),
        ):  # fmt: skip
            a: list[Load] = []
            a2: list[Load] = []
            p: list[Load] = []

            for s in services.values():  # first answers of a route: not measured
                s.load(path, requests=WARM_UP, seconds=seconds)
            plan = [("apins", a), ("pins", p), ("apins", a2)]
            for i in range(ctx.runs):
                for kind, out in plan if i % 2 == 0 else plan[::-1]:
                    out.append(services[kind].load(path, requests=requests, seconds=seconds))
            rows += _rows(f"GET {path}", a, p, a2, note)
    finally:
        for s in services.values():
            s.stop()
    return rows
