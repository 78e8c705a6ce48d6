"""``BookStream``: an :class:`~okx_ws_core.book.orderbook.OrderBook` kept in sync by the client.

The book is sans-I/O; this is its driver.  It subscribes through the channel
table (``Channel.book`` says the channel is a book, ``Channel.login`` whether the
connection must log in), feeds every push frame of its argument to the book as
received (the router hands it raw frames: typing 400 levels per push would be
thrown away), and performs the actions the book returns:

* :class:`Resubscribe` -- unsubscribe then subscribe on the same connection,
  retried with the reconnect backoff while it fails.  The default
  (``resync="resubscribe"``): OKX's subscribe snapshot is exact on every channel.
* :class:`FetchSnapshot` -- ``GET /api/v5/market/books?instId=&sz=`` on the
  client's REST base (:class:`PublicRest`), retried the same way; one request in
  flight per book, a newer episode replacing it.  Used with ``resync="rest"``,
  and whenever OKX sent no subscribe snapshot.  A snapshot that falls strictly
  inside an aggregated push cannot be joined exactly (``_bridged_exactly``): it
  is refused and fetched again after a backoff, so ``"rest"`` suits the
  tick-by-tick channels, whose snapshots always land on a push.

When the connection drops the book is reset at once (its chain is broken: the
restored subscription opens with a new snapshot), so no read serves a book the
stream no longer feeds; reads raise :class:`StaleBookError` until it is valid.
``OKX's rule that books-l2-tbt cannot be combined with books or books50-l2-tbt``
on one instrument is checked against the connection's subscriptions before
anything is sent.

:class:`~okx_ws_core.rest.queries.PublicRest` (the unsigned twin of
:class:`~okx_ws_core.rest.queries.SignedRest`) fetches the snapshots.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from types import TracebackType
from typing import Any, Final

from ..errors import ClientClosed, ConfigurationError, OkxWsError, RestUnavailable, UpdateTimeout
from ..protocol.timing import Backoff
from ..rest.queries import PublicRest
from ..streams.buffer import StreamBuffer
from ..streams.channels import DEFAULT_BUFFER, Channel, ChannelRouter, Subscribe, _Registration
from ..streams.events import Event, Handler
from .orderbook import (
    BookChange,
    BookFrameError,
    Depth,
    Level,
    OrderBook,
    Resync,
    check_book_channels,
)
from .resync import BookAction, FetchSnapshot, Invalidated, Resubscribe, Synced

BOOKS_PATH: Final = "/api/v5/market/books"
_MAX_PENDING: Final = 10_000  # frames remembered while resyncing (the book buffers as many)


@dataclass(frozen=True, slots=True)
class BookIO:
    """What a :class:`BookStream` needs of its client (built by the client)."""

    router: ChannelRouter
    subscribe: Subscribe  # one argument of a channel, as the channel says (login...)
    unsubscribe: Subscribe
    rest: PublicRest
    subscribed: Callable[[str], list[dict[str, Any]]]  # a connection's subscriptions
    on: Callable[[str, Handler], Handler]
    off: Callable[[str, Handler], None]
    logger: logging.Logger
    timeout: float  # default bound of subscribing and of the first sync
    retry_delay: float  # a failed fetch or resubscribe is retried with this backoff
    retry_max_delay: float


class BookStream:
    """One order book kept in sync with OKX (see the module docstring).

    Reads (:meth:`best_bid`, :meth:`best_ask`, :meth:`depth`, :meth:`levels`,
    :attr:`spread`) raise :class:`StaleBookError` while :attr:`valid` is false,
    unless given ``stale_ok=True``.  ``async for change in book`` yields each
    applied update as a :class:`BookChange` (``snapshot=True``: the whole book
    changed, read it); the stream holds ``buffer`` changes at most (the oldest
    dropped beyond) and ends when the book or the client closes.  Close with
    :meth:`aclose` or ``async with``: it unsubscribes when nothing else uses
    the same argument.
    """

    def __init__(
        self,
        io: BookIO,
        channel: Channel[Any, Any],
        inst_id: str,
        *,
        resync: Resync = "resubscribe",
        depth: int | None = None,
        buffer: int = DEFAULT_BUFFER,
    ) -> None:
        if channel.book is None:
            raise ConfigurationError(f"channel {channel.channel!r} is not an order book")
        self.book = OrderBook(inst_id, channel.channel, resync=resync, depth=depth)
        self.channel = channel
        self.inst_id = inst_id
        self.arg = channel.prepare({"instId": inst_id})
        self._io = io
        self._changes: StreamBuffer[BookChange] = StreamBuffer(
            buffer, io.logger, f"{channel.channel} {inst_id} book"
        )
        self._registration = _Registration(
            io.router, channel, self.arg, io.unsubscribe, _typed_unused, self._end, self._on_frame
        )
        self._synced = asyncio.Event()
        self._last: BookChange | None = None
        self._resynced = False  # a REST resync made the book valid: report a snapshot change
        # REST bridging (see _bridged_exactly): the snapshot's seqId, and the prevSeqId of
        # each frame fed while the book was invalid, by seqId.
        self._rest_seq: int | None = None
        self._pending: dict[int, int] = {}
        self._bridge_backoff = Backoff(io.retry_delay, io.retry_max_delay)
        self._fetch_delay = 0.0
        self.inexact_bridges = 0  # REST snapshots refused because they fell inside a push
        self._fetch: asyncio.Task[None] | None = None
        self._resubscribe: asyncio.Task[None] | None = None
        self._last_problem = "no snapshot yet"
        self.resyncs = 0  # times the book became valid again after being valid
        self._was_valid = False

    # -- opening and closing ---------------------------------------------------------

    async def open(self, timeout: float | None = None, *, wait: bool = True) -> None:
        """Check the combination rule, subscribe, and (``wait``) wait for the first sync.

        ``timeout`` bounds both (default: the client's ``request_timeout``); a book
        not valid in time raises :class:`UpdateTimeout` and is closed.
        """
        io = self._io
        existing = [
            (str(a.get("channel")), str(a.get("instId")))
            for a in io.subscribed(self.channel.connection)
        ]
        check_book_channels(existing, (self.channel.channel, self.inst_id))
        loop = asyncio.get_running_loop()
        limit = io.timeout if timeout is None else timeout
        deadline = loop.time() + limit
        io.on("close", self._on_close)
        try:
            await self._registration.open(io.subscribe, limit)
            if wait:
                await self.wait_valid(max(0.0, deadline - loop.time()))
        except BaseException:
            await self.aclose()
            raise

    async def aclose(self, *, timeout: float | None = None) -> None:
        """Stop following the book; unsubscribes when nothing else uses its argument."""
        self._end()
        await self._registration.close(timeout)

    def _end(self) -> None:
        """The book stops (closed, or the client closed): nothing stale stays valid."""
        self._io.off("close", self._on_close)
        for task in (self._fetch, self._resubscribe):
            if task is not None:
                task.cancel()
        if self.book.valid:
            self.book.reset("closed")
        self._synced.clear()
        self._changes.end()

    @property
    def closed(self) -> bool:
        return self._changes.ended

    async def __aenter__(self) -> BookStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- the book, read -------------------------------------------------------------

    @property
    def valid(self) -> bool:
        """True only while the book is known to equal OKX's at :attr:`seq_id`."""
        return self.book.valid

    @property
    def seq_id(self) -> int | None:
        return self.book.seq_id

    @property
    def ts(self) -> int | None:
        """OKX's ``ts`` (Unix ms) of the last applied frame."""
        return self.book.ts

    @property
    def updated_at(self) -> float | None:
        """The loop's time when the book last changed."""
        return self.book.updated_at

    @property
    def spread(self) -> Decimal | None:
        return self.book.spread

    @property
    def invalidations(self) -> int:
        """Times the book stopped being valid (gaps, crossed books, lost connections)."""
        return self.book.invalidations

    @property
    def snapshot_requests(self) -> int:
        """REST snapshots asked for."""
        return self.book.snapshot_requests

    @property
    def dropped(self) -> int:
        """Changes dropped because nobody read them in time (the book itself lost none)."""
        return self._changes.dropped

    def best_bid(self, *, stale_ok: bool = False) -> Level | None:
        return self.book.best_bid(stale_ok=stale_ok)

    def best_ask(self, *, stale_ok: bool = False) -> Level | None:
        return self.book.best_ask(stale_ok=stale_ok)

    def depth(self, n: int, *, stale_ok: bool = False) -> Depth:
        return self.book.depth(n, stale_ok=stale_ok)

    def levels(
        self, *, stale_ok: bool = False
    ) -> tuple[dict[Decimal, Decimal], dict[Decimal, Decimal]]:
        return self.book.levels(stale_ok=stale_ok)

    def __repr__(self) -> str:
        return f"<BookStream {self.book!r}>"

    async def wait_valid(self, timeout: float | None = None) -> None:
        """Return once the book is valid; :class:`UpdateTimeout` after ``timeout`` seconds."""
        if self.closed:
            raise ClientClosed(f"the {self.channel.channel} {self.inst_id} book is closed")
        try:
            await asyncio.wait_for(self._synced.wait(), timeout)
        except asyncio.TimeoutError:
            raise UpdateTimeout(
                f"the {self.channel.channel} {self.inst_id} book was not valid within"
                f" {timeout:g}s ({self._last_problem})"
            ) from None

    # -- the changes, iterated --------------------------------------------------------

    def __aiter__(self) -> AsyncIterator[BookChange]:
        return self

    async def __anext__(self) -> BookChange:
        change = await self._changes.get()
        if change is None:
            raise StopAsyncIteration
        return change

    async def get(self, timeout: float | None = None) -> BookChange:
        """The next applied change; :class:`UpdateTimeout` after ``timeout`` seconds,
        :class:`ClientClosed` once the book is closed and its changes read."""
        change = await self._changes.get(timeout)
        if change is None:
            raise ClientClosed(f"the {self.channel.channel} {self.inst_id} book is closed")
        return change

    # -- the driver ------------------------------------------------------------------

    def _on_frame(self, message: dict[str, Any]) -> None:
        """One push of this book's argument, as OKX sent it (on the loop)."""
        book = self.book
        now = asyncio.get_running_loop().time()
        was_valid = book.valid
        if not was_valid:
            self._note_pending(message)
        try:
            actions = book.apply(message, now)
        except (BookFrameError, KeyError, TypeError, ValueError) as exc:
            why = f"unusable {self.channel.channel} frame: {type(exc).__name__}: {exc}"
            self._io.logger.warning("okx-ws: %s %s", self.inst_id, why)
            actions = book.invalidate(why)
        if was_valid and not book.valid:  # the frame that broke the chain: the book keeps it
            self._note_pending(message)
        if actions:
            self._perform(actions)
        self._note_change()

    def _note_change(self) -> None:
        """Queue the change the book just applied, if it applied one and is valid."""
        book = self.book
        if not book.valid:
            return
        change = book.last_change
        if self._resynced:  # bridged from a REST snapshot: the whole book changed
            self._resynced = False
            self._last = change
            seq = book.seq_id
            assert seq is not None
            self._changes.put(BookChange(seq, -1, str(book.ts or ""), (), (), snapshot=True))
        elif change is not None and change != self._last:  # repeats and no-ops are not changes
            self._last = change
            self._changes.put(change)

    def _note_pending(self, message: dict[str, Any]) -> None:
        """Remember how the frames of a resync chain, to judge the REST bridge later."""
        pending = self._pending
        if len(pending) >= _MAX_PENDING:
            pending.clear()  # the book's own buffer overflowed long before: it refetches
        for item in message.get("data") or ():
            if isinstance(item, dict) and "seqId" in item and "prevSeqId" in item:
                pending[item["seqId"]] = item["prevSeqId"]

    def _bridged_exactly(self, action: Synced) -> bool:
        """Whether a REST snapshot joined the stream at a push boundary.

        OKX's procedure applies the first update with ``prevSeqId <= snapshot seqId <
        seqId``.  When the snapshot falls strictly inside that update, the update was
        built against the book at its ``prevSeqId``: a level created and removed
        again within it, or changed and changed back, is in the snapshot and absent
        from the update, so the book would keep a level OKX no longer has (seen on
        the simulator, whose pushes carry only what changed between pushes; OKX's
        100 ms ``books`` pushes are aggregated the same way, the orderbook module's
        "uncertain" note).  Such a bridge is refused and the snapshot fetched again.
        Tick-by-tick channels push every change, so their snapshots always land on a
        boundary.
        """
        snap = self._rest_seq
        if snap is None or action.seq_id == snap:
            return True
        return self._pending.get(action.seq_id) == snap

    def _perform(self, actions: Sequence[BookAction]) -> None:
        logger = self._io.logger
        for action in actions:
            if isinstance(action, FetchSnapshot):
                self._last_problem = action.reason
                if self._fetch is not None:  # a newer episode: the older reply is moot
                    self._fetch.cancel()
                delay, self._fetch_delay = self._fetch_delay, 0.0
                self._fetch = _spawn(self._fetch_snapshot(action, delay))
            elif isinstance(action, Resubscribe):
                self._last_problem = action.reason
                if self._resubscribe is None or self._resubscribe.done():
                    self._resubscribe = _spawn(self._resubscribe_once(action))
            elif isinstance(action, Invalidated):
                self._last_problem = action.reason
                self._synced.clear()
                logger.info(
                    "okx-ws: %s %s book invalid: %s", action.channel, action.inst_id, action.reason
                )
            elif isinstance(action, Synced):
                if action.source == "rest":
                    if not self._bridged_exactly(action):
                        self.inexact_bridges += 1
                        self._fetch_delay = self._bridge_backoff.next_delay()
                        # valid for no await: nobody read it; what followed in `actions`
                        # was computed on the book before this and is moot
                        self._perform(
                            self.book.invalidate(
                                f"REST snapshot seqId {self._rest_seq} fell inside the push"
                                f" that took the book to {action.seq_id}"
                            )
                        )
                        return
                    self._resynced = True
                    self._bridge_backoff.reset()
                self._rest_seq = None
                self._pending.clear()
                if self._was_valid:
                    self.resyncs += 1
                    logger.info(
                        "okx-ws: %s %s book valid again at seqId %d (%s)",
                        action.channel,
                        action.inst_id,
                        action.seq_id,
                        action.source,
                    )
                self._was_valid = True
                self._synced.set()

    async def _fetch_snapshot(self, action: FetchSnapshot, delay: float = 0.0) -> None:
        io = self._io
        backoff = Backoff(io.retry_delay, io.retry_max_delay)
        params = {"instId": action.inst_id, "sz": str(action.depth)}
        loop = asyncio.get_running_loop()
        if delay:  # the last snapshot could not be joined: do not hammer OKX's REST
            await asyncio.sleep(delay)
        while True:
            try:
                answer = await io.rest.get(BOOKS_PATH, params)
                if answer.code != "0":
                    raise RestUnavailable(f"{answer.request}: code={answer.code} {answer.msg!r}")
                item = answer.data[0] if len(answer.data) == 1 else None
                seq = item.get("seqId") if isinstance(item, dict) else None
                self._rest_seq = None if seq is None else int(seq)
                actions = self.book.apply_rest_snapshot(answer.data, loop.time(), request=action)
            except (OkxWsError, ValueError, KeyError, TypeError) as exc:
                delay = backoff.next_delay()
                self._last_problem = f"order book snapshot failed: {exc}"
                io.logger.warning("okx-ws: %s; retry in %.3fs", self._last_problem, delay)
                await asyncio.sleep(delay)
                continue
            self._fetch = None
            self._perform(actions)
            self._note_change()
            return

    async def _resubscribe_once(self, action: Resubscribe) -> None:
        """Unsubscribe once, then subscribe until it succeeds.

        A failed unsubscribe is not retried: either its link died (and the
        subscription with it) or the channel is still subscribed, and OKX answers
        the subscribe with a fresh snapshot either way.
        """
        io = self._io
        try:
            await io.unsubscribe(self.channel, self.arg, None)
        except ClientClosed:
            return
        except OkxWsError as exc:
            io.logger.info("okx-ws: %s %s: unsubscribe failed (%s)", *self._name(), exc)
        backoff = Backoff(io.retry_delay, io.retry_max_delay)
        while not self.closed:
            try:
                await io.subscribe(self.channel, self.arg, None)
                return
            except ClientClosed:
                return
            except OkxWsError as exc:
                delay = backoff.next_delay()
                self._last_problem = f"resubscribe failed: {exc}"
                io.logger.warning("okx-ws: %s; retry in %.3fs", self._last_problem, delay)
                await asyncio.sleep(delay)

    def _name(self) -> tuple[str, str]:
        return self.channel.channel, self.inst_id

    def _on_close(self, event: Event) -> None:
        """The connection dropped: the chain is broken until the restored subscription's
        snapshot (or, if OKX sends none, a REST resync) starts it again."""
        if event.connection != self.channel.connection or self.closed:
            return
        if self._fetch is not None:
            self._fetch.cancel()
            self._fetch = None
        self._last_problem = f"connection lost: {event.detail}"
        self._synced.clear()
        self._pending.clear()
        self._rest_seq = None
        self._perform(self.book.reset(f"connection lost: {event.detail}"))


def _typed_unused(update: Any) -> None:  # a raw sink never gets typed updates
    raise AssertionError("a book gets raw frames")


def _spawn(coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
    task = asyncio.get_running_loop().create_task(coro)
    task.add_done_callback(_retrieve)
    return task


def _retrieve(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logging.getLogger("okx_ws").error("okx-ws: a book task failed", exc_info=task.exception())


class BlockingBookStream:
    """A :class:`BookStream` for blocking code (thread-safe).

    Every read runs on the client's loop thread, where the book changes, so a
    read never sees half an update.  ``for change in book`` blocks for each
    change and ends when the book or the client closes; ``book.iter(timeout=5)``
    also ends after 5 s without one.  Close with :meth:`close` or ``with``.
    """

    def __init__(
        self,
        stream: BookStream,
        run: Callable[[Coroutine[Any, Any, Any]], Any],
        on_loop: Callable[[Callable[[], Any]], Any],
    ) -> None:
        self._stream = stream
        self._run = run
        self._on_loop = on_loop
        self.channel = stream.channel
        self.inst_id = stream.inst_id

    @property
    def valid(self) -> bool:
        return bool(self._on_loop(lambda: self._stream.valid))

    @property
    def seq_id(self) -> int | None:
        seq: int | None = self._on_loop(lambda: self._stream.seq_id)
        return seq

    @property
    def ts(self) -> int | None:
        ts: int | None = self._on_loop(lambda: self._stream.ts)
        return ts

    @property
    def spread(self) -> Decimal | None:
        spread: Decimal | None = self._on_loop(lambda: self._stream.spread)
        return spread

    @property
    def closed(self) -> bool:
        return self._stream.closed

    def best_bid(self, *, stale_ok: bool = False) -> Level | None:
        level: Level | None = self._on_loop(lambda: self._stream.best_bid(stale_ok=stale_ok))
        return level

    def best_ask(self, *, stale_ok: bool = False) -> Level | None:
        level: Level | None = self._on_loop(lambda: self._stream.best_ask(stale_ok=stale_ok))
        return level

    def depth(self, n: int, *, stale_ok: bool = False) -> Depth:
        depth: Depth = self._on_loop(lambda: self._stream.depth(n, stale_ok=stale_ok))
        return depth

    def levels(
        self, *, stale_ok: bool = False
    ) -> tuple[dict[Decimal, Decimal], dict[Decimal, Decimal]]:
        both: tuple[dict[Decimal, Decimal], dict[Decimal, Decimal]] = self._on_loop(
            lambda: self._stream.levels(stale_ok=stale_ok)
        )
        return both

    def wait_valid(self, timeout: float | None = None) -> None:
        self._run(self._stream.wait_valid(timeout))

    def get(self, timeout: float | None = None) -> BookChange:
        change: BookChange = self._run(self._stream.get(timeout))
        return change

    def iter(self, timeout: float | None = None) -> Iterator[BookChange]:
        """Changes until the book closes, or until ``timeout`` seconds pass without one."""
        while True:
            try:
                yield self.get(timeout)
            except (UpdateTimeout, ClientClosed):
                return

    def __iter__(self) -> Iterator[BookChange]:
        return self.iter(None)

    def close(self, *, timeout: float | None = None) -> None:
        try:
            self._run(self._stream.aclose(timeout=timeout))
        except ClientClosed:
            pass  # the client closed first: its close ended the book

    def __enter__(self) -> BlockingBookStream:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        text: str = self._on_loop(lambda: repr(self._stream))
        return text


__all__ = ["BOOKS_PATH", "BlockingBookStream", "BookIO", "BookStream", "PublicRest"]
