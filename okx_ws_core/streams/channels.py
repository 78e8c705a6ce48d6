"""Typed subscription streams: OKX's push channels as data, executed generically.

A :class:`Channel` is what the spec declares for one push channel (OKX's
name, its connection, the model of one subscription argument and the model
of one pushed item); the generator emits one constant per channel, and both
clients subscribe to any of them with ``subscribe_channel``, so the runtime
names no channel and a new one is a spec edit.

:class:`ChannelRouter` sits on the push path: the client hands it every push,
it types the items once per push and delivers one :class:`ChannelUpdate` to
each stream subscribed to that argument.  An item that no longer matches its
model (a value OKX added to an enum...) is delivered unvalidated and logged,
never dropped: losing an order update is worse than an untyped field.

Streams buffer from the moment they are registered, before the subscribe
frame leaves, so nothing pushed right after OKX's ack is lost.  Each holds up
to ``buffer`` updates (oldest dropped and logged beyond), so a consumer that
stops reading cannot grow memory without bound.  Subscriptions are counted
per (connection, argument): closing a stream unsubscribes only when no other
stream (or the order tracker) still uses that argument.
"""

from __future__ import annotations

import asyncio
import collections
import inspect
import logging
import queue
import threading
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from .. import waits
from ..errors import ClientClosed, UpdateTimeout
from ..lazy import pydantic
from ..protocol.endpoints import ConnectionKey
from ..protocol.frames import arg_matches, prepare_args
from .buffer import Drops, StreamBuffer

if TYPE_CHECKING:  # pydantic is imported on first use (see lazy.py)
    from pydantic import BaseModel

A = TypeVar("A", bound="BaseModel")
I = TypeVar("I", bound="BaseModel")  # noqa: E741 - the item model, as in the spec
DEFAULT_BUFFER = 10_000
ROLE_ORDERS = "orders"  # a channel whose pushes carry order states (tracker, reconcile)


@dataclass(frozen=True, slots=True)
class Channel(Generic[A, I]):
    """One push channel: everything ``subscribe_channel`` needs, nothing it must guess."""

    name: str  # the Python name ("sprd_orders"): subscribe_<name> on the generated clients
    channel: str  # OKX's name ("sprd-orders")
    connection: ConnectionKey
    args_model: type[A]
    item_model: type[I]
    role: str | None = None  # "orders": pushes carry order states
    doc: str = ""
    login: bool = False  # OKX requires a login for it, even on the public connection
    name_suffix_arg: str | None = None  # this argument's value completes the name ("candle1m")
    row_columns: tuple[str, ...] = ()  # items pushed as arrays: their columns, in order
    book: str | None = None  # "snapshot" (books5, bbo-tbt) or "incremental" (books, *-l2-tbt)

    def prepare(self, args: object = None) -> dict[str, Any]:
        """Validate one subscription argument; returns it with OKX names and ``channel``.

        ``args`` is an ``args_model`` instance or a mapping with OKX names
        (``None``: no arguments).  Raises :class:`ParamsValidationError`.
        """
        [item] = prepare_args(
            {} if args is None else args,
            self.args_model,
            operation=f"subscribe_{self.name}",
            batch=False,
        )
        if self.name_suffix_arg is not None:
            return {"channel": self.channel + str(item.pop(self.name_suffix_arg)), **item}
        return {"channel": self.channel, **item}

    def parse_items(self, data: list[Any]) -> tuple[list[I], list[str]]:
        """Type every item; an item that fails validation is built unvalidated.

        Returns the items and one problem line per item that failed.
        """
        model = self.item_model
        items: list[I] = []
        problems: list[str] = []
        columns = self.row_columns
        for index, raw in enumerate(data):
            if columns and isinstance(raw, list):
                raw = dict(zip(columns, raw, strict=False))
            if not isinstance(raw, dict):
                problems.append(f"[{index}]: not an object: {raw!r:.80}")
                continue
            try:
                items.append(model.model_validate(raw))
            except pydantic.ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(part) for part in first["loc"])
                problems.append(f"[{index}].{where}: {first['msg']}")
                items.append(model.model_construct(**raw))
        return items, problems


@dataclass(frozen=True, slots=True)
class ChannelUpdate(Generic[I]):
    """One push of one channel, typed.

    ``data`` holds the pushed items as the channel's item model (unknown extra
    fields kept); ``arg`` is OKX's echo of the subscription (with ``uid``);
    ``message`` is the frame as OKX sent it, for keys beside ``arg`` and
    ``data`` such as ``eventType``, ``curPage`` and ``lastPage``.
    """

    channel: Channel[Any, I]
    connection: str
    arg: dict[str, Any]
    data: list[I]
    message: dict[str, Any]

    @property
    def event_type(self) -> str | None:
        """``snapshot`` or ``event_update`` (account, positions), else ``None``."""
        value = self.message.get("eventType")
        return None if value is None else str(value)


UpdateCallback = Callable[[ChannelUpdate[I]], "None | Awaitable[None]"]


RawDeliver = Callable[[dict[str, Any]], None]


class _Sink:
    """One registration with the router: a subscription argument and where updates go.

    A sink with ``raw`` gets OKX's frames as received instead of typed updates
    (the order book driver: typing 400 levels per push would only be thrown away);
    it gets only frames whose argument matches its own.
    """

    __slots__ = ("connection", "arg", "deliver", "end", "raw")

    def __init__(
        self,
        connection: str,
        arg: dict[str, Any],
        deliver: Callable[[ChannelUpdate[Any]], None],
        end: Callable[[], None],
        raw: RawDeliver | None = None,
    ) -> None:
        self.connection = connection
        self.arg = arg
        self.deliver = deliver
        self.end = end
        self.raw = raw


OrderObserver = Callable[[Channel[Any, Any], list[Any]], None]


def _key(arg: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((str(k), str(v)) for k, v in arg.items()))


class ChannelRouter:
    """Types pushes and hands them to the streams subscribed to them (on the loop thread)."""

    def __init__(
        self,
        logger: logging.Logger,
        *,
        forget: Callable[[str, dict[str, Any]], None] | None = None,
        subscribed: Callable[[str], list[dict[str, Any]]] = lambda connection: [],
    ) -> None:
        """``forget(connection, arg)`` is called when a subscribe failed and nothing uses
        the argument (the client drops it, so a reconnect does not restore it);
        ``subscribed(connection)`` lists every argument subscribed on a connection, by
        any means (raw subscribe too)."""
        self._logger = logger
        self._sinks: dict[tuple[str, str], list[_Sink]] = {}  # (connection, channel) -> sinks
        self._known: dict[tuple[str, str], Channel[Any, Any]] = {}
        self._observers: dict[tuple[str, str], OrderObserver] = {}
        self._refs: collections.Counter[tuple[str, tuple[tuple[str, str], ...]]] = (
            collections.Counter()
        )
        self._warned: set[tuple[str, str]] = set()
        self.closed = False
        self.forget = forget
        self.subscribed = subscribed

    # -- registration -----------------------------------------------------------

    def add(self, channel: Channel[Any, Any], sink: _Sink) -> bool:
        """Register ``sink``; True if it is the first user of its argument (subscribe now)."""
        if self.closed:
            raise ClientClosed("the client is closed")
        where = (sink.connection, str(sink.arg["channel"]))  # "candle1m", not "candle"
        self._known[where] = channel
        self._sinks.setdefault(where, []).append(sink)
        return self._acquire(sink.connection, sink.arg)

    def remove(self, channel: Channel[Any, Any], sink: _Sink) -> bool:
        """Unregister ``sink``; True if it was the last user of its argument (unsubscribe)."""
        where = (sink.connection, str(sink.arg["channel"]))
        sinks = self._sinks.get(where, [])
        if sink not in sinks:
            return False
        sinks.remove(sink)
        if not sinks:
            del self._sinks[where]
        return self._release(sink.connection, sink.arg)

    def _acquire(self, connection: str, arg: Mapping[str, Any]) -> bool:
        key = (connection, _key(arg))
        self._refs[key] += 1
        return self._refs[key] == 1

    def _release(self, connection: str, arg: Mapping[str, Any]) -> bool:
        key = (connection, _key(arg))
        if self._refs[key] <= 0:
            return False
        self._refs[key] -= 1
        if self._refs[key]:
            return False
        del self._refs[key]
        return True

    def hold(self, connection: str, arg: Mapping[str, Any]) -> bool:
        """Count a user of ``arg`` that is not a stream (the order tracker)."""
        return self._acquire(connection, arg)

    def release(self, connection: str, arg: dict[str, Any], *, failed: bool = False) -> bool:
        """Drop a :meth:`hold`; True if it was the last user.  ``failed``: its subscribe
        failed, so a last user's argument is forgotten by the client."""
        last = self._release(connection, arg)
        if last and failed and self.forget is not None:
            self.forget(connection, arg)
        return last

    def observe(self, channel: Channel[Any, Any], observer: OrderObserver) -> None:
        """Feed ``observer`` the raw items of every push of ``channel`` (the order tracker)."""
        where = (channel.connection, channel.channel)
        self._known[where] = channel
        self._observers[where] = observer

    # -- the push path -------------------------------------------------------------

    def dispatch(self, connection: str, arg: dict[str, Any], message: dict[str, Any]) -> None:
        """One push from OKX; never raises (a failing consumer is logged)."""
        where = (connection, str(arg.get("channel")))
        sinks = self._sinks.get(where)
        observer = self._observers.get(where)
        if not sinks and observer is None:
            return
        data = message.get("data")
        if not isinstance(data, list):
            return
        channel = self._known[where]
        if observer is not None:
            try:
                observer(channel, data)
            except Exception:
                self._logger.exception("okx-ws: the order tracker failed on a %s push", where[1])
        if not sinks:
            return
        targets = [sink for sink in sinks if arg_matches(sink.arg, arg)]
        if not targets and not any(arg_matches(a, arg) for a in self.subscribed(connection)):
            # OKX echoed an argument we never sent: every typed stream gets it
            targets = [sink for sink in sinks if sink.raw is None]
        update: ChannelUpdate[Any] | None = None
        for sink in targets:
            try:
                if sink.raw is not None:
                    sink.raw(message)
                    continue
                if update is None:  # typed once per push, and only if a typed stream wants it
                    items, problems = channel.parse_items(data)
                    if problems:
                        self._warn(channel, problems)
                    update = ChannelUpdate(channel, connection, arg, items, message)
                sink.deliver(update)
            except Exception:
                self._logger.exception("okx-ws: a %s update consumer failed", channel.channel)

    def _warn(self, channel: Channel[Any, Any], problems: list[str]) -> None:
        first = problems[0].split(":", 1)[0].split("].", 1)[-1]
        if (channel.channel, first) in self._warned:
            return
        self._warned.add((channel.channel, first))
        self._logger.warning(
            "okx-ws: %s push items do not match %s (%s); delivered unvalidated"
            " (logged once per field)",
            channel.channel,
            channel.item_model.__name__,
            "; ".join(problems[:3]),
        )

    def close(self) -> None:
        """End every stream (the client closed)."""
        self.closed = True
        sinks = [sink for group in self._sinks.values() for sink in group]
        self._sinks.clear()
        self._refs.clear()
        for sink in sinks:
            sink.end()


# Subscribes (or unsubscribes) one argument of a channel; the channel says on which
# connection and whether it needs a login.
Subscribe = Callable[["Channel[Any, Any]", dict[str, Any], "float | None"], Awaitable[None]]


class _Registration:
    """A stream's place in the router: its argument, and unsubscribing when it is the last."""

    def __init__(
        self,
        router: ChannelRouter,
        channel: Channel[Any, Any],
        arg: dict[str, Any],
        unsubscribe: Subscribe,
        deliver: Callable[[ChannelUpdate[Any]], None],
        end: Callable[[], None],
        raw: RawDeliver | None = None,
    ) -> None:
        self.router = router
        self.channel = channel
        self.arg = arg
        self._unsubscribe = unsubscribe
        self.sink = _Sink(channel.connection, arg, deliver, end, raw)
        self.active = False

    async def open(self, subscribe: Subscribe, timeout: float | None) -> None:
        """Register (buffering starts now), then subscribe and wait for OKX's ack."""
        self.router.add(self.channel, self.sink)
        self.active = True
        try:
            await subscribe(self.channel, self.arg, timeout)
        except BaseException:
            self.active = False
            if self.router.remove(self.channel, self.sink) and self.router.forget is not None:
                self.router.forget(self.channel.connection, self.arg)
            raise

    async def close(self, timeout: float | None) -> None:
        if not self.active:
            return
        self.active = False
        self.sink.end()
        if self.router.remove(self.channel, self.sink) and not self.router.closed:
            await self._unsubscribe(self.channel, self.arg, timeout)


class _Callbacks:
    """Runs a stream's callback on each update, on the client's loop.

    A plain callback runs inline on the push path.  A coroutine result is
    queued and awaited by one worker task, one at a time and in push order:
    concurrency is bounded (one per stream), memory by the stream's buffer
    (oldest dropped and logged beyond), and :meth:`close` cancels the worker
    and discards what never ran, so nothing outlives the stream.
    """

    def __init__(
        self, callback: UpdateCallback[Any], logger: logging.Logger, name: str, size: int
    ) -> None:
        self._callback = callback
        self._logger = logger
        self._name = name
        self._pending: StreamBuffer[Awaitable[None]] = StreamBuffer(
            size, logger, f"{name} callback"
        )
        self._worker: asyncio.Task[None] | None = None

    def deliver(self, update: ChannelUpdate[Any]) -> None:
        result = self._callback(update)
        if result is None or not inspect.isawaitable(result) or self._pending.ended:
            _discard(result)
            return
        _discard(self._pending.put(result))
        if self._worker is None:
            self._worker = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while (pending := await self._pending.get()) is not None:
            try:
                await pending
            except Exception:
                self._logger.exception("okx-ws: a %s update callback failed", self._name)

    def close(self) -> None:
        """Cancel the running callback and drop the queued ones (idempotent)."""
        self._pending.end()
        for pending in self._pending.take_all():
            _discard(pending)
        if self._worker is not None:
            self._worker.cancel()


def _discard(awaitable: object) -> None:
    """Close a coroutine that will never run (no 'never awaited' warning)."""
    if asyncio.iscoroutine(awaitable):
        awaitable.close()


class ChannelStream(Generic[I]):
    """The typed updates of one subscription, as an async iterator.

    ``async for update in stream`` yields :class:`ChannelUpdate` objects and
    ends when the stream or the client closes; :meth:`get` waits for one with
    a timeout.  One task reads a stream at a time (a second concurrent reader
    gets :class:`StreamInUse`; open a second stream instead).  With a
    ``callback`` the updates go to it instead (on the client's loop; coroutine
    results are awaited one at a time, in order) and the stream only serves
    to close the subscription.  Close with :meth:`aclose` or
    ``async with``: it unsubscribes when nothing else uses the same argument.
    """

    def __init__(
        self,
        router: ChannelRouter,
        channel: Channel[Any, I],
        arg: dict[str, Any],
        unsubscribe: Subscribe,
        *,
        callback: UpdateCallback[I] | None = None,
        buffer: int = DEFAULT_BUFFER,
        logger: logging.Logger,
    ) -> None:
        self.channel = channel
        self.arg = arg
        self._buffer: StreamBuffer[ChannelUpdate[I]] = StreamBuffer(
            buffer, logger, f"{channel.channel} stream"
        )
        self._callbacks = (
            None if callback is None else _Callbacks(callback, logger, channel.channel, buffer)
        )
        deliver = self._put if self._callbacks is None else self._callbacks.deliver
        self._registration = _Registration(router, channel, arg, unsubscribe, deliver, self._end)
        self._ended: list[Callable[[], None]] = []

    @property
    def closed(self) -> bool:
        return self._buffer.ended

    @property
    def dropped(self) -> int:
        """Updates dropped because the buffer was full."""
        return self._buffer.dropped

    def _put(self, update: ChannelUpdate[Any]) -> None:
        self._buffer.put(update)

    def _end(self) -> None:
        self._buffer.end()
        if self._callbacks is not None:
            self._callbacks.close()
        ended, self._ended = self._ended, []
        for fn in ended:
            fn()

    def when_ended(self, fn: Callable[[], None]) -> None:
        """Call ``fn()`` (on the loop) once the stream ends; at once if it has ended."""
        if self._buffer.ended:
            fn()
        else:
            self._ended.append(fn)

    def __aiter__(self) -> ChannelStream[I]:
        return self

    async def __anext__(self) -> ChannelUpdate[I]:
        update = await self._buffer.get()
        if update is None:
            raise StopAsyncIteration
        return update

    async def get(self, timeout: float | None = None) -> ChannelUpdate[I]:
        """The next update; raises :class:`UpdateTimeout` after ``timeout`` seconds,
        :class:`ClientClosed` once the stream is closed and drained, and
        :class:`StreamInUse` if another task is already waiting on this stream."""
        update = await self._buffer.get(timeout)
        if update is None:
            raise ClientClosed(f"the {self.channel.channel} stream is closed")
        return update

    async def aclose(self, *, timeout: float | None = None) -> None:
        """Stop the stream; unsubscribes when no other stream uses the same argument."""
        self._end()
        await self._registration.close(timeout)

    async def __aenter__(self) -> ChannelStream[I]:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


class BlockingChannelStream(Generic[I]):
    """The typed updates of one subscription for blocking code (thread-safe).

    ``for update in stream`` blocks for each update and ends when the stream
    or the client closes; ``stream.iter(timeout=5)`` also ends after 5 s
    without an update, and :meth:`get` raises :class:`UpdateTimeout` instead.
    With a ``callback`` the updates go to it on the client's loop thread (it
    must not block).  Close with :meth:`close` or ``with``.

    It wraps the async :class:`ChannelStream` that holds the subscription:
    the async stream's callback fills this stream's thread-safe queue (one
    wake-up per update for the reading thread), its end ends this one, and
    closing this one closes it on the loop thread.
    """

    def __init__(
        self,
        stream: ChannelStream[I],
        updates: UpdateQueue[I],
        run: Callable[[Coroutine[Any, Any, None]], None],
    ) -> None:
        self.channel = stream.channel
        self.arg = stream.arg
        self._stream = stream
        self._updates = updates
        self._run = run

    @property
    def closed(self) -> bool:
        return self._updates.ended

    @property
    def dropped(self) -> int:
        """Updates dropped because the buffer was full."""
        return self._updates.dropped

    def get(self, timeout: float | None = None) -> ChannelUpdate[I]:
        """The next update; raises :class:`UpdateTimeout` after ``timeout`` seconds and
        :class:`ClientClosed` once the stream is closed and drained."""
        return self._updates.get(self.channel.channel, timeout)

    def iter(self, timeout: float | None = None) -> Iterator[ChannelUpdate[I]]:
        """Updates until the stream closes, or until ``timeout`` seconds pass without one."""
        while True:
            try:
                yield self.get(timeout)
            except (UpdateTimeout, ClientClosed):
                return

    def __iter__(self) -> Iterator[ChannelUpdate[I]]:
        return self.iter(None)

    def close(self, *, timeout: float | None = None) -> None:
        """Stop the stream; unsubscribes when no other stream uses the same argument."""
        self._updates.end()
        try:
            self._run(self._stream.aclose(timeout=timeout))
        except ClientClosed:
            pass  # the client closed first: its close ended every subscription

    def __enter__(self) -> BlockingChannelStream[I]:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class UpdateQueue(Generic[I]):
    """A bounded, thread-safe FIFO of updates: filled on the loop, read by any thread.

    Beyond ``size`` updates the oldest is dropped and counted; once ended, every
    ``get`` on an empty queue raises :class:`ClientClosed` at once.
    """

    def __init__(self, size: int, logger: logging.Logger) -> None:
        self._queue: queue.Queue[ChannelUpdate[I] | None] = queue.Queue()
        self._size = size
        self._logger = logger
        self._drops: Drops | None = None  # named after the channel of the first drop
        self._lock = threading.Lock()
        self._ended = threading.Event()

    @property
    def ended(self) -> bool:
        return self._ended.is_set()

    @property
    def dropped(self) -> int:
        return 0 if self._drops is None else self._drops.count

    def put(self, update: ChannelUpdate[I]) -> None:  # the async stream's callback
        with self._lock:
            if self._queue.qsize() >= self._size:
                try:
                    self._queue.get_nowait()
                except queue.Empty:
                    pass
                if self._drops is None:
                    what = f"{update.channel.channel} stream"
                    self._drops = Drops(self._size, self._logger, what)
                self._drops.note()
            self._queue.put_nowait(update)

    def end(self) -> None:
        if not self._ended.is_set():
            self._ended.set()
            self._queue.put_nowait(None)

    def get(self, name: str, timeout: float | None) -> ChannelUpdate[I]:
        try:
            update = waits.get(self._queue, timeout)  # in slices: a Ctrl-C is seen
        except queue.Empty:
            raise UpdateTimeout(f"no {name} update within {timeout:g}s") from None
        if update is None:
            self._queue.put_nowait(None)  # every later get() ends too
            raise ClientClosed(f"the {name} stream is closed")
        return update


__all__ = [
    "ROLE_ORDERS",
    "BlockingChannelStream",
    "UpdateQueue",
    "Channel",
    "ChannelRouter",
    "ChannelStream",
    "ChannelUpdate",
    "UpdateCallback",
    "UpdateTimeout",
]
