"""SimulatorThread: the simulator on its own event-loop thread, for blocking code."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from .auth import Account
from .instruments import Instrument
from .server import Simulator
from .stats import SimStats

if TYPE_CHECKING:
    from okx_ws_core.loop_thread import LoopThread

T = TypeVar("T")


class _FaultsProxy:
    """Forwards FaultPlan calls to the simulator's loop and waits for them."""

    def __init__(self, owner: SimulatorThread) -> None:
        self._owner = owner

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._owner.simulator.faults, name)
        if not callable(target):
            return self._owner.call(lambda: getattr(self._owner.simulator.faults, name))

        def forward(*args: Any, **kwargs: Any) -> Any:
            return self._owner.call(lambda: target(*args, **kwargs))

        return forward


class SimulatorThread:
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
        self.faults = _FaultsProxy(self)

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
        from okx_ws_core.loop_thread import LoopThread

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

    def orders(self, api_key: str | None = None, state: str | None = None) -> list[dict[str, Any]]:
        return self.call(lambda: self.simulator.orders(api_key, state))

    def find_order(
        self, cl_ord_id: str | None = None, api_key: str | None = None, ord_id: str | None = None
    ) -> dict[str, Any] | None:
        return self.call(lambda: self.simulator.find_order(cl_ord_id, api_key, ord_id))

    def balances(self, api_key: str | None = None) -> dict[str, dict[str, str]]:
        return self.call(lambda: self.simulator.balances(api_key))

    def positions(self, api_key: str | None = None) -> list[dict[str, Any]]:
        return self.call(lambda: self.simulator.positions(api_key))

    def fill(
        self,
        cl_ord_id: str | None = None,
        sz: str | int | Decimal | None = None,
        *,
        ord_id: str | None = None,
        px: str | int | Decimal | None = None,
        api_key: str | None = None,
    ) -> dict[str, Any]:
        """``Simulator.fill`` on the simulator's loop (its pushes follow)."""
        return self.call(
            lambda: self.simulator.fill(cl_ord_id, sz, ord_id=ord_id, px=px, api_key=api_key)
        )

    def connection_count(self, kind: str | None = None) -> int:
        return self.call(lambda: self.simulator.connection_count(kind))

    def add_account(self, account: Account) -> None:
        self.call(lambda: self.simulator.add_account(account))

    def instrument(self, inst_id: str) -> Instrument | None:
        return self.call(lambda: self.simulator.instrument(inst_id))

    def inst_id_code(self, inst_id: str) -> int:
        return self.call(lambda: self.simulator.inst_id_code(inst_id))

    def add_instrument(self, inst: Instrument) -> Instrument:
        return self.call(lambda: self.simulator.add_instrument(inst))

    def remove_instrument(self, inst_id: str) -> Instrument:
        return self.call(lambda: self.simulator.remove_instrument(inst_id))

    def rest_calls(self, path: str | None = None, inst_type: str | None = None) -> int:
        return self.call(lambda: self.simulator.rest_calls(path, inst_type))

    @property
    def rest_last_headers(self) -> dict[str, str]:
        return self.call(lambda: dict(self.simulator.rest_last_headers))

    def reset(self) -> None:
        self.call(self.simulator.reset)

    def restart(self, down_for: float = 0.0) -> None:
        self.run(self.simulator.restart(down_for))
