"""``RequestSender``: takes one prepared request down to the link, and its reply back up.

Below the client, a request makes one descent: the pacer admits it (OKX's
limits), the connection's usable link is taken (connecting only on a cold
path), the order bookkeeping stamps it (``expTime``, the tracker), and the
link's :class:`~.session.Session` writes one frame and awaits the reply.  On
the way back up the sender books the reply (or the failure) with the same
bookkeeping, and turns a non-zero code into :class:`OkxApiError`.

The bookkeeping lives in ``orders``, which this layer may not import: it is
given as :class:`OrderHooks`, which ``orders.fates`` implements.  Validation
and ``instIdCode`` filling happen above (``Operation.prepare``), so a request
that reaches the sender is one a frame can be made of.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import Any, Generic, Protocol, TypeVar

from ..errors import ConnectionLost, ConnectTimeout, OkxApiError, RequestCancelled, RequestTimeout
from ..protocol.frames import Operation, cl_ord_ids
from .connection import Connection
from .link import Link
from .pacing import Pacer
from .session import INTERRUPTS, Session


class Stamp(Protocol):
    """What the bookkeeping decided before the write: the ``expTime`` the frame carries."""

    @property
    def exp_time(self) -> int | None: ...


S = TypeVar("S", bound=Stamp)


class OrderHooks(Protocol[S]):
    """The order bookkeeping the sender tells about each request (``orders.fates``).

    ``before_send`` runs once the request will be written (admitted, a link at
    hand, time left) and returns what the others get back, ``None`` for a request
    that is not an order's; the others run on the way back up.
    """

    def before_send(
        self, op: str, args: list[dict[str, Any]], exp_time: int | None, deadline: float
    ) -> S | None: ...

    def replied(
        self, sending: S | None, args: list[dict[str, Any]], reply: Mapping[str, Any]
    ) -> None: ...

    def failed(
        self,
        sending: S | None,
        error: RequestTimeout | ConnectionLost,
        *,
        connection: str,
        args: list[dict[str, Any]],
        exp_time: int | None,
    ) -> None: ...

    def cancelled(
        self,
        sending: S | None,
        record: RequestCancelled,
        *,
        connection: str,
        args: list[dict[str, Any]],
        exp_time: int | None,
    ) -> None: ...


class RequestSender(Generic[S]):
    """One client's requests, from admission to the booked reply (loop thread only).

    ``min_send_time``: how long before its deadline a request is still sent
    (at most half its timeout); ``next_id``: the client's request ids.
    """

    def __init__(
        self,
        *,
        pacer: Pacer,
        hooks: OrderHooks[S],
        next_id: Callable[[], str],
        min_send_time: float,
        logger: logging.Logger,
    ) -> None:
        self._pacer = pacer
        self._hooks = hooks
        self._next_id = next_id
        self._min_send_time = min_send_time
        self._logger = logger

    async def send(
        self,
        conn: Connection,
        operation: Operation[Any, Any],
        args: list[dict[str, Any]],
        exp_time: int | None,
        timeout: float,
        deadline: float | None = None,
    ) -> dict[str, Any]:
        """Send ``args`` (validated, codes filled) and return OKX's reply with ``code == "0"``.

        The reply is awaited until ``deadline`` (loop time; ``timeout`` from now if
        ``None``: a caller that already waited, e.g. for codes, passes its own).

        Raises what ``call()`` documents: :class:`RateLimitExceeded` and
        ``RequestTimeout(sent=False)`` before anything is written,
        :class:`OkxApiError`, :class:`RequestTimeout`, :class:`ConnectionLost`
        after; cancelled (or interrupted by Ctrl-C) once the frame was being written,
        the request's fate is recorded as unknown (``cancelled_fates()``).
        """
        loop = asyncio.get_running_loop()
        now = loop.time()
        if deadline is None:
            deadline = now + timeout
        send_by = deadline - min(self._min_send_time, timeout / 2)  # see _send_by
        counted = self._pacer.admit_now(operation, args, now)  # no coroutine when it fits
        if counted is None:
            counted = await self._pacer.admit(operation, args, send_by)
        op, request_id = operation.op, self._next_id()
        sending: S | None = None
        sent = False
        try:
            active = conn.active
            if active is None or active[0].closed:
                active = await self._connect(conn, request_id, op, args, timeout, send_by)
            if loop.time() >= send_by:  # the waits above used it up: sending now is too late
                raise _unsent(request_id, op, args, timeout)
            sending = self._hooks.before_send(op, args, exp_time, deadline)
            if sending is not None:
                exp_time = sending.exp_time
            sent = True
            link, session = active
            reply = await session.request(link, request_id, op, args, exp_time, deadline, timeout)
            if reply.get("code") != "0":
                raise OkxApiError(reply)
        except OkxApiError as error:
            for code in {error.code, *(str(item.get("sCode")) for item in error.data)}:
                self._pacer.rejected(counted, code)
            self._hooks.replied(sending, args, error.reply)
            raise
        except (RequestTimeout, ConnectionLost) as error:
            self._hooks.failed(sending, error, connection=conn.key, args=args, exp_time=exp_time)
            raise
        except INTERRUPTS:
            if sent:
                self._cancelled(sending, conn.key, request_id, op, args, exp_time)
            raise
        self._hooks.replied(sending, args, reply)
        return reply

    async def send_raw(
        self,
        conn: Connection,
        op: str,
        args: list[dict[str, Any]],
        exp_time: int | None,
        timeout: float,
    ) -> dict[str, Any]:
        """``send_ws_api_request``: no pacing, no stamp; a cancelled send is still recorded."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        send_by = self._send_by(deadline, timeout)
        request_id = self._next_id()
        active = conn.active
        if active is None or active[0].closed:
            active = await self._connect(conn, request_id, op, args, timeout, send_by)
        if loop.time() >= send_by:
            raise _unsent(request_id, op, args, timeout)
        link, session = active
        try:
            reply = await session.request(link, request_id, op, args, exp_time, deadline, timeout)
        except INTERRUPTS:
            self._cancelled(None, conn.key, request_id, op, args, exp_time)
            raise
        if reply.get("code") != "0":
            raise OkxApiError(reply)
        return reply

    def _send_by(self, deadline: float, timeout: float) -> float:
        """The last moment a request may be sent: ``min_send_time`` (at most half the call's
        timeout) before its deadline, as a reply could not come in time after it."""
        return deadline - min(self._min_send_time, timeout / 2)

    @staticmethod
    async def _connect(
        conn: Connection,
        request_id: str,
        op: str,
        args: list[dict[str, Any]],
        timeout: float,
        send_by: float,
    ) -> tuple[Link, Session]:
        """The cold path: connect first; nothing is sent if it takes too long."""
        try:
            return await conn.link_by(send_by)
        except ConnectTimeout:
            raise _unsent(request_id, op, args, timeout) from None

    def _cancelled(
        self,
        sending: S | None,
        connection: str,
        request_id: str,
        op: str,
        args: list[dict[str, Any]],
        exp_time: int | None,
    ) -> None:
        """A call was cancelled once its frame was being written: record its unknown fate."""
        record = RequestCancelled(id=request_id, op=op, cl_ord_ids=cl_ord_ids(args))
        self._hooks.cancelled(sending, record, connection=connection, args=args, exp_time=exp_time)
        self._logger.warning("okx-ws %s: %s", connection, record)


def _unsent(request_id: str, op: str, args: list[dict[str, Any]], timeout: float) -> RequestTimeout:
    """The deadline passed before the frame could be written: nothing was sent."""
    return RequestTimeout(
        id=request_id, op=op, cl_ord_ids=cl_ord_ids(args), timeout=timeout, sent=False
    )
