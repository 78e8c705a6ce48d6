"""``WebsocketClient``: the blocking facade.

It runs one :class:`AsyncWebsocketClient` on a private event-loop thread, so
the protocol logic exists once, and its methods are derived from the async
client's (:mod:`.facade`: same parameters, checked by the type checkers), so
the API is written once too.  Each call is one hop to that thread and back,
unless that thread is idle, waiting for I/O: it then lends the loop to the
caller's thread (:mod:`.lent_loop`).  A request (``call`` and the generated
operations) runs its first step there, up to the frame's write, and only the
reply crosses threads; a quick method (``in_flight``, ``subscriptions``,
``on``/``off``, the tracker) runs there whole.  Every method is thread-safe:
loop state is only touched by the thread that holds the loop, the loop
thread or a caller it is lent to.  Event handlers run on the loop thread;
from there the quick methods work, while a blocking one raises
:class:`BlockingCallInLoop` instead of deadlocking.  A Ctrl-C while a call
waits cancels it; ``close()`` is bounded and releases every caller still
waiting with :class:`ClientClosed`.  Created or used on a thread that runs an
asyncio event loop, it works but stalls that loop: it logs a warning, once.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Coroutine, Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from ..book.stream import BlockingBookStream, BookStream
from ..errors import BlockingCallInLoop, ClientClosed
from ..options import ClientOptions
from ..orders.tracker import OrderTracker
from ..protocol.ratelimit import ConnectionLimits
from ..streams.channels import DEFAULT_BUFFER, BlockingChannelStream, ChannelStream, UpdateQueue
from .async_client import AsyncWebsocketClient
from .blocking_tracker import BlockingOrderTracker
from .facade import Blocking, Facade, blocking, blocking_as, direct, on_loop, request
from .loop_thread import LoopStopped, LoopThread

A = TypeVar("A")
P = ParamSpec("P")
T = TypeVar("T")
if TYPE_CHECKING:  # pydantic is imported on first use (see lazy.py)
    from pydantic import BaseModel

R = TypeVar("R", bound="BaseModel")
I = TypeVar("I", bound="BaseModel")  # noqa: E741 - a channel's item model
CLOSE_TIMEOUT_S = 10.0  # default bound of close(): the async close, then the loop's stop


class BlockingFacade(Facade[A]):
    """Base of the blocking clients: an async client ``A`` on a :class:`WebsocketClient`'s
    loop thread, and the derived methods that convert the async results (streams,
    the tracker) into their thread-safe twins.  The generated ``WebsocketAPIClient``
    declares its methods with these, e.g. ``order_book = BlockingFacade.book_stream(...)``.
    """

    def _loop_client(self) -> WebsocketClient:
        """The blocking client whose loop thread runs the async object."""
        raise NotImplementedError

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self._loop_client()._run(coro)

    def _run_request(self, coro: Coroutine[Any, Any, T]) -> T:
        return self._loop_client()._run(coro, inline=True)

    def _on_loop(self, fn: Callable[[], T]) -> T:
        return self._loop_client()._on_loop(fn)

    blocking = staticmethod(blocking)
    request = staticmethod(request)
    on_loop = staticmethod(on_loop)
    direct = staticmethod(direct)

    @staticmethod
    def channel_stream(
        method: Callable[Concatenate[A, P], Coroutine[Any, Any, ChannelStream[I]]],
    ) -> Blocking[A, P, BlockingChannelStream[I]]:
        """A ``subscribe_*`` method: its async stream as a :class:`BlockingChannelStream`."""
        return blocking_as(method, _channel_stream, "Blocking{}")

    @staticmethod
    def book_stream(
        method: Callable[Concatenate[A, P], Coroutine[Any, Any, BookStream]],
    ) -> Blocking[A, P, BlockingBookStream]:
        """An ``order_book`` method: its async book as a :class:`BlockingBookStream`."""
        return blocking_as(method, _book_stream, "Blocking{}")

    @staticmethod
    def order_tracker(
        method: Callable[Concatenate[A, P], Coroutine[Any, Any, OrderTracker]],
    ) -> Blocking[A, P, OrderTracker]:
        """A ``track_orders`` method: the tracker as a view usable from any thread."""
        return blocking_as(method, _order_tracker, "{}")


def _channel_stream(
    facade: Facade[Any], kwargs: dict[str, Any]
) -> Callable[[ChannelStream[Any]], BlockingChannelStream[Any]]:
    """Without a callback, the async stream's callback fills the blocking stream's queue."""
    assert isinstance(facade, BlockingFacade)
    client = facade._loop_client()
    updates: UpdateQueue[Any] = UpdateQueue(kwargs.get("buffer", DEFAULT_BUFFER), client.logger)
    if kwargs.get("callback") is None:
        kwargs["callback"] = updates.put

    def convert(stream: ChannelStream[Any]) -> BlockingChannelStream[Any]:
        client._on_loop(lambda: stream.when_ended(updates.end))
        return BlockingChannelStream(stream, updates, client._run)

    return convert


def _book_stream(
    facade: Facade[Any], kwargs: dict[str, Any]
) -> Callable[[BookStream], BlockingBookStream]:
    return lambda stream: BlockingBookStream(stream, facade._run, facade._on_loop)


def _order_tracker(
    facade: Facade[Any], kwargs: dict[str, Any]
) -> Callable[[OrderTracker], OrderTracker]:
    def view(_: OrderTracker) -> OrderTracker:
        assert isinstance(facade, BlockingFacade)
        tracker = facade._loop_client().tracker
        assert tracker is not None  # track_orders() started it
        return tracker

    return view


channel_stream = BlockingFacade.channel_stream
book_stream = BlockingFacade.book_stream
order_tracker = BlockingFacade.order_tracker


class WebsocketClient(BlockingFacade[AsyncWebsocketClient]):
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

    def _target(self) -> AsyncWebsocketClient:
        return self._async

    def _loop_client(self) -> WebsocketClient:
        return self

    def _run(self, coro: Coroutine[Any, Any, T], *, inline: bool = False) -> T:
        """Run ``coro`` on the loop thread and wait for it (a blocking method);
        ``inline``: its first step may run here (a request, see :meth:`LoopThread.run`)."""
        if self._closed:
            coro.close()
            raise ClientClosed("the client is closed")
        thread = self._thread
        if thread.on_loop_thread():
            coro.close()
            raise BlockingCallInLoop(_method_name(coro))
        if not self._warned_loop and asyncio._get_running_loop() is not None:
            self._warn_if_in_loop(f"{_method_name(coro)} blocks, and was called")
        try:
            return thread.run(coro, inline=inline)
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

    set_time_offset_ms = direct(AsyncWebsocketClient.set_time_offset_ms)  # one int: atomic
    get_time_offset_ms = direct(AsyncWebsocketClient.get_time_offset_ms)
    sync_time = blocking(AsyncWebsocketClient.sync_time)
    on = on_loop(AsyncWebsocketClient.on)
    off = on_loop(AsyncWebsocketClient.off)
    connect = blocking(AsyncWebsocketClient.connect)
    connect_ws_api = blocking(AsyncWebsocketClient.connect_ws_api)
    load_instruments = blocking(AsyncWebsocketClient.load_instruments)
    call = request(AsyncWebsocketClient.call)
    send_ws_api_request = request(AsyncWebsocketClient.send_ws_api_request)
    unsubscribe = blocking(AsyncWebsocketClient.unsubscribe)
    subscribe_channel = channel_stream(AsyncWebsocketClient.subscribe_channel)
    order_book = book_stream(AsyncWebsocketClient.order_book)
    register_instrument_channels = on_loop(AsyncWebsocketClient.register_instrument_channels)
    register_order_tracking = on_loop(AsyncWebsocketClient.register_order_tracking)
    track_orders = order_tracker(AsyncWebsocketClient.track_orders)
    tracked_order = on_loop(AsyncWebsocketClient.tracked_order)
    cancelled_fates = on_loop(AsyncWebsocketClient.cancelled_fates)
    retained = on_loop(AsyncWebsocketClient.retained)
    wait_for = blocking(AsyncWebsocketClient.wait_for)
    reconcile = blocking(AsyncWebsocketClient.reconcile)

    @property
    def options(self) -> ClientOptions:
        return self._async.options

    @property
    def logger(self) -> logging.Logger:
        return self._async.logger

    @property
    def in_flight(self) -> int:
        """Requests sent and still awaiting their reply (a snapshot)."""
        return self._on_loop(lambda: self._async.in_flight)

    def subscribe(
        self,
        args: Mapping[str, Any] | Iterable[Mapping[str, Any]],
        connection: str = "public",
        *,
        timeout: float | None = None,
        login: bool = False,
    ) -> None:
        """Subscribe and wait for OKX's acks (pushes: ``on("update")`` or the typed
        ``subscribe_<channel>`` streams); restored after every reconnect.  Unlike the
        async ``subscribe`` it returns no stream, so it takes no ``buffer``."""

        async def subscribe() -> None:
            await self._async.subscribe(args, connection, timeout=timeout, login=login)

        self._run(subscribe())

    def subscriptions(self, connection: str) -> list[dict[str, Any]]:
        if self._closed:  # even if the async close could not run (a handler blocked the loop)
            raise ClientClosed("the client is closed")
        return self._on_loop(lambda: self._async.subscriptions(connection))

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
    name = str(getattr(coro, "__qualname__", "") or "this method")
    return name.removeprefix("Async")


__all__ = [
    "BlockingFacade",
    "LoopThread",
    "WebsocketClient",
]  # LoopThread re-exported for existing imports
