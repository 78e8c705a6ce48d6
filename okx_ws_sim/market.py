"""The simulator's market: synthetic books per instrument, and the market channels' pushes.

``Market`` owns one ``SyntheticBook`` per instrument (made on first use, seeded
from the simulator's seed), the subscriptions to the market channels
(``market_channels.CHANNELS``: tickers, trades, books...), and one task that
paces their pushes (``MarketRates``).  Work is done only for subscribed
(channel, instrument) pairs: an instrument's book moves only while something
follows it, and the task ends when the last subscription goes.

How OKX chains a book (``books``, ``books-l2-tbt``, ``books50-l2-tbt``), as done
here: on subscribing, ``action: "snapshot"`` with ``prevSeqId: -1``; then
``action: "update"`` with the levels touched since the last push (size "0"
deletes) and ``prevSeqId`` = the seqId of the last message sent on that channel;
``checksum`` is 0.  A book that has not changed for ``rates.heartbeat`` seconds
gets an empty update with ``seqId == prevSeqId``; after a maintenance reset
(``FaultPlan.reset_book_sequence`` or ``reset_sequence``) the next update has
``seqId < prevSeqId``.  Updates are shared by every subscriber of a (channel,
instrument): a new subscriber first brings the others up to date, so all of them
chain from the same seqIds.

Reading the simulator's book (tests, the soak): ``book(inst_id, depth)`` now,
``book_at(inst_id, seq_id, depth)`` as it was right after that seqId (the last
``history`` events are kept), each ``{"seqId", "bids", "asks"}`` with rows
``(px, sz, count)`` as Decimals and ints.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

from websockets.exceptions import ConnectionClosed

from . import codes, market_views, protocol
from .clock import SimClock
from .engine import Fill
from .faults import BOOK_DUPLICATE, BOOK_GAP, BOOK_RESET, FaultPlan
from .instruments import Instrument
from .market_book import (
    ASKS,
    BIDS,
    DEFAULT_HISTORY,
    DEFAULT_LEVELS,
    SIDES,
    Level,
    Side,
    SyntheticBook,
)
from .market_channels import (
    BOOK_SNAPSHOT,
    CANDLE,
    COMBINATION_CODE,
    COMBINATION_MSG,
    EXCLUSIVE,
    EXCLUSIVE_WITH,
    FUNDING,
    INCREMENTAL,
    INDEX,
    INDEX_TICKER,
    INSTRUMENTS,
    MARK_PRICE,
    TICKER,
    TRADE_EACH,
    TRADES,
    MarketChannel,
    MarketRates,
    bar_ms,
    check_keys,
    index_source,
    target,
)
from .state import SimState

if TYPE_CHECKING:
    from .session import Connection

Spawn = Callable[[Coroutine[Any, Any, None]], None]
Refusal = tuple[str, str]
FeedKey = tuple[str, str]  # (channel, what it follows)
Top = dict[str, list[tuple[Decimal, Level]]]
_MAX_SLEEP: Final = 1.0


@dataclass(frozen=True, slots=True)
class PublicTrade:
    inst_id: str
    trade_id: str
    px: Decimal
    sz: Decimal
    side: str  # the taker's
    ts: int


@dataclass(eq=False)
class Feed:
    """One (channel, instrument) and its subscribers: what was last pushed to them."""

    rule: MarketChannel
    channel: str  # the channel's name as subscribed (candle1m: rule "candle")
    target: str
    inst_id: str | None  # the book it reads (None: instruments)
    subs: dict[Connection, dict[str, Any]] = field(default_factory=dict)  # -> push arg
    version: int = 0  # book events pushed up to
    seq_id: int = -1  # seqId of the last message sent
    shown: Top = field(default_factory=dict)  # incremental: the levels the clients hold
    last: Any = None  # what the last push showed (pushed again only when it changes)
    last_push: float = 0.0  # loop time
    due: float = 0.0  # loop time of the next look
    candle: list[Any] | None = None  # [start, o, h, l, c, vol] of the bar being built


@dataclass
class _Day:
    """24 h figures of one instrument (the simulator's "day" is since its first use)."""

    open: Decimal
    high: Decimal
    low: Decimal
    vol: Decimal = Decimal(0)
    last_sz: Decimal = Decimal(0)

    def see(self, px: Decimal) -> None:
        self.high, self.low = max(self.high, px), min(self.low, px)


class Market:
    def __init__(
        self,
        state: SimState,
        clock: SimClock,
        faults: FaultPlan,
        seed: int | None,
        *,
        rates: MarketRates | None = None,
        levels: int = DEFAULT_LEVELS,
        history: int = DEFAULT_HISTORY,
    ) -> None:
        self.state = state
        self.clock = clock
        self.faults = faults
        self.rates = rates or MarketRates()
        self._seed = 0 if seed is None else seed
        self._levels = levels
        self._history = history
        self._books: dict[str, SyntheticBook] = {}
        self._days: dict[str, _Day] = {}
        self._feeds: dict[FeedKey, Feed] = {}
        self._by_conn: dict[Connection, set[FeedKey]] = {}
        self._trades: dict[str, list[PublicTrade]] = {}
        self._next_walk: dict[str, float] = {}
        self._frozen: set[str] = set()
        self._frozen_all = False
        self._spawn: Spawn | None = None
        self._running = False
        self._wake = asyncio.Event()
        self._outbox: deque[tuple[Connection, str]] = deque()
        self._drain_lock = asyncio.Lock()

    def attach(self, spawn: Spawn) -> None:
        """How the market starts its pushing task (the simulator's task set)."""
        self._spawn = spawn

    def on_engine(self) -> None:
        """The engine was replaced (Simulator.reset): listen to its fills."""
        self.state.engine.on_fill = self._on_fill

    # -- settings -------------------------------------------------------------------------
    def set_rates(self, **seconds: float) -> MarketRates:
        """Change some rates (``MarketRates`` field names, seconds); returns the new set."""
        self.rates = replace(self.rates, **seconds)
        self._wake.set()
        return self.rates

    def freeze(self, inst_id: str | None = None, frozen: bool = True) -> None:
        """Stop (or restart) the random walk of one instrument (None: all): its book
        then changes only with the simulator's own orders, and heartbeats follow."""
        target_set = self._frozen
        if inst_id is None:
            self._frozen_all = frozen
            if not frozen:
                target_set.clear()
        elif frozen:
            target_set.add(inst_id)
        else:
            target_set.discard(inst_id)

    # -- books ------------------------------------------------------------------------------
    def _book(self, inst_id: str) -> SyntheticBook | None:
        book = self._books.get(inst_id)
        if book is None:
            inst = self.state.engine.instruments.get(inst_id)
            if inst is None:
                return None
            book = SyntheticBook(inst, self._seed, levels=self._levels, history=self._history)
            self._books[inst_id] = book
        return book

    def _own(self, inst_id: str) -> dict[str, Side]:
        """The engine's live priced orders on ``inst_id``, as levels."""
        own: dict[str, Side] = {BIDS: {}, ASKS: {}}
        for order in self.state.engine.resting.get(inst_id, {}).values():
            assert order.px is not None
            side = own[BIDS if order.side == "buy" else ASKS]
            size, count = side.get(order.px, (Decimal(0), 0))
            side[order.px] = (size + order.remaining, count + 1)
        return own

    def _refresh(self, inst_id: str, *, walk: bool = False) -> SyntheticBook | None:
        """Bring the book up to the engine's orders now (and a walk step if asked)."""
        book = self._book(inst_id)
        if book is not None:
            book.advance(self._own(inst_id), walk=walk, now_ms=self.clock.now_ms())
        return book

    def seq_id(self, inst_id: str) -> int:
        """The current seqId of ``inst_id``'s book (KeyError if not listed)."""
        book = self._refresh(inst_id)
        if book is None:
            raise KeyError(inst_id)
        return book.seq_id

    def book(self, inst_id: str, depth: int = 400) -> dict[str, Any]:
        """The book now: ``{"seqId", "bids", "asks"}``, rows ``(px, sz, count)``, best
        first.  KeyError if the instrument is not listed."""
        book = self._refresh(inst_id)
        if book is None:
            raise KeyError(inst_id)
        return _plain(book.seq_id, book.top(depth))

    def book_at(self, inst_id: str, seq_id: int, depth: int = 400) -> dict[str, Any]:
        """The book right after the change that gave it ``seq_id``, as ``book()``.  What
        a client that applied the stream up to that seqId must hold (its top ``depth``).
        KeyError: not listed; LookupError: older than the history kept."""
        book = self._books.get(inst_id)
        if book is None:
            raise KeyError(inst_id)
        return _plain(seq_id, book.at(seq_id, depth))

    def reset_sequence(self, inst_id: str) -> int:
        """A maintenance reset now: the seqId drops (returns the new one).  The faults'
        ``reset_book_sequence`` does the same at the next step, counted as a fault."""
        book = self._refresh(inst_id)
        if book is None:
            raise KeyError(inst_id)
        return book.reset_sequence(self.clock.now_ms()).seq_id

    def rest_snapshot(self, inst_id: str, depth: int) -> dict[str, Any] | None:
        """``GET /api/v5/market/books``' item (None: no such book)."""
        book = self._refresh(inst_id)
        if book is None:
            return None
        top = book.top(depth)
        now = self.clock.now_ms()
        return market_views.rest_book(
            market_views.rows(top[BIDS]), market_views.rows(top[ASKS]), now, book.seq_id
        )

    # -- trades -------------------------------------------------------------------------------
    def _on_fill(self, fill: Fill) -> None:
        """Every engine fill is a public trade (the taker's side: a maker fill's
        counterparty took the other side)."""
        order = fill.order
        side = order.side if fill.exec_type == "T" else ("sell" if order.side == "buy" else "buy")
        inst_id = order.inst.inst_id
        day = self._days.get(inst_id)
        if day is not None:
            day.see(fill.px)
            day.vol += fill.sz
            day.last_sz = fill.sz
        book = self._books.get(inst_id)
        if book is not None:
            book.last_trade_px = fill.px
        if any(
            f.inst_id == inst_id and f.rule.data in (TRADES, TRADE_EACH)
            for f in self._feeds.values()
        ):
            trade = PublicTrade(inst_id, fill.trade_id, fill.px, fill.sz, side, fill.ts)
            self._trades.setdefault(inst_id, []).append(trade)

    def _day(self, book: SyntheticBook) -> _Day:
        day = self._days.get(book.inst.inst_id)
        if day is None:
            px = book.last_trade_px
            day = self._days[book.inst.inst_id] = _Day(px, px, px)
        return day

    # -- subscriptions --------------------------------------------------------------------------
    def check(self, conn: Connection, rule: MarketChannel, arg: dict[str, Any]) -> Refusal | None:
        """Why OKX would refuse this subscription, or None."""
        if rule.login and conn.acct is None:
            return codes.PLEASE_LOG_IN, "Please log in."
        if not check_keys(rule, arg):
            return codes.SUB_BAD_ARG_CODE, f"Invalid request: {protocol.excerpt(str(arg))}"
        follows = target(rule, arg, self.state.engine.instruments)
        if follows is None:
            return codes.SUB_BAD_VALUE_CODE, _not_found(arg)
        channel = arg["channel"]
        held = {c for c, t in self._by_conn.get(conn, ()) if t == follows}
        if (channel == EXCLUSIVE and held & EXCLUSIVE_WITH) or (
            channel in EXCLUSIVE_WITH and EXCLUSIVE in held
        ):
            return COMBINATION_CODE, COMBINATION_MSG.format(inst_id=follows)
        return None

    def subscribe(
        self, conn: Connection, rule: MarketChannel, arg: dict[str, Any], ack: str
    ) -> None:
        """Add the subscription (checked before) and queue its ``ack`` and first push(es)
        (``drain`` sends them).  Other subscribers of the same feed are queued an update
        first, so that all chain from one seqId.  Everything goes through one queue so
        no update can overtake a subscriber's snapshot."""
        channel = arg["channel"]
        follows = target(rule, arg, self.state.engine.instruments)
        assert follows is not None
        key = (channel, follows)
        feed = self._feeds.get(key)
        if feed is None:
            inst_id: str | None = follows
            if rule.key == INDEX:
                source = index_source(follows, self.state.engine.instruments)
                inst_id = source.inst_id if source is not None else None
            elif rule.data == INSTRUMENTS:
                inst_id = None
            feed = self._feeds[key] = Feed(rule, channel, follows, inst_id)
            # the first push goes now; the next look and walk step one interval later
            now = asyncio.get_running_loop().time()
            feed.due = now + (getattr(self.rates, rule.rate) if rule.rate else 0.0)
            if inst_id is not None:
                self._next_walk.setdefault(inst_id, now + self.rates.walk)
            self._start()
        elif rule.data == INCREMENTAL and feed.subs:
            self._flush(feed)
        self._outbox.append((conn, ack))
        stats = self.state.stats
        for text in self._first(feed, dict(arg)):
            self._outbox.append((conn, text))
            stats.pushes_sent += 1
            stats.market_pushes[channel] += 1
        feed.subs[conn] = dict(arg)
        self._by_conn.setdefault(conn, set()).add(key)

    def unsubscribe(self, conn: Connection, arg: dict[str, Any], ack: str) -> None:
        """Drop the subscription ``arg`` names (if held) and queue the ``ack`` after
        whatever was queued for it before."""
        for key in list(self._by_conn.get(conn, ())):
            if self._feeds[key].subs.get(conn) == arg:
                self._drop(conn, key)
        self._outbox.append((conn, ack))

    def forget(self, conn: Connection) -> None:
        """The connection closed: drop its subscriptions."""
        for key in list(self._by_conn.get(conn, ())):
            self._drop(conn, key)
        self._by_conn.pop(conn, None)

    def _drop(self, conn: Connection, key: FeedKey) -> None:
        feed = self._feeds.get(key)
        if feed is not None:
            feed.subs.pop(conn, None)
            if not feed.subs:
                del self._feeds[key]
        held = self._by_conn.get(conn)
        if held is not None:
            held.discard(key)

    def subscriptions(self) -> int:
        """Market subscriptions held now (all connections): what costs pushes."""
        return sum(len(feed.subs) for feed in self._feeds.values())

    def instruments_changed(self, insts: list[Instrument], *, delisted: bool = False) -> None:
        """Push listed / delisted instruments on ``instruments`` (only those, as OKX does
        since 2026-09-30)."""
        for feed in list(self._feeds.values()):
            if feed.rule.data != INSTRUMENTS:
                continue
            items = [
                market_views.instrument_item(i, feed.target, delisted=delisted)
                for i in insts
                if _listed_as(i, feed.target)
            ]
            if items:
                self._queue(feed, items)

    # -- the pushing task ----------------------------------------------------------------------
    def _start(self) -> None:
        if not self._running and self._spawn is not None:
            self._running = True
            self._spawn(self._run())

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._feeds:
                self._tick(loop.time())
                await self.drain()
                self._wake.clear()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._pace())
        finally:
            self._running = False

    def _pace(self) -> float:
        """Sleep until the soonest feed or walk is due (at most a second)."""
        intervals: list[float] = [
            float(getattr(self.rates, f.rule.rate)) for f in self._feeds.values() if f.rule.rate
        ]
        if any(f.inst_id for f in self._feeds.values()) and self.rates.walk > 0:
            intervals.append(self.rates.walk)
        return min([_MAX_SLEEP, *intervals])

    def _tick(self, now: float) -> None:
        now_ms = self.clock.now_ms()
        rates = self.rates
        for inst_id in {f.inst_id for f in self._feeds.values() if f.inst_id is not None}:
            book = self._book(inst_id)
            if book is None:
                continue
            walk = (
                rates.walk > 0
                and not self._frozen_all
                and inst_id not in self._frozen
                and now >= self._next_walk.get(inst_id, 0.0)
            )
            if walk:
                self._next_walk[inst_id] = now + rates.walk
            if self.faults.book_faults and self.faults.take_book_fault(BOOK_RESET, inst_id, None):
                book.reset_sequence(now_ms)
                self.state.stats.faults_injected[BOOK_RESET] += 1
            book.advance(self._own(inst_id), walk=walk, now_ms=now_ms)
        trades, self._trades = self._trades, {}
        for feed in list(self._feeds.values()):
            data = feed.rule.data
            if data in (TRADES, TRADE_EACH):
                pending = trades.get(feed.target)
                if pending:
                    self._push_trades(feed, pending)
            elif data != INSTRUMENTS and now >= feed.due:
                feed.due = now + getattr(rates, feed.rule.rate)
                self._render(feed, now, now_ms)

    def _render(self, feed: Feed, now: float, now_ms: int) -> None:
        data = feed.rule.data
        if data == INCREMENTAL:
            self._push_update(feed, now, now_ms)
            return
        assert feed.inst_id is not None
        book = self._books.get(feed.inst_id)
        if book is None:
            return
        if data == BOOK_SNAPSHOT:
            top = book.top(feed.rule.depth)
            if top != feed.last:
                feed.last = top
                self._queue(feed, [self._book_item(book, top, feed.rule.depth, now_ms)])
        elif data == TICKER:
            item = self._ticker(book)
            if item != feed.last:
                feed.last = item
                self._queue(feed, [{**item, "ts": str(now_ms)}])
        elif data == MARK_PRICE:
            px = book.mid_px
            if px != feed.last or now - feed.last_push >= self.rates.mark_price_idle:
                feed.last, feed.last_push = px, now
                item = market_views.mark_price_item(book.inst, px, now_ms)
                self._queue(feed, [item])
        elif data == INDEX_TICKER:
            px = book.mid_px
            if px != feed.last:
                feed.last = px
                day = self._day(book)
                day.see(px)
                item = market_views.index_item(
                    feed.target, px, (day.open, day.high, day.low), now_ms
                )
                self._queue(feed, [item])
        elif data == FUNDING:
            self._queue(feed, [market_views.funding_item(book.inst, now_ms)])
        elif data == CANDLE:
            for row in self._candle_rows(feed, book, now_ms):
                self._queue(feed, [row])

    # -- what each channel pushes ----------------------------------------------------------------
    def _first(self, feed: Feed, arg: dict[str, Any]) -> list[str]:
        """The first push(es) a new subscriber gets."""
        data, now_ms = feed.rule.data, self.clock.now_ms()
        if data == INSTRUMENTS:
            items = [
                market_views.instrument_item(i, feed.target)
                for i in self.state.engine.instruments.values()
                if _listed_as(i, feed.target)
            ]
            return [protocol.push(arg, items)]
        if data in (TRADES, TRADE_EACH) or feed.inst_id is None:
            return []
        book = self._refresh(feed.inst_id)
        if book is None:
            return []
        if data == INCREMENTAL:
            if feed.seq_id == -1:  # a new feed starts from the book as it is now
                feed.shown = book.top(feed.rule.depth)
                feed.version, feed.seq_id = book.version, book.seq_id
                feed.last_push = asyncio.get_running_loop().time()
            item = market_views.book_item(
                market_views.rows(feed.shown[BIDS]),
                market_views.rows(feed.shown[ASKS]),
                now_ms,
                feed.seq_id,
                -1,
            )
            return [protocol.push(arg, [item], action="snapshot")]
        if data == BOOK_SNAPSHOT:
            top = book.top(feed.rule.depth)
            if not feed.subs or feed.last is None:
                feed.last = top
            return [protocol.push(arg, [self._book_item(book, top, feed.rule.depth, now_ms)])]
        if data == TICKER:
            feed.last = self._ticker(book)
            return [protocol.push(arg, [{**feed.last, "ts": str(now_ms)}])]
        if data == MARK_PRICE:
            feed.last = book.mid_px
            return [
                protocol.push(arg, [market_views.mark_price_item(book.inst, book.mid_px, now_ms)])
            ]
        if data == INDEX_TICKER:
            day = self._day(book)
            feed.last = book.mid_px
            item = market_views.index_item(
                feed.target, book.mid_px, (day.open, day.high, day.low), now_ms
            )
            return [protocol.push(arg, [item])]
        if data == FUNDING:
            return [protocol.push(arg, [market_views.funding_item(book.inst, now_ms)])]
        if data == CANDLE:
            return [protocol.push(arg, [row]) for row in self._candle_rows(feed, book, now_ms)]
        return []  # pragma: no cover - every kind is handled above

    def _flush(self, feed: Feed) -> None:
        """Send the feed's pending update now (before a new subscriber's snapshot)."""
        assert feed.inst_id is not None
        self._refresh(feed.inst_id)
        self._push_update(
            feed, asyncio.get_running_loop().time(), self.clock.now_ms(), faults=False
        )

    def _push_update(self, feed: Feed, now: float, now_ms: int, *, faults: bool = True) -> None:
        """books / books-l2-tbt / books50-l2-tbt: the levels touched since the last push,
        or a heartbeat after ``rates.heartbeat`` seconds without one."""
        assert feed.inst_id is not None
        book = self._books.get(feed.inst_id)
        if book is None or feed.seq_id == -1:
            return
        events = book.since(feed.version)
        if not events and events is not None:
            if now - feed.last_push >= self.rates.heartbeat:
                feed.last_push = now
                item = market_views.book_item([], [], now_ms, feed.seq_id, feed.seq_id)
                self._queue(feed, [item], action="update")
            return
        touched: set[tuple[str, Decimal]] = set()
        for event in events or ():
            touched.update((side, px) for side, px, _, _ in event.changes)
        top = book.top(feed.rule.depth)
        new = {side: dict(top[side]) for side in SIDES}
        old = {side: dict(feed.shown.get(side, [])) for side in SIDES}
        if events is None:  # history outran this feed: compare everything it shows
            touched.update((s, px) for s in SIDES for px in old[s].keys() | new[s].keys())
        for side in SIDES:
            touched.update((side, px) for px in old[side].keys() ^ new[side].keys())
        delta: dict[str, list[tuple[Decimal, Level | None]]] = {BIDS: [], ASKS: []}
        depth = feed.rule.depth
        for side, px in touched:
            if px in new[side]:
                delta[side].append((px, new[side][px]))
            elif px in old[side] or (
                px not in book.levels[side] and _inside(side, px, top[side], depth)
            ):
                # A level this feed never showed, but that came and went within its
                # window since the last push, is deleted too: a REST snapshot taken
                # meanwhile holds it, and a book bridged from that snapshot (OKX's
                # procedure) would keep it.  One that came and went beyond the window
                # is the client's depth trimming's (it is the worst level it holds).
                delta[side].append((px, None))
        prev = feed.seq_id
        feed.version, feed.shown = book.version, top
        if not delta[BIDS] and not delta[ASKS] and book.seq_id >= prev:
            return  # nothing this channel shows changed: nothing sent, the chain holds
        feed.seq_id, feed.last_push = book.seq_id, now
        for side in SIDES:
            delta[side].sort(key=lambda row: row[0], reverse=side == BIDS)
        item = market_views.book_item(
            market_views.delta_rows(delta[BIDS]),
            market_views.delta_rows(delta[ASKS]),
            now_ms,
            book.seq_id,
            prev,
        )
        times = 1
        if faults and self.faults.book_faults:
            stats = self.state.stats.faults_injected
            if self.faults.take_book_fault(BOOK_GAP, feed.inst_id, feed.channel):
                stats[BOOK_GAP] += 1
                return
            if self.faults.take_book_fault(BOOK_DUPLICATE, feed.inst_id, feed.channel):
                stats[BOOK_DUPLICATE] += 1
                times = 2
        self._queue(feed, [item], times, action="update")

    @staticmethod
    def _book_item(book: SyntheticBook, top: Top, depth: int, now_ms: int) -> dict[str, Any]:
        """books5 / bbo-tbt / sprd-books5 / sprd-bbo-tbt: the top levels, replacing."""
        if book.inst.inst_type == "SPREAD":
            bids, asks = market_views.spread_rows(top[BIDS]), market_views.spread_rows(top[ASKS])
            return market_views.spread_book_item(bids, asks, now_ms)
        bids, asks = market_views.rows(top[BIDS]), market_views.rows(top[ASKS])
        if depth == 1:
            return market_views.bbo_item(bids, asks, now_ms, book.seq_id)
        return market_views.books5_item(book.inst.inst_id, bids, asks, now_ms, book.seq_id)

    def _ticker(self, book: SyntheticBook) -> dict[str, Any]:
        day = self._day(book)
        return market_views.ticker_item(
            book.inst,
            (book.last_trade_px, day.last_sz),
            book.best(BIDS),
            book.best(ASKS),
            (day.open, day.high, day.low, day.vol),
        )

    def _push_trades(self, feed: Feed, trades: list[PublicTrade]) -> None:
        inst_id = feed.target
        if feed.rule.data == TRADES:  # one push per run of one price and side (count)
            runs: list[list[PublicTrade]] = []
            for trade in trades:
                if runs and (runs[-1][-1].px, runs[-1][-1].side) == (trade.px, trade.side):
                    runs[-1].append(trade)
                else:
                    runs.append([trade])
            for run in runs:
                last = run[-1]
                size = sum((t.sz for t in run), Decimal(0))
                item = market_views.trade_item(
                    inst_id, last.trade_id, last.px, size, last.side, last.ts, len(run)
                )
                self._queue(feed, [item])
            return
        make = (
            market_views.sprd_trade_item
            if feed.channel == "sprd-public-trades"
            else market_views.trade_all_item
        )
        for t in trades:
            self._queue(feed, [make(inst_id, t.trade_id, t.px, t.sz, t.side, t.ts)])

    def _candle_rows(self, feed: Feed, book: SyntheticBook, now_ms: int) -> list[list[str]]:
        """The bar being built (and the one just closed, with confirm "1")."""
        span = bar_ms(feed.channel[len("candle") :])
        start = now_ms - now_ms % span
        px = book.mid_px
        rows = []
        candle = feed.candle
        if candle is not None and candle[0] != start:
            rows.append(market_views.candle_row(candle[0], tuple(candle[1:5]), candle[5], True))
            candle = None
        if candle is None:
            candle = [start, px, px, px, px, Decimal(0)]
        candle[2], candle[3], candle[4] = max(candle[2], px), min(candle[3], px), px
        feed.candle = candle
        rows.append(market_views.candle_row(start, tuple(candle[1:5]), candle[5], False))
        return rows

    # -- sending ----------------------------------------------------------------------------------
    def _queue(self, feed: Feed, data: list[Any], times: int = 1, **envelope: Any) -> None:
        """Queue one push of ``data`` to every subscriber of ``feed`` (``times`` over)."""
        texts: dict[str, str] = {}
        stats = self.state.stats
        for conn, arg in feed.subs.items():
            key = repr(sorted(arg.items()))
            text = texts.get(key)
            if text is None:
                text = texts[key] = protocol.push(arg, data, **envelope)
            for _ in range(times):
                self._outbox.append((conn, text))
                stats.pushes_sent += 1
                stats.market_pushes[feed.channel] += 1

    async def drain(self) -> None:
        """Send what is queued, in order, skipping connections that are gone."""
        async with self._drain_lock:
            while self._outbox:
                conn, text = self._outbox.popleft()
                if conn.closing:
                    continue
                with contextlib.suppress(ConnectionClosed):
                    await conn.ws.send(text)


def _inside(side: str, px: Decimal, shown: list[tuple[Decimal, Level]], depth: int) -> bool:
    """Whether ``px`` falls within the ``depth`` levels a feed shows (``shown``, best
    first): a window not full yet, or a price at or better than its worst."""
    if len(shown) < depth:
        return True
    worst = shown[-1][0]
    return px >= worst if side == BIDS else px <= worst


def _plain(seq_id: int, top: Top) -> dict[str, Any]:
    return {
        "seqId": seq_id,
        BIDS: [(px, sz, n) for px, (sz, n) in top[BIDS]],
        ASKS: [(px, sz, n) for px, (sz, n) in top[ASKS]],
    }


def _listed_as(inst: Instrument, inst_type: str) -> bool:
    """Listed under ``inst_type`` on REST (MARGIN: margin-enabled spot pairs)."""
    return inst.margin_enabled if inst_type == "MARGIN" else inst.inst_type == inst_type


def _not_found(arg: dict[str, Any]) -> str:
    """OKX's 60018 message for a channel arg it does not know."""
    what = ",".join(f"{k}:{v}" for k, v in arg.items())
    return (
        f"Wrong URL or {what} doesn't exist. Please use the correct URL, channel and"
        " parameters referring to API document."
    )


__all__ = ["Feed", "Market", "MarketRates", "PublicTrade"]
