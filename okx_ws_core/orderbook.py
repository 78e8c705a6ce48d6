"""``OrderBook``: a local copy of an OKX order book, sans-I/O, under OKX's 2026 rules.

Fed parsed push frames (``{"arg", "action", "data"}``) and REST snapshots; it
reads no clock (the caller passes ``now``), opens no socket and returns the
I/O it needs as actions (:mod:`okx_ws_core.book_resync`).

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

**Resync choice: REST by default** (``resync="rest"``).  The subscription stays
live and the stream is buffered, so no frame is lost while resyncing; it costs
one REST call (public, 40 requests / 2 s) instead of an unsubscribe and a
subscribe counted against 480 subscribe+login per hour per connection; and it
works even if OKX stops sending subscribe snapshots.  ``resync="resubscribe"``
is offered for drivers without REST.  Either way one action is emitted per
episode and frames are buffered or ignored until it completes, never a
resubscribe per frame (the storm found in gocryptotrader #2337, 2026-08-18).

Also decided here, beyond OKX's text:

* An exact repeat of the last applied update (same ``prevSeqId`` and ``seqId``)
  is ignored: absolute sizes make it a no-op.  An older repeat is a gap.
* A book whose best bid >= best ask after a new level was inserted is invalid
  and resynced: the only content check left without a checksum.
* Levels beyond the channel's depth (400, or 50 for ``books50-l2-tbt``) are
  trimmed after each frame.  **Uncertain** whether OKX sends a delete for a
  level that leaves its window; trimming is right either way.
* **Uncertain**: whether REST ``seqId`` and ``books-l2-tbt`` ``seqId`` share one
  sequence (OKX documents the procedure for all incremental channels); and
  whether the 100 ms ``books`` push can omit a level whose net change is zero,
  which could leave a REST-bridged book off by that level until it next moves.

Representation (exact, no floats): each side keeps a dict keyed by the price
*string* OKX sent, holding ``[key, size_str, price, price_str]``, plus two
parallel lists sorted by ``key`` (the ``Decimal`` price, negated on the ask
side so the best level of both sides is last).  Changing the size of a known
level -- most updates -- is one dict lookup and one list store; only a new or
removed level touches ``Decimal`` and ``bisect``.  A price spelled differently
for the same value (``"100"`` / ``"100.0"``) is found through its ``Decimal`` on
that slow path and renamed, never duplicated.  Sizes are converted to
``Decimal`` when read.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, Final, Literal, NamedTuple, TypeAlias

from .book_resync import (
    BookAction,
    Bridge,
    FetchSnapshot,
    Invalidated,
    Resubscribe,
    Synced,
    SyncSource,
    bridge,
    snapshot_too_old,
)
from .errors import ConfigurationError, OkxWsError

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

#: Levels kept per side, per channel (OKX's documented depths).
BOOK_CHANNELS: Final[Mapping[str, int]] = {
    "books": 400,
    "books-l2-tbt": 400,
    "books50-l2-tbt": 50,
    "books5": 5,
    "bbo-tbt": 1,
}
_REPLACE_CHANNELS: Final = frozenset({"books5", "bbo-tbt"})
_EXCLUSIVE: Final = "books-l2-tbt"
_EXCLUDED_WITH_TBT: Final = frozenset({"books", "books50-l2-tbt"})

Level: TypeAlias = tuple[Decimal, Decimal]
Resync: TypeAlias = Literal["rest", "resubscribe"]
_NO_ACTIONS: Final[tuple[BookAction, ...]] = ()

# Book states.  Only _LIVE is valid; `_seq` is None in every other state so the
# hot path needs a single comparison.
_INITIAL, _LIVE, _BUFFERING, _BRIDGING, _AWAIT_WS = range(5)


class StaleBookError(OkxWsError):
    """A read on a book that is not valid (before its first sync, or after a gap).

    Pass ``stale_ok=True`` to read the last known levels anyway.
    """


class BookFrameError(OkxWsError, ValueError):
    """A frame or snapshot the book cannot use (wrong instrument, unparsable price, no seqId)."""


class Depth(NamedTuple):
    """The best ``n`` levels of each side, best first, as ``(price, size)``."""

    bids: list[Level]
    asks: list[Level]


class BookChange(NamedTuple):
    """One applied update as OKX sent it (raw strings; rows ``[px, sz, "0", numOrders]``)."""

    seq_id: int
    prev_seq_id: int
    ts: str
    bids: Sequence[Sequence[str]]
    asks: Sequence[Sequence[str]]


def check_book_channels(existing: Iterable[tuple[str, str]], new: tuple[str, str]) -> None:
    """Raise :class:`ConfigurationError` if ``new`` may not join ``existing`` subscriptions.

    OKX refuses ``books-l2-tbt`` together with ``books`` or ``books50-l2-tbt``
    on one instrument; checking before subscribing names both channels instead
    of surfacing OKX's generic subscribe error later.  Pairs are
    ``(channel, instId)``.
    """
    channel, inst_id = new
    for other, other_inst in existing:
        if other_inst != inst_id or other == channel:
            continue
        pair = {channel, other}
        if _EXCLUSIVE in pair and pair & _EXCLUDED_WITH_TBT:
            raise ConfigurationError(
                f"cannot subscribe {channel!r} for {inst_id}: OKX does not allow "
                f"{_EXCLUSIVE!r} together with {other if other != _EXCLUSIVE else channel!r} "
                f"on one instrument, and {other!r} is already subscribed"
            )


def _is_zero(size: str) -> bool:
    """OKX sends ``"0"``; ``"0.0"``-like spellings are treated alike."""
    return size == "0" or (size[:1] == "0" and not size.strip("0."))


class _Side:
    """One side of the book; see the module docstring for the representation."""

    __slots__ = ("levels", "keys", "rows", "ask", "depth")

    def __init__(self, ask: bool, depth: int) -> None:
        self.ask = ask
        self.depth = depth
        self.levels: dict[str, list[Any]] = {}
        self.keys: list[Decimal] = []  # ascending; the best level is last
        self.rows: list[list[Any]] = []  # parallel to keys

    def load(self, rows: Iterable[Sequence[str]]) -> None:
        """Replace the side with a snapshot's rows (any order; read in order, as updates)."""
        by_key: dict[Decimal, list[Any]] = {}
        for row in rows:
            px, sz = row[0], row[1]
            dec = _price(px)
            key = -dec if self.ask else dec
            if _is_zero(sz):
                by_key.pop(key, None)
            else:
                by_key[key] = [key, sz, dec, px]
        ordered = sorted(by_key.items())[-self.depth :] if by_key else []
        # In place: the book caches `levels.get` for its hot path.
        self.keys[:] = [k for k, _ in ordered]
        self.rows[:] = [lv for _, lv in ordered]
        self.levels.clear()
        self.levels.update((lv[3], lv) for lv in self.rows)

    def set_slow(self, px: str, sz: str) -> bool:
        """Set or delete a level the fast path could not; True if a level was inserted."""
        lv = self.levels.get(px)
        zero = _is_zero(sz)
        if lv is not None:
            if zero:
                self._remove(lv)
            else:
                lv[1] = sz
            return False
        dec = _price(px)
        key = -dec if self.ask else dec
        keys = self.keys
        i = bisect_left(keys, key)
        if i < len(keys) and keys[i] == key:  # same price, another spelling: rename
            lv = self.rows[i]
            del self.levels[lv[3]]
            if zero:
                del keys[i]
                del self.rows[i]
            else:
                lv[1] = sz
                lv[3] = px
                self.levels[px] = lv
            return False
        if zero:  # deleting a level we do not hold (e.g. trimmed): nothing to do
            return False
        lv = [key, sz, dec, px]
        keys.insert(i, key)
        self.rows.insert(i, lv)
        self.levels[px] = lv
        return True

    def _remove(self, lv: list[Any]) -> None:
        i = bisect_left(self.keys, lv[0])
        del self.keys[i]
        del self.rows[i]
        del self.levels[lv[3]]

    def trim(self) -> None:
        """Drop the worst levels beyond ``depth`` (they are no longer in OKX's window)."""
        excess = len(self.keys) - self.depth
        if excess > 0:
            for lv in self.rows[:excess]:
                del self.levels[lv[3]]
            del self.keys[:excess]
            del self.rows[:excess]

    def best(self) -> Level | None:
        if not self.rows:
            return None
        lv = self.rows[-1]
        return (lv[2], Decimal(lv[1]))

    def top(self, n: int) -> list[Level]:
        rows = self.rows
        stop = max(len(rows) - n, 0)
        return [(rows[i][2], Decimal(rows[i][1])) for i in range(len(rows) - 1, stop - 1, -1)]

    def snapshot(self) -> dict[Decimal, Decimal]:
        return {lv[2]: Decimal(lv[1]) for lv in self.rows}


def _price(px: str) -> Decimal:
    try:
        dec = Decimal(px)
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise BookFrameError(f"unparsable price {px!r} in an order book frame") from exc
    if not dec.is_finite():
        raise BookFrameError(f"non-finite price {px!r} in an order book frame")
    return dec


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
        self._replace = channel in _REPLACE_CHANNELS
        self._bids = _Side(False, max_depth)
        self._asks = _Side(True, max_depth)
        self._bid_get = self._bids.levels.get
        self._ask_get = self._asks.levels.get
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
            int(d.get("seqId", -1)),
            int(d.get("prevSeqId", -1)),
            str(d.get("ts", "")),
            d.get("bids", ()),
            d.get("asks", ()),
        )

    # -- feeding ---------------------------------------------------------------

    def apply(self, message: Mapping[str, Any], now: float) -> Sequence[BookAction]:
        """Apply one push frame received at ``now``; returns the actions to perform."""
        # The hot path: one update chaining onto a live book.  Kept inline (no
        # per-row calls) because it is most of the cost of a busy book.
        data = message["data"]
        if len(data) == 1 and not self._replace:
            d = data[0]
            if d["prevSeqId"] == self._seq:  # _seq is None unless live: snapshots never match
                inserted = False
                rows = d["bids"]
                if rows:
                    get = self._bid_get
                    for row in rows:
                        sz = row[1]
                        lv = get(row[0])
                        if lv is not None and (sz[0] != "0" or sz.strip("0.")):
                            lv[1] = sz
                        elif self._bids.set_slow(row[0], sz):
                            inserted = True
                rows = d["asks"]
                if rows:
                    get = self._ask_get
                    for row in rows:
                        sz = row[1]
                        lv = get(row[0])
                        if lv is not None and (sz[0] != "0" or sz.strip("0.")):
                            lv[1] = sz
                        elif self._asks.set_slow(row[0], sz):
                            inserted = True
                self._seq = d["seqId"]
                self._updated_at = now
                self._last = d
                return self._after_insert() if inserted else _NO_ACTIONS
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
        item = _only_item(reply)
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
        self._last = item
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
        if not self._bids.rows or not self._asks.rows:
            return None
        ask: Decimal = self._asks.rows[-1][2]
        bid: Decimal = self._bids.rows[-1][2]
        return ask - bid

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
        return len(self._bids.keys) + len(self._asks.keys)

    def __repr__(self) -> str:
        state = "valid" if self.valid else "INVALID"
        return (
            f"<OrderBook {self.channel} {self.inst_id} {state} seqId={self.seq_id} "
            f"bids={len(self._bids.keys)} asks={len(self._asks.keys)}>"
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
        self._last = d
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
        self._last = d
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
        inserted = False
        for side, rows in ((self._bids, d.get("bids", ())), (self._asks, d.get("asks", ()))):
            for row in rows:
                if side.set_slow(row[0], row[1]):
                    inserted = True
        self._updated_at = now
        self._last = d
        return inserted

    def _trim(self) -> None:
        self._bids.trim()
        self._asks.trim()

    def _after_insert(self) -> Sequence[BookAction]:
        """Trim to depth and check the book is not crossed (only a new level can cross it)."""
        self._trim()
        bids, asks = self._bids, self._asks
        if bids.rows and asks.rows and bids.rows[-1][2] >= asks.rows[-1][2]:
            return self._start_resync(
                f"crossed book: best bid {bids.rows[-1][3]} >= best ask {asks.rows[-1][3]}", None
            )
        return _NO_ACTIONS

    def _go_live(self, seq: int, source: SyncSource) -> Sequence[BookAction]:
        self._state = _LIVE
        self._seq = seq
        self._seq_id = seq
        bids, asks = self._bids, self._asks
        if bids.rows and asks.rows and bids.rows[-1][2] >= asks.rows[-1][2]:
            return self._start_resync(
                f"crossed book after {source}: best bid {bids.rows[-1][3]} >= "
                f"best ask {asks.rows[-1][3]}",
                None,
            )
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


def _only_item(reply: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> Mapping[str, Any]:
    items: Sequence[Mapping[str, Any]]
    if isinstance(reply, Mapping):
        if "data" not in reply:
            return reply
        items = reply["data"]
    else:
        items = reply
    if len(items) != 1:
        raise BookFrameError(f"a REST order book snapshot has one item, got {len(items)}")
    return items[0]
