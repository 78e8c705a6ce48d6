"""Resource probes and "nothing may go unnoticed" hooks for the chaos soak.

* :class:`Hygiene` turns every warning into an error and records what Python
  would otherwise only print: unraisable exceptions (``ResourceWarning`` for an
  unclosed socket raised in ``__del__``), exceptions in threads, and every call
  of an event loop's exception handler ("Task exception was never retrieved",
  "Task was destroyed but it is pending", unclosed transports).  Any record
  fails the run.
* :func:`count_fds`, :func:`thread_names` and :class:`MemoryProbe` measure what
  a leak would grow: file descriptors, threads, asyncio tasks (counted on each
  loop, see ``soak.py``) and Python memory that is *not* the simulator's order
  book or the soak's own ledger.
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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

# Memory the soak must not blame on the client: the simulator (its order book
# legitimately grows with every order) and the soak itself (its ledger grows by
# design).  Tracing one frame per allocation keeps the overhead bearable (deep
# tracebacks make the run >10x slower), so a trace is attributed to the file of
# the innermost Python frame; see :func:`own_simulator_json` for the one place
# where that frame would otherwise be json/decoder.py.
_EXCLUDED_FRAMES = (
    "*okx_ws_sim*",
    "*tools/soak*",
    "*tools\\soak*",
    "*/tracemalloc.py",  # the earlier snapshot, alive while the next one is taken
    "<frozen importlib*>",  # a module imported lazily between two snapshots
)
TRACE_FRAMES = 1


@dataclass
class Hygiene:
    """Record every unraisable exception, thread crash, loop error and warning."""

    problems: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _saved: tuple[Any, ...] | None = None

    def record(self, text: str) -> None:
        with self._lock:
            self.problems.append(text)

    # -- installation ------------------------------------------------------------
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
        warnings.showwarning = self._shown_warning

    def uninstall(self) -> None:
        if self._saved is None:
            return
        sys.unraisablehook, threading.excepthook, filters, warnings.showwarning = self._saved
        warnings.filters[:] = filters
        self._saved = None

    @contextmanager
    def installed(self) -> Iterator[Hygiene]:
        self.install()
        try:
            yield self
        finally:
            self.uninstall()

    def watch_loop(self, loop: asyncio.AbstractEventLoop, name: str) -> None:
        """Route ``loop``'s exception handler here (set on the loop's own thread ideally;
        assigning the attribute from another thread is harmless before it is used)."""

        def handler(_loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
            message = context.get("message", "")
            exc = context.get("exception")
            extra = f" {type(exc).__name__}: {exc}" if exc is not None else ""
            what = context.get("task") or context.get("future") or context.get("handle") or ""
            self.record(f"[{name} loop] {message}{extra} {str(what)[:300]}")

        loop.set_exception_handler(handler)

    # -- hooks -----------------------------------------------------------------------
    def _unraisable(self, unraisable: Any) -> None:
        exc = unraisable.exc_value
        self.record(
            f"[unraisable] {unraisable.err_msg or 'Exception ignored in'}: "
            f"{unraisable.object!r:.200} -> {type(exc).__name__}: {exc}"
        )

    def _thread_crash(self, args: Any) -> None:
        self.record(
            f"[thread {getattr(args.thread, 'name', '?')}] {args.exc_type.__name__}: {args.exc_value}"
        )

    def _shown_warning(
        self, message: Any, category: Any, filename: str, lineno: int, *_: Any
    ) -> None:  # only reached for warnings a filter set to "default"/"always" after us
        self.record(f"[warning] {category.__name__}: {message} ({filename}:{lineno})")


def count_fds() -> int:
    """Open file descriptors of this process (sockets, epoll, self-pipes...)."""
    try:
        return len(os.listdir("/proc/self/fd"))
    except FileNotFoundError:  # pragma: no cover - not Linux
        return -1


def fd_kinds() -> dict[str, int]:
    """Open descriptors by kind (socket, pipe, anon_inode:[eventpoll], file)."""
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
        kind = target.split(":", 1)[0] if ":" in target else "file"
        if target.startswith("anon_inode:"):
            kind = target
        kinds[kind] = kinds.get(kind, 0) + 1
    return kinds


def thread_names() -> list[str]:
    return sorted(t.name for t in threading.enumerate())


class MemoryProbe:
    """Python memory attributable to the client stack (tracemalloc, all frames)."""

    def __init__(self) -> None:
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
            [tracemalloc.Filter(False, pattern, all_frames=True) for pattern in _EXCLUDED_FRAMES]
        )

    @staticmethod
    def total(snapshot: tracemalloc.Snapshot) -> int:
        return sum(stat.size for stat in snapshot.statistics("filename"))

    @staticmethod
    def top_growth(
        before: tracemalloc.Snapshot, after: tracemalloc.Snapshot, n: int = 8
    ) -> list[str]:
        stats = after.compare_to(before, "lineno")
        lines = []
        for stat in stats[:n]:
            if stat.size_diff <= 0:
                break
            frame = stat.traceback[0]
            lines.append(
                f"{frame.filename}:{frame.lineno} +{stat.size_diff / 1024:.1f} KiB"
                f" ({stat.count_diff:+d} blocks)"
            )
        return lines


def matches_excluded(filename: str) -> bool:
    return any(fnmatch.fnmatch(filename, pattern) for pattern in _EXCLUDED_FRAMES)


def _copy_json(value: Any) -> Any:
    kind = type(value)
    if kind is str:
        return (value + "\0")[:-1]
    if kind is dict:
        return {_copy_json(k): _copy_json(v) for k, v in value.items()}
    if kind is list:
        return [_copy_json(v) for v in value]
    return value


@contextmanager
def own_simulator_json() -> Iterator[None]:
    """Make the simulator's decoded frames allocations of *this* file.

    The simulator keeps strings of every request it parses (clOrdIds in its
    order book, ids in its stats).  With one traced frame those allocations are
    charged to json/decoder.py, the same file the client's replies come from;
    re-creating the decoded frame here moves them to an excluded file.  The
    simulator's behaviour is unchanged (same values, same types).
    """
    try:
        from okx_ws_sim import server
    except ImportError:  # pragma: no cover
        yield
        return
    original = getattr(server, "_loads", None)
    if original is None:  # the simulator changed how it parses: nothing to redirect
        yield
        return

    def loads(text: Any) -> Any:
        return _copy_json(original(text))

    server._loads = loads  # type: ignore[attr-defined]
    try:
        yield
    finally:
        server._loads = original  # type: ignore[attr-defined]


# Files whose allocations are the client stack's own (one traced frame: the
# innermost Python frame).  Shared stdlib files (contextlib, asyncio...) are
# reported but cannot be attributed: interpreter free lists make their totals
# drift with the request mix, while no object of theirs outlives a request
# (see client_objects()).
CLIENT_FILES = (
    "*/okx_ws_core/*",
    "*/okx_ws/*",
    "*/httpx/*",
    "*/httpcore/*",
    "*/httpx_ws/*",
    "*/anyio/*",
    "*/wsproto/*",
    "*/h11/*",
    "*/json/*",  # replies (the simulator's parsing is redirected, see own_simulator_json)
    "*/pydantic/*",
    "*/pydantic_core/*",
)
CENSUS_MODULES = (
    "okx_ws_core",
    "okx_ws",
    "httpx",
    "httpcore",
    "httpx_ws",
    "anyio",
    "wsproto",
    "h11",
    "asyncio",
    "concurrent",
    "_asyncio",
    "websockets",
    "pydantic",
    "ssl",
    "socket",
    "_socket",
    "selectors",
    "threading",
)


def split_growth(
    before: tracemalloc.Snapshot, after: tracemalloc.Snapshot
) -> tuple[int, int, list[str]]:
    """(growth in client files, growth elsewhere, top client lines) in bytes."""
    client = other = 0
    lines: list[str] = []
    for stat in after.compare_to(before, "lineno"):
        frame = stat.traceback[0]
        if any(fnmatch.fnmatch(frame.filename, p) for p in CLIENT_FILES):
            client += stat.size_diff
            if stat.size_diff > 0 and len(lines) < 6:
                lines.append(f"{frame.filename}:{frame.lineno} {stat.size_diff / 1024:+.1f} KiB")
        else:
            other += stat.size_diff
    return client, other, lines


def client_objects() -> dict[str, int]:
    """Live gc-tracked objects of the client stack's types, by type (after a collection)."""
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
        if isinstance(module, str) and module.split(".", 1)[0] in CENSUS_MODULES:
            name = f"{module}.{kind.__qualname__}"
            counts[name] = counts.get(name, 0) + 1
    return counts
