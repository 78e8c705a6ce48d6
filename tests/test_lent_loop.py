"""A loop thread lends its loop to a caller for a request's first step (``lent_loop``).

The blocking client used to cross threads twice per call.  While its loop
thread waits for I/O, ``LoopThread.run(..., inline=True)`` now runs the
task's first step on the caller's thread, so a request's frame is written
from there and only the reply crosses back.  These tests pin what that must
keep: the step runs as the loop thread would run it, the rest on the loop
thread; a busy loop, debug mode or a foreign loop hands over as before; what
the step leaves for the loop (a timer, a callback) wakes the loop thread; the
caller counts as the loop while it holds it (no deadlock on quick calls);
Ctrl-C in the step leaves the loop usable.  The asyncio internals
``lent_loop`` uses are pinned by the first test: without any of them the
first step would run on the loop thread.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from okx_ws import WebsocketAPIClient

from okx_ws_core.client import lent_loop
from okx_ws_core.client.loop_thread import LoopThread
from okx_ws_core.net.link import Link
from okx_ws_sim import SimulatorThread
from tests.conftest import client_options, wait_until

WAIT_S = 5.0  # a bound for what must happen at once: only a failure waits it out


@pytest.fixture
def loop_thread() -> Iterator[LoopThread]:
    thread = LoopThread("lend-test")
    yield thread
    thread.stop()


def where() -> tuple[str, bool, bool]:
    """This thread's name; whether this loop runs here, and a task is current."""
    loop = asyncio.get_running_loop()
    return threading.current_thread().name, loop.is_running(), asyncio.current_task() is not None


def test_the_first_step_runs_on_the_callers_thread_the_rest_on_the_loop_thread(
    loop_thread: LoopThread,
) -> None:
    async def job() -> tuple[Any, Any]:
        first = where()
        await asyncio.sleep(0.001)  # a wait: the task resumes where the loop runs
        return first, where()

    first, rest = loop_thread.run(job(), WAIT_S, inline=True)
    assert first == (threading.current_thread().name, True, True)
    assert rest == ("lend-test", True, True)
    first, rest = loop_thread.run(job(), WAIT_S)  # not a request: handed over whole
    assert first == rest == ("lend-test", True, True)


def test_a_busy_loop_is_not_lent_the_call_is_handed_over(loop_thread: LoopThread) -> None:
    running, gate = threading.Event(), threading.Event()
    loop_thread.loop.call_soon_threadsafe(lambda: (running.set(), gate.wait(WAIT_S)))
    assert running.wait(WAIT_S)  # the loop thread holds its loop: a callback runs
    seen: list[Any] = []

    async def job() -> None:
        seen.append(where())

    callers = [
        threading.Thread(target=lambda: loop_thread.run(job(), inline=True)),
        threading.Thread(target=lambda: seen.append(loop_thread.call(where)[:2])),
    ]
    for caller in callers:
        caller.start()
    wait_until(lambda: len(loop_thread._waiters) == 2, "both handed over, waiting")
    gate.set()
    for caller in callers:
        caller.join(WAIT_S)
    assert sorted(seen) == [("lend-test", True), ("lend-test", True, True)]


def test_debug_mode_is_never_lent() -> None:
    """asyncio's debug mode checks that loop code runs on the loop's thread: nothing is
    lent then.  (A loop of another kind, uvloop's say, is never lent either: see
    test_a_loop_of_another_kind_is_kept_and_serves_calls_timeouts_and_stop.)"""
    debug = LoopThread("debug")
    debug.loop.set_debug(True)

    async def job() -> tuple[str, bool, bool]:
        return where()

    try:
        assert debug.run(job(), WAIT_S, inline=True) == ("debug", True, True)
        assert debug.call(where)[0] == "debug"
    finally:
        debug.stop()


def test_a_timer_the_step_arms_before_the_loop_would_wake_wakes_it(
    loop_thread: LoopThread,
) -> None:
    """The idle loop waits with no timeout; a step arming a 10 ms timer must wake it,
    else the task never resumes (the run would hit its timeout)."""
    assert loop_thread.run(asyncio.sleep(0.01, "slept"), WAIT_S, inline=True) == "slept"


def test_a_callback_the_step_queues_wakes_the_loop(loop_thread: LoopThread) -> None:
    async def job() -> str:
        done = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().call_soon(done.set_result, "called")
        return await done

    assert loop_thread.run(job(), WAIT_S, inline=True) == "called"


def test_the_caller_counts_as_the_loop_thread_while_it_runs_the_step(
    loop_thread: LoopThread,
) -> None:
    """A quick call from the step (a handler calling ``in_flight``, say) runs right there:
    handed to the loop thread, which waits for the loop the caller holds, it would hang."""

    async def job() -> tuple[bool, int]:
        inside = loop_thread.on_loop_thread()
        value = loop_thread.call(lambda: 5, timeout=WAIT_S)
        with pytest.raises(RuntimeError, match="its own loop thread"):
            loop_thread.run(asyncio.sleep(0), inline=True)
        return inside, value

    assert loop_thread.run(job(), WAIT_S, inline=True) == (True, 5)
    assert not loop_thread.on_loop_thread()  # lent for the step only


def test_ctrl_c_in_the_step_propagates_and_leaves_the_loop_usable(
    loop_thread: LoopThread, caplog: pytest.LogCaptureFixture
) -> None:
    async def interrupted() -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        loop_thread.run(interrupted(), WAIT_S, inline=True)
    gc.collect()
    assert loop_thread.run(asyncio.sleep(0.001, "next"), WAIT_S, inline=True) == "next"
    assert loop_thread.run(asyncio.sleep(0, "handed"), WAIT_S) == "handed"
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []  # no "Task exception was never retrieved"


def test_a_blocking_order_is_written_from_the_callers_thread(
    sim_thread: SimulatorThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    """End to end: the generated blocking client's orders leave from the caller's thread
    (one crossing), their replies come back typed, and cold calls still work."""
    writers: list[str] = []
    written = Link.send

    async def send(self: Link, text: str) -> None:
        if '"op":"order"' in text.replace(" ", ""):
            writers.append(threading.current_thread().name)
        await written(self, text)

    monkeypatch.setattr(Link, "send", send)
    lent = []
    start_here = lent_loop.start_here

    def counted(*args: Any) -> Any:
        lent.append(1)
        return start_here(*args)

    with WebsocketAPIClient(**client_options(sim_thread.base_url)) as client:
        monkeypatch.setattr("okx_ws_core.client.loop_thread.start_here", counted)
        for i in range(6):  # the first one connects, logs in and loads codes first
            reply = client.submit_new_order(
                {
                    "instId": "BTC-USDT",
                    "tdMode": "cash",
                    "side": "buy",
                    "ordType": "market",
                    "sz": "1",
                    "clOrdId": f"lent{i}",
                }  # fmt: skip
            )
            assert reply.data[0].cl_ord_id == f"lent{i}"
    # A warm order finds the loop idle unless a push (the order's own, say) is being
    # handled right then: that one is handed over, so not every order is lent.  The cold
    # first one is lent too, but its step ends waiting for the login: the loop writes it.
    me = threading.current_thread().name
    assert len(writers) == 6 and set(writers) <= {me, "okx-ws-loop"}
    assert writers[0] == "okx-ws-loop" and len(lent) >= writers.count(me) >= 3


def test_a_quick_call_runs_here_while_the_loop_waits_and_wakes_it_when_needed(
    loop_thread: LoopThread,
) -> None:
    """``LoopThread.call`` (the blocking client's quick methods: the tracker, in_flight)
    runs on the caller's thread with the loop lent, crossing no thread; what it queues
    for the loop still runs there."""
    assert loop_thread.call(lambda: (where(), loop_thread.on_loop_thread())) == (
        (threading.current_thread().name, True, False),  # the loop runs; no task: a callback
        True,
    )
    woken = threading.Event()
    loop_thread.call(lambda: asyncio.get_running_loop().call_soon(woken.set))
    assert woken.wait(WAIT_S)
    with pytest.raises(ZeroDivisionError):
        loop_thread.call(lambda: 1 // 0)
    assert not loop_thread.on_loop_thread()
    assert loop_thread.call(lambda: 7, timeout=WAIT_S) == 7  # still lendable after an error


def test_an_asyncio_without_the_internals_gets_a_loop_that_is_never_lent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A Python whose asyncio lacks what lending uses keeps a working loop thread, which
    hands every call over (the internals are checked once, when the loop is made)."""
    loop = asyncio.SelectorEventLoop()
    try:
        assert lent_loop.has_internals(loop) is True
        monkeypatch.delattr(asyncio, "_set_running_loop")  # asyncio's own loop uses events'
        assert lent_loop.has_internals(loop) is False
    finally:
        loop.close()
    thread = LoopThread("no-internals")
    try:
        assert thread._selector is None

        async def job() -> tuple[str, bool, bool]:
            return where()

        assert thread.run(job(), WAIT_S, inline=True)[0] == "no-internals"
        assert thread.call(where)[0] == "no-internals"
    finally:
        thread.stop()


def test_the_loop_is_chosen_without_the_event_loop_policy_api(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Python 3.14 deprecates ``asyncio.get_event_loop_policy`` (and the policy classes);
    a user running with warnings as errors must still get a lendable loop thread.  The
    loop asyncio would make (``new_event_loop``) decides: a plain selector loop is
    replaced by the lendable one, any other kind is kept (the test above)."""

    def deprecated() -> None:
        raise AssertionError("asyncio.get_event_loop_policy is deprecated since 3.14")

    # The public name only: asyncio.new_event_loop() itself still reads the policy
    # through asyncio.events up to 3.13 (and a private name in 3.14), without warning.
    monkeypatch.setattr(asyncio, "get_event_loop_policy", deprecated)
    loop, selector = lent_loop.new_loop()
    try:
        assert isinstance(selector, lent_loop.PausingSelector)
        assert loop._selector is selector  # type: ignore[attr-defined]
    finally:
        loop.close()
