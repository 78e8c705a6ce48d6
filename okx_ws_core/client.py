"""``AsyncWebsocketClient``: OKX's connections, login, subscriptions and WS API requests.

The path of one request: :meth:`AsyncWebsocketClient.send_ws_api_request`
takes the connection's usable link (connecting and logging in first if
needed), registers a future under a fresh id with one timer, writes one JSON
frame, and awaits the future; the link's reader hands each inbound frame to
:meth:`on_text`, which pops the future by id and resolves it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from .connection import Connection
from .endpoints import CONNECTION_KEYS, resolve_url
from .errors import (
    ClientClosed,
    ConfigurationError,
    ConnectionLost,
    OkxApiError,
    RequestTimeout,
    SubscriptionError,
)
from .events import Event, EventEmitter, Handler, attach_logging_listeners
from .link import Link
from .protocol import (
    NOTICE_RECONNECT_CODE,
    ErrorEvent,
    Info,
    LoginOk,
    Malformed,
    Notice,
    Pong,
    Push,
    Reply,
    RequestIds,
    SubscriptionAck,
    arg_matches,
    cl_ord_ids,
    encode_request,
    parse_frame,
)
from .timing import Backoff, Heartbeat
from .transport import TRANSPORTS, TransportName

DEFAULT_LOGGER = logging.getLogger("okx_ws")
_UPDATE_QUEUE_SIZE = 10_000


@dataclass(frozen=True, slots=True)
class ClientOptions:
    """Every tunable, validated once.  Credentials are kept apart (never in a repr)."""

    market: str = "prod"
    demo_trading: bool = False
    base_url: str | None = None
    request_timeout: float = 10.0
    ping_interval: float = 10.0
    pong_timeout: float = 2.0
    reconnect_delay: float = 0.5
    reconnect_max_delay: float = 30.0
    transport: TransportName = "httpx-ws"
    attach_event_listeners: bool = True

    def __post_init__(self) -> None:
        try:
            for key in CONNECTION_KEYS:
                resolve_url(
                    key, market=self.market, demo_trading=self.demo_trading, base_url=self.base_url
                )
            Heartbeat(self.ping_interval, self.pong_timeout)
            Backoff(self.reconnect_delay, self.reconnect_max_delay)
        except ValueError as exc:
            raise ConfigurationError(str(exc)) from None
        if self.request_timeout <= 0:
            raise ConfigurationError(f"request_timeout must be > 0, got {self.request_timeout}")
        if self.transport not in TRANSPORTS:
            raise ConfigurationError(
                f"transport must be one of {TRANSPORTS}, got {self.transport!r}"
            )


class _Pending:
    __slots__ = ("future", "op", "args", "link", "timer")

    def __init__(
        self,
        future: asyncio.Future[dict[str, Any]],
        op: str,
        args: list[dict[str, Any]],
        link: Link,
    ) -> None:
        self.future = future
        self.op = op
        self.args = args
        self.link = link
        self.timer: asyncio.TimerHandle | None = None


class UpdateStream:
    """An async iterator of ``update`` events; close it with :meth:`aclose`."""

    def __init__(self, registry: set[asyncio.Queue[Event]]) -> None:
        self._registry = registry
        self._queue: asyncio.Queue[Event] = asyncio.Queue(_UPDATE_QUEUE_SIZE)
        registry.add(self._queue)

    def __aiter__(self) -> UpdateStream:
        return self

    async def __anext__(self) -> Event:
        event = await self._queue.get()
        if event.name == "close":
            self._registry.discard(self._queue)
            raise StopAsyncIteration
        return event

    async def aclose(self) -> None:
        self._registry.discard(self._queue)


class AsyncWebsocketClient:
    """asyncio client for OKX's ``public``, ``private`` and ``business`` WebSockets.

    Use one instance per event loop, ideally as ``async with``.  Connections
    open lazily on first use, or up front with :meth:`connect_ws_api` so the
    first order does not wait for a handshake and a login.
    """

    def __init__(
        self,
        api_key: str | None = None,
        api_secret: str | None = None,
        api_passphrase: str | None = None,
        *,
        market: str = "prod",
        demo_trading: bool = False,
        base_url: str | None = None,
        request_timeout: float = 10.0,
        ping_interval: float = 10.0,
        pong_timeout: float = 2.0,
        reconnect_delay: float = 0.5,
        reconnect_max_delay: float = 30.0,
        transport: TransportName = "httpx-ws",
        attach_event_listeners: bool = True,
        logger: logging.Logger | None = None,
        id_prefix: str | None = None,
    ) -> None:
        given = [v is not None for v in (api_key, api_secret, api_passphrase)]
        if any(given) and not all(given):
            raise ConfigurationError(
                "api_key, api_secret and api_passphrase must be given together"
            )
        self.options = ClientOptions(
            market=market,
            demo_trading=demo_trading,
            base_url=base_url,
            request_timeout=request_timeout,
            ping_interval=ping_interval,
            pong_timeout=pong_timeout,
            reconnect_delay=reconnect_delay,
            reconnect_max_delay=reconnect_max_delay,
            transport=transport,
            attach_event_listeners=attach_event_listeners,
        )
        self.credentials: tuple[str, str, str] | None = (
            (str(api_key), str(api_secret), str(api_passphrase)) if all(given) else None
        )
        self.logger = logger or DEFAULT_LOGGER
        self.time_offset_ms = 0
        self.closed = False
        self._events = EventEmitter(self.logger)
        if attach_event_listeners:
            attach_logging_listeners(self._events, self.logger)
        self._ids = RequestIds(id_prefix)
        self._pending: dict[str, _Pending] = {}
        self._update_queues: set[asyncio.Queue[Event]] = set()
        self._connections: dict[str, Connection] = {
            key: Connection(
                self,
                key,
                resolve_url(key, market=market, demo_trading=demo_trading, base_url=base_url),
                needs_login=key != "public",
            )
            for key in CONNECTION_KEYS
        }

    def __repr__(self) -> str:
        key = self.credentials[0] if self.credentials else None
        shown = f"{key[:4]}…" if key else None
        return (
            f"<{type(self).__name__} market={self.options.market!r} demo={self.options.demo_trading}"
            f" api_key={shown!r} connected={[k for k, c in self._connections.items() if c.usable_link()]}>"
        )

    # -- configuration --------------------------------------------------

    def set_time_offset_ms(self, offset_ms: int) -> None:
        """Milliseconds to add to the local clock when signing a login (server minus local)."""
        self.time_offset_ms = int(offset_ms)

    def get_time_offset_ms(self) -> int:
        return self.time_offset_ms

    def on(self, event: str, handler: Handler) -> Handler:
        """Register ``handler(event: Event)`` for ``open``, ``reconnect``, ``reconnected``,
        ``authenticated``, ``response``, ``update``, ``exception`` or ``close``."""
        return self._events.on(event, handler)

    def off(self, event: str, handler: Handler) -> None:
        self._events.off(event, handler)

    def emit(self, event: Event) -> None:
        self._events.emit(event)

    # -- connections ----------------------------------------------------

    def _connection(self, key: str) -> Connection:
        try:
            return self._connections[key]
        except KeyError:
            raise ValueError(f"connection must be one of {CONNECTION_KEYS}, got {key!r}") from None

    async def connect(self, connection: str, *, timeout: float | None = None) -> None:
        """Open (and log in to) one connection now."""
        conn = self._connection(connection)
        if conn.needs_login and self.credentials is None:
            raise ConfigurationError(
                f"the {connection!r} connection needs api_key, api_secret and api_passphrase"
            )
        await conn.wait_usable(self.options.request_timeout if timeout is None else timeout)

    async def connect_ws_api(self, *, timeout: float | None = None) -> None:
        """Open and log in ``private`` and ``business`` ahead of the first order."""
        await asyncio.gather(
            self.connect("private", timeout=timeout), self.connect("business", timeout=timeout)
        )

    # -- WS API requests ------------------------------------------------

    async def send_ws_api_request(
        self,
        connection: str,
        op: str,
        args: list[dict[str, Any]],
        *,
        exp_time: int | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """Send one WS API request and return OKX's reply (``code == "0"``).

        Raises :class:`OkxApiError` for any other code (with every item's
        result), :class:`RequestTimeout` when no reply came in time and
        :class:`ConnectionLost` when the link died with the request in flight.
        A request is never sent twice.
        """
        if self.closed:
            raise ClientClosed("the client is closed")
        conn = self._connection(connection)
        loop = asyncio.get_running_loop()
        timeout = self.options.request_timeout if timeout is None else timeout
        deadline = loop.time() + timeout
        request_id = self._ids.next()
        link = conn.usable_link()
        while link is None or not link.usable:
            if conn.needs_login and self.credentials is None:
                raise ConfigurationError(f"{op!r} needs api_key, api_secret and api_passphrase")
            try:
                link = await conn.wait_usable(max(0.0, deadline - loop.time()))
            except asyncio.TimeoutError:
                raise RequestTimeout(
                    id=request_id, op=op, cl_ord_ids=cl_ord_ids(args), timeout=timeout, sent=False
                ) from None
        frame = encode_request(request_id, op, args, exp_time)
        future: asyncio.Future[dict[str, Any]] = loop.create_future()
        pending = _Pending(future, op, args, link)
        self._pending[request_id] = pending
        link.in_flight.add(request_id)
        pending.timer = loop.call_at(deadline, self._expire, request_id, timeout)
        try:
            await link.send(frame)
        except Exception as exc:  # the frame may be partly written: fate unknown, never hang
            self._fail(request_id, reason=f"send failed: {exc!r}")
            await asyncio.sleep(0)  # let the reader and reconnect run before the caller retries
        try:
            reply = await future
        finally:
            if self._pending.pop(request_id, None) is not None:
                link.in_flight.discard(request_id)
            pending.timer.cancel()
        if reply.get("code") != "0":
            raise OkxApiError(reply)
        return reply

    def _expire(self, request_id: str, timeout: float) -> None:
        pending = self._pending.pop(request_id, None)
        if pending is None or pending.future.done():
            return
        pending.link.in_flight.discard(request_id)
        pending.future.set_exception(
            RequestTimeout(
                id=request_id,
                op=pending.op,
                cl_ord_ids=cl_ord_ids(pending.args),
                timeout=timeout,
                sent=True,
            )
        )

    def _fail(self, request_id: str, *, reason: str) -> None:
        pending = self._pending.pop(request_id, None)
        if pending is None:
            return
        pending.link.in_flight.discard(request_id)
        if pending.timer is not None:
            pending.timer.cancel()
        if not pending.future.done():
            pending.future.set_exception(
                ConnectionLost(
                    id=request_id, op=pending.op, cl_ord_ids=cl_ord_ids(pending.args), reason=reason
                )
            )

    def fail_in_flight(self, link: Link, reason: str) -> None:
        """The link died: every request on it gets ``ConnectionLost``; none is re-sent."""
        for request_id in tuple(link.in_flight):
            self._fail(request_id, reason=reason)
        link.in_flight.clear()

    # -- inbound --------------------------------------------------------

    def on_text(self, link: Link, text: str) -> None:
        """Dispatch one inbound frame (called by the link's reader; never raises)."""
        event = parse_frame(text)
        kind = type(event)
        if kind is Reply:
            assert isinstance(event, Reply)
            pending = self._pending.pop(event.id, None)
            if pending is not None:
                pending.link.in_flight.discard(event.id)
                if not pending.future.done():
                    pending.future.set_result(event.message)
            else:
                self.logger.warning(
                    "okx-ws %s: reply to unknown or expired request id=%s op=%s code=%s",
                    link.owner.key,
                    event.id,
                    event.message.get("op"),
                    event.message.get("code"),
                )
            if self._events.has("response"):
                self.emit(Event("response", link.owner.key, message=event.message))
        elif kind is Pong:
            return
        elif kind is Push:
            assert isinstance(event, Push)
            self._dispatch_update(Event("update", link.owner.key, message=event.message))
        else:
            self._on_event(link, event)

    def _on_event(self, link: Link, event: object) -> None:
        key = link.owner.key
        if isinstance(event, LoginOk):
            if link.login_waiter is not None and not link.login_waiter.done():
                link.login_waiter.set_result(event.message)
        elif isinstance(event, ErrorEvent):
            if link.owner.on_login_error(link, event.code, event.msg):
                return
            if link.subscription_waiters:
                waiter = link.subscription_waiters.popleft()
                if not waiter.future.done():
                    waiter.future.set_exception(
                        SubscriptionError(event.code, event.msg, waiter.remaining)
                    )
                return
            self.emit(
                Event(
                    "exception",
                    key,
                    message=event.message,
                    detail=f"OKX error {event.code}: {event.msg}",
                )
            )
        elif isinstance(event, SubscriptionAck):
            self._ack_subscription(link, event)
        elif isinstance(event, Notice):
            self.logger.warning("okx-ws %s: notice %s %s", key, event.code, event.msg)
            if event.code == NOTICE_RECONNECT_CODE:
                link.owner.on_notice(link, event.code, event.msg)
            self.emit(Event("response", key, message=event.message))
        elif isinstance(event, Malformed):
            self.emit(
                Event("exception", key, detail=f"unexpected frame ({event.reason}): {event.text!r}")
            )
        elif isinstance(event, Info):
            self.emit(Event("response", key, message=event.message))

    def _ack_subscription(self, link: Link, ack: SubscriptionAck) -> None:
        for waiter in link.subscription_waiters:
            if waiter.event != ack.event:
                continue
            for i, sent in enumerate(waiter.remaining):
                if arg_matches(sent, ack.arg):
                    del waiter.remaining[i]
                    if not waiter.remaining and not waiter.future.done():
                        waiter.future.set_result(None)
                    return
        self.emit(Event("response", link.owner.key, message=ack.message))

    def _dispatch_update(self, event: Event) -> None:
        if self._events.has("update"):
            self.emit(event)
        for queue in self._update_queues:
            if queue.full():
                queue.get_nowait()
                self.logger.warning("okx-ws: update queue full, dropped the oldest update")
            queue.put_nowait(event)

    # -- subscriptions --------------------------------------------------

    async def subscribe(
        self,
        args: Mapping[str, Any] | Iterable[Mapping[str, Any]],
        connection: str = "public",
        *,
        timeout: float | None = None,
    ) -> None:
        """Subscribe and wait for OKX's acks; restored automatically after every reconnect."""
        await self._change_subscription("subscribe", args, connection, timeout)

    async def unsubscribe(
        self,
        args: Mapping[str, Any] | Iterable[Mapping[str, Any]],
        connection: str = "public",
        *,
        timeout: float | None = None,
    ) -> None:
        await self._change_subscription("unsubscribe", args, connection, timeout)

    async def _change_subscription(
        self,
        event: str,
        args: Mapping[str, Any] | Iterable[Mapping[str, Any]],
        connection: str,
        timeout: float | None,
    ) -> None:
        if self.closed:
            raise ClientClosed("the client is closed")
        items = [dict(args)] if isinstance(args, Mapping) else [dict(a) for a in args]
        if not items:
            raise ValueError("subscribe needs at least one channel argument")
        for item in items:
            if "channel" not in item:
                raise ValueError(f"each subscription argument needs a 'channel': {item!r}")
        conn = self._connection(connection)
        wait = self.options.request_timeout if timeout is None else timeout
        await conn.change_subscription(event, items, wait)

    def subscriptions(self, connection: str) -> list[dict[str, Any]]:
        return [dict(a) for a in self._connection(connection).subscriptions]

    def updates(self) -> UpdateStream:
        """Channel updates as an async iterator (``Event.message`` is OKX's push).

        The stream starts buffering at once, so pushes that arrive before the
        first ``await`` are not lost; it ends when the client closes.
        """
        return UpdateStream(self._update_queues)

    # -- lifecycle ------------------------------------------------------

    async def close(self) -> None:
        """Close every connection; requests still in flight fail with ``ConnectionLost``."""
        if self.closed:
            return
        self.closed = True
        await asyncio.gather(*(c.close() for c in self._connections.values()))
        for request_id in tuple(self._pending):
            self._fail(request_id, reason="client closed")
        for queue in self._update_queues:
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(Event("close", "", detail="client closed"))
        await self._events.drain()

    async def __aenter__(self) -> AsyncWebsocketClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
