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
*string* OKX sent, holding ``[key, size_str, price_str]``, where ``key`` is the
price as an exact integer (``price * 10**scale``, negated on the ask side so
the best level of both sides is the largest), plus a sorted list of keys and a
dict by key.  Changing the size of a known level -- most updates -- is one
dict lookup and one list store, like a plain dict; only a new price pays for
the integer and a ``bisect``.  Deleted levels are marked and their keys left
in place until purged (no list ``memmove`` per delete or trim).  A price spelled
differently for the same value (``"100"`` / ``"100.0"``) is found by its key and
renamed, never duplicated.  Prices and sizes become ``Decimal`` when read.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from decimal import Context, Decimal, InvalidOperation
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


_POW10: Final[tuple[int, ...]] = tuple(10**i for i in range(40))
_EXACT: Final = Context(prec=1000)  # scaleb() rounds to the context: never here


class _Prices:
    """Exact integer keys for prices: ``price * 10**scale``, one scale per book.

    ``scale`` grows (and every key is rescaled) the first time a price with
    more decimals appears; OKX prices of one instrument share their tick, so
    that happens at the first snapshot.  Spellings ``int()`` would read
    differently from ``Decimal`` (exponents, underscores, spaces) take the
    ``Decimal`` path.
    """

    __slots__ = ("scale", "sides")

    def __init__(self) -> None:
        self.scale = 0
        self.sides: list[_Side] = []

    def key(self, px: str) -> int:
        a, _, b = px.partition(".")
        digits = a + b
        n = len(b)
        if n <= self.scale and (digits.isdigit() or (digits[:1] == "-" and digits[1:].isdigit())):
            return int(digits) * _POW10[self.scale - n]
        return self._key_slow(px)

    def _key_slow(self, px: str) -> int:
        try:
            dec = Decimal(px)
        except (InvalidOperation, TypeError, ValueError) as exc:
            raise BookFrameError(f"unparsable price {px!r} in an order book frame") from exc
        if not dec.is_finite():
            raise BookFrameError(f"non-finite price {px!r} in an order book frame")
        exponent = dec.normalize(_EXACT).as_tuple().exponent
        assert isinstance(exponent, int)  # finite
        if -exponent > self.scale:
            self._rescale(-exponent)
        return int(dec.scaleb(self.scale, _EXACT))

    def _rescale(self, scale: int) -> None:
        if scale >= len(_POW10):
            raise BookFrameError(f"price with {scale} decimals in an order book frame")
        factor = _POW10[scale - self.scale]
        for side in self.sides:
            side.keys[:] = [k * factor for k in side.keys]
            for lv in side.levels.values():
                lv[0] *= factor
            side.byval = {lv[0]: lv for lv in side.levels.values() if lv[1]}
        self.scale = scale


class _Side:
    """One side of the book; see the module docstring for the representation.

    A level is ``[key, size string, price string]``; a deleted or trimmed one
    keeps its entry in ``levels`` with size ``""`` (dead) until swept, so a
    price that comes back, or a repeated delete, needs no conversion.  ``keys``
    may likewise hold stale keys: skipped on reads, revived if the price comes
    back, purged when they pile up.  Every key below index ``lo`` is stale
    (trimming walks up from there).  Deletes and trims thus stay off the
    list's ``memmove``.
    """

    __slots__ = ("levels", "byval", "keys", "lo", "ask", "depth", "prices")

    def __init__(self, ask: bool, depth: int, prices: _Prices) -> None:
        self.ask = ask
        self.depth = depth
        self.prices = prices
        prices.sides.append(self)
        self.levels: dict[str, list[Any]] = {}  # price string -> level, dead ones included
        self.byval: dict[int, list[Any]] = {}  # key -> the same lists: live levels by value
        self.keys: list[int] = []  # ascending, stale keys included; the best level is last
        self.lo = 0

    def load(self, rows: Iterable[Sequence[str]]) -> None:
        """Replace the side with a snapshot's rows (any order; read in order, as updates)."""
        self.levels.clear()
        self.byval.clear()
        self.keys.clear()
        self.lo = 0
        for row in rows:
            self.set(row[0], row[1])
        self.trim()
        self.purge()

    def set(self, px: str, sz: str) -> bool:
        """Set or delete one level; True if a level was inserted."""
        lv = self.levels.get(px)
        if lv is None or not lv[1]:
            return self.miss(px, sz, lv)
        if _is_zero(sz):
            self.drop(lv)
        else:
            lv[1] = sz
        return False

    def miss(self, px: str, sz: str, dead: list[Any] | None) -> bool:
        """Set or delete a price no live level holds under this spelling; True if inserted.

        ``dead`` is the price's dead level, if any.  The price may be live
        under another spelling (``"100"`` / ``"100.0"``): found by value and
        renamed, never duplicated.
        """
        zero = sz == "0" or (sz[:1] == "0" and not sz.strip("0."))
        if dead is not None:
            key: int = dead[0]
        else:
            key = self.prices.key(px)
            if self.ask:
                key = -key
        levels = self.levels
        live = self.byval.get(key)
        if live is not None:  # another spelling of a live price
            del levels[live[2]]
            live[2] = px
            levels[px] = live
            if zero:
                self.drop(live)
            else:
                live[1] = sz
            return False
        if zero:  # a level we do not hold (e.g. trimmed): nothing to do
            return False
        keys = self.keys
        if len(keys) >= 2 * self.depth + 16:
            self.purge()
        i = bisect_left(keys, key)
        if i == len(keys) or keys[i] != key:  # else a stale key comes back to life
            keys.insert(i, key)
        if i < self.lo:
            self.lo = i
        if dead is None:
            if len(levels) >= 2 * self.depth + 16:
                self.sweep()
            lv = [key, sz, px]
            levels[px] = lv
        else:
            lv = dead
            lv[1] = sz
        self.byval[key] = lv
        return True

    def drop(self, lv: list[Any]) -> None:
        lv[1] = ""
        del self.byval[lv[0]]

    def trim(self) -> None:
        """Drop the worst levels beyond ``depth`` (they are no longer in OKX's window)."""
        byval = self.byval
        excess = len(byval) - self.depth
        if excess <= 0:
            return
        keys, lo = self.keys, self.lo
        while excess:
            lv = byval.pop(keys[lo], None)
            lo += 1
            if lv is not None:
                lv[1] = ""
                excess -= 1
        self.lo = lo

    def purge(self) -> None:
        """Drop stale keys."""
        byval = self.byval
        self.keys[:] = [k for k in self.keys if k in byval]
        self.lo = 0

    def sweep(self) -> None:
        """Drop dead levels (in place: the book caches ``levels.get``)."""
        levels = self.levels
        for px in [px for px, lv in levels.items() if not lv[1]]:
            del levels[px]

    def best_key(self) -> int | None:
        """The best live key, dropping stale keys above it."""
        keys, byval = self.keys, self.byval
        while keys:
            if keys[-1] in byval:
                return keys[-1]
            keys.pop()
        self.lo = 0
        return None

    def best(self) -> Level | None:
        key = self.best_key()
        if key is None:
            return None
        lv = self.byval[key]
        return (Decimal(lv[2]), Decimal(lv[1]))

    def top(self, n: int) -> list[Level]:
        out: list[Level] = []
        byval = self.byval
        keys = self.keys
        for i in range(len(keys) - 1, -1, -1):
            if len(out) >= n:
                break
            lv = byval.get(keys[i])
            if lv is not None:
                out.append((Decimal(lv[2]), Decimal(lv[1])))
        return out

    def snapshot(self) -> dict[Decimal, Decimal]:
        return {Decimal(lv[2]): Decimal(lv[1]) for lv in self.byval.values()}


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
        prices = _Prices()
        self._bids = _Side(False, max_depth, prices)
        self._asks = _Side(True, max_depth, prices)
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
        data = message["data"]
        if len(data) == 1 and not self._replace:
            d = data[0]
            if d["prevSeqId"] == self._seq:  # _seq is None unless live: snapshots never match
                inserted = False
                rows = d["bids"]
                if rows:
                    get = self._bid_get
                    for row in rows:
                        px = row[0]
                        sz = row[1]
                        lv = get(px)
                        if lv is None or not lv[1]:  # new (or dead) under this spelling
                            if self._bids.miss(px, sz, lv):
                                inserted = True
                        elif sz[0] != "0" or sz.strip("0."):  # not zero: most updates
                            lv[1] = sz
                        else:
                            lv[1] = ""
                            del self._bids.byval[lv[0]]
                rows = d["asks"]
                if rows:
                    get = self._ask_get
                    for row in rows:
                        px = row[0]
                        sz = row[1]
                        lv = get(px)
                        if lv is None or not lv[1]:
                            if self._asks.miss(px, sz, lv):
                                inserted = True
                        elif sz[0] != "0" or sz.strip("0."):
                            lv[1] = sz
                        else:
                            lv[1] = ""
                            del self._asks.byval[lv[0]]
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
        return len(self._bids.byval) + len(self._asks.byval)

    def __repr__(self) -> str:
        state = "valid" if self.valid else "INVALID"
        return (
            f"<OrderBook {self.channel} {self.inst_id} {state} seqId={self.seq_id} "
            f"bids={len(self._bids.byval)} asks={len(self._asks.byval)}>"
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
                if side.set(row[0], row[1]):
                    inserted = True
        self._updated_at = now
        self._last = d
        return inserted

    def _trim(self) -> None:
        self._bids.trim()
        self._asks.trim()

    def _after_insert(self) -> Sequence[BookAction]:
        """Trim to depth and check the book is not crossed (only a new level can cross it)."""
        bids, asks = self._bids, self._asks
        if len(bids.byval) > self.max_depth:
            bids.trim()
        if len(asks.byval) > self.max_depth:
            asks.trim()
        kb, ka = bids.keys, asks.keys  # stale keys at the top can only over-report
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
