"""``OrderBook``: a local copy of an OKX order book, sans-I/O, under OKX's 2026 rules.

Fed parsed push frames (``{"arg", "action", "data"}``) and REST snapshots; it
reads no clock (the caller passes ``now``), opens no socket and returns the
I/O it needs as actions (:mod:`okx_ws_core.book.resync`).

Rules relied on (dates are when they were published or observed):

* ``checksum`` is deprecated on ``books``/``books-l2-tbt``/``books50-l2-tbt``:
  always 0 since 2026-06-23 (demo 2026-06-02), OKX notice of 2026-05-21.  It is
  **not verified**: Qubx #387 (2026-08-21) shows a CRC check against 0 killing a
  live stream.  Consistency rests on ``seqId``/``prevSeqId``.
* An update applies only if its ``prevSeqId`` equals the book's ``seqId``; size
  ``"0"`` deletes; a heartbeat (``seqId == prevSeqId``, no levels) and a
  maintenance reset (``seqId < prevSeqId``) chain by the same rule.  Anything
  else is a gap: the book turns invalid at once and stays so until resynced
  (gocryptotrader #2255, 2026-08-10: a failed sequence check that left the book
  "valid" kept serving a stale one).
* OKX still sends ``action: "snapshot"`` with ``prevSeqId: -1`` on subscribe
  (observed live in Qubx #387, 2026-08-21).  The changelog of 2026-02-12
  announced removing it (production "early August 2026"); that was not carried
  out as of 2026-12.  **Uncertain** whether it will be, so a book whose first
  frame is an update starts from REST by OKX's procedure (same changelog, "How
  to manage a local order book correctly"): buffer; fetch; refetch while the
  snapshot's ``seqId`` < the first buffered ``prevSeqId``; drop events with
  ``seqId`` <= the snapshot's; the first applied has ``prevSeqId`` <= snapshot
  ``seqId`` < ``seqId``.
* ``books-l2-tbt`` cannot be combined with ``books`` or ``books50-l2-tbt`` on
  one instrument (:func:`check_book_channels`).

How a book resyncs (REST by default, or resubscribe) and why: :mod:`okx_ws_core.book.resync`.

Also decided here, beyond OKX's text:

* An exact repeat of the last applied update (same ``prevSeqId`` and ``seqId``)
  is ignored: absolute sizes make it a no-op; so is the update a REST snapshot
  was taken at (its ``seqId`` is the book's) arriving again.  An older repeat is
  a gap.
* A book whose best bid >= best ask after a new level was inserted is invalid
  and resynced: the only content check left without a checksum.
* Levels beyond the channel's depth (400, or 50 for ``books50-l2-tbt``) are
  trimmed after each frame.  **Uncertain** whether OKX sends a delete for a
  level that leaves its window; trimming is right either way.  Trimming waits
  for no read (decided 2026-12, issue #18): a level beyond the window gets no
  updates, and OKX (like the simulator's market, ``okx_ws_sim/market.py``)
  resends a level that re-enters the window in the push that lets it in; a
  book that kept a dropped level until some later read could show it again
  after a better level's delete, with a size OKX may since have changed or
  deleted, and reads would depend on when the previous read happened
  (``tests/test_orderbook_reads.py`` pins both).
* **Uncertain**: whether REST ``seqId`` and ``books-l2-tbt`` ``seqId`` share one
  sequence (OKX documents the procedure for all incremental channels); and
  whether the 100 ms ``books`` push can omit a level whose net change is zero,
  which could leave a REST-bridged book off by that level until it next moves.

Representation: :mod:`okx_ws_core.book.levels` (a plain dict of OKX's strings per
side, the order kept beside it in exact keys; ``Decimal`` when read, never floats).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Final, Literal, NamedTuple, TypeAlias

from ..errors import ConfigurationError, OkxWsError
from .channel_rules import BOOK_CHANNELS, REPLACE_CHANNELS, check_book_channels
from .levels import BookFrameError, Depth, Level, Side
from .resync import (
    BookAction,
    Bridge,
    FetchSnapshot,
    Invalidated,
    Resubscribe,
    Synced,
    SyncSource,
    bridge,
    rest_snapshot_item,
    snapshot_too_old,
)

__all__ = [
    "BOOK_CHANNELS",
    "BookChange",
    "BookFrameError",
    "Depth",
    "Level",
    "OrderBook",
    "StaleBookError",
    "check_book_channels",
]

Resync: TypeAlias = Literal["rest", "resubscribe"]
_NO_ACTIONS: Final[tuple[BookAction, ...]] = ()

# Book states.  Only _LIVE is valid; `_seq` is None in every other state so the
# hot path needs a single comparison.
_INITIAL, _LIVE, _BUFFERING, _BRIDGING, _AWAIT_WS = range(5)


class StaleBookError(OkxWsError):
    """A read on a book that is not valid (before its first sync, or after a gap).

    Pass ``stale_ok=True`` to read the last known levels anyway.
    """


class BookChange(NamedTuple):
    """One applied update as OKX sent it (raw strings; rows ``[px, sz, "0", numOrders]``).

    For a snapshot, ``snapshot`` is true and the rows are empty: the whole book
    changed, read it (not keeping 800 rows alive is why).
    """

    seq_id: int
    prev_seq_id: int
    ts: str
    bids: Sequence[Sequence[str]]
    asks: Sequence[Sequence[str]]
    snapshot: bool = False


class OrderBook:
    """A local OKX order book for one ``channel`` and ``inst_id``; see the module docstring.

    Feed every push with :meth:`apply` and every REST reply asked for by a
    :class:`FetchSnapshot` with :meth:`apply_rest_snapshot`; perform the
    returned actions.  Reads (:meth:`best_bid`, :meth:`depth`, ...) raise
    :class:`StaleBookError` while :attr:`valid` is false.
    """

    def __init__(
        self,
        inst_id: str,
        channel: str = "books",
        *,
        resync: Resync = "rest",
        depth: int | None = None,
        max_buffer: int = 10_000,
    ) -> None:
        if channel not in BOOK_CHANNELS:
            raise ConfigurationError(
                f"OrderBook does not handle channel {channel!r}; use one of {sorted(BOOK_CHANNELS)}"
            )
        if resync not in ("rest", "resubscribe"):
            raise ConfigurationError(f"resync must be 'rest' or 'resubscribe', got {resync!r}")
        max_depth = BOOK_CHANNELS[channel] if depth is None else depth
        if max_depth < 1 or max_buffer < 1:
            raise ConfigurationError("depth and max_buffer must be >= 1")
        self.inst_id = inst_id
        self.channel = channel
        self.resync = resync
        self.max_depth = max_depth
        self._replace = channel in REPLACE_CHANNELS
        self._bids = Side(False, max_depth)
        self._asks = Side(True, max_depth)
        # The sides' dict and key list, for the hot path (mutated in place, never replaced)
        self._bid_sizes = self._bids.sizes
        self._ask_sizes = self._asks.sizes
        self._bid_keys = self._bids.keys
        self._ask_keys = self._asks.keys
        self._state = _INITIAL
        self._seq: int | None = None  # the chain head, only while live
        self._seq_id: int | None = None  # last known seqId, kept while invalid
        self._updated_at: float | None = None
        self._last: Mapping[str, Any] | None = None
        self._ws_snapshots = 0
        self._generation = 0
        self._buffer: deque[Mapping[str, Any]] = deque(maxlen=max_buffer)
        self._snap_seq = 0
        self._dropped = 0
        #: Episodes that ended the book's validity, and snapshots asked for.
        self.invalidations = 0
        self.snapshot_requests = 0

    # -- state ---------------------------------------------------------------

    @property
    def valid(self) -> bool:
        """True only while the book is known to equal OKX's at :attr:`seq_id`."""
        return self._state == _LIVE

    @property
    def seq_id(self) -> int | None:
        """OKX's ``seqId`` of the last applied frame (kept, but not trustworthy, while invalid)."""
        return self._seq if self._seq is not None else self._seq_id

    @property
    def ts(self) -> int | None:
        """OKX's ``ts`` (Unix ms) of the last applied frame."""
        ts = self._last.get("ts") if self._last is not None else None
        return int(ts) if ts else None

    @property
    def updated_at(self) -> float | None:
        """The driver's ``now`` when the book last changed (heartbeats included)."""
        return self._updated_at

    @property
    def last_change(self) -> BookChange | None:
        """The last applied update or snapshot as OKX sent it (built on access)."""
        d = self._last
        if d is None:
            return None
        return BookChange(
            _seq_or(d.get("seqId")),
            _seq_or(d.get("prevSeqId")),
            str(d.get("ts", "")),
            d.get("bids", ()),
            d.get("asks", ()),
            bool(d.get("snapshot")),
        )

    # -- feeding ---------------------------------------------------------------

    def apply(self, message: Mapping[str, Any], now: float) -> Sequence[BookAction]:
        """Apply one push frame received at ``now``; returns the actions to perform."""
        # The hot path: one update chaining onto a live book.  Kept inline (no
        # per-row calls) because it is most of the cost of a busy book.
        # The annotated locals cost nothing interpreted (never evaluated); compiled
        # (mypyc) they are checked casts that make the dict, list and str
        # operations below native.  A frame of other types (tuples, a Mapping)
        # fails a cast with TypeError and takes the general path, which applies
        # the same absolute sizes again from the top: the same book either way.
        try:
            data: list[dict[str, Any]] = message["data"]
            [d] = data  # OKX sends one item per push; cheaper than len() and [0]
            # _seq is None unless live, and always on books5/bbo-tbt (no prevSeqId there)
            chained = d["prevSeqId"] == self._seq
            if chained:
                inserted = False
                rows: list[list[str]] = d["bids"]
                if rows:
                    sizes = self._bid_sizes
                    for row in rows:
                        px: str = row[0]
                        sz: str = row[1]
                        if px in sizes:
                            if sz == "0" or (
                                sz[-1] in "0." and sz[0] == "0" and not sz.strip("0.")
                            ):
                                del sizes[px]
                            else:
                                sizes[px] = sz  # most updates: as cheap as a plain dict
                        elif (sz != "0" or px not in self._bids.gone) and self._bids.insert(px, sz):
                            inserted = True  # a new price: the only costly row
                    if inserted and len(sizes) > self.max_depth:
                        self._bids.trim()  # the ask rows cannot change this side: as after the frame
                rows = d["asks"]
                if rows:
                    sizes = self._ask_sizes
                    for row in rows:
                        px = row[0]
                        sz = row[1]
                        if px in sizes:
                            if sz == "0" or (
                                sz[-1] in "0." and sz[0] == "0" and not sz.strip("0.")
                            ):
                                del sizes[px]
                            else:
                                sizes[px] = sz
                        elif (sz != "0" or px not in self._asks.gone) and self._asks.insert(px, sz):
                            inserted = True
                    if inserted and len(sizes) > self.max_depth:
                        self._asks.trim()
                self._seq = d["seqId"]
                self._updated_at = now
                self._last = d
                if inserted:  # only a new level can cross the book; stale tops over-report
                    try:
                        maybe = self._bid_keys[-1] + self._ask_keys[-1] >= 0
                    except IndexError:  # an empty side crosses nothing
                        maybe = False
                    if maybe and self._crossed():
                        return self._start_resync(f"crossed book: {self._top_text()}", None)
                return _NO_ACTIONS
        except (ValueError, KeyError, TypeError):
            pass
        return self._apply_slow(message, now)

    def apply_rest_snapshot(
        self,
        reply: Mapping[str, Any] | Sequence[Mapping[str, Any]],
        now: float,
        *,
        request: FetchSnapshot,
    ) -> Sequence[BookAction]:
        """Apply the reply to ``request`` (``data`` of ``GET /api/v5/market/books``, or its item).

        A reply to a request of an earlier resync episode, or one that arrives
        when the book no longer waits for it, is ignored.
        """
        if self._state != _BUFFERING or request.generation != self._generation:
            return _NO_ACTIONS
        item = rest_snapshot_item(reply)
        if "seqId" not in item:
            raise BookFrameError(
                f"REST order book snapshot for {self.inst_id} has no seqId; it cannot be "
                "joined to the stream"
            )
        snap = int(item["seqId"])
        first_prev = self._buffer[0]["prevSeqId"] if self._buffer else None
        if snapshot_too_old(snap, first_prev):
            return (self._fetch(f"snapshot seqId {snap} < first buffered prevSeqId {first_prev}"),)
        self._bids.load(item.get("bids", ()))
        self._asks.load(item.get("asks", ()))
        self._seq_id = snap
        self._snap_seq = snap
        self._dropped = 0
        self._updated_at = now
        self._last = _header(item)
        self._state = _BRIDGING
        actions: list[BookAction] = []
        buffered = list(self._buffer)
        self._buffer.clear()
        for d in buffered:
            actions.extend(self._on_update(d, now))
        return actions

    def invalidate(self, reason: str) -> Sequence[BookAction]:
        """Mark the book invalid and start a resync (e.g. the driver saw a fault of its own)."""
        return self._start_resync(reason, None)

    def reset(self, reason: str = "reset") -> Sequence[BookAction]:
        """Forget the chain (e.g. the connection dropped and will resubscribe): wait for a fresh start.

        The next frame is expected to be a subscribe snapshot; if an update
        comes first, the REST procedure starts.
        """
        was_valid = self._state == _LIVE
        self._leave_live()
        self._state = _INITIAL
        self._generation += 1
        self._buffer.clear()
        if was_valid:
            self.invalidations += 1
            return (Invalidated(self.channel, self.inst_id, reason),)
        return _NO_ACTIONS

    # -- reading -------------------------------------------------------------------

    def best_bid(self, *, stale_ok: bool = False) -> Level | None:
        """The best bid as ``(price, size)``, ``None`` if the side is empty."""
        self._check_readable(stale_ok)
        return self._bids.best()

    def best_ask(self, *, stale_ok: bool = False) -> Level | None:
        """The best ask as ``(price, size)``, ``None`` if the side is empty."""
        self._check_readable(stale_ok)
        return self._asks.best()

    @property
    def spread(self) -> Decimal | None:
        """Best ask minus best bid; ``None`` if a side is empty.  Raises while invalid."""
        self._check_readable(False)
        bid, ask = self._bids.best(), self._asks.best()
        if bid is None or ask is None:
            return None
        return ask[0] - bid[0]

    def depth(self, n: int, *, stale_ok: bool = False) -> Depth:
        """The best ``n`` levels of each side, best first."""
        self._check_readable(stale_ok)
        return Depth(self._bids.top(n), self._asks.top(n))

    def levels(
        self, *, stale_ok: bool = False
    ) -> tuple[dict[Decimal, Decimal], dict[Decimal, Decimal]]:
        """Every level as ``(bids, asks)`` dicts of price -> size (for comparisons and tests)."""
        self._check_readable(stale_ok)
        return self._bids.snapshot(), self._asks.snapshot()

    def __len__(self) -> int:
        return len(self._bids) + len(self._asks)

    def __repr__(self) -> str:
        state = "valid" if self.valid else "INVALID"
        return (
            f"<OrderBook {self.channel} {self.inst_id} {state} seqId={self.seq_id} "
            f"bids={len(self._bids)} asks={len(self._asks)}>"
        )

    # -- internals -----------------------------------------------------------------

    def _check_readable(self, stale_ok: bool) -> None:
        if self._state != _LIVE and not stale_ok:
            raise StaleBookError(
                f"order book {self.channel} {self.inst_id} is not valid "
                f"(last seqId {self.seq_id}); wait for it to resync or pass stale_ok=True"
            )

    def _apply_slow(self, message: Mapping[str, Any], now: float) -> Sequence[BookAction]:
        arg = message.get("arg")
        if arg is not None and (
            arg.get("instId", self.inst_id) != self.inst_id
            or arg.get("channel", self.channel) != self.channel
        ):
            raise BookFrameError(
                f"frame for {arg.get('channel')} {arg.get('instId')} fed to the "
                f"{self.channel} {self.inst_id} book"
            )
        actions: list[BookAction] = []
        if self._replace:
            for d in message["data"]:
                actions.extend(self._on_replace(d, now))
            return actions
        snapshot = message.get("action") == "snapshot"
        for d in message["data"]:
            actions.extend(self._on_ws_snapshot(d, now) if snapshot else self._on_update(d, now))
        return actions

    def _on_replace(self, d: Mapping[str, Any], now: float) -> Sequence[BookAction]:
        self._bids.load(d.get("bids", ()))
        self._asks.load(d.get("asks", ()))
        seq = d.get("seqId")
        self._seq_id = int(seq) if seq is not None else self._seq_id
        self._updated_at = now
        self._last = _header(d)
        if self._state != _LIVE:
            self._state = _LIVE
            return (Synced(self.channel, self.inst_id, self._seq_id or 0, "push"),)
        return _NO_ACTIONS

    def _on_ws_snapshot(self, d: Mapping[str, Any], now: float) -> Sequence[BookAction]:
        self._ws_snapshots += 1
        self._buffer.clear()
        self._generation += 1  # any REST reply in flight is now moot
        self._bids.load(d.get("bids", ()))
        self._asks.load(d.get("asks", ()))
        self._seq_id = int(d["seqId"])
        self._updated_at = now
        self._last = _header(d)
        return self._go_live(self._seq_id, "snapshot")

    def _on_update(self, d: Mapping[str, Any], now: float) -> Sequence[BookAction]:
        state = self._state
        prev: int = d["prevSeqId"]
        seq: int = d["seqId"]
        if state == _LIVE:
            if prev == self._seq:
                inserted = self._apply_levels(d, now)
                self._seq = seq
                return self._after_insert() if inserted else _NO_ACTIONS
            last = self._last
            if last is not None and last.get("prevSeqId") == prev and last.get("seqId") == seq:
                return _NO_ACTIONS  # the last update again: absolute sizes, a no-op
            if seq == self._seq and prev < seq:
                return _NO_ACTIONS  # the update the book is at (a REST snapshot's), again
            return self._start_resync(
                f"sequence gap: expected prevSeqId {self._seq}, got {prev} (seqId {seq})", d
            )
        if state == _INITIAL:
            return self._start_resync("no snapshot on subscribe: starting from REST", d)
        if state == _AWAIT_WS:
            return _NO_ACTIONS  # the resubscribe snapshot will replace everything
        if state == _BUFFERING:
            if seq < prev:  # a maintenance reset: what came before is not comparable
                self._buffer.clear()
                self._generation += 1
                return (self._fetch("maintenance reset while resyncing"),)
            self._buffer.append(d)
            return _NO_ACTIONS
        return self._bridge(d, prev, seq, now)

    def _bridge(
        self, d: Mapping[str, Any], prev: int, seq: int, now: float
    ) -> Sequence[BookAction]:
        verdict = bridge(prev, seq, self._snap_seq)
        if verdict is Bridge.DROP:
            self._dropped += 1
            if self._dropped > (self._buffer.maxlen or 0):
                return self._restart_fetch("stream far behind the snapshot")
            return _NO_ACTIONS
        if verdict is Bridge.AT_SNAPSHOT:
            return self._go_live(self._snap_seq, "rest")
        if (
            verdict is Bridge.APPLY
        ):  # absolute sizes: re-applying what the snapshot holds is harmless
            self._apply_levels(d, now)
            self._trim()
            return self._go_live(seq, "rest")
        if verdict is Bridge.RESET:
            return self._restart_fetch("maintenance reset while resyncing")
        # TOO_OLD: events are missing between the snapshot and this one
        self._state = _BUFFERING
        self._buffer.clear()
        self._buffer.append(d)
        return (self._fetch(f"snapshot seqId {self._snap_seq} < prevSeqId {prev}"),)

    def _apply_levels(self, d: Mapping[str, Any], now: float) -> bool:
        """Apply an update's rows (the general path); True if a level was inserted."""
        inserted = self._bids.update(d.get("bids", ()))
        inserted = self._asks.update(d.get("asks", ())) or inserted
        self._updated_at = now
        self._last = d
        return inserted

    def _trim(self) -> None:
        self._bids.trim()
        self._asks.trim()

    def _after_insert(self) -> Sequence[BookAction]:
        """Trim to depth and check the book is not crossed (only a new level can cross it)."""
        bids, asks = self._bids, self._asks
        depth = self.max_depth
        if len(bids.sizes) > depth:
            bids.trim()
        if len(asks.sizes) > depth:
            asks.trim()
        kb, ka = bids.keys, asks.keys  # stale entries at the top can only over-report
        if kb and ka and kb[-1] + ka[-1] >= 0 and self._crossed():
            return self._start_resync(f"crossed book: {self._top_text()}", None)
        return _NO_ACTIONS

    def _crossed(self) -> bool:
        """Best bid >= best ask (ask keys are negated prices: bid + (-ask) >= 0)."""
        b, a = self._bids.best_key(), self._asks.best_key()
        return b is not None and a is not None and b + a >= 0

    def _top_text(self) -> str:
        bid = self._bids.best()
        ask = self._asks.best()
        return f"best bid {bid and bid[0]} >= best ask {ask and ask[0]}"

    def _go_live(self, seq: int, source: SyncSource) -> Sequence[BookAction]:
        self._state = _LIVE
        self._seq = seq
        self._seq_id = seq
        if self._crossed():
            return self._start_resync(f"crossed book after {source}: {self._top_text()}", None)
        return (Synced(self.channel, self.inst_id, seq, source),)

    def _leave_live(self) -> None:
        if self._seq is not None:
            self._seq_id = self._seq
        self._seq = None

    def _start_resync(self, reason: str, d: Mapping[str, Any] | None) -> Sequence[BookAction]:
        was_valid = self._state == _LIVE
        self._leave_live()
        self._generation += 1
        self._buffer.clear()
        actions: list[BookAction] = []
        if was_valid:
            self.invalidations += 1
            actions.append(Invalidated(self.channel, self.inst_id, reason))
        if self.resync == "resubscribe" and self._ws_snapshots:
            self._state = _AWAIT_WS
            actions.append(Resubscribe(self.channel, self.inst_id, reason))
            return actions
        self._state = _BUFFERING
        if d is not None and d["seqId"] >= d["prevSeqId"]:
            self._buffer.append(d)
        actions.append(self._fetch(reason))
        return actions

    def _restart_fetch(self, reason: str) -> Sequence[BookAction]:
        self._state = _BUFFERING
        self._buffer.clear()
        self._generation += 1
        return (self._fetch(reason),)

    def _fetch(self, reason: str) -> FetchSnapshot:
        self.snapshot_requests += 1
        return FetchSnapshot(self.channel, self.inst_id, self.max_depth, reason, self._generation)


def _header(d: Mapping[str, Any]) -> dict[str, Any]:
    """A snapshot's sequence and time without its rows (see :class:`BookChange`)."""
    return {
        "seqId": d.get("seqId"),
        "prevSeqId": d.get("prevSeqId", -1),
        "ts": d.get("ts"),
        "snapshot": True,
    }


def _seq_or(value: Any, default: int = -1) -> int:
    return default if value is None else int(value)
