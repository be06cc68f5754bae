"""Deploy tasks: run in the background, expose output lines, and let pollers long-wait.

A deploy extracts and checks the bundle in a worker thread; on success the bundle becomes the
content's active bundle (``bundle_id``, ``app_mode``, ``content_category`` from the manifest).
On failure the task finishes with ``code`` 1 and the reason in ``error``; the content is untouched.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import string

from . import bundles, timefmt
from .core import Core
from .models import TaskRecord

_log = logging.getLogger(__name__)
_ALPHABET = string.ascii_letters + string.digits


def new_task_id() -> str:
    """A Connect-style task id: 16 letters and digits."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(16))


class TaskRunner:
    """Starts deploy tasks and wakes up pollers when a task changes."""

    def __init__(self, core: Core) -> None:
        self.core = core
        self._changed: dict[str, asyncio.Event] = {}
        self._running: set[asyncio.Task[None]] = set()
        self._deploying: dict[int, asyncio.Task[None]] = {}
        for task in core.state.tasks.values():  # tasks cut off by a restart
            if not task.finished:
                task.output.append("Task interrupted: the server restarted.")
                self._finish(task, 1, "The task was interrupted by a server restart.")

    def start_deploy(self, user_guid: str, content_guid: str, bundle_id: int) -> TaskRecord:
        """Create a deploy task, schedule it on the running loop, and return it."""
        task = TaskRecord(id=new_task_id(), user_guid=user_guid)
        while task.id in self.core.state.tasks:
            task.id = new_task_id()
        self.core.state.tasks[task.id] = task
        job = asyncio.get_running_loop().create_task(self._deploy(task, content_guid, bundle_id))
        self._running.add(job)
        job.add_done_callback(self._running.discard)
        self._deploying[bundle_id] = job
        job.add_done_callback(lambda _job: self._forget_deploy(bundle_id, job))
        return task

    def _forget_deploy(self, bundle_id: int, job: asyncio.Task[None]) -> None:
        if self._deploying.get(bundle_id) is job:
            del self._deploying[bundle_id]

    async def settled(self, bundle_id: int, timeout: float = 30.0) -> None:
        """Wait (at most ``timeout`` s) for a running deploy of ``bundle_id`` to finish.

        Content URLs call this, so a file requested right after ``deploy`` is answered from
        the deployed bundle, not with a 404 that depends on who wins the race.
        """
        job = self._deploying.get(bundle_id)
        if job is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(job), timeout)

    async def wait(self, task: TaskRecord, timeout: float) -> None:
        """Return once ``task`` has finished or ``timeout`` seconds passed (Connect's ``wait``)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not task.finished:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            event = self._changed.setdefault(task.id, asyncio.Event())
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    async def close(self) -> None:
        """Let running deploys finish (they are short) before the server stops."""
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)

    def _emit(self, task: TaskRecord, line: str) -> None:
        task.output.append(line)
        self._wake(task)

    def _finish(self, task: TaskRecord, code: int, error: str) -> None:
        task.code = code
        task.error = error
        task.finished = True
        self._wake(task)

    def _wake(self, task: TaskRecord) -> None:
        event = self._changed.pop(task.id, None)
        if event is not None:
            event.set()

    async def _deploy(self, task: TaskRecord, content_guid: str, bundle_id: int) -> None:
        store = self.core.store
        try:
            self._emit(task, f"Deploying bundle: {bundle_id}")
            self._emit(task, "Building static content...")
            await self.core.save()
            try:
                manifest = await asyncio.to_thread(
                    bundles.extract, store.archive_path(bundle_id), store.files_path(bundle_id)
                )
            except bundles.BundleInvalid as e:
                self._emit(task, str(e))
                self._finish(task, 1, str(e))
                return
            state = self.core.state
            content = state.content.get(content_guid)
            bundle = state.bundles.get(bundle_id)
            if content is None or bundle is None:
                msg = "The content or bundle was deleted during the deploy."
                self._emit(task, msg)
                self._finish(task, 1, msg)
                return
            bundle.deployed = True
            bundle.primary_html = manifest.primary_html
            content.bundle_id = bundle_id
            content.app_mode = manifest.appmode
            content.content_category = manifest.content_category
            content.parameterized = manifest.has_parameters
            content.cluster_name = "Local"
            content.last_deployed_time = timefmt.now()
            self._emit(task, "Launching static content...")
            self._finish(task, 0, "")
        except Exception as e:  # a bug or an I/O failure: report it as Connect would
            _log.exception("deploy task %s failed", task.id)
            if not task.finished:
                self._finish(task, 1, f"An internal failure occurred: {type(e).__name__}")
        finally:
            await self.core.save()
