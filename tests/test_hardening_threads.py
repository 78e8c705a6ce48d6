"""Hardening (issue #17): the clock read, a refused re-login, restored subscriptions,
and the blocking client's threads.

Socket-free where it can be (a :class:`ScriptedServer` on the virtual clock of
:func:`okx_ws_core.testing.run`); the blocking client's tests run its real loop
thread against the scripted server, with every interval configured short.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from okx_ws_core import (
    AsyncWebsocketClient,
    AuthenticationError,
    BlockingCallInLoop,
    ClientClosed,
    ClockSyncError,
    ConnectionLost,
    ConnectTimeout,
    Event,
    OkxWsError,
    RequestTimeout,
    WebsocketClient,
)
from okx_ws_core.client import loop_thread
from okx_ws_core.client.loop_thread import LoopStopped, LoopThread
from okx_ws_core.net.link import Link
from okx_ws_core.streams.channels import UpdateQueue
from okx_ws_core.testing import ScriptedServer, ok_reply, run, until
from tests.conftest import wait_until


def make_client(server: Any, **overrides: Any) -> AsyncWebsocketClient:
    options: dict[str, Any] = {"attach_event_listeners": False, "id_prefix": "h", **overrides}
    return AsyncWebsocketClient("key1", "secret1", "pass1", transport=server, **options)


def now() -> float:
    return asyncio.get_running_loop().time()


# -- 1. a failed clock read ---------------------------------------------------------------


def flaky_clock(failures: int, reads: list[float]) -> httpx.MockTransport:
    """OKX's GET /api/v5/public/time: HTTP 503 ``failures`` times, then the time."""

    def handle(request: httpx.Request) -> httpx.Response:
        reads.append(now())
        if len(reads) <= failures:
            return httpx.Response(503, json={"code": "50001", "msg": "Service unavailable"})
        ts = str(int(time.time() * 1000))
        return httpx.Response(200, json={"code": "0", "msg": "", "data": [{"ts": ts}]})

    return httpx.MockTransport(handle)


def test_a_failed_clock_read_is_retried_with_the_backoff_and_named_to_the_caller() -> None:
    async def main() -> None:
        reads: list[float] = []
        server = ScriptedServer()
        options = {"sync_time": True, "reconnect_delay": 1.0, "reconnect_max_delay": 8.0}
        async with make_client(server, rest_transport=flaky_clock(3, reads), **options) as c:
            with pytest.raises(ConnectTimeout, match="clock could not be read") as info:
                await c.connect("private", timeout=0.5)
            assert isinstance(info.value.__cause__, ClockSyncError)
            assert server.connect_attempts == 0  # no socket opened for a login it cannot sign
            await c.connect("private", timeout=60)
            assert len(reads) == 4 and server.logins == 1
            gaps = [b - a for a, b in zip(reads, reads[1:], strict=False)]
            assert gaps[0] >= 0.5 and gaps[1] >= 1.0 and gaps[2] >= 2.0  # the backoff, growing
            assert server.connect_attempts == 1

    run(main())


# -- 10. a login refused on a reconnect ------------------------------------------------------

ORDERS = {"channel": "orders", "instType": "ANY"}
TICKERS = {"channel": "tickers", "instId": "BTC-USDT"}


def test_a_login_refused_on_a_reconnect_is_retried_with_a_growing_capped_delay(
    caplog: pytest.LogCaptureFixture,
) -> None:
    refusals = 6

    async def main() -> None:
        server = ScriptedServer()
        options = {"reconnect_delay": 1.0, "reconnect_max_delay": 8.0}
        async with make_client(server, attach_event_listeners=True, **options) as client:
            refused: list[tuple[float, Event]] = []
            client.on(
                "exception",
                lambda e: (
                    refused.append((now(), e)) if isinstance(e.error, AuthenticationError) else None
                ),
            )
            pushed: list[Event] = []
            client.on("update", pushed.append)
            await client.subscribe(ORDERS, "private")
            server.login_errors = [("60009", "Login failed.")] * refusals
            server.links[0].close("dropped")
            await until(lambda: refused, "the first refusal")
            t0 = now()
            with pytest.raises(AuthenticationError):  # the next login comes too late for it:
                await client.send_ws_api_request(
                    "private", "order", [{"clOrdId": "x"}], timeout=0.1
                )
            assert now() == t0 and server.logins == 2  # it fails at once, and forces no login
            while len(refused) < refusals:  # virtual time passes: the retries come
                await asyncio.sleep(0.25)
            # a call made now waits for the next login (due within its timeout): it succeeds
            reply = await client.send_ws_api_request("private", "order", [{"clOrdId": "y"}])
            assert reply["code"] == "0"
            assert server.logins == 1 + refusals + 1
            times = [t for t, _ in refused]
            assert len(times) == refusals
            gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
            for k, gap in enumerate(gaps):  # full jitter: between half the delay and the delay
                assert min(8.0, 2.0**k) / 2 <= gap <= min(8.0, 2.0**k) + 1e-6, gaps
            for _, event in refused:
                assert event.connection == "private" and event.error.code == "60009"
                assert event.detail.startswith("login refused on reconnect, retry in")
                assert "1 subscriptions wait" in event.detail
            link = server.open_links()[-1]
            assert link.ops("subscribe")[0]["args"] == [ORDERS]  # restored at last
            link.push({"arg": {**ORDERS, "uid": "1"}, "data": [{"ordId": "1"}]})
            await until(lambda: pushed, "a push after the restore")

    run(main())
    lines = [r for r in caplog.records if "login refused on reconnect" in r.getMessage()]
    assert len(lines) == refusals and all(r.levelname == "WARNING" for r in lines)


def test_a_first_login_refused_is_still_reported_once_not_retried() -> None:
    async def main() -> None:
        server = ScriptedServer()
        async with make_client(server, reconnect_delay=1.0, reconnect_max_delay=8.0) as client:
            server.login_errors = [("60009", "Login failed.")]
            with pytest.raises(AuthenticationError):
                await client.subscribe(ORDERS, "private")
            await asyncio.sleep(120)
            assert server.logins == 1

    run(main())


# -- 12. every subscription restored ----------------------------------------------------------

PRIVATE_SUBS = [ORDERS, {"channel": "account"}, {"channel": "positions", "instType": "ANY"}]
PUBLIC_SUBS = [TICKERS, {"channel": "tickers", "instId": "ETH-USDT"},
               {"channel": "trades", "instId": "BTC-USDT"}]  # fmt: skip


def test_three_subscriptions_on_two_connections_are_all_restored_after_each_reconnect() -> None:
    async def main() -> None:
        server = ScriptedServer()
        async with make_client(server) as client:
            restored: list[tuple[str, str]] = []
            client.on("reconnected", lambda e: restored.append((e.connection, e.detail)))
            for arg in PRIVATE_SUBS:  # one at a time: each remembered on its own
                await client.subscribe(arg, "private")
            await client.subscribe(PUBLIC_SUBS, "public")
            for round_ in range(2):
                for link in server.open_links():
                    link.close(f"dropped #{round_}")
                await asyncio.sleep(5)
                by_url = {link.url.rsplit("/", 1)[-1]: link for link in server.open_links()}
                assert set(by_url) == {"private", "public"}
                sent = {key: [a for f in link.ops("subscribe") for a in f["args"]]
                        for key, link in by_url.items()}  # fmt: skip
                assert sent == {"private": PRIVATE_SUBS, "public": PUBLIC_SUBS}
            assert (
                sorted(restored)
                == [("private", "3 subscriptions restored")] * 2
                + [("public", "3 subscriptions restored")] * 2
            )
            assert client.subscriptions("private") == PRIVATE_SUBS
            assert client.subscriptions("public") == PUBLIC_SUBS

    run(main())


# -- 7 and 11. the blocking client's threads -------------------------------------------------


def blocking_client(server: ScriptedServer, **overrides: Any) -> WebsocketClient:
    options: dict[str, Any] = {"attach_event_listeners": False, "id_prefix": "b", **overrides}
    return WebsocketClient("key1", "secret1", "pass1", transport=server, **options)


def loop_passes(loop: asyncio.AbstractEventLoop, n: int) -> None:
    """Wait (from another thread) until ``loop`` ran ``n`` passes of its callbacks."""
    for _ in range(n):
        passed = threading.Event()
        loop.call_soon_threadsafe(passed.set)
        passed.wait(5)


def order(cl_ord_id: str) -> list[dict[str, Any]]:
    return [{"instIdCode": 7, "tdMode": "cash", "side": "buy", "ordType": "market", "sz": "1",
             "clOrdId": cl_ord_id}]  # fmt: skip


def test_a_blocking_method_in_an_event_handler_raises_blocking_call_in_loop() -> None:
    seen: list[object] = []
    with blocking_client(ScriptedServer()) as client:

        def handler(event: Event) -> None:
            try:
                client.subscribe(TICKERS)
            except Exception as exc:  # noqa: BLE001 - the test records what it was
                seen.append(exc)
            # the quick methods work here, on the loop thread itself
            seen.append((client.in_flight, client.subscriptions("public"), client.tracker))

        client.on("authenticated", handler)
        client.connect("private")
        client.off("authenticated", handler)
    error = seen[0]
    assert isinstance(error, BlockingCallInLoop) and isinstance(error, RuntimeError)
    assert isinstance(error, OkxWsError)
    assert "WebsocketClient.subscribe" in str(error) and "Use the async client" in str(error)
    assert seen[1] == (0, [], None)


@pytest.mark.parametrize("lands_on", ["the waiting thread", "another thread"])
def test_ctrl_c_while_a_call_waits_cancels_the_request(lands_on: str) -> None:
    """A Ctrl-C ends a waiting call within a wait slice (:mod:`okx_ws_core.waits`), not
    at its 30 s timeout, wherever the kernel delivers the signal: a terminal's SIGINT
    may land on another thread (the loop thread), or on the waiting one a moment
    before its wait's system call began (a loaded CI machine hit that); in both,
    the system call is not interrupted and only the next bytecode sees it."""
    sent = threading.Event()

    def answer(frame: dict[str, Any]) -> None:
        sent.set()  # on the loop thread: the request was written; never answered
        return None

    main = threading.main_thread().ident
    assert threading.get_ident() == main and main is not None
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with blocking_client(ScriptedServer(answer=answer), request_timeout=30.0) as client:
            client.connect("private")

            def ctrl_c() -> None:
                sent.wait(5)
                loop_passes(client.loop, 3)  # the write ends, the call awaits its reply
                target = main if lands_on == "the waiting thread" else threading.get_ident()
                signal.pthread_kill(target, signal.SIGINT)

            interrupt = threading.Thread(target=ctrl_c)
            interrupt.start()
            started = time.monotonic()
            with pytest.raises(KeyboardInterrupt):
                client.send_ws_api_request("private", "order", order("c1"))
            interrupt.join()
            assert time.monotonic() - started < 5
            assert client.in_flight == 0  # the request was cancelled, not left waiting 30 s
            [fate] = client.cancelled_fates()  # written, so its fate is unknown: recorded
            assert fate.cl_ord_ids == ("c1",)
    finally:
        signal.signal(signal.SIGINT, previous)


def test_ctrl_c_on_another_thread_ends_a_blocking_stream_read_that_has_no_timeout() -> None:
    """``for update in stream:`` waits with no end: a Ctrl-C the kernel delivered to
    another thread must still end it (within a wait slice), not at the next update."""
    updates: UpdateQueue[Any] = UpdateQueue(8, logging.getLogger("test"))
    waiting = updates._queue.not_empty._waiters  # type: ignore[attr-defined]  # in get()
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)

    def ctrl_c() -> None:
        wait_until(lambda: waiting, "the main thread waits for an update")
        signal.pthread_kill(threading.get_ident(), signal.SIGINT)  # lands on this thread

    interrupt = threading.Thread(target=ctrl_c)
    try:
        interrupt.start()
        started = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            updates.get("tickers", None)
        assert time.monotonic() - started < 2
    finally:
        interrupt.join()
        signal.signal(signal.SIGINT, previous)


@pytest.mark.parametrize("start", ["handed to the loop", "first step on the caller's thread"])
def test_ctrl_c_just_after_a_call_is_started_cancels_it_too(
    start: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C lands on whatever bytecode runs: also after the call was started but before
    its caller began to wait (the window a loaded machine hit: the test above then saw
    in_flight == 1).  A call is started one of two ways: handed to the busy loop thread,
    or its first step run here while that thread waits for I/O (a request's frame then
    left from this thread).  Here the interrupt is raised right after either."""
    with blocking_client(ScriptedServer(answer=lambda frame: None), request_timeout=30.0) as client:
        client.connect("private")
        if start == "handed to the loop":
            monkeypatch.setattr(client._thread, "_selector", None)  # nothing lent: hand over
            hand_over = client.loop.call_soon_threadsafe

            def interrupted(callback: Callable[..., object], *args: Any) -> None:
                hand_over(callback, *args)  # the call is on its way to the loop
                monkeypatch.undo()  # once
                raise KeyboardInterrupt

            monkeypatch.setattr(client.loop, "call_soon_threadsafe", interrupted)
        else:
            start_here = loop_thread.start_here

            def interrupted_here(*args: Any) -> Any:
                assert start_here(*args) is not None  # the frame is written, the task waits
                monkeypatch.undo()
                raise KeyboardInterrupt

            monkeypatch.setattr(loop_thread, "start_here", interrupted_here)
        with pytest.raises(KeyboardInterrupt):
            client.send_ws_api_request("private", "order", order("c1"))
        loop_passes(client.loop, 5)  # enough for a call left running to send its frame
        assert client.in_flight == 0  # cancelled, not left waiting 30 s for a reply
        if start != "handed to the loop":  # sent: its fate is unknown, and recorded
            [fate] = client.cancelled_fates()
            assert fate.cl_ord_ids == ("c1",)


def test_ctrl_c_inside_a_first_step_after_the_write_records_the_unknown_fate(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A first step run on the caller's (main) thread can be hit by Ctrl-C itself, as no
    loop thread ever is: after the frame was written, the order may be live on OKX, so
    the call must be recorded like a cancelled one (``cancelled_fates()``), never lost.
    Here the interrupt comes right as the write returns, inside the request's step."""
    written = Link.send

    async def send_then_interrupt(self: Link, text: str) -> None:
        await written(self, text)
        monkeypatch.undo()  # once
        assert threading.current_thread() is threading.main_thread()  # the caller's thread
        raise KeyboardInterrupt

    def answer(frame: dict[str, Any]) -> dict[str, Any] | None:
        return None if frame["args"] and frame["args"][0]["clOrdId"] == "k1" else ok_reply(frame)

    with blocking_client(ScriptedServer(answer=answer), request_timeout=30.0) as client:
        client.connect("private")
        monkeypatch.setattr(Link, "send", send_then_interrupt)
        with pytest.raises(KeyboardInterrupt):
            client.send_ws_api_request("private", "order", order("k1"))
        assert client.in_flight == 0
        [fate] = client.cancelled_fates()
        assert (fate.op, fate.cl_ord_ids) == ("order", ("k1",))
        reply = client.send_ws_api_request("private", "order", order("k2"))  # still usable
        assert reply["data"][0]["clOrdId"] == "k2"


def test_close_is_bounded_and_releases_a_caller_even_when_a_handler_blocks_the_loop() -> None:
    server = ScriptedServer(answer=None)  # requests are never answered
    client = blocking_client(server, request_timeout=30.0)
    client.connect("private")
    outcome: list[BaseException] = []

    def waiting_call() -> None:
        try:
            client.send_ws_api_request("private", "order", order("w1"))
        except BaseException as exc:  # noqa: BLE001 - the test records what it was
            outcome.append(exc)

    caller = threading.Thread(target=waiting_call)
    caller.start()
    wait_until(lambda: client.in_flight == 1, "the request in flight")
    release = threading.Event()
    client.on("update", lambda event: release.wait(10))  # a handler that blocks the loop
    link = server.links[0]
    client.loop.call_soon_threadsafe(lambda: link.push({"arg": TICKERS, "data": [{}]}))
    started = time.monotonic()
    try:
        client.close(timeout=0.2)
        caller.join(2)
        assert not caller.is_alive(), "the caller still waits"
        assert time.monotonic() - started < 2
        assert len(outcome) == 1 and isinstance(outcome[0], ClientClosed), outcome
    finally:
        release.set()
    client.close()  # the loop is free again: this close finishes stopping it
    assert not any(t.name == "okx-ws-loop" for t in threading.enumerate())
    with pytest.raises(ClientClosed):
        client.subscriptions("private")


def test_stop_releases_a_blocked_caller_even_when_a_callback_blocks_the_loop() -> None:
    thread = LoopThread("stuck")
    running = threading.Event()
    outcome: list[BaseException] = []

    async def long_call() -> None:
        running.set()
        await asyncio.sleep(30)

    def caller() -> None:
        try:
            thread.run(long_call())
        except BaseException as exc:  # noqa: BLE001 - the test records what it was
            outcome.append(exc)

    waiting = threading.Thread(target=caller)
    waiting.start()
    assert running.wait(5)
    release = threading.Event()
    thread.loop.call_soon_threadsafe(lambda: release.wait(10))  # blocks the loop thread
    try:
        started = time.monotonic()
        assert thread.stop(0.2) is False  # could not stop: a callback holds the loop
        waiting.join(2)
        assert not waiting.is_alive(), "the caller still waits"
        assert time.monotonic() - started < 2
        assert len(outcome) == 1 and isinstance(outcome[0], LoopStopped), outcome
        with pytest.raises(LoopStopped):  # and no new call is taken
            thread.run(asyncio.sleep(0))
    finally:
        release.set()
    assert thread.stop(5) is True and thread.loop.is_closed()  # free again: stopped for good


def test_a_call_given_up_before_its_task_began_never_runs_and_leaves_no_warning() -> None:
    """The caller is released by the task itself, without a done-callback: a task
    cancelled before its first step must still close its coroutine (no "never
    awaited" warning), and a callback given up before it ran never runs."""
    thread = LoopThread("given-up")
    ran: list[str] = []

    async def work() -> None:
        ran.append("coroutine")

    release = threading.Event()
    thread.loop.call_soon_threadsafe(lambda: release.wait(10))  # holds the loop thread
    try:
        with pytest.raises(TimeoutError):
            thread.run(work(), timeout=0.05)
        with pytest.raises(TimeoutError):
            thread.call(lambda: ran.append("callback"), timeout=0.05)
    finally:
        release.set()
    assert thread.call(lambda: "after") == "after"  # still serving, in order
    assert thread.run(asyncio.sleep(0, "again")) == "again"
    assert ran == []
    with pytest.raises(ValueError, match="boom"):  # errors cross to the caller as they were
        thread.call(lambda: int("boom"))
    assert thread.stop(5) is True


def test_a_call_from_a_second_thread_runs_while_the_first_waits_each_in_its_own_task() -> None:
    """Rules the hop relies on: a caller waiting does not hold the loop (a second
    thread's call runs meanwhile), each call is a task of its own on the loop
    thread (``asyncio.timeout`` needs one: a task-less driver would break it),
    and each outcome goes back to the thread that asked for it."""
    thread = LoopThread("two-callers")
    gate: asyncio.Event | None = None
    first_waits = threading.Event()
    tasks: list[asyncio.Task[Any] | None] = []
    outcome: list[object] = []

    async def first() -> str:
        nonlocal gate
        gate = asyncio.Event()
        tasks.append(asyncio.current_task())
        first_waits.set()
        await asyncio.wait_for(gate.wait(), 30)
        return "first"

    async def second() -> str:
        tasks.append(asyncio.current_task())
        assert gate is not None
        gate.set()
        return threading.current_thread().name

    def call_first() -> None:
        outcome.append(thread.run(first()))

    waiting = threading.Thread(target=call_first)
    waiting.start()
    try:
        assert first_waits.wait(5)
        assert thread.run(second()) == "two-callers"  # ran on the loop thread
        waiting.join(5)
        assert outcome == ["first"]
        assert len(tasks) == 2 and None not in tasks and tasks[0] is not tasks[1]
    finally:
        assert thread.stop(5) is True


def test_stop_cancels_a_call_in_flight_and_its_caller_gets_loop_stopped() -> None:
    """stop() (what close() does last) while a call awaits: the call's task is
    cancelled on the loop thread, its cleanup runs, and the caller is released."""
    thread = LoopThread("stop-in-flight")
    waiting_started = threading.Event()
    cleaned_up: list[str] = []
    outcome: list[BaseException] = []

    async def never_answered() -> None:
        waiting_started.set()
        try:
            await asyncio.Event().wait()
        finally:
            cleaned_up.append(threading.current_thread().name)

    def caller() -> None:
        try:
            thread.run(never_answered())
        except BaseException as exc:  # noqa: BLE001 - the test records what it was
            outcome.append(exc)

    waiting = threading.Thread(target=caller)
    waiting.start()
    assert waiting_started.wait(5)
    assert thread.stop(5) is True
    waiting.join(5)
    assert not waiting.is_alive(), "the caller still waits"
    assert len(outcome) == 1 and isinstance(outcome[0], LoopStopped), outcome
    assert "cancelling" in str(outcome[0])  # cancelled, not abandoned
    assert cleaned_up == ["stop-in-flight"]


def test_a_call_abandoned_by_a_stop_that_timed_out_is_closed_by_the_stop_that_finishes() -> None:
    """The loop blocked: a call times out before its task began, a stop() gives up
    (releasing every caller) and the loop ends before the task's first step.  The
    stop() that finishes the job must close that coroutine: else it is never
    awaited, and the warning fails whichever later test the garbage collector hits."""
    thread = LoopThread("abandoned")
    ran: list[str] = []

    async def work() -> None:
        ran.append("coroutine")

    def hold() -> None:
        blocked.set()
        release.wait(10)

    coro = work()
    blocked, release = threading.Event(), threading.Event()
    thread.loop.call_soon_threadsafe(hold)  # holds the loop thread
    assert blocked.wait(5)
    try:
        with pytest.raises(TimeoutError):
            thread.run(coro, timeout=0.05)
        assert thread.stop(0.05) is False  # stuck: gives up, releases the callers
    finally:
        release.set()
    assert thread.stop(5) is True
    assert ran == []
    assert inspect.getcoroutinestate(coro) == inspect.CORO_CLOSED


class _OtherLoop(asyncio.SelectorEventLoop):
    """Stands for a loop of another kind (uvloop's, the proactor): not asyncio's own."""


class _OtherLoopPolicy(asyncio.DefaultEventLoopPolicy):
    def new_event_loop(self) -> asyncio.AbstractEventLoop:
        return _OtherLoop()


def test_a_loop_of_another_kind_is_kept_and_serves_calls_timeouts_and_stop() -> None:
    """LoopThread runs a loop of the current policy's kind (a user of uvloop keeps
    uvloop), not asyncio's own selector loop by fiat, and every rule holds there:
    calls, calls on the loop thread, a timed-out call cancelled on the loop."""
    previous = asyncio.get_event_loop_policy()
    asyncio.set_event_loop_policy(_OtherLoopPolicy())
    try:
        thread = LoopThread("other-kind")
    finally:
        asyncio.set_event_loop_policy(previous)
    try:
        assert type(thread.loop) is _OtherLoop
        assert thread.run(asyncio.sleep(0, "ran")) == "ran"
        assert thread.call(lambda: threading.current_thread().name) == "other-kind"  # not lent

        async def first_step() -> str:
            return threading.current_thread().name

        assert thread.run(first_step(), inline=True) == "other-kind"  # not lent either
        cancelled = threading.Event()

        async def slow() -> None:
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                cancelled.set()
                raise

        with pytest.raises(TimeoutError):
            thread.run(slow(), timeout=0.05)
        assert cancelled.wait(5)  # the timed-out call was cancelled on the loop
    finally:
        assert thread.stop(5) is True


ROUNDS = 40
# What a caller's thread may run of okx_ws_core: the facade, and one atomic attribute.
CALLER_SIDE_FILES = (
    "sync_client.py",
    "facade.py",
    "loop_thread.py",
    "blocking_tracker.py",
    "errors.py",
    "waits.py",
)
CALLER_SIDE_FUNCTIONS = {
    ("async_client.py", "get_time_offset_ms"),
    ("async_client.py", "set_time_offset_ms"),
}


class LoopAffinity:
    """A profiler on the callers' threads: which okx_ws_core functions ran there, outside
    the facade, without the loop lent to them.  The state they touch is the loop's
    alone; run from a caller that does not hold the loop it races the loop thread (a set
    changing size mid-iteration...), however rarely that shows.  A request's first step
    runs on its caller's thread while the loop is lent (``lent_loop``): counted in
    ``lent``."""

    def __init__(self, loop: LoopThread) -> None:
        self.loop = loop
        self.strays: set[str] = set()
        self.lent = 0

    def __call__(self, frame: Any, event: str, arg: object) -> None:
        if event != "call" or not threading.current_thread().name.startswith("hammer-"):
            return
        path = frame.f_code.co_filename.replace("\\", "/")
        if "/okx_ws_core/" not in path:
            return
        if self.loop.on_loop_thread():  # this caller holds the loop: its first step
            self.lent += 1
            return
        name = path.rsplit("/", 1)[-1]
        if (
            name not in CALLER_SIDE_FILES
            and (name, frame.f_code.co_name) not in CALLER_SIDE_FUNCTIONS
        ):
            self.strays.add(f"{name}:{frame.f_code.co_qualname}")


def test_eight_threads_hammer_every_public_method_while_links_churn() -> None:
    server = ScriptedServer()
    unexpected: list[BaseException] = []
    answered: list[str] = []
    expected = (ConnectionLost, RequestTimeout, ConnectTimeout)
    with blocking_client(server, reconnect_delay=0.001, reconnect_max_delay=0.005) as client:
        client.connect("private")
        tracker = client.track_orders(subscribe=False)
        done = threading.Event()

        def churn() -> None:  # on the loop: every link dies now and then, sessions come and go
            while not done.wait(0.01):
                client.loop.call_soon_threadsafe(
                    lambda: [link.close("churn") for link in server.open_links()]
                )

        def worker(n: int) -> None:
            def handler(event: Event) -> None:
                pass

            arg = {"channel": "tickers", "instId": f"T{n}-USDT"}
            try:
                for i in range(ROUNDS):
                    cl = f"w{n}x{i}"
                    try:
                        client.send_ws_api_request("private", "order", order(cl), timeout=1.0)
                        answered.append(cl)
                    except expected:
                        pass
                    try:
                        client.subscribe(arg, timeout=1.0)
                        client.unsubscribe(arg, timeout=1.0)
                    except expected:
                        pass
                    client.on("update", handler)
                    client.off("update", handler)
                    assert client.in_flight >= 0
                    client.subscriptions("public")
                    client.subscriptions("private")
                    tracker.orders()
                    assert len(tracker) >= 0 and tracker.unresolved() is not None
                    tracker.get(cl)
                    client.tracked_order(cl)
                    client.set_time_offset_ms(n)
                    client.get_time_offset_ms()
            except BaseException as exc:  # noqa: BLE001 - anything else is the failure
                unexpected.append(exc)

        affinity = LoopAffinity(client._thread)
        previous = sys.getswitchinterval()
        sys.setswitchinterval(1e-5)  # switch threads often: races show up
        threading.setprofile(affinity)
        try:
            threads = [
                threading.Thread(target=worker, args=(n,), name=f"hammer-{n}") for n in range(8)
            ]
            churner = threading.Thread(target=churn)
            for t in (*threads, churner):
                t.start()
            for t in threads:
                t.join(60)
            done.set()
            churner.join(5)
        finally:
            threading.setprofile(None)  # type: ignore[arg-type]
            sys.setswitchinterval(previous)
        assert not any(t.is_alive() for t in threads), "a caller still waits"
        assert unexpected == [], unexpected[:3]
        assert sorted(affinity.strays) == []
        assert affinity.lent > 0, "no first step ran on a caller's thread: not tested"
        assert answered, "no request was answered: the churn is too fast to test anything"
        wait_until(lambda: client.in_flight == 0, "nothing in flight")
