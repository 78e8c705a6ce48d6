"""Subprocess plumbing: start a server process, read any process's CPU time, read
the ``RESULT {json}`` line a measuring child printed."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

_TICKS = os.sysconf("SC_CLK_TCK")
START_TIMEOUT_S = 30.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` (Linux /proc; 0.0 where unavailable)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime


def result_line(proc: subprocess.CompletedProcess[str], what: str) -> dict[str, Any]:
    """The ``RESULT {json}`` line a child printed, or why there is none."""
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("RESULT "):
            result: dict[str, Any] = json.loads(line[len("RESULT ") :])
            return result
    tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
    return {"unavailable": f"{what} failed (exit {proc.returncode}): {tail}"}


def rss_bytes() -> int:
    """Resident set size of this process (Linux /proc/self/statm)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@dataclass
class ServerProcess:
    """A running ``python -m bench.serve`` child; use as a context manager."""

    kind: str
    proc: subprocess.Popen[str] | None = None
    url: str = ""

    def __enter__(self) -> ServerProcess:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.serve", "--kind", self.kind],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], START_TIMEOUT_S)
        line = self.proc.stdout.readline().strip() if ready else ""
        if not line.startswith("URL "):
            self.proc.kill()
            self.proc.wait()
            why = repr(line) if ready else f"no URL within {START_TIMEOUT_S:g} s"
            raise RuntimeError(f"server ({self.kind}) did not start: {why}")
        self.url = line.split(" ", 1)[1]
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
