"""tracemalloc's figures and its cost, read in a forked copy of this process.

The soak traces the client process (it judges the traced growth in the
client's files), yet wants its RSS as it would be untraced.  Two things of
tracing show in the RSS: tracemalloc's tables, which grow with every traced
block, and the snapshots, whose millions of short-lived objects leave the
heap fragmented (a long run's RSS kept several MiB of them even after tracing
stopped).  So the process under test never takes a snapshot: a forked copy
(its memory shared copy-on-write: the same heap, the same tables) takes it,
sums it per line, then stops tracing, trims the C heap and reads its own
resident anonymous memory before and after -- the drop is what tracing costs
the process there and then -- and sends all that back over a pipe.  The copy
touches no socket, runs no finaliser (the parent collected just before) and
leaves with ``os._exit``.
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import sys
import tempfile
import time
import tracemalloc
import warnings
from typing import Any

Lines = dict[tuple[str, int], tuple[int, int]]  # (file, line) -> (bytes, blocks)


def anon_kib() -> int:
    """Resident anonymous memory of this process (KiB), -1 when unknown."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1])
    except OSError:  # pragma: no cover - not Linux
        pass
    return -1


def snapshot_lines() -> Lines:
    """The traced bytes and blocks per (file, line) now (innermost frame)."""
    lines: Lines = {}
    for stat in tracemalloc.take_snapshot().statistics("lineno"):
        frame = stat.traceback[0]
        lines[(frame.filename, frame.lineno)] = (stat.size, stat.count)
    return lines


def pymalloc_kib() -> tuple[int, int]:
    """(KiB in pymalloc's arenas, KiB of them in allocated blocks): how much of the
    small-object heap is used, and how much is held free (fragmentation).  Parsed from
    ``sys._debugmallocstats`` (CPython; (-1, -1) elsewhere), which writes to fd 2."""
    figures = {"# arenas allocated current": -1, "# bytes in allocated blocks": -1}
    try:
        with tempfile.TemporaryFile() as out:
            saved = os.dup(2)
            try:
                os.dup2(out.fileno(), 2)
                sys._debugmallocstats()
            finally:
                os.dup2(saved, 2)
                os.close(saved)
            out.seek(0)
            for line in out.read().decode(errors="replace").splitlines():
                name, _, value = line.partition("=")
                if name.strip() in figures:
                    figures[name.strip()] = int(value.strip().replace(",", ""))
    except (AttributeError, OSError, ValueError):  # pragma: no cover - not CPython
        return -1, -1
    arenas, used = figures.values()
    return (arenas * ARENA_KIB if arenas >= 0 else -1), (used // 1024 if used >= 0 else -1)


ARENA_KIB = 1024  # CPython 3.10+ on 64-bit: 1 MiB arenas


def _in_copy(trim: Any) -> bytes:
    lines = snapshot_lines()
    own = tracemalloc.get_tracemalloc_memory()
    trim()  # the snapshot this copy just freed
    before = anon_kib()
    tracemalloc.stop()
    trim()
    cost = before - anon_kib()
    return pickle.dumps((lines, own, cost, pymalloc_kib()), pickle.HIGHEST_PROTOCOL)


Reading = tuple[Lines, float, int, tuple[int, int]]


def traced_reading(trim: Any, timeout: float = 120.0) -> Reading:
    """(lines, tracemalloc's own KiB, KiB of RSS tracing costs, :func:`pymalloc_kib`
    untraced) read in a forked copy (``trim``: ``soak.probes.trim_heap``).  Not
    tracing: nothing traced, no cost, pymalloc read here.  If the copy fails or times
    out the snapshot is taken here and the cost is -1."""
    if not tracemalloc.is_tracing():
        return {}, 0.0, 0, pymalloc_kib()
    if not hasattr(os, "fork") or anon_kib() < 0:  # pragma: no cover - not Linux
        return snapshot_lines(), tracemalloc.get_tracemalloc_memory() / 1024, -1, (-1, -1)
    read_end, write_end = os.pipe()
    with warnings.catch_warnings():  # 3.12+: "fork() in a multi-threaded process"
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # the copy: nothing here may raise, print or wait on another thread
        code = 1
        try:
            os.close(read_end)
            data = _in_copy(trim)
            with os.fdopen(write_end, "wb") as out:
                out.write(data)
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while select.select([read_end], [], [], max(0.0, deadline - time.monotonic()))[0]:
            chunk = os.read(read_end, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(read_end)
        if time.monotonic() >= deadline:
            os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
    if status != 0 or not chunks:
        return snapshot_lines(), tracemalloc.get_tracemalloc_memory() / 1024, -1, (-1, -1)
    lines, own, cost, pymalloc = pickle.loads(b"".join(chunks))
    return lines, own / 1024, cost, pymalloc
