"""Run the emulator: ``ConnectEmulator`` (async context manager) and ``run_in_thread`` (sync)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import TracebackType

from aiohttp import web

from .app import build_app
from .core import Core, UserSpec, user_specs
from .counter import RequestCounter
from .store import Store
from .tasks import TaskRunner

UsersArg = Mapping[str, "str | tuple[str, str]"] | list[UserSpec] | None
GroupsArg = Mapping[str, list[str]] | None


class ConnectEmulator:
    """A Connect emulator bound to ``host:port`` (0 = a free port), persisting under ``root``.

    ``users`` maps a user name to an API key, or to ``(key, role)`` with role ``viewer``,
    ``publisher`` (the default) or ``administrator``. ``groups`` maps a group name to the
    names of its members. Use ``async with`` on a running loop.
    """

    def __init__(
        self,
        root: str | Path,
        users: UsersArg = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        groups: GroupsArg = None,
    ) -> None:
        self.root = Path(root)
        self._groups = dict(groups or {})
        self.host = host
        self._port = port
        if users is None:
            self._specs: list[UserSpec] = []
        elif isinstance(users, list):
            self._specs = [s.checked() for s in users]
        else:
            self._specs = user_specs(users)
        self.counter = RequestCounter()
        self._runner: web.AppRunner | None = None
        self._tasks: TaskRunner | None = None
        self._bound_port: int | None = None

    def __repr__(self) -> str:
        return f"ConnectEmulator(root={str(self.root)!r}, url={self._url_or_none()!r})"

    def _url_or_none(self) -> str | None:
        return None if self._bound_port is None else self.url

    @property
    def port(self) -> int:
        """The bound port (after start)."""
        if self._bound_port is None:
            raise RuntimeError("the emulator is not running")
        return self._bound_port

    @property
    def url(self) -> str:
        """``http://host:port`` (no trailing slash), for ``server_url``."""
        return f"http://{self.host}:{self.port}"

    @property
    def request_counts(self) -> dict[str, int]:
        """Requests so far by ``"METHOD /route/{pattern}"``."""
        return self.counter.snapshot()

    def reset_request_counts(self) -> None:
        """Forget the request counts."""
        self.counter.reset()

    async def start(self) -> None:
        """Load state, provision users and start listening."""
        self.root.mkdir(parents=True, exist_ok=True)
        store = Store(self.root)
        core = Core(store)
        core.provision(self._specs)
        core.provision_groups(self._groups)
        self._tasks = TaskRunner(core)
        await core.save()
        runner = web.AppRunner(build_app(core, self._tasks, self.counter), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self._port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._bound_port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        """Stop listening and let running deploy tasks finish."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._tasks is not None:
            await self._tasks.close()
            self._tasks = None

    async def __aenter__(self) -> ConnectEmulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


@contextlib.contextmanager
def run_in_thread(
    root: str | Path,
    users: UsersArg = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    groups: GroupsArg = None,
) -> Iterator[ConnectEmulator]:
    """Run a ConnectEmulator on its own event loop in a daemon thread (for sync clients)."""
    server = ConnectEmulator(root, users, host=host, port=port, groups=groups)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="connect-emulator", daemon=True)
    thread.start()
    try:
        asyncio.run_coroutine_threadsafe(server.start(), loop).result()
        try:
            yield server
        finally:
            asyncio.run_coroutine_threadsafe(server.stop(), loop).result()
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()
