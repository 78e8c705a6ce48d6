"""The load: worker coroutines for the asyncio client, worker threads for the blocking one.

Each worker takes the next request index, builds its request (``soak.workload``),
opens its ledger record and hands it to the driver, which must report one
outcome.  A watchdog abandons an async call that overruns its timeout by far
(it is recorded as hung); a blocking call that does is reported as stuck.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from .config import SoakConfig
from .drivers import ClientSide, Driver, close_record
from .ledger import HUNG, Ledger, Record
from .report import SoakReport
from .workload import Spec, build_spec


class Load:
    def __init__(self, cfg: SoakConfig, driver: Driver, report: SoakReport) -> None:
        self.cfg = cfg
        self.driver = driver
        self.report = report
        self.ledger: Ledger = report.ledger
        self._next = 0
        self._end = 0
        self._index_lock = threading.Lock()
        self.pause_async: asyncio.Event | None = None  # made on the main loop by start()
        self.pause_sync = threading.Event()
        self.pause_sync.set()
        self._in_flight: dict[asyncio.Task[Any], Record] = {}
        self._in_blocking_call: dict[int, Record] = {}
        self._stuck: set[int] = set()
        self._abandoned: set[int] = set()

    def start(self) -> None:
        self.pause_async = asyncio.Event()
        self.pause_async.set()

    async def run(self, sides: list[ClientSide], start: int, end: int) -> None:
        """Issue requests [start, end) on every client until all are issued and ended."""
        self._next, self._end = start, end
        jobs: list[Awaitable[Any]] = []
        sync_targets: list[Callable[[], None]] = []
        for side in sides:
            if side.loop is None:
                jobs += [self.async_worker(side) for _ in range(self.cfg.async_workers)]
            else:
                sync_targets += [partial(self.sync_worker, side)] * self.cfg.sync_workers
        await asyncio.gather(*jobs, self.run_threads(sync_targets, "soak-sync"))

    def take_index(self) -> int | None:
        with self._index_lock:
            if self._next >= self._end:
                return None
            self._next += 1
            return self._next - 1

    def open_record(self, side: ClientSide, index: int, spec: Spec) -> Record:
        return self.ledger.open(
            Record(
                index=index,
                client=side.name,
                api_key=side.api_key,
                op=spec.op,
                kind=spec.kind,
                cl_ord_ids=spec.cl_ord_ids,
                timeout=self.cfg.request_timeout,
                started=time.monotonic(),
                new_sz=spec.new_sz,
                inst_id=spec.inst_id,
                expect_fail=spec.expect_fail,
            )
        )

    def reporter(self, rec: Record, side: ClientSide) -> Callable[[Any], None]:
        return lambda outcome: close_record(self.ledger, rec, side, outcome)

    async def async_worker(self, side: ClientSide) -> None:
        assert self.pause_async is not None
        while True:
            await self.pause_async.wait()
            index = self.take_index()
            if index is None:
                return
            await self.one_async(
                side,
                index,
                build_spec(self.cfg.seed, index, side.letter, side.pool, self.cfg.at_limits),
            )

    async def one_async(self, side: ClientSide, index: int, spec: Spec) -> None:
        rec = self.open_record(side, index, spec)
        task = asyncio.current_task()
        assert task is not None
        self._in_flight[task] = rec  # watched by `watchdog` (no timer per request: those
        try:  # would linger, cancelled, in the loop's heap and blur the resource check)
            await self.driver.run_async(side, spec, index, self.reporter(rec, side))
        except asyncio.CancelledError:
            if id(rec) not in self._abandoned:
                raise
            task.uncancel()
            self.ledger.close(rec, HUNG, detail=f"no outcome after {self.cfg.call_limit:g}s")
        finally:
            del self._in_flight[task]

    def sync_worker(self, side: ClientSide) -> None:
        while True:
            self.pause_sync.wait()
            index = self.take_index()
            if index is None:
                return
            self.one_sync(
                side,
                index,
                build_spec(self.cfg.seed, index, side.letter, side.pool, self.cfg.at_limits),
            )

    def one_sync(self, side: ClientSide, index: int, spec: Spec) -> None:
        rec = self.open_record(side, index, spec)
        self._in_blocking_call[id(rec)] = rec  # watched by run_threads
        try:
            self.driver.run_sync(side, spec, index, self.reporter(rec, side))
        finally:
            del self._in_blocking_call[id(rec)]

    async def watchdog(self) -> None:
        """Abandon (cancel) an async call still running past timeout + watchdog."""
        limit = self.cfg.call_limit
        while True:
            await asyncio.sleep(min(0.25, limit / 4))
            now = time.monotonic()
            for task, rec in list(self._in_flight.items()):
                if now - rec.started > limit and id(rec) not in self._abandoned:
                    self._abandoned.add(id(rec))
                    task.cancel()

    async def loop_lag(self) -> None:
        """How late the main loop (the asyncio client's) wakes a 20 ms sleeper."""
        while True:
            start = time.monotonic()
            await asyncio.sleep(0.02)
            lag = time.monotonic() - start - 0.02
            self.report.max_loop_lag = max(self.report.max_loop_lag, lag)

    async def run_threads(self, targets: list[Callable[[], None]], name: str) -> bool:
        """Run blocking callables on fresh threads; True when all ended in time."""
        if not targets:
            return True
        loop = asyncio.get_running_loop()
        done = asyncio.Event()
        left = [len(targets)]

        def finished() -> None:
            left[0] -= 1
            if left[0] == 0:
                done.set()

        def wrap(fn: Callable[[], None]) -> Callable[[], None]:
            def run() -> None:
                try:
                    fn()
                finally:
                    loop.call_soon_threadsafe(finished)

            return run

        threads = [
            threading.Thread(target=wrap(fn), name=f"{name}-{i}", daemon=True)
            for i, fn in enumerate(targets)
        ]
        for t in threads:
            t.start()
        limit = self.cfg.call_limit
        while not done.is_set():
            await asyncio.sleep(0.1)
            now = time.monotonic()
            stuck = [
                r
                for r in list(self._in_blocking_call.values())
                if now - r.started > limit and id(r) not in self._stuck
            ]
            if stuck:  # a blocking call that never returns: report it, don't wait forever
                self._stuck.update(id(r) for r in stuck)
                self.report.stuck_blocking += [
                    f"{r.tag}: blocking call still running after {limit:g}s" for r in stuck
                ]
                return False
        for t in threads:
            t.join()
        return True

    def set_paused(self, paused: bool) -> None:
        assert self.pause_async is not None
        if paused:
            self.pause_async.clear()
            self.pause_sync.clear()
        else:
            self.pause_async.set()
            self.pause_sync.set()
