"""The timed loops: sequential latency and N-in-flight throughput, with client CPU.

CPU is ``time.process_time()`` of the client process around the timed loop
(all threads, so the blocking client's loop thread counts).  The server's CPU
is read from /proc around the same loop: a server near 100% of one core means
the figure is the server's ceiling, not the client's.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from .drivers import AsyncDriver, SyncDriver
from .procs import cpu_seconds
from .workload import cl_ord_id


@dataclass
class Tally:
    """What came back: every request ends as ok, error, mismatched or lost."""

    sent: int = 0
    ok: int = 0
    errors: int = 0
    mismatched: int = 0
    first_error: str = ""

    def check(self, sent_id: str, echoed: str) -> None:
        if echoed == sent_id:
            self.ok += 1
        else:
            self.mismatched += 1

    def error(self, exc: BaseException) -> None:
        self.errors += 1
        if not self.first_error:
            self.first_error = f"{type(exc).__name__}: {exc}"[:300]

    # Requests sent whose reply never came before the phase deadline.  A stuck
    # request holds back its worker, whose later requests are ``not_sent``.
    unanswered: int = 0

    @property
    def lost(self) -> int:
        return self.unanswered

    @property
    def not_sent(self) -> int:
        return self.sent - self.ok - self.errors - self.mismatched - self.unanswered


@dataclass
class Clock:
    """Wall, client CPU and server CPU around one measured loop."""

    server_pid: int
    wall: float = 0.0
    cpu: float = 0.0
    server_cpu: float = 0.0
    _marks: tuple[float, float, float] = field(default=(0.0, 0.0, 0.0), repr=False)

    def start(self) -> None:
        self._marks = (time.perf_counter(), time.process_time(), cpu_seconds(self.server_pid))

    def stop(self) -> None:
        w, c, s = self._marks
        self.wall = time.perf_counter() - w
        self.cpu = time.process_time() - c
        self.server_cpu = cpu_seconds(self.server_pid) - s


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return float("nan")
    rank = max(0, min(len(sorted_values) - 1, round(q / 100 * len(sorted_values)) - 1))
    return sorted_values[rank]


def _summary(phase: str, tally: Tally, clock: Clock, extra: dict[str, Any]) -> dict[str, Any]:
    done = tally.ok + tally.mismatched
    return {
        "phase": phase,
        "sent": tally.sent,
        "ok": tally.ok,
        "errors": tally.errors,
        "mismatched": tally.mismatched,
        "lost": tally.lost,
        "not_sent": tally.not_sent,
        "first_error": tally.first_error,
        "wall_s": clock.wall,
        "req_per_s": done / clock.wall if clock.wall else 0.0,
        "cpu_us_per_req": clock.cpu / done * 1e6 if done else None,
        "server_cpu_util": clock.server_cpu / clock.wall if clock.wall else 0.0,
        **extra,
    }


def _latency_extra(lat_ns: list[int]) -> dict[str, Any]:
    s = sorted(x for x in lat_ns if x)  # errors leave 0
    return {
        "p50_us": percentile(s, 50) / 1e3,
        "p90_us": percentile(s, 90) / 1e3,
        "p99_us": percentile(s, 99) / 1e3,
        "mean_us": sum(s) / len(s) / 1e3 if s else None,
    }


async def latency_async(
    d: AsyncDriver, n: int, warmup: int, server_pid: int, timeout: float
) -> dict[str, Any]:
    """One order at a time; a reply that never comes ends the phase at ``timeout``."""
    tally, clock, lat = Tally(sent=n), Clock(server_pid), [0] * n
    now = time.perf_counter_ns

    async def run() -> None:
        for i in range(warmup):
            await d.order(cl_ord_id("w", i))
        clock.start()
        for i in range(n):
            sent = cl_ord_id("s", i)
            t0 = now()
            try:
                echoed, _ = await d.order(sent)
            except Exception as exc:  # noqa: BLE001 - counted, run continues
                tally.error(exc)
                continue
            lat[i] = now() - t0
            tally.check(sent, echoed)
        clock.stop()

    task = asyncio.get_running_loop().create_task(run())
    _, pending = await asyncio.wait([task], timeout=timeout)
    if pending:
        clock.stop()
        tally.unanswered = 1
        task.cancel()
        await asyncio.wait(pending, timeout=2.0)
    return _summary("sequential", tally, clock, _latency_extra(lat))


def latency_sync(d: SyncDriver, n: int, warmup: int, server_pid: int) -> dict[str, Any]:
    for i in range(warmup):
        d.order(cl_ord_id("w", i))
    tally, clock, lat = Tally(sent=n), Clock(server_pid), [0] * n
    now = time.perf_counter_ns
    clock.start()
    for i in range(n):
        sent = cl_ord_id("s", i)
        t0 = now()
        try:
            echoed, _ = d.order(sent)
        except Exception as exc:  # noqa: BLE001
            tally.error(exc)
            continue
        lat[i] = now() - t0
        tally.check(sent, echoed)
    clock.stop()
    return _summary("sequential", tally, clock, _latency_extra(lat))


async def throughput_async(
    d: AsyncDriver, window: int, total: int, timeout: float, server_pid: int
) -> dict[str, Any]:
    """``window`` workers on one connection, each sending its next request as soon
    as its previous reply arrives, so ``window`` requests are always in flight."""
    tally, clock = Tally(sent=total), Clock(server_pid)
    prefix = f"t{window}x"

    async def worker(k: int) -> None:
        for i in range(k, total, window):
            sent = cl_ord_id(prefix, i)
            try:
                echoed, _ = await d.order(sent)
            except Exception as exc:  # noqa: BLE001
                tally.error(exc)
                continue
            tally.check(sent, echoed)

    loop = asyncio.get_running_loop()
    clock.start()
    tasks = [loop.create_task(worker(k)) for k in range(window)]
    _, pending = await asyncio.wait(tasks, timeout=timeout)
    clock.stop()
    tally.unanswered = len(pending)  # each pending worker waits on exactly one request
    for task in pending:
        task.cancel()
    if pending:  # a peer's future may ignore cancellation: do not wait forever
        await asyncio.wait(pending, timeout=2.0)
    return _summary(
        f"inflight-{window}", tally, clock, {"window": window, "timed_out": bool(pending)}
    )


def throughput_sync(d: SyncDriver, total: int, server_pid: int) -> dict[str, Any]:
    """One call at a time: a blocking API has one request in flight per thread."""
    tally, clock = Tally(sent=total), Clock(server_pid)
    clock.start()
    for i in range(total):
        sent = cl_ord_id("t1x", i)
        try:
            echoed, _ = d.order(sent)
        except Exception as exc:  # noqa: BLE001
            tally.error(exc)
            continue
        tally.check(sent, echoed)
    clock.stop()
    return _summary("inflight-1", tally, clock, {"window": 1, "timed_out": False})
