"""Cold-start costs: ``import <library>`` and ``make generate``, each in fresh processes.

Import time is the wall time of ``python -c 'import X'`` minus that of
``python -c pass`` (interpreter start-up), median of several runs, so it is
what a user's process pays for the import and nothing else.  Bytecode caching
is on for these runs whatever the environment says (``PYTHONDONTWRITEBYTECODE``
unset): an installed package has its ``.pyc`` files, and compiling from source
would triple the figure.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

RUN_TIMEOUT_S = 120.0  # one import or one make generate; far above either's normal time


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _wall(argv: list[str], cwd: Path | None = None) -> float:
    """Wall time of one run, up to the child's exit itself.

    A blocking ``wait()``, with a watchdog that kills a run past
    ``RUN_TIMEOUT_S``: ``subprocess.run(timeout=...)`` polls for the exit with
    sleeps that grow to 50 ms, which rounded every reading up to a step of its
    polling schedule (imports read 98, 148 or 203 ms and nothing between).
    """
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        argv, cwd=cwd, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    watchdog = threading.Timer(RUN_TIMEOUT_S, proc.kill)
    watchdog.start()
    try:
        code = proc.wait()
    finally:
        watchdog.cancel()
    elapsed = time.perf_counter() - t0
    if code != 0:
        raise subprocess.CalledProcessError(code, argv)
    return elapsed


def import_times_ms(modules: list[str], runs: int) -> dict[str, float | None]:
    """Median import time per module in ms; None when the module is not installed."""
    bare = statistics.median(_wall([sys.executable, "-c", "pass"]) for _ in range(runs))
    times: dict[str, float | None] = {}
    for module in modules:
        try:
            _wall([sys.executable, "-c", f"import {module}"])  # warm the page cache / pyc
        except subprocess.CalledProcessError:
            times[module] = None
            continue
        runs_s = [_wall([sys.executable, "-c", f"import {module}"]) for _ in range(runs)]
        times[module] = max(0.0, statistics.median(runs_s) - bare) * 1e3
    return times


def generate_time_s(repo: Path, runs: int) -> float | None:
    """Median wall time of ``python -m codegen --spec spec --out <tmp>``; None if absent."""
    if not (repo / "codegen").is_dir() or not (repo / "spec").is_dir():
        return None
    samples = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as out:
            samples.append(
                _wall([sys.executable, "-m", "codegen", "--spec", "spec", "--out", out], cwd=repo)
            )
    return statistics.median(samples)
