"""The blocking API is the async API (issue #23 item 3): a drifting copy fails here.

Every public method of an async class has a blocking twin with the same
parameters (names, kinds, defaults, annotations); the few deliberate
differences are listed below with their reason.  The blocking methods are
derived from the async ones (okx_ws_core.client.facade), so this holds by
construction; the test keeps it that way for what is still written by hand.
"""

from __future__ import annotations

import inspect
import threading
from typing import Any

import pytest
from okx_ws import AsyncWebsocketAPIClient, WebsocketAPIClient

from okx_ws_core import AsyncWebsocketClient, BlockingFacade, WebsocketClient
from okx_ws_core.client.facade import Facade, blocking, direct, on_loop
from okx_ws_core.client.loop_thread import LoopThread
from okx_ws_sim import Simulator, SimulatorThread
from okx_ws_sim.faults import FaultPlan
from okx_ws_sim.thread import ThreadFaults

# Async members with no blocking twin, and why.
ASYNC_ONLY = {
    "emit": "events are emitted on the loop by the client itself",
    "updates": "an async iterator; blocking code uses on('update') or typed streams",
    "close": "the blocking close also stops the loop thread (its own signature)",
    "get_ws_client": "gives the underlying blocking client, not the async one",
}
# Parameters a blocking twin leaves out on purpose.
LEFT_OUT = {("subscribe", "buffer"): "the blocking subscribe returns no stream to buffer"}
# Async members whose blocking twin returns None instead of a stream.
RETURNS_NOTHING = {"subscribe": "the blocking subscribe returns no stream"}


def public_methods(cls: type[Any]) -> dict[str, Any]:
    return {
        name: member
        for name, member in inspect.getmembers(cls)
        if not name.startswith("_") and callable(member) and not isinstance(member, type)
    }


def assert_twins(
    async_cls: type[Any], blocking_cls: type[Any], only: set[str] | None = None
) -> None:
    problems = []
    for name, method in public_methods(async_cls).items():
        if name in ASYNC_ONLY or (only is not None and name not in only):
            continue
        twin = getattr(blocking_cls, name, None)
        if twin is None:
            problems.append(f"{name}: no blocking twin")
            continue
        ours, theirs = inspect.signature(twin), inspect.signature(method)
        wanted = [p for p in theirs.parameters.values() if (name, p.name) not in LEFT_OUT]
        if list(ours.parameters.values()) != wanted:
            problems.append(f"{name}{ours} != {name}{theirs}")
        returns = str(theirs.return_annotation)
        # the same type, or its thread-safe twin (a stream, a book)
        expected = ("None",) if name in RETURNS_NOTHING else (returns, f"Blocking{returns}")
        if str(ours.return_annotation) not in expected:
            problems.append(f"{name} returns {ours.return_annotation}, not {expected}")
    assert problems == []


def test_the_runtime_blocking_client_has_every_async_method_with_its_parameters() -> None:
    assert_twins(AsyncWebsocketClient, WebsocketClient)


def test_the_generated_blocking_client_has_every_async_method_with_its_parameters() -> None:
    assert_twins(AsyncWebsocketAPIClient, WebsocketAPIClient)


def test_the_simulator_thread_mirrors_the_simulator() -> None:
    mirrored = {name for name in public_methods(SimulatorThread) if hasattr(Simulator, name)}
    mirrored -= {"start", "stop", "url"}  # lifecycle, and the URLs: fixed once started
    assert mirrored >= {"orders", "fill", "restart", "reset", "find_order"}
    assert_twins(Simulator, SimulatorThread, only=mirrored)


def test_a_derived_method_keeps_name_docstring_and_signature() -> None:
    method = WebsocketAPIClient.submit_new_order
    assert method.__doc__ == AsyncWebsocketAPIClient.submit_new_order.__doc__
    assert str(inspect.signature(method)).startswith("(self, params:")
    assert "buffer" in inspect.signature(WebsocketAPIClient.subscribe_tickers).parameters
    assert issubclass(WebsocketAPIClient, BlockingFacade)


class Counter:
    """An async object living on a loop thread."""

    def __init__(self) -> None:
        self.threads: list[str] = []
        self.value = 0

    async def add(self, n: int, *, times: int = 1) -> int:
        """Add ``n``, ``times`` times."""
        self.threads.append(threading.current_thread().name)
        self.value += n * times
        return self.value

    def peek(self) -> int:
        self.threads.append(threading.current_thread().name)
        return self.value

    def name(self) -> str:
        return "counter"


class BlockingCounter(Facade[Counter]):
    add = blocking(Counter.add)
    peek = on_loop(Counter.peek)
    name = direct(Counter.name)

    def __init__(self, thread: LoopThread) -> None:
        self.counter = Counter()
        self.thread = thread

    def _target(self) -> Counter:
        return self.counter

    def _run(self, coro: Any) -> Any:
        return self.thread.run(coro)

    def _on_loop(self, fn: Any) -> Any:
        return self.thread.call(fn)


@pytest.fixture
def loop_thread() -> Any:
    thread = LoopThread("facade-test")
    yield thread
    thread.stop(5)


def test_blocking_runs_on_the_loop_thread_on_loop_where_the_loop_is_direct_on_the_callers(
    loop_thread: LoopThread,
) -> None:
    """``on_loop`` runs where the loop's state is safe to touch: on the loop thread, or
    on the caller's while the loop is lent to it (its thread waits for I/O)."""
    facade = BlockingCounter(loop_thread)
    assert facade.add(2, times=3) == 6
    assert BlockingCounter.add(facade, 1) == 7  # called on the class, like an unbound method
    assert facade.peek() == 7
    assert facade.name() == "counter"
    assert facade.counter.threads[:2] == ["facade-test"] * 2
    assert facade.counter.threads[2] in {"facade-test", threading.current_thread().name}
    assert facade.add.__doc__ == "Add ``n``, ``times`` times."
    assert facade.add.__qualname__ == "BlockingCounter.add"
    assert str(inspect.signature(facade.add)) == "(n: 'int', *, times: 'int' = 1) -> 'int'"


def test_the_generated_pass_throughs_take_the_runtimes_parameters() -> None:
    shared = set(public_methods(AsyncWebsocketAPIClient)) & set(
        public_methods(AsyncWebsocketClient)
    )
    shared -= {"close"}  # closes only the client it created
    assert shared >= {"load_instruments", "order_book", "track_orders", "wait_for", "reconcile"}
    problems = []
    for name in sorted(shared):
        ours = evaluated(getattr(AsyncWebsocketAPIClient, name))
        theirs = evaluated(getattr(AsyncWebsocketClient, name))
        if name == "order_book":  # the generated one takes the channel's name, after inst_id
            ours = {p for p in ours if p[0] != "channel"}
            theirs = {p for p in theirs if p[0] != "channel"}
        if ours != theirs:
            problems.append(f"{name}: {sorted(ours ^ theirs)}")
    assert problems == []


def evaluated(method: Any) -> set[tuple[str, ...]]:
    """The parameters (by name: keywords) with their annotations evaluated, spelt alike."""
    signature = inspect.signature(method, eval_str=True)
    return {
        (p.name, str(p.kind), repr(p.default), str(p.annotation).replace("'", ""))
        for p in signature.parameters.values()
        if p.kind is not p.POSITIONAL_ONLY and p.name != "self"
    }


def test_the_simulator_threads_faults_mirror_the_fault_plan() -> None:
    arming = {name for name in public_methods(ThreadFaults)}
    assert arming >= {"fail_rest", "delay_replies", "armed", "reset"}
    assert_twins(FaultPlan, ThreadFaults, only=arming)
