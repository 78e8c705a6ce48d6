"""``python -m bench.profile --client KEY``: where one client spends its time.

Runs the same loops as the benchmark under pyinstrument against a simulator
in its own process and prints the call tree, so overhead found in the table
can be traced to code.  Not part of ``make bench`` (profiling slows the loop).
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from . import measure
from .drivers import CLIENTS
from .procs import ServerProcess


async def _profiled_async(key: str, url: str, pid: int, window: int, total: int) -> Any:
    from pyinstrument import Profiler

    d = CLIENTS[key].make()
    await d.open(url)
    try:
        await measure.latency_async(d, 200, 100, pid, 60.0)  # warm-up, unprofiled
        profiler = Profiler(interval=0.0002, async_mode="disabled")
        profiler.start()
        if window == 1:
            await measure.latency_async(d, total, 0, pid, 60.0)
        else:
            await measure.throughput_async(d, window, total, 60.0, pid)
        profiler.stop()
    finally:
        await d.close()
    return profiler


def _profiled_sync(key: str, url: str, pid: int, total: int) -> Any:
    from pyinstrument import Profiler

    d = CLIENTS[key].make()
    d.open(url)
    try:
        measure.latency_sync(d, 200, 100, pid)
        profiler = Profiler(interval=0.0002, async_mode="disabled")
        profiler.start()
        measure.latency_sync(d, total, 0, pid)
        profiler.stop()
    finally:
        d.close()
    return profiler


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile")
    parser.add_argument("--client", default="okx-ws-default", choices=sorted(CLIENTS))
    parser.add_argument("--window", type=int, default=1, help="requests in flight (async only)")
    parser.add_argument("--total", type=int, default=3000)
    parser.add_argument("--server", choices=("sim", "echo"), default="sim")
    args = parser.parse_args()
    with ServerProcess(args.server) as server:
        if CLIENTS[args.client].blocking:
            profiler = _profiled_sync(args.client, server.url, server.pid, args.total)
        else:
            profiler = asyncio.run(
                _profiled_async(args.client, server.url, server.pid, args.window, args.total)
            )
    print(profiler.output_text(unicode=True, color=False, show_all=False))


if __name__ == "__main__":
    main()
