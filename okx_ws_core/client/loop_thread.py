"""``LoopThread``: one asyncio event loop on its own daemon thread.

Shared by the blocking client (``WebsocketClient``) and the simulator's
``SimulatorThread``, so the two stop their loops the same way.  Pure asyncio
and threading on purpose: it imports nothing else from okx_ws_core but
:mod:`.lent_loop` and :mod:`okx_ws_core.waits` (pure too), so the simulator
can use it without depending on the client it tests.  While the loop thread
waits for I/O it lends the loop to a caller: a request's first step
(``run(..., inline=True)``) or a quick call (:meth:`LoopThread.call`) then
runs on the caller's thread (see :mod:`.lent_loop`).

Shutdown follows :func:`asyncio.run`'s order: cancel the remaining tasks and
wait for them, *then* finalize async generators (a task may still be inside
one), then the default executor, then one more loop pass so transports closed
by those cancellations run their ``connection_lost`` and close their sockets
before the loop is closed.

No caller is left blocked: a Ctrl-C (``KeyboardInterrupt``) while waiting
cancels the task it waited for (seen within a wait slice wherever the kernel
delivered it, :mod:`okx_ws_core.waits`), and :meth:`LoopThread.stop` releases
every caller still waiting (with :class:`LoopStopped`), even when the loop did
not stop in time (a callback blocking the loop thread).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from typing import Any, Generic, TypeVar, cast

from .. import waits
from .lent_loop import Lending, PausingSelector, lendable, new_loop, start_here

T = TypeVar("T")
_CANCEL_WAIT_S = 1.0  # after a Ctrl-C: how long to let the cancelled task finish
_POLL_S = 0.05  # stop(): how often to look whether the loop thread ended on its own


class LoopStopped(RuntimeError):
    """The loop thread is stopped, or stopped (cancelling the task) before the call ended."""


class _Waiter(Generic[T]):
    """One blocked caller: released once, by the end of its work or by stop()."""

    __slots__ = (
        "lock", "result", "error", "abandoned", "task", "handle", "coro", "started", "cancelled",
    )  # fmt: skip

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.lock.acquire()
        self.result: T | None = None
        self.error: BaseException | None = None  # set on the loop thread, like result
        self.abandoned = False  # released by stop() before its work ended
        self.task: asyncio.Task[None] | None = None  # run(): the task driving the coroutine
        self.handle: asyncio.Handle | None = None  # call(): the callback, until it ran
        self.coro: Coroutine[Any, Any, T] | None = None  # run(): what the task awaits
        self.started = False  # the task took its first step (on the loop thread)
        self.cancelled = False  # the caller gave up (on the loop thread)

    def outcome(self, name: str) -> T:
        """The result, or the error raised again, once released."""
        if self.abandoned:
            raise LoopStopped(f"{name!r} stopped before the call ended")
        error = self.error
        if error is not None:
            if isinstance(
                error, asyncio.CancelledError
            ):  # by stop(): it cancels what it did not start
                raise LoopStopped(f"{name!r} stopped (cancelling the call) before it ended")
            raise error
        return cast(T, self.result)


class LoopThread:
    """A daemon thread running an event loop from construction until :meth:`stop`."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.loop, self._selector = new_loop()
        self._borrower: int | None = None  # the caller's thread running a first step (run)
        started = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(self.loop)
            if self._selector is not None:  # never let go once the loop ends: nothing to lend
                self._selector.owner.acquire()
            self.loop.call_soon(started.set)
            self.loop.run_forever()

        self._thread = threading.Thread(target=run, name=name, daemon=True)
        self._waiters: set[_Waiter[Any]] = set()  # blocked in run(); guarded by _lock
        self._abandoned: list[_Waiter[Any]] = []  # released by stop(), coroutine unstarted
        self._lock = threading.Lock()
        self._stop_lock = threading.Lock()
        self._stopping = False
        self._shut_down = threading.Event()
        self._thread.start()
        started.wait()

    @property
    def thread(self) -> threading.Thread:
        return self._thread

    def on_loop_thread(self) -> bool:
        """True on the loop thread, or on a caller's thread while it runs a first step
        there (see :meth:`run`): where blocking on the loop deadlocks, and where its
        state may be used directly."""
        return threading.current_thread() is self._thread or self._borrower == threading.get_ident()

    def run(
        self, coro: Coroutine[Any, Any, T], timeout: float | None = None, *, inline: bool = False
    ) -> T:
        """Run ``coro`` on the loop thread and block until it ends.

        ``inline``: when the loop thread is idle, waiting for I/O, run the task's
        first step here instead, up to its first wait (:mod:`.lent_loop`): a
        request's frame is then written from this thread, and only the reply
        crosses threads.  Else, or when the loop is busy, it is handed over:

        one wake-up each way: ``call_soon_threadsafe`` there, and back a lock
        that the coroutine's own task releases as it ends (not a done-callback,
        which would cost one more loop iteration, nor ``run_coroutine_threadsafe``,
        whose future chaining and condition variable cost more still).
        Past ``timeout`` seconds the task is cancelled and ``TimeoutError`` raised;
        a ``KeyboardInterrupt`` while waiting cancels it too (then propagates).
        Raises :class:`LoopStopped` if the loop stops before the task ends.
        """
        if self.on_loop_thread():
            coro.close()
            raise RuntimeError(f"cannot block on {self.name!r} from its own loop thread")
        waiter: _Waiter[T] = self._enlist(coro.close)
        waiter.coro = coro

        def hand_over() -> None:
            if inline and self._start_here(coro, waiter):
                return
            try:
                self.loop.call_soon_threadsafe(self._start, coro, waiter)
            except RuntimeError:  # closed by a stop() that began after the check in _enlist
                coro.close()
                raise LoopStopped(f"{self.name!r} is stopped") from None

        return self._wait(waiter, timeout, hand_over)

    def call(self, fn: Callable[[], T], timeout: float | None = None) -> T:
        """Call ``fn()`` where loop-bound state lives and return its result.

        While the loop thread waits for I/O, ``fn`` runs right here with the loop
        lent to this thread (:mod:`.lent_loop`): no thread is woken.  Else it is
        a plain callback on the loop thread, no task: one wake-up each way.  Past
        ``timeout`` (or on a Ctrl-C) a call that has not run yet never runs.
        """
        if self.on_loop_thread():
            return fn()
        selector = self._borrow()
        if selector is not None:
            try:
                with Lending(self.loop, selector):
                    return fn()
            finally:
                self._give_back(selector)
        waiter: _Waiter[T] = self._enlist(None)

        def invoke() -> None:
            try:
                waiter.result = fn()
            except Exception as exc:  # raised again on the caller's thread
                waiter.error = exc
            finally:
                self._release(waiter)

        def hand_over() -> None:
            try:
                waiter.handle = self.loop.call_soon_threadsafe(invoke)
            except RuntimeError:
                raise LoopStopped(f"{self.name!r} is stopped") from None

        return self._wait(waiter, timeout, hand_over)

    def _enlist(self, close: Callable[[], None] | None) -> _Waiter[Any]:
        waiter: _Waiter[Any] = _Waiter()
        with self._lock:
            if self._stopping or self.loop.is_closed():
                if close is not None:
                    close()
                raise LoopStopped(f"{self.name!r} is stopped")
            self._waiters.add(waiter)
        return waiter

    def _start(self, coro: Coroutine[Any, Any, T], waiter: _Waiter[T]) -> None:
        waiter.task = self.loop.create_task(self._drive(coro, waiter))

    def _start_here(self, coro: Coroutine[Any, Any, T], waiter: _Waiter[T]) -> bool:
        """Start the task and run its first step on this thread, if the loop is free."""
        selector = self._borrow()
        if selector is None:
            return False  # hand over

        def make_task() -> asyncio.Task[None]:
            task = waiter.task = self.loop.create_task(self._drive(coro, waiter))
            return task

        try:
            start_here(self.loop, selector, make_task)
            return True
        finally:
            self._give_back(selector)

    def _borrow(self) -> PausingSelector | None:
        """Take the loop for this thread if its thread waits for I/O with nothing queued
        (see :mod:`.lent_loop`); ``None``: it is busy, stopping or never lent."""
        selector = self._selector
        if selector is None or not selector.owner.acquire(blocking=False):
            return None
        self._borrower = threading.get_ident()
        if self._stopping or self.loop.is_closed() or not lendable(self.loop):
            self._give_back(selector)  # stopping: the hand-over raises LoopStopped
            return None
        return selector

    def _give_back(self, selector: PausingSelector) -> None:
        self._borrower = None
        selector.owner.release()

    async def _drive(self, coro: Coroutine[Any, Any, T], waiter: _Waiter[T]) -> None:
        """Await ``coro``, keep its outcome for the caller and release it at once.

        No done-callback: it would cost every call one more loop iteration, during
        which the woken caller waits for the GIL.  So a task is never cancelled
        before this first step (see :meth:`_cancel` and :meth:`_shutdown`)."""
        waiter.started = True
        try:
            if waiter.cancelled:  # the caller gave up before the task began
                coro.close()
                raise asyncio.CancelledError
            waiter.result = await coro
        except (Exception, asyncio.CancelledError) as exc:  # the caller raises it
            waiter.error = exc
        finally:
            self._release(waiter)

    def _wait(self, waiter: _Waiter[T], timeout: float | None, hand_over: Callable[[], None]) -> T:
        """Hand the work to the loop thread and block until it ends.

        One ``try`` covers both: a Ctrl-C lands on whatever bytecode runs, so also
        after the hand-over and before the wait began, and the work must not run on."""
        try:
            hand_over()
            done = waits.acquire(waiter.lock, timeout)  # in slices: a Ctrl-C is seen
        except LoopStopped:  # the loop is stopped: nothing was handed over
            raise
        except BaseException:  # KeyboardInterrupt (Ctrl-C): the caller gave up, so does the task
            self._cancel(waiter)
            waiter.lock.acquire(timeout=_CANCEL_WAIT_S)  # a second Ctrl-C may cut it short
            raise
        if not done:
            self._cancel(waiter)
            raise TimeoutError(f"{self.name!r}: no result within {timeout} s")
        return waiter.outcome(self.name)

    def _release(self, waiter: _Waiter[Any]) -> None:
        """Wake ``waiter`` once: whoever takes it out of the set releases it."""
        with self._lock:
            if waiter not in self._waiters:
                return
            self._waiters.discard(waiter)
        waiter.lock.release()

    def _cancel(self, waiter: _Waiter[Any]) -> None:
        handle = waiter.handle
        if handle is not None:  # call(): a callback that has not run yet never will
            handle.cancel()
            self._release(waiter)
            return

        def cancel() -> None:
            waiter.cancelled = True
            if waiter.task is not None and waiter.started:
                waiter.task.cancel()

        try:  # callbacks run in order: _start has run before this one
            self.loop.call_soon_threadsafe(cancel)
        except RuntimeError:  # the loop is closed: nothing runs any more
            pass

    def stop(self, timeout: float | None = 10.0) -> bool:
        """Cancel what still runs on the loop, stop it, join the thread, close the loop.

        Idempotent.  ``timeout`` bounds the wait for cancelled tasks to finish, and
        again the join.  Every caller still blocked in :meth:`run` is released
        (:class:`LoopStopped`) even if the loop did not stop.  Returns whether it
        stopped; if not (a callback blocks the loop thread), the daemon thread is
        left running and a later call finishes the job once it is free.
        """
        with self._lock:
            self._stopping = True
        with self._stop_lock:  # one stop() at a time: another waits, then finds it done
            return self._stop(timeout)

    def _stop(self, timeout: float | None) -> bool:
        if self.loop.is_closed():
            return True
        if self._thread.is_alive():
            try:  # past the timeout (a callback blocks the loop): stop anyway, release callers
                self.loop.call_soon_threadsafe(lambda: self.loop.create_task(self._shutdown()))
                self._wait_shut_down(timeout)
            finally:
                self.loop.call_soon_threadsafe(self.loop.stop)
                self._thread.join(timeout)
                self._abandon_waiters()
        if self._thread.is_alive():
            return False
        if not self._shut_down.is_set():  # the loop stopped amid the shutdown: finish it here
            for task in asyncio.all_tasks(self.loop):
                task.cancel()  # an earlier shutdown too, before it runs and cancels this one
            shutdown = self.loop.create_task(self._shutdown())
            while not shutdown.done():
                try:
                    self.loop.run_until_complete(shutdown)
                except RuntimeError:  # "stopped before Future completed": an earlier stop()
                    pass
        self.loop.close()
        return True

    def _wait_shut_down(self, timeout: float | None) -> None:
        """Until the shutdown is done, the loop thread has ended, or ``timeout`` passed."""
        clock = self.loop.time  # monotonic, and callable from any thread
        end = None if timeout is None else clock() + timeout
        while not self._shut_down.is_set() and self._thread.is_alive():
            step = _POLL_S if end is None else min(_POLL_S, end - clock())
            if step <= 0:
                return
            self._shut_down.wait(step)

    async def _shutdown(self) -> None:
        current = asyncio.current_task()
        tasks = [t for t in asyncio.all_tasks() if t is not current]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._close_unstarted()  # tasks cancelled before their first step
        await self.loop.shutdown_asyncgens()
        await self.loop.shutdown_default_executor()
        await asyncio.sleep(0)  # run transports' pending connection_lost (socket close)
        self._shut_down.set()

    def _close_unstarted(self) -> None:
        """Close the coroutines that never began (no "never awaited" warning), the
        abandoned callers' too: a stop() that gave up may leave the loop to end
        before their tasks' first step, and a task cancelled then never runs its
        coroutine's body, which would close it."""
        with self._lock:
            waiters = [*self._waiters, *self._abandoned]
            self._abandoned = []
        for waiter in waiters:
            if waiter.coro is not None and not waiter.started:
                waiter.coro.close()

    def _abandon_waiters(self) -> None:
        if not self._thread.is_alive():
            self._close_unstarted()
        with self._lock:
            waiters, self._waiters = self._waiters, set()
            self._abandoned.extend(w for w in waiters if w.coro is not None and not w.started)
        for waiter in waiters:
            waiter.abandoned = True
            waiter.lock.release()


__all__ = ["LoopStopped", "LoopThread"]
