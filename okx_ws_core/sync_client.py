"""``WebsocketClient``: the blocking facade.

It runs one :class:`AsyncWebsocketClient` on a private event-loop thread, so
the protocol logic exists once.  Each call is one hop to that thread and back;
every method is thread-safe: even the quick ones (``in_flight``,
``subscriptions``, ``on``/``off``, the tracker) run on the loop thread, where
the state they read or change lives.  Event handlers run on the loop thread;
from there the quick methods work, while a blocking one raises
:class:`BlockingCallInLoop` instead of deadlocking.  A Ctrl-C while a call
waits cancels it; ``close()`` is bounded and releases every caller still
waiting with :class:`ClientClosed`.  Created or used on a thread that runs an
asyncio event loop, it works but stalls that loop: it logs a warning, once.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine, Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from .blocking_tracker import BlockingOrderTracker
from .book_stream import BlockingBookStream
from .channels import DEFAULT_BUFFER, BlockingChannelStream, Channel, UpdateCallback
from .client import AsyncWebsocketClient
from .errors import BlockingCallInLoop, ClientClosed, RequestCancelled
from .events import Handler
from .loop_thread import LoopStopped, LoopThread
from .options import ClientOptions
from .orderbook import Resync
from .protocol import ExtraFields, Operation
from .ratelimit import ConnectionLimits
from .reconcile import Target, Verdict
from .tracker import FINAL_STATES, OrderOp, OrderTracker, TrackedOrder

T = TypeVar("T")
if TYPE_CHECKING:  # pydantic is imported on first use (see lazy.py)
    from pydantic import BaseModel

R = TypeVar("R", bound="BaseModel")
I = TypeVar("I", bound="BaseModel")  # noqa: E741 - a channel's item model
CLOSE_TIMEOUT_S = 10.0  # default bound of close(): the async close, then the loop's stop


class WebsocketClient:
    """Blocking client for OKX's WebSockets; same options and methods as the async one."""

    def __init__(
        self,
        api_key: str | None = None,
        api_secret: str | None = None,
        api_passphrase: str | None = None,
        *,
        options: ClientOptions | None = None,
        connection_limits: ConnectionLimits | None = None,
        **overrides: Any,
    ) -> None:
        """Same arguments as :class:`AsyncWebsocketClient`."""
        # Validate on the caller's thread first, so bad options raise here and no thread leaks.
        self._async = AsyncWebsocketClient(
            api_key,
            api_secret,
            api_passphrase,
            options=options,
            connection_limits=connection_limits,
            **overrides,
        )
        self._thread = LoopThread("okx-ws-loop")
        self._lock = threading.Lock()
        self._closed = False
        self._tracker: BlockingOrderTracker | None = None
        self._warned_loop = False
        self._warn_if_in_loop("WebsocketClient was created")

    def __repr__(self) -> str:
        return repr(self._async).replace("AsyncWebsocketClient", type(self).__name__, 1)

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` ran (a closed client cannot be used again)."""
        return self._closed

    @property
    def async_client(self) -> AsyncWebsocketClient:
        """The asyncio client underneath (its methods must run on :attr:`loop`)."""
        return self._async

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._closed:
            raise ClientClosed("the client is closed")
        return self._thread.loop

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the loop thread and wait for it (a blocking method)."""
        if self._closed:
            coro.close()
            raise ClientClosed("the client is closed")
        thread = self._thread
        if thread.on_loop_thread():
            coro.close()
            raise BlockingCallInLoop(_method_name(coro))
        if not self._warned_loop:
            self._warn_if_in_loop(f"{_method_name(coro)} blocks, and was called")
        try:
            return thread.run(coro)
        except LoopStopped:
            raise ClientClosed("the client was closed while this call waited") from None

    def _warn_if_in_loop(self, what: str) -> None:
        """Warn (once per client) when this thread runs an event loop: it would stall."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return  # plain blocking code, or a worker thread: the intended use
        self._warned_loop = True
        self._async.logger.warning(
            "okx-ws: %s on a thread running an asyncio event loop; its blocking"
            " methods stall that loop (every other task waits) until they return."
            " In async code use AsyncWebsocketClient, or run the blocking calls in a"
            " worker thread (await asyncio.to_thread(client.method, ...)). Logged once"
            " per client",
            what,
        )

    def _on_loop(self, fn: Callable[[], T]) -> T:
        """Call ``fn()`` where the loop-owned state lives (a quick, non-blocking method)."""
        thread = self._thread
        if thread.on_loop_thread():
            return fn()
        try:
            return thread.call(fn)
        except LoopStopped:  # closed: the client's state no longer changes
            return fn()

    def set_time_offset_ms(self, offset_ms: int) -> None:
        self._async.set_time_offset_ms(offset_ms)  # one int attribute: atomic

    def get_time_offset_ms(self) -> int:
        return self._async.get_time_offset_ms()

    def sync_time(self) -> int:
        """Read OKX's clock and sign later logins with it; returns the offset in ms."""
        return self._run(self._async.sync_time())

    def on(self, event: str, handler: Handler) -> Handler:
        """Register a handler; it runs on the client's loop thread and must not block."""
        return self._on_loop(lambda: self._async.on(event, handler))

    def off(self, event: str, handler: Handler) -> None:
        self._on_loop(lambda: self._async.off(event, handler))

    def connect(self, connection: str, *, timeout: float | None = None) -> None:
        self._run(self._async.connect(connection, timeout=timeout))

    def connect_ws_api(self, *, timeout: float | None = None) -> None:
        self._run(self._async.connect_ws_api(timeout=timeout))

    @property
    def options(self) -> ClientOptions:
        return self._async.options

    @property
    def in_flight(self) -> int:
        """Requests sent and still awaiting their reply (a snapshot)."""
        return self._on_loop(lambda: self._async.in_flight)

    def load_instruments(
        self, inst_types: Iterable[str], *, inst_families: Iterable[str] = ()
    ) -> None:
        """Load the instIdCodes of ``inst_types`` (OPTION needs ``inst_families``) now."""
        self._run(self._async.load_instruments(inst_types, inst_families=inst_families))

    def call(
        self,
        operation: Operation[Any, R],
        params: object,
        *,
        exp_time: int | None = None,
        timeout: float | None = None,
        extra_fields: ExtraFields | None = None,
    ) -> R:
        """Validate, send and type one operation (see :meth:`AsyncWebsocketClient.call`)."""
        return self._run(
            self._async.call(
                operation, params, exp_time=exp_time, timeout=timeout, extra_fields=extra_fields
            )
        )

    def send_ws_api_request(
        self,
        connection: str,
        op: str,
        args: list[dict[str, Any]],
        *,
        exp_time: int | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        return self._run(
            self._async.send_ws_api_request(
                connection, op, args, exp_time=exp_time, timeout=timeout
            )
        )

    def subscribe(
        self,
        args: Mapping[str, Any] | Iterable[Mapping[str, Any]],
        connection: str = "public",
        *,
        timeout: float | None = None,
    ) -> None:
        """Subscribe and wait for OKX's acks (pushes: ``on("update")`` or the typed
        ``subscribe_<channel>`` streams); restored after every reconnect."""

        async def subscribe() -> None:
            await self._async.subscribe(args, connection, timeout=timeout)  # its stream: unused

        self._run(subscribe())

    def unsubscribe(
        self,
        args: Mapping[str, Any] | Iterable[Mapping[str, Any]],
        connection: str = "public",
        *,
        timeout: float | None = None,
    ) -> None:
        self._run(self._async.unsubscribe(args, connection, timeout=timeout))

    def subscriptions(self, connection: str) -> list[dict[str, Any]]:
        if self._closed:  # even if the async close could not run (a handler blocked the loop)
            raise ClientClosed("the client is closed")
        return self._on_loop(lambda: self._async.subscriptions(connection))

    def subscribe_channel(
        self,
        channel: Channel[Any, I],
        args: object = None,
        *,
        callback: UpdateCallback[I] | None = None,
        timeout: float | None = None,
        buffer: int = DEFAULT_BUFFER,
    ) -> BlockingChannelStream[I]:
        """Subscribe to one typed channel; a blocking iterator of its updates (or, with
        ``callback``, updates go to it on the loop thread).  See the async client."""
        ws = self._async
        ws._connection(channel.connection)
        stream = BlockingChannelStream(
            ws._channels,
            channel,
            channel.prepare(args),
            ws._unsubscribe_one,
            self._run,
            callback=callback,
            buffer=buffer,
            logger=ws.logger,
        )
        self._run(stream._registration.open(ws._subscribe_one, timeout))
        return stream

    def order_book(
        self,
        channel: Channel[Any, Any],
        inst_id: str,
        *,
        resync: Resync = "resubscribe",
        depth: int | None = None,
        buffer: int = DEFAULT_BUFFER,
        timeout: float | None = None,
        wait: bool = True,
    ) -> BlockingBookStream:
        """Follow one order book (see :meth:`AsyncWebsocketClient.order_book`); the book
        returned is usable from any thread (its reads run on the loop thread)."""
        stream = self._run(
            self._async.order_book(
                channel,
                inst_id,
                resync=resync,
                depth=depth,
                buffer=buffer,
                timeout=timeout,
                wait=wait,
            )
        )
        return BlockingBookStream(stream, self._run, self._on_loop)

    def register_instrument_channels(self, channels: Iterable[Channel[Any, Any]]) -> None:
        """See :meth:`AsyncWebsocketClient.register_instrument_channels`."""
        self._on_loop(lambda: self._async.register_instrument_channels(channels))

    def register_order_tracking(
        self, ops: Iterable[OrderOp], channels: Iterable[Channel[Any, Any]]
    ) -> None:
        self._on_loop(lambda: self._async.register_order_tracking(ops, channels))

    @property
    def tracker(self) -> OrderTracker | None:
        """The order tracker once :meth:`track_orders` started it; usable from any thread
        (each of its methods runs on the loop thread, where the tracker lives)."""
        return self._on_loop(self._tracker_view)

    def _tracker_view(self) -> BlockingOrderTracker | None:
        tracker = self._async.tracker
        if tracker is None:
            return None
        if self._tracker is None:
            self._tracker = BlockingOrderTracker(tracker, self._on_loop)
        return self._tracker

    def track_orders(
        self,
        *,
        subscribe: bool = True,
        max_finished: int = 10_000,
        finished_ttl: float | None = 3600.0,
        refresh_on_reconnect: bool = True,
        timeout: float | None = None,
    ) -> OrderTracker:
        """Start the order tracker (see :meth:`AsyncWebsocketClient.track_orders`); the
        tracker returned is usable from any thread."""
        self._run(
            self._async.track_orders(
                subscribe=subscribe,
                max_finished=max_finished,
                finished_ttl=finished_ttl,
                refresh_on_reconnect=refresh_on_reconnect,
                timeout=timeout,
            )
        )
        view = self._on_loop(self._tracker_view)
        assert view is not None  # track_orders() started it
        return view

    def tracked_order(self, cl_ord_id: str) -> TrackedOrder | None:
        """The tracked order's current snapshot (``None`` if not tracked)."""
        return self._on_loop(lambda: self._async.tracked_order(cl_ord_id))

    def cancelled_fates(self) -> list[RequestCancelled]:
        """Calls cancelled once sent, their fate unknown (see
        :meth:`AsyncWebsocketClient.cancelled_fates`); read on the loop thread."""
        return self._on_loop(self._async.cancelled_fates)

    def wait_for(
        self,
        cl_ord_id: str,
        states: str | Iterable[str] = FINAL_STATES,
        *,
        timeout: float | None = None,
    ) -> TrackedOrder:
        """Block until the tracked order reaches one of ``states`` (or any final state)."""
        return self._run(self._async.wait_for(cl_ord_id, states, timeout=timeout))

    def reconcile(self, target: Target, *, timeout: float | None = None) -> dict[str, Verdict]:
        """Ask OKX what became of these orders (see :meth:`AsyncWebsocketClient.reconcile`)."""
        return self._run(self._async.reconcile(target, timeout=timeout))

    def close(self, *, timeout: float = CLOSE_TIMEOUT_S) -> None:
        """Close the connections and stop the loop thread (idempotent).

        Bounded: the async close gets ``timeout`` seconds, stopping the loop as
        many again (a handler blocking the loop thread would otherwise hang it).
        Every call still waiting then raises :class:`ClientClosed`.
        """
        thread = self._thread
        if thread.on_loop_thread():
            raise BlockingCallInLoop("WebsocketClient.close")
        with self._lock:
            again, self._closed = self._closed, True
        if again:  # a first close() may have left a blocked loop thread: finish it now
            thread.stop(timeout)
            return
        logger = self._async.logger
        try:
            thread.run(self._async.close(), timeout)
        except TimeoutError:
            logger.warning("okx-ws: close() did not end in %gs; stopping the loop anyway", timeout)
        except LoopStopped:
            pass  # cannot happen before stop(): the loop is ours alone
        finally:
            if not thread.stop(timeout):
                logger.warning(
                    "okx-ws: the client's loop thread did not stop in %gs (a handler blocks it?);"
                    " left to end with the process",
                    timeout,
                )

    def __enter__(self) -> WebsocketClient:
        if self._closed:  # say so now, not at the first call
            raise ClientClosed("the client is closed; create a new one")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _method_name(coro: Coroutine[Any, Any, Any]) -> str:
    """``WebsocketClient.call`` for the coroutine of ``AsyncWebsocketClient.call``."""
    name = getattr(coro, "__qualname__", "") or "this method"
    return str(name).replace("AsyncWebsocketClient.", "WebsocketClient.", 1)


__all__ = ["LoopThread", "WebsocketClient"]  # LoopThread re-exported for existing imports
