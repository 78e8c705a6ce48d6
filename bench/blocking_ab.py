"""The blocking client's cost over the floor, A/B in one run (issue #20).

One simulator process (``bench.serve --kind sim``); in this process, in
alternating rounds of sequential orders so that machine noise falls on all
alike: the floor (raw websockets, asyncio), okx-ws async, okx-ws blocking with
the previous cross-thread hop (``LoopThread.run`` as it was: a task per call,
the caller released by the task's done-callback) and okx-ws blocking as it is.
Prints per variant the median over rounds of the p50 latency, the process CPU
per order (all threads), and both as ratios to the floor.
``python -m bench.blocking_ab [rounds] [orders]``.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import threading
import time
import types
from collections.abc import Callable, Coroutine
from typing import Any

from .drivers.floor import FloorDriver
from .drivers.okx_ws_clients import OkxWsAsyncDriver, OkxWsBlockingDriver
from .procs import ServerProcess

ROUNDS, ORDERS = 9, 400


class _OldWaiter:
    __slots__ = ("lock", "task", "abandoned")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.lock.acquire()
        self.task: asyncio.Task[Any] | None = None
        self.abandoned = False


def _old_run(self: Any, coro: Coroutine[Any, Any, Any], timeout: float | None = None) -> Any:
    """``LoopThread.run`` before this change (happy path only: what the bench runs)."""
    waiter = _OldWaiter()
    with self._lock:
        self._waiters.add(waiter)

    def start() -> None:
        waiter.task = self.loop.create_task(coro)
        waiter.task.add_done_callback(lambda _: self._release(waiter))

    self.loop.call_soon_threadsafe(start)
    waiter.lock.acquire()
    assert waiter.task is not None
    return waiter.task.result()


def _old_call(self: Any, fn: Callable[[], Any], timeout: float | None = None) -> Any:
    async def call_fn() -> Any:
        return fn()

    return _old_run(self, call_fn(), timeout)


def with_old_hop(driver: OkxWsBlockingDriver) -> OkxWsBlockingDriver:
    thread = driver._client.get_ws_client()._thread
    thread.run = types.MethodType(_old_run, thread)
    thread.call = types.MethodType(_old_call, thread)
    return driver


def _round_async(
    loop: asyncio.AbstractEventLoop, driver: Any, n: int, tag: str
) -> tuple[float, float]:
    async def run() -> tuple[float, float]:
        lat = []
        cpu0 = time.process_time()
        for i in range(n):
            t0 = time.perf_counter_ns()
            await driver.order(f"{tag}{i}")
            lat.append(time.perf_counter_ns() - t0)
        return statistics.median(lat) / 1e3, (time.process_time() - cpu0) / n * 1e6

    return loop.run_until_complete(run())


def _round_blocking(driver: Any, n: int, tag: str) -> tuple[float, float]:
    lat = []
    cpu0 = time.process_time()
    for i in range(n):
        t0 = time.perf_counter_ns()
        driver.order(f"{tag}{i}")
        lat.append(time.perf_counter_ns() - t0)
    return statistics.median(lat) / 1e3, (time.process_time() - cpu0) / n * 1e6


def main(rounds: int, orders: int) -> None:
    with ServerProcess("sim") as server:
        loop = asyncio.new_event_loop()
        floor, aio = FloorDriver(), OkxWsAsyncDriver("websockets")
        loop.run_until_complete(floor.open(server.url))
        loop.run_until_complete(aio.open(server.url))
        old, new = OkxWsBlockingDriver("websockets"), OkxWsBlockingDriver("websockets")
        old.open(server.url)
        new.open(server.url)
        with_old_hop(old)
        variants: dict[str, Callable[[int, str], tuple[float, float]]] = {
            "floor": lambda n, tag: _round_async(loop, floor, n, tag),
            "okx-ws async": lambda n, tag: _round_async(loop, aio, n, tag),
            "blocking, old hop": lambda n, tag: _round_blocking(old, n, tag),
            "blocking, new hop": lambda n, tag: _round_blocking(new, n, tag),
        }
        results: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
        for k, run in enumerate(variants.values()):  # warm-up
            run(50, f"w{k}n")
        for r in range(rounds):
            for k, (name, run) in enumerate(variants.items()):
                results[name].append(run(orders, f"r{r}v{k}n"))
        old.close()
        new.close()
        loop.run_until_complete(aio.close())
        loop.run_until_complete(floor.close())
        loop.close()
    p50_floor = statistics.median(p for p, _ in results["floor"])
    cpu_floor = statistics.median(c for _, c in results["floor"])
    print(f"{rounds} rounds x {orders} sequential orders, medians over rounds")
    print(f"{'variant':<20} {'p50 us':>8} {'x floor':>8} {'CPU us':>8} {'x floor':>8}")
    for name, rows in results.items():
        p50 = statistics.median(p for p, _ in rows)
        cpu = statistics.median(c for _, c in rows)
        print(f"{name:<20} {p50:8.0f} {p50 / p50_floor:8.2f} {cpu:8.0f} {cpu / cpu_floor:8.2f}")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    main(*(args + [ROUNDS, ORDERS][len(args) :]))
