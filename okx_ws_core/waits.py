"""Blocking waits that a Ctrl-C ends within a tenth of a second.

Why.  CPython runs a signal's Python handler on the main thread only, between
two bytecodes.  A thread blocked in a lock wait (``Lock.acquire``,
``queue.Queue.get``) is cut short only when the kernel delivers the signal to
that very thread *while* it sits in the wait's system call.  A Ctrl-C that
lands on another thread (the client's loop thread, say), or a few
microseconds before the wait's system call begins, is seen only when the wait
ends on its own: after the request's timeout, or never for a stream read
without one.  Measured here: a SIGINT delivered to a helper thread left
``lock.acquire(timeout=3)`` on the main thread waiting the full 3 s, and a
loaded CI machine hit the second case (a call interrupted 30 s late).

So the blocking client waits in slices of :data:`SLICE_S`: between two, the
main thread runs a bytecode, and a pending Ctrl-C raises there.  A slice
costs an idle waiter one wake-up, ten a second; never latency, as a release
still wakes the waiter at once.
"""

from __future__ import annotations

import queue
import threading
import time
from typing import TypeVar

T = TypeVar("T")
SLICE_S = 0.1  # the longest a pending Ctrl-C waits to be seen


def acquire(lock: threading.Lock, timeout: float | None) -> bool:
    """``lock.acquire(timeout=timeout)`` (``None``: no end), in slices; see the module."""
    end = _end(timeout)
    while True:
        step = SLICE_S if end is None else min(SLICE_S, end - time.monotonic())
        if step <= 0:
            return lock.acquire(blocking=False)
        if lock.acquire(timeout=step):
            return True


def get(source: queue.Queue[T], timeout: float | None) -> T:
    """``source.get(timeout=timeout)`` (``None``: no end), in slices; raises
    ``queue.Empty`` once ``timeout`` passed."""
    end = _end(timeout)
    while True:
        step = SLICE_S if end is None else min(SLICE_S, end - time.monotonic())
        if step <= 0:
            return source.get(block=False)
        try:
            return source.get(timeout=step)
        except queue.Empty:
            pass


def _end(timeout: float | None) -> float | None:
    if timeout is None:
        return None
    if not timeout >= 0:  # NaN too
        raise ValueError(f"timeout must be a number of seconds >= 0, or None; got {timeout!r}")
    return time.monotonic() + timeout


__all__ = ["SLICE_S", "acquire", "get"]
