"""Resource probes and "nothing may go unnoticed" hooks, used in both processes.

* :class:`Hygiene` turns every warning into an error and records what Python
  would otherwise only print: unraisable exceptions (``ResourceWarning`` for an
  unclosed socket raised in ``__del__``), exceptions in threads, and every call
  of an event loop's exception handler ("Task exception was never retrieved",
  "Task was destroyed but it is pending", unclosed transports).
* :func:`count_fds`, :func:`fd_kinds`, :func:`thread_names`, :class:`MemoryProbe`
  and :func:`client_objects` measure what a leak would grow, in *this* process:
  the client process and the simulator process each measure themselves.
"""

from __future__ import annotations

import asyncio
import fnmatch
import gc
import os
import sys
import threading
import tracemalloc
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

# One traced frame per allocation: deep tracebacks make the run >10x slower.
TRACE_FRAMES = 1
# Never the client's: the soak's own files (its ledger grows by design) and an
# earlier snapshot alive while the next one is taken.
SOAK_FRAMES = (
    "*/soak/*",
    "*\\soak\\*",
    "*/tracemalloc.py",
    "<frozen importlib*>",
    "*/multiprocessing/connection.py",  # the control channel to the simulator process
)


@dataclass
class Hygiene:
    """Record every unraisable exception, thread crash, loop error and warning."""

    problems: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _saved: tuple[Any, ...] | None = None

    def record(self, text: str) -> None:
        with self._lock:
            self.problems.append(text)

    def install(self) -> None:
        self._saved = (
            sys.unraisablehook,
            threading.excepthook,
            warnings.filters[:],
            warnings.showwarning,
        )
        warnings.simplefilter("error")
        sys.unraisablehook = self._unraisable
        threading.excepthook = self._thread_crash
        warnings.showwarning = self._shown_warning  # type: ignore[assignment]

    def uninstall(self) -> None:
        if self._saved is None:
            return
        sys.unraisablehook, threading.excepthook, filters, warnings.showwarning = self._saved
        warnings.filters[:] = filters  # type: ignore[index]
        self._saved = None

    def watch_loop(self, loop: asyncio.AbstractEventLoop, name: str) -> None:
        """Route ``loop``'s exception handler here."""

        def handler(_loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
            message = context.get("message", "")
            exc = context.get("exception")
            extra = f" {type(exc).__name__}: {exc}" if exc is not None else ""
            what = context.get("task") or context.get("future") or context.get("handle") or ""
            self.record(f"[{name} loop] {message}{extra} {str(what)[:300]}")

        loop.set_exception_handler(handler)

    def _unraisable(self, unraisable: Any) -> None:
        exc = unraisable.exc_value
        self.record(
            f"[unraisable] {unraisable.err_msg or 'Exception ignored in'}: "
            f"{unraisable.object!r:.200} -> {type(exc).__name__}: {exc}"
        )

    def _thread_crash(self, args: Any) -> None:
        name = getattr(args.thread, "name", "?")
        self.record(f"[thread {name}] {args.exc_type.__name__}: {args.exc_value}")

    def _shown_warning(
        self, message: Any, category: Any, filename: str, lineno: int, *_: Any
    ) -> None:  # only reached for warnings a filter set to "default"/"always" after us
        self.record(f"[warning] {category.__name__}: {message} ({filename}:{lineno})")


def is_unclosed_socket(problem: str) -> bool:
    return "ResourceWarning" in problem and ("unclosed" in problem or "Unclosed" in problem)


def count_fds() -> int:
    """Open file descriptors of this process (sockets, epoll, self-pipes...)."""
    try:
        return len(os.listdir("/proc/self/fd"))
    except FileNotFoundError:  # pragma: no cover - not Linux
        return -1


def fd_kinds() -> dict[str, int]:
    """Open descriptors of this process by kind (socket, pipe, anon_inode:[eventpoll], file)."""
    kinds: dict[str, int] = {}
    try:
        names = os.listdir("/proc/self/fd")
    except FileNotFoundError:  # pragma: no cover
        return kinds
    for name in names:
        try:
            target = os.readlink(f"/proc/self/fd/{name}")
        except OSError:
            continue
        if target.startswith("anon_inode:"):
            kind = target
        else:
            kind = target.split(":", 1)[0] if ":" in target else "file"
        kinds[kind] = kinds.get(kind, 0) + 1
    return kinds


def thread_names() -> list[str]:
    return sorted(t.name for t in threading.enumerate())


def rss_kib() -> int:
    """Resident set size of this process (KiB), -1 when unknown."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:  # pragma: no cover
        pass
    return -1


class MemoryProbe:
    """Python memory of this process (tracemalloc), minus ``excluded`` files."""

    def __init__(self, excluded: Iterable[str] = SOAK_FRAMES) -> None:
        self.excluded = tuple(excluded)
        self._started_here = False

    def start(self) -> None:
        if not tracemalloc.is_tracing():
            tracemalloc.start(TRACE_FRAMES)
            self._started_here = True

    def stop(self) -> None:
        if self._started_here:
            tracemalloc.stop()
            self._started_here = False

    def snapshot(self) -> tracemalloc.Snapshot:
        gc.collect()
        snap = tracemalloc.take_snapshot()
        return snap.filter_traces(
            [tracemalloc.Filter(False, pattern, all_frames=True) for pattern in self.excluded]
        )

    @staticmethod
    def total(snapshot: tracemalloc.Snapshot) -> int:
        return sum(stat.size for stat in snapshot.statistics("filename"))


def top_growth(before: tracemalloc.Snapshot, after: tracemalloc.Snapshot, n: int = 6) -> list[str]:
    lines = []
    for stat in after.compare_to(before, "lineno")[:n]:
        if stat.size_diff <= 0:
            break
        frame = stat.traceback[0]
        lines.append(
            f"{frame.filename}:{frame.lineno} {stat.size_diff / 1024:+.1f} KiB"
            f" ({stat.count_diff:+d} blocks)"
        )
    return lines


def split_growth(
    before: tracemalloc.Snapshot, after: tracemalloc.Snapshot, files: Iterable[str]
) -> tuple[int, int, list[str]]:
    """(growth in ``files``, growth elsewhere, top lines in ``files``) in bytes."""
    patterns = tuple(files)
    mine = other = 0
    lines: list[str] = []
    for stat in after.compare_to(before, "lineno"):
        frame = stat.traceback[0]
        if any(fnmatch.fnmatch(frame.filename, p) for p in patterns):
            mine += stat.size_diff
            if stat.size_diff > 0 and len(lines) < 6:
                lines.append(f"{frame.filename}:{frame.lineno} {stat.size_diff / 1024:+.1f} KiB")
        else:
            other += stat.size_diff
    return mine, other, lines


def live_objects(modules: Iterable[str]) -> dict[str, int]:
    """Live gc-tracked objects whose type comes from ``modules``, by type (after a collection)."""
    roots = frozenset(modules)
    gc.collect()
    counts: dict[str, int] = {}
    for obj in gc.get_objects():
        try:
            kind = type(obj)
        except ReferenceError:  # a dead weakref proxy
            continue
        if kind is asyncio.TimerHandle and obj.cancelled():
            # A cancelled timer waits in the loop's heap until its due time (here at
            # most request_timeout): their number follows the recent request rate, not
            # a leak. Timers never cancelled are still counted.
            continue
        module = getattr(kind, "__module__", None)  # a descriptor on some metaclasses
        if isinstance(module, str) and module.split(".", 1)[0] in roots:
            name = f"{module}.{kind.__qualname__}"
            counts[name] = counts.get(name, 0) + 1
    return counts
