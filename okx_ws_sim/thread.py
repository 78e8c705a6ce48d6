"""SimulatorThread: the simulator on its own event-loop thread, for blocking code.

Its methods are derived from the simulator's (:mod:`okx_ws_core.client.facade`, as the
blocking client's are from the async client's): the same parameters, each run
on the simulator's loop thread.  Only what is tied to that thread (starting,
stopping, the properties) is written here.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

from okx_ws_core.client.facade import Facade, blocking, on_loop

from .faults import FaultPlan
from .server import Simulator
from .stats import SimStats

if TYPE_CHECKING:
    from okx_ws_core.client.loop_thread import LoopThread

T = TypeVar("T")


class ThreadFaults(Facade[FaultPlan]):
    """The simulator's :class:`FaultPlan`, each arming method run on its loop thread."""

    def __init__(self, owner: SimulatorThread) -> None:
        self._owner = owner

    def _target(self) -> FaultPlan:
        return self._owner.simulator.faults

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self._owner.run(coro)

    def _on_loop(self, fn: Callable[[], T]) -> T:
        return self._owner.call(fn)

    @property
    def active(self) -> bool:
        return self._on_loop(lambda: self._target().active)

    reset = on_loop(FaultPlan.reset)
    armed = on_loop(FaultPlan.armed)
    pending = on_loop(FaultPlan.pending)
    discarded = on_loop(FaultPlan.discarded)
    close_after_frames = on_loop(FaultPlan.close_after_frames)
    drop_next_request = on_loop(FaultPlan.drop_next_request)
    drop_after_execute = on_loop(FaultPlan.drop_after_execute)
    swallow_pongs = on_loop(FaultPlan.swallow_pongs)
    delay_replies = on_loop(FaultPlan.delay_replies)
    refuse_logins = on_loop(FaultPlan.refuse_logins)
    fail_rest = on_loop(FaultPlan.fail_rest)
    hang_rest = on_loop(FaultPlan.hang_rest)
    delay_book_snapshot = on_loop(FaultPlan.delay_book_snapshot)
    skip_book_update = on_loop(FaultPlan.skip_book_update)
    duplicate_book_update = on_loop(FaultPlan.duplicate_book_update)
    reset_book_sequence = on_loop(FaultPlan.reset_book_sequence)
    send_notice = on_loop(FaultPlan.send_notice)
    send_malformed = on_loop(FaultPlan.send_malformed)


class SimulatorThread(Facade[Simulator]):
    """Runs a ``Simulator`` on a private event loop in a daemon thread.

    ``with SimulatorThread(idle_timeout=5) as sim: ...`` — accessors are
    thread-safe: each runs on the simulator's loop and returns its result.
    The loop thread is okx_ws_core's ``LoopThread``, the blocking client's own,
    so both stop their loops alike; it is plain asyncio/threading plumbing, so
    sharing it takes nothing from the simulator's independence as a witness of
    OKX's rules (those live in rules.py, limits.py, auth.py, codes.py).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._args = args
        self._kwargs = kwargs
        self._thread: LoopThread | None = None
        self._sim: Simulator | None = None
        self.faults = ThreadFaults(self)

    @property
    def simulator(self) -> Simulator:
        if self._sim is None:
            raise RuntimeError("SimulatorThread is not started")
        return self._sim

    def start(self) -> None:
        if self._thread is not None:
            return
        # Imported here: importing okx_ws_core runs the client package's __init__,
        # which only SimulatorThread users need to pay for.
        from okx_ws_core.client.loop_thread import LoopThread

        self._thread = LoopThread("okx-ws-sim")

        async def make() -> Simulator:
            sim = Simulator(*self._args, **self._kwargs)
            await sim.start()
            return sim

        try:
            self._sim = self.run(make())
        except BaseException:
            self._shutdown_loop()
            raise

    def stop(self) -> None:
        if self._thread is None:
            return
        try:
            if self._sim is not None:
                self.run(self._sim.stop())
        finally:
            self._sim = None
            self._shutdown_loop()

    def _shutdown_loop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.stop()

    def __enter__(self) -> SimulatorThread:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- cross-thread helpers ------------------------------------------------------
    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = 30.0) -> T:
        """Run a coroutine on the simulator's loop and wait for its result."""
        if self._thread is None:
            coro.close()
            raise RuntimeError("SimulatorThread is not started")
        return self._thread.run(coro, timeout)

    def call(self, fn: Callable[[], T], timeout: float | None = 30.0) -> T:
        """Call ``fn()`` on the simulator's loop and return its result."""
        if self._thread is None:
            raise RuntimeError("SimulatorThread is not started")
        return self._thread.call(fn, timeout)

    # -- the Facade's plumbing: derived methods run on the simulator's loop ----------
    def _target(self) -> Simulator:
        return self.simulator

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.run(coro)

    def _on_loop(self, fn: Callable[[], T]) -> T:
        return self.call(fn)

    # -- mirrors of Simulator --------------------------------------------------------
    @property
    def base_url(self) -> str:
        return self.simulator.base_url

    @property
    def port(self) -> int:
        return self.simulator.port

    def url(self, kind: str = "private") -> str:
        return self.simulator.url(kind)

    @property
    def rest_url(self) -> str:
        return self.simulator.rest_url

    @property
    def legacy_inst_id(self) -> bool:
        return self.simulator.legacy_inst_id

    @property
    def clock_offset_s(self) -> float:
        return self.call(lambda: self.simulator.clock_offset_s)

    @clock_offset_s.setter
    def clock_offset_s(self, seconds: float) -> None:
        def set_offset() -> None:
            self.simulator.clock_offset_s = seconds

        self.call(set_offset)

    @property
    def stats(self) -> SimStats:
        """A snapshot (copy) of the counters."""
        return self.call(lambda: self.simulator.stats.snapshot())

    @property
    def rest_last_headers(self) -> dict[str, str]:
        return self.call(lambda: dict(self.simulator.rest_last_headers))

    orders = on_loop(Simulator.orders)
    find_order = on_loop(Simulator.find_order)
    balances = on_loop(Simulator.balances)
    positions = on_loop(Simulator.positions)
    fill = on_loop(Simulator.fill)
    connection_count = on_loop(Simulator.connection_count)
    add_account = on_loop(Simulator.add_account)
    instrument = on_loop(Simulator.instrument)
    inst_id_code = on_loop(Simulator.inst_id_code)
    add_instrument = on_loop(Simulator.add_instrument)
    remove_instrument = on_loop(Simulator.remove_instrument)
    rest_calls = on_loop(Simulator.rest_calls)
    reset = on_loop(Simulator.reset)
    restart = blocking(Simulator.restart)
