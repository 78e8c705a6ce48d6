"""``Session``: everything one link is waiting for, and the dispatch of its frames.

It is the one owner of a link's pending requests (by id, each with its
deadline), its login waiter and its subscription waiters; :meth:`request` is the
hot path of every order: register, write one frame, await the reply.  The link hands it
every inbound frame (:meth:`on_frame`); what no waiter consumes goes to the
owner's ``on_event``.  When the link dies, :meth:`close` fails every waiter
exactly once: requests with :class:`ConnectionLost` (never re-sent).

A request whose caller stopped waiting (it timed out, or the call was
cancelled once the frame was being written) is remembered for a while as an
:class:`~.late.Orphan`, so that OKX's reply to it, when it comes, reaches the
owner as a :class:`~.late.LateReply` instead of being dropped as unknown.

Deadlines share one timer per session, armed at the earliest live one: a
``call_at`` per request (a handle made, pushed on the loop's heap, cancelled,
and popped later) cost more than a tuple pushed on the session's own heap,
whose entries for answered requests are skipped when the timer fires.
"""

from __future__ import annotations

import asyncio
import collections
import heapq
import itertools
import math
from collections.abc import Callable
from typing import Any

from ..errors import AuthenticationError, ConnectionLost, RequestTimeout, SubscriptionError
from ..protocol.api_codes import CREDENTIALS_CHECK, clock_hint
from ..protocol.frames import (
    ErrorEvent,
    Inbound,
    LoginOk,
    Reply,
    SubscriptionAck,
    arg_matches,
    cl_ord_ids,
    encode_request,
)
from ..protocol.frames import parse_frame as _parse
from ..protocol.late import LATE_REPLY_TTL_S, MAX_EXPIRED, LateReply, Orphan, Recent
from ..protocol.ratelimit import RateLimiter
from ..protocol.signing import LOGIN_CLOCK_CODES
from ..transports.interface import TransportClosed
from .link import Link, LinkFailed

_MARKET_HINT = (
    f"{CREDENTIALS_CHECK}, and that `market` matches the key's region (an EEA or US key fails"
    " on global hosts with 60032)."
)
_CREDENTIAL_CODES = ("60005", "60007", "60009", "60024", "60032")

EventSink = Callable[[Inbound, bool], None]  # (event, consumed by a waiter)

# What stops a request's coroutine from outside: a cancellation, or Ctrl-C on a blocking
# caller's thread running the request's first step (:mod:`okx_ws_core.client.lent_loop`).
INTERRUPTS = (asyncio.CancelledError, KeyboardInterrupt)


# Answered requests' entries the deadline heap may hold beyond twice the pending ones
# before it is rebuilt from those (it is otherwise cleaned only as the timer fires).
_STALE_DEADLINES = 256


class _Pending:
    __slots__ = ("future", "op", "args", "timeout")

    def __init__(
        self, future: asyncio.Future[dict[str, Any]], op: str, args: list[Any], timeout: float
    ) -> None:
        self.future = future
        self.op = op
        self.args = args
        self.timeout = timeout


class _SubscriptionWaiter:
    __slots__ = ("event", "remaining", "future")

    def __init__(self, event: str, args: list[dict[str, Any]], future: asyncio.Future[None]):
        self.event = event
        self.remaining = list(args)
        self.future = future


class Session:
    @property
    def orphaned(self) -> int:
        """Requests its caller stopped waiting for, remembered for their late reply."""
        return len(self._orphans)

    def __init__(self, connection: str, on_event: EventSink) -> None:
        self.connection = connection
        self._on_event = on_event
        self._loop = asyncio.get_running_loop()
        self._pending: dict[str, _Pending] = {}
        # (deadline, order sent, request id), earliest first; answered ones are skipped lazily.
        self._deadlines: list[tuple[float, int, str]] = []
        self._order = itertools.count()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = math.inf
        self._orphans: Recent[str, Orphan] = Recent(MAX_EXPIRED, LATE_REPLY_TTL_S)
        self._login: asyncio.Future[dict[str, Any]] | None = None
        self._subscriptions: collections.deque[_SubscriptionWaiter] = collections.deque()
        self.closed_reason: str | None = None
        self.ops = RateLimiter()  # logins and (un)subscriptions sent on this link, per hour

    @property
    def in_flight(self) -> int:
        return len(self._pending)

    # -- requests ---------------------------------------------------------

    async def request(
        self,
        link: Link,
        request_id: str,
        op: str,
        args: list[dict[str, Any]],
        exp_time: int | None,
        deadline: float,
        timeout: float,
    ) -> dict[str, Any]:
        """Write one request on ``link`` and return OKX's reply; never sends it twice.

        Cancelled (even half-way through the write), or interrupted by Ctrl-C (its
        first step may run on a blocking caller's main thread), it leaves nothing
        pending and keeps the id for OKX's late reply: the frame may have gone out.
        """
        future = self.expect_reply(request_id, op, args, deadline, timeout)
        try:
            try:
                await link.send(encode_request(request_id, op, args, exp_time))
            except TransportClosed as exc:  # may be partly written: fate unknown, never hang
                self.fail(request_id, str(exc))
                await asyncio.sleep(0)  # let the reconnect start before the caller retries
            return await future
        except INTERRUPTS:
            self._abandon(request_id, future, op, args)
            raise
        finally:
            self.discard(request_id)

    def expect_reply(
        self, request_id: str, op: str, args: list[Any], deadline: float, timeout: float
    ) -> asyncio.Future[dict[str, Any]]:
        """Register a request about to be sent; its future ends in a reply or an error."""
        future: asyncio.Future[dict[str, Any]] = self._loop.create_future()
        if self.closed_reason is not None:
            future.set_exception(self._lost(request_id, op, args, self.closed_reason))
            return future
        pending = self._pending
        pending[request_id] = _Pending(future, op, args, timeout)
        deadlines = self._deadlines
        if len(deadlines) > 2 * len(pending) + _STALE_DEADLINES:
            deadlines[:] = [entry for entry in deadlines if entry[2] in pending]
            heapq.heapify(deadlines)
        heapq.heappush(deadlines, (deadline, next(self._order), request_id))
        if deadline < self._timer_at:
            self._arm(deadline)
        return future

    def _arm(self, at: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = at
        self._timer = self._loop.call_at(at, self._on_deadline)

    def _on_deadline(self) -> None:
        """The earliest deadline came: expire every request past its own, then arm the
        timer at the next pending one (answered requests' entries are dropped on the way)."""
        self._timer, self._timer_at = None, math.inf
        now, deadlines, pending = self._loop.time(), self._deadlines, self._pending
        while deadlines and (deadlines[0][0] <= now or deadlines[0][2] not in pending):
            _, _, request_id = heapq.heappop(deadlines)
            self._expire(request_id)
        if deadlines:
            self._arm(deadlines[0][0])

    def fail(self, request_id: str, reason: str) -> None:
        """The request could not be written: its fate is unknown, it is never re-sent."""
        pending = self._pending.pop(request_id, None)
        if pending is not None:
            self._finish(pending, self._lost(request_id, pending.op, pending.args, reason))

    def discard(self, request_id: str) -> None:
        """The caller stopped waiting (done or cancelled)."""
        self._pending.pop(request_id, None)

    def _abandon(
        self,
        request_id: str,
        future: asyncio.Future[dict[str, Any]],
        op: str,
        args: list[dict[str, Any]],
    ) -> None:
        """The caller was cancelled while writing or waiting: keep the id for a late reply."""
        pending = self._pending.pop(request_id, None)
        if pending is not None:
            if self.closed_reason is None:
                orphan = Orphan(op, args, "was cancelled")
                self._orphans.put(request_id, orphan, self._loop.time())
        elif future.done() and not future.cancelled() and future.exception() is None:
            # The reply came, but the caller was cancelled before it could read it.
            late = LateReply(request_id, future.result(), op, args, "was cancelled")
            self._on_event(late, False)

    def _expire(self, request_id: str) -> None:
        pending = self._pending.pop(request_id, None)
        if pending is not None:
            orphan = Orphan(pending.op, pending.args, "timed out")
            self._orphans.put(request_id, orphan, self._loop.time())
            error = RequestTimeout(
                id=request_id,
                op=pending.op,
                cl_ord_ids=cl_ord_ids(pending.args),
                timeout=pending.timeout,
                sent=True,
            )
            self._finish(pending, error)

    @staticmethod
    def _lost(request_id: str, op: str, args: list[Any], reason: str) -> ConnectionLost:
        return ConnectionLost(id=request_id, op=op, cl_ord_ids=cl_ord_ids(args), reason=reason)

    @staticmethod
    def _finish(pending: _Pending, error: Exception) -> None:
        if not pending.future.done():
            pending.future.set_exception(error)

    # -- login and subscriptions -----------------------------------------

    def expect_login(self) -> asyncio.Future[dict[str, Any]]:
        self._login = self._loop.create_future()
        if self.closed_reason is not None:
            self._login.set_exception(LinkFailed(f"closed before login: {self.closed_reason}"))
            self._login.exception()  # retrieved: the caller may fail on the send first
        return self._login

    def expect_subscription(self, event: str, args: list[dict[str, Any]]) -> asyncio.Future[None]:
        """A future resolved when OKX has acked every one of ``args``."""
        future: asyncio.Future[None] = self._loop.create_future()
        if self.closed_reason is not None:
            future.set_exception(self._lost("", event, [], self.closed_reason))
        else:
            self._subscriptions.append(_SubscriptionWaiter(event, args, future))
        return future

    def forget_subscription(self, future: asyncio.Future[None]) -> None:
        for waiter in self._subscriptions:
            if waiter.future is future:
                self._subscriptions.remove(waiter)
                return

    # -- inbound ----------------------------------------------------------

    def on_frame(self, text: str) -> None:
        """Dispatch one inbound frame (called by the link's reader; never raises)."""
        event = _parse(text)
        if type(event) is Reply:
            pending = self._pending.get(event.id)
            # A reply is known by its id *and* op (OKX echoes both): same id, other op
            # is not this request's answer and must not settle it.
            if pending is not None and event.message.get("op") != pending.op:
                pending = None
            if pending is not None:
                del self._pending[event.id]
                if not pending.future.done():
                    pending.future.set_result(event.message)
                self._on_event(event, True)
                return
            orphan = self._orphans.pop(event.id, self._loop.time()) if self._orphans else None
            if orphan is not None:
                event = LateReply(event.id, event.message, orphan.op, orphan.args, orphan.why)
            self._on_event(event, False)
        elif isinstance(event, LoginOk):
            consumed = self._login is not None and not self._login.done()
            if consumed:
                assert self._login is not None
                self._login.set_result(event.message)
            self._on_event(event, consumed)
        elif isinstance(event, ErrorEvent):
            self._on_event(event, self._on_error(event))
        elif isinstance(event, SubscriptionAck):
            self._on_event(event, self._on_ack(event))
        else:
            self._on_event(event, False)

    def _on_error(self, event: ErrorEvent) -> bool:
        """An ``error`` event answers the login in progress, else the oldest subscription."""
        if self._login is not None and not self._login.done():
            hint = _MARKET_HINT if event.code in _CREDENTIAL_CODES else ""
            if event.code in LOGIN_CLOCK_CODES:
                hint = clock_hint("login")
            self._login.set_exception(
                AuthenticationError(event.code, event.msg, connection=self.connection, hint=hint)
            )
            return True
        if self._subscriptions:
            waiter = self._subscriptions.popleft()
            if not waiter.future.done():
                waiter.future.set_exception(
                    SubscriptionError(event.code, event.msg, waiter.remaining)
                )
            return True
        return False

    def _on_ack(self, ack: SubscriptionAck) -> bool:
        for waiter in self._subscriptions:
            if waiter.event != ack.event:
                continue
            for i, sent in enumerate(waiter.remaining):
                if arg_matches(sent, ack.arg):
                    del waiter.remaining[i]
                    if not waiter.remaining:
                        self._subscriptions.remove(waiter)
                        if not waiter.future.done():
                            waiter.future.set_result(None)
                    return True
        return False

    # -- end --------------------------------------------------------------

    def close(self, reason: str) -> None:
        """The link died: fail every waiter once.  Idempotent."""
        if self.closed_reason is not None:
            return
        self.closed_reason = reason
        self._orphans = Recent(0)  # no reply can come on a dead link
        pending, self._pending = self._pending, {}
        if self._timer is not None:
            self._timer.cancel()
        self._timer, self._timer_at, self._deadlines = None, math.inf, []
        for request_id, item in pending.items():
            self._finish(item, self._lost(request_id, item.op, item.args, reason))
        if self._login is not None and not self._login.done():
            self._login.set_exception(LinkFailed(f"closed during login: {reason}"))
            self._login.exception()
        waiters, self._subscriptions = self._subscriptions, collections.deque()
        for waiter in waiters:
            if not waiter.future.done():
                waiter.future.set_exception(self._lost("", waiter.event, [], reason))
