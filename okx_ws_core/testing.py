"""Test a client with no socket and no wall clock.

* :class:`ScriptedServer` is a :class:`~okx_ws_core.transports.registry.Connector`: pass
  it as ``transport=`` and every connection the client opens is an in-memory
  :class:`ServerLink` that the test drives.  By default it behaves like a
  healthy OKX (logins succeed, ``ping`` gets ``pong``, subscriptions are
  acked, requests get a success reply); each behaviour can be turned off or
  replaced, and a test can read every frame the client wrote.
* :func:`run` runs a coroutine on a :class:`VirtualTimeLoop`, whose clock
  jumps to the next timer whenever nothing is ready: a 10 s request timeout
  or a 30 s backoff takes no real time, and the outcome is deterministic.

Both are public so bot authors can test their own code the same way.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import json
import selectors
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any, TypeVar

from .transports.interface import Transport, TransportClosed

T = TypeVar("T")
Answer = Callable[[dict[str, Any]], "dict[str, Any] | None"]
IDLE_LIMIT_S = 5.0  # real seconds a virtual-time loop may sit with nothing scheduled
# Virtual seconds a run may last: a test awaiting something that never happens would
# otherwise spin forever while periodic timers (heartbeats) keep the clock moving.
VIRTUAL_LIMIT_S = 24 * 3600.0


# -- virtual time -------------------------------------------------------------


class _VirtualSelector(selectors.DefaultSelector):
    """Never sleeps: where the loop would wait for a timer, the clock jumps instead."""

    def __init__(self, advance: Callable[[float], None]) -> None:
        super().__init__()
        self._advance = advance

    def select(self, timeout: float | None = None) -> list[tuple[Any, int]]:
        ready: list[tuple[Any, int]] = super().select(0)
        if ready or timeout == 0:
            return ready
        if timeout is None:  # no timer at all: only another thread can wake us
            ready = super().select(IDLE_LIMIT_S)
            if not ready:
                raise RuntimeError("virtual-time loop idle with nothing scheduled: a deadlock")
            return ready
        self._advance(timeout)
        return []


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """An event loop whose ``time()`` only moves when every task is waiting on a timer."""

    def __init__(self) -> None:
        self._now = 0.0
        super().__init__(_VirtualSelector(self._advance))

    def _advance(self, seconds: float) -> None:
        self._now += seconds
        if self._now > VIRTUAL_LIMIT_S:
            raise RuntimeError(
                f"virtual time passed {VIRTUAL_LIMIT_S:g}s: the test awaits something that never"
                " happens"
            )

    def time(self) -> float:
        return self._now


def run(coro: Coroutine[Any, Any, T], *, limit: float | None = 3600.0) -> T:
    """Run ``coro`` to completion on a fresh :class:`VirtualTimeLoop`.

    A run still waiting after ``limit`` virtual seconds fails with
    ``TimeoutError``: heartbeat timers keep virtual time moving, so a test
    awaiting something that never happens would otherwise never end.
    """
    loop = VirtualTimeLoop()

    async def guarded() -> T:
        task = asyncio.current_task()
        assert task is not None
        watchdog = None if limit is None else loop.call_later(limit, task.cancel)
        try:
            return await coro
        except asyncio.CancelledError:
            if limit is not None and loop.time() >= limit - 1e-9:
                raise TimeoutError(f"still waiting after {limit:g} virtual seconds") from None
            raise
        finally:
            if watchdog is not None:
                watchdog.cancel()

    try:
        return loop.run_until_complete(guarded())
    finally:
        try:
            tasks = asyncio.all_tasks(loop)
            for task in tasks:
                task.cancel()
            if tasks:
                loop.run_until_complete(_gather(tasks))
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()


async def until(predicate: Callable[[], object], what: str, *, steps: int = 200) -> None:
    """Let ready callbacks run (no virtual time passes) until ``predicate()`` holds."""
    for _ in range(steps):
        if predicate():
            return
        await asyncio.sleep(0)
    raise AssertionError(f"never happened: {what}")


async def _gather(tasks: set[asyncio.Task[Any]]) -> None:
    await asyncio.gather(*tasks, return_exceptions=True)


# -- the scripted peer ----------------------------------------------------------


_ORD_IDS = itertools.count(1)


def ok_reply(frame: dict[str, Any]) -> dict[str, Any]:
    """OKX's success reply to a request frame: one ``sCode "0"`` item per arg
    (``{"result": true}`` for the mass cancels)."""
    if str(frame.get("op", "")).endswith("mass-cancel"):
        return {"id": frame["id"], "op": frame["op"], "code": "0", "msg": "",
                "data": [{"result": True}], "inTime": "1", "outTime": "2"}  # fmt: skip
    data = [
        {"clOrdId": arg.get("clOrdId", ""), "ordId": str(next(_ORD_IDS)), "sCode": "0", "sMsg": ""}
        for arg in frame.get("args", [])
    ]
    return {"id": frame["id"], "op": frame["op"], "code": "0", "msg": "", "data": data,
            "inTime": "1", "outTime": "2"}  # fmt: skip


class _ClientEnd:
    """The client's side of a :class:`ServerLink`: a :class:`Transport`."""

    def __init__(self, link: ServerLink) -> None:
        self._link = link

    async def send(self, text: str) -> None:
        self._link._from_client(text)

    async def recv(self) -> str:
        return await self._link._to_client()

    async def close(self) -> None:
        self._link.close("closed by client")


class ServerLink:
    """One in-memory connection, seen from the server side."""

    def __init__(self, server: ScriptedServer, url: str) -> None:
        self.server = server
        self.url = url
        self.frames: list[str] = []  # every frame the client wrote, in order
        self.closed_reason: str | None = None
        self._inbox: collections.deque[str] = collections.deque()
        self._wakeup: asyncio.Future[None] | None = None
        self._requests: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._write_error: str | None = None
        self.client: Transport = _ClientEnd(self)

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Every request frame (one with an ``id``) the client wrote, parsed."""
        return [f for f in map(_loads, self.frames) if isinstance(f, dict) and "id" in f]

    def ops(self, op: str) -> list[dict[str, Any]]:
        """Frames of one ``op`` (``login``, ``subscribe``, ``order``...), parsed."""
        return [f for f in map(_loads, self.frames) if isinstance(f, dict) and f.get("op") == op]

    async def next_request(self) -> dict[str, Any]:
        """Wait for the next request frame the client writes."""
        return await self._requests.get()

    def push(self, frame: dict[str, Any] | str) -> None:
        """Deliver one frame to the client."""
        if self.closed_reason is None:
            self._inbox.append(frame if isinstance(frame, str) else json.dumps(frame))
            if self._wakeup is not None and not self._wakeup.done():
                self._wakeup.set_result(None)

    def break_writes(self, reason: str = "scripted: broken pipe") -> None:
        """Make every later client write fail while reads keep waiting (a half-dead socket)."""
        self._write_error = reason

    def close(self, reason: str = "closed by server") -> None:
        """Drop the connection: the client's reader sees it die."""
        if self.closed_reason is None:
            self.closed_reason = reason
            if self._wakeup is not None and not self._wakeup.done():
                self._wakeup.set_result(None)

    def _from_client(self, text: str) -> None:
        if self.closed_reason is not None:
            raise TransportClosed(self.closed_reason)
        if self._write_error is not None:
            raise TransportClosed(self._write_error)
        self.frames.append(text)
        server = self.server
        frame = None if text == "ping" else _loads(text)
        op = "ping" if text == "ping" else frame.get("op") if isinstance(frame, dict) else None
        if isinstance(frame, dict) and "id" in frame:
            self._requests.put_nowait(frame)
        if op in server.drop_on:
            self.close(f"scripted: dropped on {op!r}")
        elif op == "ping":
            if server.answer_pings:
                self.push("pong")
        elif not isinstance(frame, dict):
            return
        elif "id" in frame:
            reply = server.answer(frame) if server.answer is not None else None
            if reply is not None:
                self.push(reply)
        elif op == "login":
            self.push(server._login_reply())
        elif op in ("subscribe", "unsubscribe") and server.ack_subscriptions:
            for arg in frame.get("args", []):
                self.push({"event": op, "arg": arg, "connId": "c1"})

    async def _to_client(self) -> str:
        while not self._inbox:
            if self.closed_reason is not None:
                raise TransportClosed(self.closed_reason)
            self._wakeup = asyncio.get_running_loop().create_future()
            await self._wakeup
        return self._inbox.popleft()


class ScriptedServer:
    """A :class:`~okx_ws_core.transports.registry.Connector` whose connections the test drives.

    ``answer`` maps each request frame to the reply to send (``None``: no
    reply); ``login_errors`` is a list of ``(code, msg)`` that the next logins
    get, one each; ``refuse_connects`` makes that many next connects fail;
    ``drop_on`` is a set of ops (``"login"``, ``"subscribe"``, ``"order"``...,
    or ``"ping"``) whose frame the server records and then drops the
    connection instead of answering.
    """

    def __init__(
        self,
        *,
        answer: Answer | None = ok_reply,
        answer_pings: bool = True,
        ack_subscriptions: bool = True,
    ) -> None:
        self.answer = answer
        self.answer_pings = answer_pings
        self.ack_subscriptions = ack_subscriptions
        self.login_errors: list[tuple[str, str]] = []
        self.refuse_connects = 0
        self.drop_on: set[str] = set()
        self.connect_attempts = 0
        self.links: list[ServerLink] = []
        self._opened: asyncio.Queue[ServerLink] | None = None

    @property
    def logins(self) -> int:
        return sum(len(link.ops("login")) for link in self.links)

    def open_links(self) -> list[ServerLink]:
        return [link for link in self.links if link.closed_reason is None]

    async def next_link(self) -> ServerLink:
        """Wait for the next connection the client opens."""
        return await self._queue().get()

    def _queue(self) -> asyncio.Queue[ServerLink]:
        if self._opened is None:
            self._opened = asyncio.Queue()
        return self._opened

    def _login_reply(self) -> dict[str, Any]:
        if self.login_errors:
            code, msg = self.login_errors.pop(0)
            return {"event": "error", "code": code, "msg": msg, "connId": "c1"}
        return {"event": "login", "code": "0", "msg": "", "connId": "c1"}

    @contextlib.asynccontextmanager
    async def open(self, url: str, timeout: float) -> AsyncIterator[Transport]:
        self.connect_attempts += 1
        if self.refuse_connects:
            self.refuse_connects -= 1
            raise ConnectionRefusedError("scripted: connection refused")
        link = ServerLink(self, url)
        self.links.append(link)
        self._queue().put_nowait(link)
        try:
            yield link.client
        finally:
            link.close("closed by client")


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None
