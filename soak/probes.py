"""Resource probes and "nothing may go unnoticed" hooks, used in both processes.

* :class:`Hygiene` turns every warning into an error and records what Python
  would otherwise only print: unraisable exceptions (``ResourceWarning`` for an
  unclosed socket raised in ``__del__``), exceptions in threads, every call
  of an event loop's exception handler ("Task exception was never retrieved",
  "Task was destroyed but it is pending", unclosed transports), and every
  warning asyncio logs.  One of those is benign and counted apart
  (:data:`BENIGN`): "socket.send() raised exception.", asyncio's note that a
  transport whose connection was lost was written to five times or more.
  The transport drops those writes; the connection's loss reaches its protocol
  one loop iteration later (``connection_lost`` is scheduled, not called), so a
  burst written in between -- a reply and its pushes, a broadcast of notices --
  meets it.  The writer cannot see the loss sooner; what it means for a request
  (its fate: ConnectionLost) the other checks judge.
* :func:`count_fds`, :func:`fd_kinds`, :func:`thread_names`, :class:`MemoryProbe`
  and :func:`client_objects` measure what a leak would grow, in *this* process:
  the client process and the simulator process each measure themselves.
"""

from __future__ import annotations

import asyncio
import ctypes
import fnmatch
import gc
import logging
import os
import sys
import threading
import tracemalloc
import warnings
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .untraced import traced_reading

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


# asyncio's log lines that are not a problem of the process's code (see the module doc).
BENIGN = {"socket.send() raised exception.": "writes to a transport whose connection was lost"}


class _AsyncioLog(logging.Handler):
    """asyncio's warnings: benign ones counted in ``notes``, any other a problem."""

    def __init__(self, hygiene: Hygiene) -> None:
        super().__init__(logging.WARNING)
        self.hygiene = hygiene

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if text in BENIGN:
            with self.hygiene._lock:
                self.hygiene.notes[text] += 1
        else:
            self.hygiene.record(f"[asyncio log] {record.levelname}: {text[:300]}")


@dataclass
class Hygiene:
    """Record every unraisable exception, thread crash, loop error and warning."""

    problems: list[str] = field(default_factory=list)
    notes: Counter[str] = field(default_factory=Counter)  # benign log lines, by text
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _saved: tuple[Any, ...] | None = None
    _log: _AsyncioLog | None = None

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
        self._log = _AsyncioLog(self)
        asyncio_log = logging.getLogger("asyncio")
        asyncio_log.addHandler(self._log)
        asyncio_log.propagate = False  # counted here, not printed
        sys.unraisablehook = self._unraisable
        threading.excepthook = self._thread_crash
        warnings.showwarning = self._shown_warning  # type: ignore[assignment]

    def uninstall(self) -> None:
        if self._saved is None:
            return
        sys.unraisablehook, threading.excepthook, filters, warnings.showwarning = self._saved
        warnings.filters[:] = filters  # type: ignore[index]
        self._saved = None
        if self._log is not None:
            asyncio_log = logging.getLogger("asyncio")
            asyncio_log.removeHandler(self._log)
            asyncio_log.propagate = True
            self._log = None

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


Lines = dict[tuple[str, int], tuple[int, int]]  # (file, line) -> (bytes, blocks)
MemSummary = dict[str, Any]  # see MemoryProbe.summary


@dataclass
class MemoryReading:
    """One process at one quiet moment: its RSS and what tracemalloc saw, by line.

    The RSS is read after a collection and ``malloc_trim`` (what the C heap
    holds free, e.g. after the previous snapshot's hundreds of MB of tuples, is
    handed back first) and before this reading's own snapshot.  ``lines`` keeps
    per-line totals only, never the snapshot (which on a long run is larger
    than everything it describes).
    """

    rss_kib: int
    rss_found_kib: int  # before the trim
    tracemalloc_kib: float  # tracemalloc's own tables, as it reports them
    lines: Lines
    untraced_rss_kib: int = -1  # RSS without what tracing costs (soak.untraced), -1: unknown
    pymalloc: tuple[int, int] = (-1, -1)  # KiB in its arenas, in its blocks (untraced)

    @property
    def blocks(self) -> int:
        return sum(n for _, n in self.lines.values())

    def total(self, excluded: Iterable[str] = ()) -> int:
        patterns = tuple(excluded)
        return sum(
            size for (name, _), (size, _) in self.lines.items() if not _matches(name, patterns)
        )

    def by_group(self, groups: dict[str, tuple[str, ...]]) -> dict[str, int]:
        """Traced bytes per group of file patterns (first match wins; "other": none)."""
        out = {name: 0 for name in groups} | {"other": 0}
        seen: dict[str, str] = {}
        for (name, _), (size, _) in self.lines.items():
            group = seen.get(name)
            if group is None:
                group = seen[name] = next(
                    (g for g, patterns in groups.items() if _matches(name, patterns)), "other"
                )
            out[group] += size
        return out


def _matches(name: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatch(name, p) for p in patterns)


_LIBC: Any = None


def trim_heap() -> None:
    """Hand the C heap's free memory back to the system (glibc ``malloc_trim``)."""
    global _LIBC
    try:
        if _LIBC is None:
            _LIBC = ctypes.CDLL(None)
        _LIBC.malloc_trim(0)
    except (OSError, AttributeError):  # pragma: no cover - not glibc
        pass


class MemoryProbe:
    """Python memory of this process (tracemalloc); ``excluded`` files are the harness's."""

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

    def summary(self, reading: MemoryReading, groups: dict[str, tuple[str, ...]]) -> MemSummary:
        """The figures ``soak.rss`` attributes (picklable: the simulator sends its own)."""
        return {
            "rss_kib": reading.rss_kib,
            "rss_found_kib": reading.rss_found_kib,
            "tracemalloc_kib": reading.tracemalloc_kib,
            "blocks": reading.blocks,
            "groups": reading.by_group(groups),
            "untraced_rss_kib": reading.untraced_rss_kib,
            "pymalloc_kib": reading.pymalloc[0],
            "pyblocks_kib": reading.pymalloc[1],
        }

    def reading(self, last: bool = False) -> MemoryReading:
        """RSS, then tracemalloc's figures and the RSS without what tracing costs, both
        read in a forked copy (``soak.untraced``: no snapshot here); ``last``: then stop
        tracing."""
        gc.collect()
        found = rss_kib()
        trim_heap()
        rss = rss_kib()
        lines, own, cost, pymalloc = traced_reading(trim_heap)
        out = MemoryReading(rss, found, own, lines, rss - cost if cost >= 0 else -1, pymalloc)
        if last:
            self.stop()
        return out


def top_growth(
    before: MemoryReading, after: MemoryReading, n: int = 6, excluded: Iterable[str] = ()
) -> list[str]:
    patterns = tuple(excluded)
    diffs = _diffs(before, after, patterns)
    lines = []
    for (name, line), (size, count) in sorted(diffs.items(), key=lambda kv: -kv[1][0])[:n]:
        if size <= 0:
            break
        lines.append(f"{name}:{line} {size / 1024:+.1f} KiB ({count:+d} blocks)")
    return lines


def _diffs(
    before: MemoryReading, after: MemoryReading, excluded: tuple[str, ...]
) -> dict[tuple[str, int], tuple[int, int]]:
    out = {}
    for key in before.lines.keys() | after.lines.keys():
        if _matches(key[0], excluded):
            continue
        b, a = before.lines.get(key, (0, 0)), after.lines.get(key, (0, 0))
        if a != b:
            out[key] = (a[0] - b[0], a[1] - b[1])
    return out


def split_growth(
    before: MemoryReading,
    after: MemoryReading,
    files: Iterable[str],
    excluded: Iterable[str] = SOAK_FRAMES,
) -> tuple[int, int, list[str]]:
    """(growth in ``files``, growth elsewhere, top lines in ``files``) in bytes; the
    ``excluded`` files (the harness's) are neither."""
    patterns = tuple(files)
    mine = other = 0
    top: list[tuple[int, str]] = []
    for (name, line), (size, _) in _diffs(before, after, tuple(excluded)).items():
        if _matches(name, patterns):
            mine += size
            if size > 0:
                top.append((size, f"{name}:{line} {size / 1024:+.1f} KiB"))
        else:
            other += size
    return mine, other, [text for _, text in sorted(top, reverse=True)[:6]]


def native_leak(mib: int) -> Any:
    """``mib`` MiB malloc'ed and written outside Python's allocators: tracemalloc never
    sees it, only the RSS does (a C extension's leak)."""
    size = mib * 1024 * 1024
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    address = libc.malloc(size)
    ctypes.memset(address, 1, size)
    return address


def free_native(address: Any) -> None:
    libc = ctypes.CDLL(None)
    libc.free.argtypes = [ctypes.c_void_p]
    libc.free(address)


def holders(type_names: Iterable[str], sample: int = 300) -> dict[str, dict[str, int]]:
    """Who holds live objects of each type (up to ``sample`` of each): their referrers'
    types, a dict counted as its owner's when an object owns it (its ``__dict__``).  For
    a report line on a type whose count grew: where to look, not a verdict."""
    wanted = set(type_names)
    if not wanted:
        return {}
    found: dict[str, list[Any]] = {name: [] for name in wanted}
    for obj in gc.get_objects():
        kind = type(obj)
        name = f"{getattr(kind, '__module__', '?')}.{kind.__qualname__}"
        if name in found and len(found[name]) < sample:
            found[name].append(obj)
    out: dict[str, dict[str, int]] = {}
    for name, objs in found.items():
        counts: dict[str, int] = {}
        ids = {id(o) for o in objs}
        args = tuple(objs)  # passed as is: Python 3.13 lists the call's own tuple as a referrer
        for ref in gc.get_referrers(*args):
            if id(ref) in ids or ref is objs or ref is args or ref is found:
                continue
            what = type(ref).__qualname__
            if isinstance(ref, dict):
                owners = [o for o in gc.get_referrers(ref) if getattr(o, "__dict__", None) is ref]
                if owners:
                    what = f"{type(owners[0]).__qualname__}.__dict__"
            counts[what] = counts.get(what, 0) + 1
        out[name] = dict(sorted(counts.items(), key=lambda kv: -kv[1])[:5])
        del objs
    found.clear()
    return out


def live_objects(modules: Iterable[str]) -> dict[str, int]:
    """Live gc-tracked objects whose type comes from ``modules``, by type (after a collection).

    Counted by type first (in C), then the types filtered: a scan in Python of every
    object cost 0.15-0.2 s per checkpoint, most of a short soak's."""
    roots = frozenset(modules)
    gc.collect()
    objects = gc.get_objects()
    by_type = Counter(map(type, objects))
    if by_type.get(asyncio.TimerHandle):
        # A cancelled timer waits in the loop's heap until its due time (here at most
        # request_timeout): their number follows the recent request rate, not a leak.
        # Timers never cancelled are still counted.
        by_type[asyncio.TimerHandle] -= sum(
            1 for o in objects if type(o) is asyncio.TimerHandle and o.cancelled()
        )
    del objects
    counts: dict[str, int] = {}
    for kind, n in by_type.items():
        module = getattr(kind, "__module__", None)  # a descriptor on some metaclasses
        if n and isinstance(module, str) and module.split(".", 1)[0] in roots:
            name = f"{module}.{kind.__qualname__}"
            counts[name] = counts.get(name, 0) + n
    return counts
