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
from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")
SLICE_S = 0.1  # the longest a pending Ctrl-C waits to be seen


def acquire(lock: threading.Lock, timeout: float | None) -> bool:
    """``lock.acquire(timeout=timeout)`` (``None``: no end), in slices; see the module."""
    for step in _slices(timeout):
        if lock.acquire(timeout=step):
            return True
    return lock.acquire(blocking=False)


def get(source: queue.Queue[T], timeout: float | None) -> T:
    """``source.get(timeout=timeout)`` (``None``: no end), in slices; raises
    ``queue.Empty`` once ``timeout`` passed."""
    for step in _slices(timeout):
        try:
            return source.get(timeout=step)
        except queue.Empty:
            pass
    return source.get(block=False)


def _slices(timeout: float | None) -> Iterator[float]:
    """The waits that make up ``timeout``: :data:`SLICE_S` each, the last shortened to
    end on time (``None``: no end); then one last look without waiting."""
    if timeout is None:
        while True:
            yield SLICE_S
    if not timeout >= 0:  # NaN too
        raise ValueError(f"timeout must be a number of seconds >= 0, or None; got {timeout!r}")
    end = time.monotonic() + timeout
    while (step := min(SLICE_S, end - time.monotonic())) > 0:
        yield step


__all__ = ["SLICE_S", "acquire", "get"]
