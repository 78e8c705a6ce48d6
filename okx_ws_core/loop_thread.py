"""``LoopThread``: one asyncio event loop on its own daemon thread.

Shared by the blocking client (``WebsocketClient``) and the simulator's
``SimulatorThread``, so the two stop their loops the same way.  Pure asyncio
and threading on purpose: it imports nothing else from okx_ws_core, so the
simulator can use it without depending on the client it tests.

Shutdown follows :func:`asyncio.run`'s order: cancel the remaining tasks and
wait for them, *then* finalize async generators (a task may still be inside
one), then the default executor, then one more loop pass so transports closed
by those cancellations run their ``connection_lost`` and close their sockets
before the loop is closed.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class LoopThread:
    """A daemon thread running an event loop from construction until :meth:`stop`."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.loop = asyncio.new_event_loop()
        started = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(self.loop)
            self.loop.call_soon(started.set)
            self.loop.run_forever()

        self._thread = threading.Thread(target=run, name=name, daemon=True)
        self._thread.start()
        started.wait()

    @property
    def thread(self) -> threading.Thread:
        return self._thread

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run ``coro`` on the loop thread and block until it ends.

        One wake-up each way (``call_soon_threadsafe`` there, a released lock
        back): leaner than ``run_coroutine_threadsafe``, whose future chaining
        and condition variable cost a measurable share of a loopback round trip.
        Past ``timeout`` seconds the task is cancelled and ``TimeoutError`` raised.
        """
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError(f"cannot block on {self.name!r} from its own loop thread")
        if self.loop.is_closed():
            coro.close()
            raise RuntimeError(f"{self.name!r} is stopped")
        done = threading.Lock()
        done.acquire()
        task: list[asyncio.Task[T]] = []  # set on the loop thread, read after `done`

        def start() -> None:
            task.append(self.loop.create_task(coro))
            task[0].add_done_callback(lambda _: done.release())

        self.loop.call_soon_threadsafe(start)
        if not done.acquire(timeout=-1 if timeout is None else timeout):
            # Callbacks run in order: start() has run before this cancel.
            self.loop.call_soon_threadsafe(lambda: task[0].cancel())
            raise TimeoutError(f"{self.name!r}: no result within {timeout} s")
        return task[0].result()

    def call(self, fn: Callable[[], T], timeout: float | None = None) -> T:
        """Call ``fn()`` on the loop thread (where loop-bound state lives) and return its result."""

        async def call_fn() -> T:
            return fn()

        return self.run(call_fn(), timeout)

    def stop(self, timeout: float | None = 10.0) -> None:
        """Cancel what still runs on the loop, stop it, join the thread, close the loop.

        Idempotent.  ``timeout`` bounds the wait for cancelled tasks to finish.
        """
        if self.loop.is_closed():
            return

        async def shutdown() -> None:
            current = asyncio.current_task()
            tasks = [t for t in asyncio.all_tasks() if t is not current]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self.loop.shutdown_asyncgens()
            await self.loop.shutdown_default_executor()
            await asyncio.sleep(0)  # run transports' pending connection_lost (socket close)

        if self._thread.is_alive():
            try:
                asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(timeout)
            finally:
                self.loop.call_soon_threadsafe(self.loop.stop)
                self._thread.join(timeout)
        if not self._thread.is_alive():
            self.loop.close()


__all__ = ["LoopThread"]
