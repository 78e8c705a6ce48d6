"""This process's RSS as it would be untraced, read without stopping tracemalloc here.

tracemalloc's tables grow with every traced block and are part of the RSS; the
soak needs tracing to go on (it judges the traced growth in the client's
files), yet wants the RSS without it at every checkpoint.  So a forked copy of
the process (its memory shared copy-on-write, the same heap and the same
tables) stops tracing, trims the C heap and reads its own resident anonymous
memory before and after: the drop is what tracing costs this process now.
The copy touches no socket, runs no finaliser (the parent collected just
before) and leaves with ``os._exit``.
"""

from __future__ import annotations

import os
import select
import signal
import tracemalloc
import warnings

from .probes import trim_heap


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


def tracing_cost_kib(timeout: float = 30.0) -> int:
    """KiB of RSS tracemalloc costs this process now (0 when not tracing; -1 when the
    forked copy could not tell within ``timeout``)."""
    if not tracemalloc.is_tracing():
        return 0
    if not hasattr(os, "fork") or anon_kib() < 0:  # pragma: no cover - not Linux
        return -1
    read_end, write_end = os.pipe()
    with warnings.catch_warnings():  # 3.12+: "fork() in a multi-threaded process"
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # the copy: nothing here may raise, print or wait on another thread
        try:
            os.close(read_end)
            trim_heap()  # what the parent freed since its own trim (its snapshot) aside
            before = anon_kib()
            tracemalloc.stop()
            trim_heap()
            os.write(write_end, f"{before - anon_kib()}".encode())
        finally:
            os._exit(0)
    os.close(write_end)
    data = b""
    try:
        if select.select([read_end], [], [], timeout)[0]:
            data = os.read(read_end, 64)
    finally:
        os.close(read_end)
        if not data:
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    return int(data) if data else -1
