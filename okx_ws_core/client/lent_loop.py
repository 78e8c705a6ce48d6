"""An event loop whose thread lends it to a caller's thread while it waits for I/O.

Why.  A blocking call used to cross threads twice: the caller woke the loop
thread to start the request, and the loop thread woke the caller with the
reply.  Each crossing is a thread wake-up, 12-35 µs of latency and about
17 µs of CPU on a 2-core VM (``python -m bench.blocking_ab``).  While the
loop thread has nothing to do but wait for I/O, the caller can start the
request itself: it takes the loop, runs its task's first step (validation,
admission, the frame written to the socket) exactly as the loop thread
would, and lets go.  Only the reply crosses threads.  A quick call (reading
the order tracker, ``in_flight``) runs entirely here the same way: no
crossing at all.

How the loop stays single-threaded.  The loop thread holds ``owner`` whenever
it runs loop code: :class:`PausingSelector` lets go of it only for the system
call that waits for I/O, and takes it back before any event is dispatched.
A caller holding ``owner`` thus has the loop to itself (the loop thread is
parked in that wait, or on the lock).  What the step leaves for the loop
(a callback queued, a timer due before the wait would end) wakes the loop
thread when the caller lets go.

It uses asyncio internals, each pinned by ``tests/test_lent_loop.py``:
``BaseEventLoop._ready`` and ``_scheduled`` (what is queued), ``Handle._run``
(to run the task's first step), ``asyncio._set_running_loop`` and the
``__self__`` of a task step's callback.  Where one is missing
(:func:`has_internals` at the loop's making; a step callback without
``__self__`` leaves the step to the loop thread), the loop is not this
module's (Windows' proactor, an installed policy such as uvloop), asyncio
debug mode is on or the loop is busy, nothing is lent (:func:`lendable`) and
the caller hands the work over as before.
"""

from __future__ import annotations

import asyncio
import collections
import math
import selectors
import sys
import threading
import time
from collections.abc import Callable
from typing import Any


class PausingSelector(selectors.DefaultSelector):
    """The loop thread's selector: it lets go of the loop only while it waits for I/O.

    ``until`` is when the current wait ends on its own (loop time), so that a
    caller knows whether a timer it armed needs the loop thread woken.
    """

    def __init__(self) -> None:
        super().__init__()
        self.owner = threading.Lock()
        self.until = math.inf

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        self.until = math.inf if timeout is None else time.monotonic() + timeout
        self.owner.release()
        try:
            return super().select(timeout)
        finally:
            self.owner.acquire()


def new_loop() -> tuple[asyncio.AbstractEventLoop, PausingSelector | None]:
    """A loop for a loop thread, and its selector when the loop can be lent.

    Only where asyncio would make a plain selector loop anyway: a loop of another
    kind (uvloop's policy, Windows' proactor) is kept, and never lent.  The loop
    asyncio makes decides, not the policy's type: ``get_event_loop_policy`` and the
    policy classes are deprecated in Python 3.14.
    """
    loop = asyncio.new_event_loop()
    if sys.platform == "win32" or type(loop) is not asyncio.SelectorEventLoop:
        return loop, None
    selector = PausingSelector()
    lent = asyncio.SelectorEventLoop(selector)
    if not has_internals(lent):  # a Python whose asyncio differs: never lent, still served
        lent.close()
        return loop, None
    loop.close()
    return lent, selector


def has_internals(loop: Any) -> bool:
    """Whether ``loop`` has the asyncio internals lending uses (see the module's doc)."""
    return (
        isinstance(getattr(loop, "_ready", None), collections.deque)
        and isinstance(getattr(loop, "_scheduled", None), list)
        and callable(getattr(asyncio.Handle, "_run", None))
        and callable(getattr(asyncio, "_get_running_loop", None))
        and callable(getattr(asyncio, "_set_running_loop", None))
    )


class Lending:
    """``with Lending(loop, selector):`` runs its block as the loop thread would.

    The caller must hold ``selector.owner`` and have checked :func:`lendable`.
    Inside, this loop is the running loop of this thread; on the way out, what
    the block left for the loop (a callback queued, a timer due before the loop
    thread's wait ends) wakes the loop thread.
    """

    __slots__ = ("loop", "selector", "first", "previous")

    def __init__(self, loop: Any, selector: PausingSelector) -> None:
        self.loop = loop
        self.selector = selector

    def __enter__(self) -> None:
        timers = self.loop._scheduled
        self.first = timers[0].when() if timers else math.inf  # what the wait was timed by
        self.previous = asyncio._get_running_loop()
        asyncio._set_running_loop(self.loop)

    def __exit__(self, *exc: object) -> None:
        asyncio._set_running_loop(self.previous)
        loop, timers = self.loop, self.loop._scheduled
        if loop._ready or (timers and timers[0].when() < min(self.first, self.selector.until)):
            loop.call_soon_threadsafe(_nothing)


def lendable(loop: Any) -> bool:
    """Whether a caller holding the loop may run loop code now: nothing is queued (else it
    is handed over, to run in order) and asyncio's debug mode (its thread checks) is off."""
    return not loop._ready and not loop.get_debug()


def start_here(
    loop: Any, selector: PausingSelector, make_task: Callable[[], asyncio.Task[Any]]
) -> asyncio.Task[Any]:
    """Make a task on ``loop`` and run its first step on this thread.

    The caller must hold ``selector.owner`` and have checked :func:`lendable`.
    The step runs as the loop thread would run it (this loop running, the task
    current) up to the task's first wait, typically for the reply; the rest
    runs on the loop thread.
    """
    with Lending(loop, selector):
        task = make_task()
        step = _take_step(loop._ready, task)
        if step is not None:  # else it stays queued, and the loop thread is woken for it
            step._run()
    return task


def _take_step(ready: Any, task: asyncio.Task[Any]) -> asyncio.Handle | None:
    """The first step of ``task``, taken off the queue if it is first in it.

    The queue was empty when the task was made, and the loop thread, the only
    other taker, is parked: other threads only append (``call_soon_threadsafe``)
    at the other end.  So reading the head and popping it cannot race; one of
    theirs ahead of the step leaves the step queued, for the loop thread.
    """
    if ready and getattr(ready[0]._callback, "__self__", None) is task:
        return ready.popleft()  # type: ignore[no-any-return]
    return None


def _nothing() -> None:
    """Queued to wake the loop thread."""


__all__ = ["Lending", "PausingSelector", "has_internals", "lendable", "new_loop", "start_here"]
