"""``OrderTracker``: one state per order, folded from our replies and OKX's order pushes.

Sans-I/O: it is fed the requests we send, OKX's replies, the items of the
order channels (``orders``, ``sprd-orders``: the channels the spec marks
``role: orders``) and reconcile's answers, with the current time, and
returns the orders each feed changed.  Nothing here reads a clock, awaits or
touches a socket; :class:`OrderWaits` adds the thin asyncio ``wait_for``.

Folding rules, following OKX's notes on the orders channel:

* An order is keyed by ``ordId`` and, when it has one, ``clOrdId``; a push
  may come before the reply that tells us the ``ordId`` (OKX sends both
  independently), so whichever arrives first creates the order and the other
  completes it.  A ``clOrdId`` reused after its order finished starts a new
  order; the old one stays reachable by ``ordId`` until it ages out.
* OKX's states only move forward: live -> partially_filled -> filled,
  canceled or mmp_canceled, and a final state is never left.  A push that
  arrives late (an older ``uTime``, a smaller ``accFillSz``) cannot move an
  order back; its fill is still counted.  A state OKX adds later is data,
  not an error: a newer push carrying it replaces any open state, and only
  the final states above end an order.
* Since August 2026 OKX pushes a ``post_only``, ``mmp_and_post_only`` or
  ``rpi`` order ``live`` only once it rests, about 1 ms after accepting it,
  and one that would have crossed gets a ``canceled`` push and nothing else.
  So OKX's acceptance (``sCode`` 0) of such an order makes it ``accepted``,
  not ``live``: its first push says which.
* Fills are counted once per ``tradeId`` (OKX may send a message twice);
  ``filled_sz`` and ``avg_px`` follow the largest ``accFillSz`` seen.
* Our own states: ``sent`` (a place request left, nothing heard yet),
  ``accepted`` (OKX accepted an order that rests later, see above),
  ``unknown`` (it timed out or its connection died: reconcile it),
  ``rejected`` (OKX refused it, ``code``/``msg`` say why) and ``not_placed``
  (reconcile found for sure that OKX never had it).  Any word from OKX
  overrides them.
* Memory is bounded: finished orders are forgotten after ``finished_ttl``
  seconds or beyond ``max_finished`` (oldest first); unresolved ``unknown``
  ones beyond ``max_unresolved``.  Live orders are kept: they are real.
"""

from __future__ import annotations

import asyncio
import collections
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any, Final, Literal

from ..errors import ClientClosed, ConfigurationError, OrderWaitTimeout

Effect = Literal["place", "amend", "cancel"]
Lookup = Literal["order", "spread"]

SENT: Final = "sent"
ACCEPTED: Final = "accepted"
UNKNOWN: Final = "unknown"
LIVE: Final = "live"
PARTIALLY_FILLED: Final = "partially_filled"
FILLED: Final = "filled"
CANCELED: Final = "canceled"
MMP_CANCELED: Final = "mmp_canceled"
REJECTED: Final = "rejected"
NOT_PLACED: Final = "not_placed"

OKX_FINAL: Final = frozenset({FILLED, CANCELED, MMP_CANCELED})
FINAL_STATES: Final = frozenset({FILLED, CANCELED, MMP_CANCELED, REJECTED, NOT_PLACED})
_OURS: Final = frozenset({SENT, ACCEPTED, UNKNOWN, REJECTED, NOT_PLACED})
# Order types OKX pushes live only once resting (or canceled if they would cross).
RESTS_LATER: Final = frozenset(
    {"post_only", "mmp_and_post_only", "rpi"}
)  # overridden by any word from OKX
# Seconds ``wait_for`` waits when given no timeout: a wait must end even when the order
# never gets there (a lost push, a typo in the clOrdId).  ``math.inf`` waits until the
# order gets there or the client closes.
DEFAULT_WAIT_TIMEOUT: Final = 60.0
_RANK: Final = {LIVE: 1, PARTIALLY_FILLED: 2, FILLED: 3, CANCELED: 3, MMP_CANCELED: 3}


@dataclass(frozen=True, slots=True)
class OrderOp:
    """How one operation changes orders (``spec/tracking.yaml``), by OKX op."""

    op: str
    effect: Effect
    exp_time: bool = False  # OKX honours the request's expTime
    lookup: Lookup = "order"  # where reconcile() finds its orders on OKX's REST API


@dataclass(frozen=True, slots=True)
class Fill:
    """One fill of an order, as the order push reported it."""

    trade_id: str
    px: Decimal
    sz: Decimal
    fee: Decimal | None
    fee_ccy: str
    exec_type: str
    ts: int  # Unix ms (fillTime, else uTime)


@dataclass(frozen=True, slots=True)
class TrackedOrder:
    """What we know of one order (a snapshot; the tracker keeps its own copy)."""

    cl_ord_id: str
    ord_id: str
    inst_id: str  # instId, or the sprdId of a spread order
    lookup: Lookup
    state: str
    side: str = ""
    ord_type: str = ""
    px: str = ""
    sz: str = ""
    filled_sz: Decimal = Decimal(0)
    avg_px: Decimal | None = None
    fills: tuple[Fill, ...] = ()
    updated_ms: int = 0  # OKX's uTime of the last push applied (0: none yet)
    changed_at: float = 0.0  # tracker time of the last change
    code: str = ""  # why OKX refused the last request about it ("" if it did not)
    msg: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)  # the last push or REST order

    @property
    def final(self) -> bool:
        return self.state in FINAL_STATES


class _Entry:
    __slots__ = ("order", "trade_ids", "exp_time", "expires_at")

    def __init__(self, order: TrackedOrder) -> None:
        self.order = order
        self.trade_ids: set[str] = set()
        self.exp_time: int | None = None  # expTime (Unix ms) of the place request
        self.expires_at: float | None = None  # the same moment on the tracker's clock


def _dec(value: object) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        result = Decimal(str(value))
    except InvalidOperation:
        return None
    return result if result.is_finite() else None


def _int(value: object) -> int:
    try:
        return int(str(value))
    except ValueError:
        return 0


def _str(item: Mapping[str, Any], name: str) -> str:
    value = item.get(name)
    return "" if value is None else str(value)


class OrderTracker:
    """The state machine; feed it, read it.  Use it from one thread (the client's loop)."""

    def __init__(
        self,
        *,
        max_finished: int = 10_000,
        finished_ttl: float | None = 3600.0,
        max_unresolved: int = 10_000,
    ) -> None:
        if max_finished < 0 or max_unresolved < 0:
            raise ConfigurationError("max_finished and max_unresolved must be >= 0")
        if finished_ttl is not None and finished_ttl < 0:
            raise ConfigurationError("finished_ttl must be >= 0 or None")
        self.max_finished = max_finished
        self.finished_ttl = finished_ttl
        self.max_unresolved = max_unresolved
        self._by_cl: dict[str, _Entry] = {}
        self._by_ord: dict[str, _Entry] = {}
        self._finished: collections.OrderedDict[_Entry, float] = collections.OrderedDict()
        self._unknown: collections.OrderedDict[_Entry, None] = collections.OrderedDict()

    # -- reading ---------------------------------------------------------------

    def get(
        self, cl_ord_id: str | None = None, *, ord_id: str | None = None
    ) -> TrackedOrder | None:
        """The order with this ``clOrdId`` (or ``ordId``), ``None`` if not tracked."""
        entry = self._by_ord.get(ord_id) if ord_id else None
        if entry is None and cl_ord_id:
            entry = self._by_cl.get(cl_ord_id)
        return None if entry is None else entry.order

    def orders(self) -> list[TrackedOrder]:
        """Every tracked order, oldest first."""
        seen: dict[int, TrackedOrder] = {}
        for entry in (*self._by_cl.values(), *self._by_ord.values()):
            seen.setdefault(id(entry), entry.order)
        return sorted(seen.values(), key=lambda order: order.changed_at)

    def unresolved(self) -> list[TrackedOrder]:
        """Orders whose fate is unknown (``sent`` or ``unknown``): reconcile these."""
        return [order for order in self.orders() if order.state in (SENT, UNKNOWN)]

    def expiry(self, cl_ord_id: str) -> tuple[int | None, float | None]:
        """``(expTime, the same moment on the tracker's clock)`` of its place request."""
        entry = self._by_cl.get(cl_ord_id)
        return (None, None) if entry is None else (entry.exp_time, entry.expires_at)

    def __len__(self) -> int:
        return len({id(e) for e in (*self._by_cl.values(), *self._by_ord.values())})

    # -- feeding: our requests and OKX's replies ----------------------------------

    def on_request(
        self,
        op: OrderOp,
        args: list[dict[str, Any]],
        now: float,
        *,
        exp_time: int | None = None,
        expires_at: float | None = None,
    ) -> list[TrackedOrder]:
        """A request is about to leave.  Place items with a clOrdId become ``sent``."""
        if op.effect != "place":
            return []
        changed = []
        for item in args:
            cl_ord_id = _str(item, "clOrdId")
            if not cl_ord_id:
                continue  # known once the reply (or a push) gives its ordId
            entry = self._by_cl.get(cl_ord_id)
            if entry is not None and not entry.order.final and entry.order.state not in _OURS:
                continue  # a live order has this clOrdId: OKX will refuse the new one (51016)
            if entry is None or entry.order.final:
                entry = self._new(cl_ord_id, "", op.lookup, SENT, now)
            entry.exp_time, entry.expires_at = exp_time, expires_at
            instrument = _str(item, "instId") or _str(item, "sprdId")
            entry.order = replace(
                entry.order,
                inst_id=instrument or entry.order.inst_id,
                side=_str(item, "side"),
                ord_type=_str(item, "ordType"),
                px=_str(item, "px"),
                sz=_str(item, "sz"),
                changed_at=now,
            )
            changed.append(entry.order)
        return changed

    def on_reply(
        self, op: OrderOp, args: list[dict[str, Any]], reply: Mapping[str, Any], now: float
    ) -> list[TrackedOrder]:
        """OKX answered (any code): place items become ``live`` or ``rejected``."""
        data = reply.get("data")
        items = [d for d in data if isinstance(d, dict)] if isinstance(data, list) else []
        changed: list[TrackedOrder] = []
        for index, arg in enumerate(args):
            item = _reply_item(items, index, arg)
            cl_ord_id = _str(arg, "clOrdId") or (_str(item, "clOrdId") if item else "")
            ord_id = _str(item, "ordId") if item else ""
            if item is not None:
                code, msg = _str(item, "sCode"), _str(item, "sMsg")
            else:
                code, msg = _str(reply, "code") or "?", _str(reply, "msg")
            entry = self._find(cl_ord_id, ord_id)
            if entry is None:
                if op.effect != "place" or code != "0" or not (cl_ord_id or ord_id):
                    continue
                state = _accepted_state(_str(arg, "ordType"))
                entry = self._new(cl_ord_id, ord_id, op.lookup, state, now)
                entry.order = replace(
                    entry.order,
                    inst_id=_str(arg, "instId") or _str(arg, "sprdId"),
                    side=_str(arg, "side"),
                    ord_type=_str(arg, "ordType"),
                    px=_str(arg, "px"),
                    sz=_str(arg, "sz"),
                )
                changed.append(entry.order)
                continue
            before = entry.order
            order = before
            if ord_id and not order.ord_id:
                order = replace(order, ord_id=ord_id)
                self._by_ord[ord_id] = entry
            if code == "0":
                if op.effect == "place" and order.state in _OURS:
                    order = replace(order, state=_accepted_state(order.ord_type), code="", msg="")
            elif op.effect == "place" and order.state in (SENT, UNKNOWN):
                order = replace(order, state=REJECTED, code=code, msg=msg)
            else:
                order = replace(order, code=code, msg=msg)
            self._set(entry, order, before, now, changed)
        return changed

    def on_failure(self, op: OrderOp, args: list[dict[str, Any]], now: float) -> list[TrackedOrder]:
        """The request timed out or its connection died: ``sent`` orders become ``unknown``."""
        changed: list[TrackedOrder] = []
        if op.effect != "place":
            return changed
        for item in args:
            entry = self._by_cl.get(_str(item, "clOrdId"))
            if entry is not None and entry.order.state == SENT:
                self._set(entry, replace(entry.order, state=UNKNOWN), entry.order, now, changed)
        return changed

    # -- feeding: OKX's word ---------------------------------------------------------

    def on_push(self, items: Iterable[Any], lookup: Lookup, now: float) -> list[TrackedOrder]:
        """Items of an order channel push (or orders read from OKX's REST API)."""
        changed: list[TrackedOrder] = []
        for item in items:
            if isinstance(item, Mapping):
                self._fold(item, lookup, now, changed)
        self._evict(now)
        return changed

    def on_not_placed(self, cl_ord_id: str, now: float) -> list[TrackedOrder]:
        """Reconcile found for sure that OKX never had this order."""
        entry = self._by_cl.get(cl_ord_id)
        changed: list[TrackedOrder] = []
        if entry is not None and entry.order.state in (SENT, UNKNOWN):
            self._set(entry, replace(entry.order, state=NOT_PLACED), entry.order, now, changed)
        self._evict(now)
        return changed

    def evict(self, now: float) -> None:
        """Forget finished orders past their time (also done on every push)."""
        self._evict(now)

    # -- internals -----------------------------------------------------------------

    def _new(self, cl_ord_id: str, ord_id: str, lookup: Lookup, state: str, now: float) -> _Entry:
        entry = _Entry(TrackedOrder(cl_ord_id, ord_id, "", lookup, state, changed_at=now))
        if cl_ord_id:
            old = self._by_cl.get(cl_ord_id)
            if old is not None and not old.order.ord_id:
                self._drop(old)  # an attempt OKX never acknowledged: replaced
            self._by_cl[cl_ord_id] = entry
        if ord_id:
            self._by_ord[ord_id] = entry
        self._index_state(entry, "", state, now)
        return entry

    def _find(self, cl_ord_id: str, ord_id: str) -> _Entry | None:
        if ord_id and ord_id in self._by_ord:
            return self._by_ord[ord_id]
        entry = self._by_cl.get(cl_ord_id) if cl_ord_id else None
        if entry is not None and ord_id and entry.order.ord_id and entry.order.ord_id != ord_id:
            return None  # the clOrdId was reused: this is another order
        return entry

    def _fold(
        self, item: Mapping[str, Any], lookup: Lookup, now: float, changed: list[TrackedOrder]
    ) -> None:
        cl_ord_id, ord_id = _str(item, "clOrdId"), _str(item, "ordId")
        if not ord_id and not cl_ord_id:
            return
        state = _str(item, "state")
        entry = self._find(cl_ord_id, ord_id)
        created = entry is None
        if entry is None:
            entry = self._new(cl_ord_id, ord_id, lookup, state or LIVE, now)
        before = order = entry.order
        if ord_id and not order.ord_id:
            order = replace(order, ord_id=ord_id)
            self._by_ord[ord_id] = entry
        fills = order.fills
        fill = _fill_of(item)
        if fill is not None and fill.trade_id not in entry.trade_ids:
            entry.trade_ids.add(fill.trade_id)
            fills = (*fills, fill)
        updated = _int(item.get("uTime"))
        newer = updated >= order.updated_ms
        acc = _dec(item.get("accFillSz"))
        filled_sz, avg_px = order.filled_sz, order.avg_px
        if acc is not None and acc >= filled_sz:
            filled_sz = acc
            avg = _dec(item.get("avgPx"))
            avg_px = avg if avg else avg_px  # "0" or "" before any fill
        new_state = order.state
        if state and _advances(order.state, state, newer):
            new_state = state
        details = _newer_fields(item, order, updated) if newer else {}
        code = _str(item, "code")
        if code not in ("", "0"):
            details.update(code=code, msg=_str(item, "msg"))
        order = replace(
            order,
            state=new_state,
            fills=fills,
            filled_sz=filled_sz,
            avg_px=avg_px,
            **details,
        )
        self._set(entry, order, before, now, changed)
        if created and (not changed or changed[-1] is not entry.order):
            changed.append(entry.order)

    def _set(
        self,
        entry: _Entry,
        order: TrackedOrder,
        before: TrackedOrder,
        now: float,
        changed: list[TrackedOrder],
    ) -> None:
        if order == before:
            return
        entry.order = replace(order, changed_at=now)
        self._index_state(entry, before.state, order.state, now)
        changed.append(entry.order)

    def _index_state(self, entry: _Entry, old: str, new: str, now: float) -> None:
        if old == new:
            return
        if new in FINAL_STATES:
            self._finished[entry] = now
        else:
            self._finished.pop(entry, None)
        if new == UNKNOWN:
            self._unknown[entry] = None
            while len(self._unknown) > self.max_unresolved:
                self._drop(next(iter(self._unknown)))
        else:
            self._unknown.pop(entry, None)

    def _evict(self, now: float) -> None:
        finished = self._finished
        ttl = self.finished_ttl
        while finished:
            entry, at = next(iter(finished.items()))
            if len(finished) <= self.max_finished and (ttl is None or now - at < ttl):
                break
            self._drop(entry)

    def _drop(self, entry: _Entry) -> None:
        self._finished.pop(entry, None)
        self._unknown.pop(entry, None)
        order = entry.order
        if order.cl_ord_id and self._by_cl.get(order.cl_ord_id) is entry:
            del self._by_cl[order.cl_ord_id]
        if order.ord_id and self._by_ord.get(order.ord_id) is entry:
            del self._by_ord[order.ord_id]


def _accepted_state(ord_type: str) -> str:
    """The state OKX's acceptance gives a place item: ``live``, or ``accepted`` for an
    order OKX pushes live only once it rests."""
    return ACCEPTED if ord_type in RESTS_LATER else LIVE


def _fill_of(item: Mapping[str, Any]) -> Fill | None:
    """The fill an order push reports (``tradeId``, ``fillSz``, ``fillPx``), if any."""
    trade_id, fill_sz, fill_px = (
        _str(item, "tradeId"),
        _dec(item.get("fillSz")),
        _dec(item.get("fillPx")),
    )
    if not (trade_id and fill_sz and fill_px is not None):
        return None
    return Fill(
        trade_id,
        fill_px,
        fill_sz,
        _dec(item.get("fillFee")),
        _str(item, "fillFeeCcy"),
        _str(item, "execType"),
        _int(item.get("fillTime")) or _int(item.get("uTime")),
    )


def _newer_fields(item: Mapping[str, Any], order: TrackedOrder, updated: int) -> dict[str, Any]:
    """What a push at least as new as ``order`` says of its instrument, side, price and size."""
    return {
        "inst_id": _str(item, "instId") or _str(item, "sprdId") or order.inst_id,
        "side": _str(item, "side") or order.side,
        "ord_type": _str(item, "ordType") or order.ord_type,
        "px": _str(item, "px") if "px" in item else order.px,
        "sz": _str(item, "sz") or order.sz,
        "updated_ms": updated,
        "data": dict(item),
    }


def _advances(current: str, state: str, newer: bool) -> bool:
    """Whether OKX's ``state`` replaces ``current``: forward only, never out of a final state.

    Where either state is one we do not know, OKX's newer push wins.
    """
    if current in _OURS:
        return True
    if current in OKX_FINAL:
        return False
    if state not in _RANK or current not in _RANK:
        return newer
    rank, now_rank = _RANK[state], _RANK[current]
    return rank > now_rank or (rank == now_rank and newer)


def _reply_item(
    items: list[dict[str, Any]], index: int, arg: Mapping[str, Any]
) -> dict[str, Any] | None:
    """The reply item answering ``arg``: by clOrdId when both have one, else by position."""
    cl_ord_id = _str(arg, "clOrdId")
    if cl_ord_id:
        for item in items:
            if _str(item, "clOrdId") == cl_ord_id:
                return item
    if index < len(items):
        item = items[index]
        if not cl_ord_id or not _str(item, "clOrdId"):
            return item
    return None


class OrderWaits:
    """``wait_for`` on a tracker: futures resolved from the orders each feed changed.

    Lives on the client's event loop; :meth:`notify` is called with every
    feed's result, and :meth:`close` (the client closed) fails every waiter,
    so no wait outlives its client.
    """

    def __init__(self, tracker: OrderTracker) -> None:
        self.tracker = tracker
        self.closed = False
        self._waiters: dict[str, list[tuple[frozenset[str], asyncio.Future[TrackedOrder]]]] = {}

    def notify(self, changed: Iterable[TrackedOrder]) -> None:
        for order in changed:
            waiters = self._waiters.get(order.cl_ord_id)
            if not waiters:
                continue
            for states, future in list(waiters):
                if (order.state in states or order.final) and not future.done():
                    future.set_result(order)

    def close(self) -> None:
        """Fail every waiter with :class:`ClientClosed`, and every later wait."""
        self.closed = True
        for cl_ord_id, waiters in list(self._waiters.items()):
            for _, future in waiters:
                if not future.done():
                    future.set_exception(
                        ClientClosed(f"the client closed while waiting for order {cl_ord_id!r}")
                    )

    async def wait_for(
        self, cl_ord_id: str, states: Iterable[str] | str, timeout: float = DEFAULT_WAIT_TIMEOUT
    ) -> TrackedOrder:
        """The order once it reaches one of ``states`` or a final state.

        Raises :class:`OrderWaitTimeout` after ``timeout`` seconds (``math.inf``:
        no limit) and :class:`ClientClosed` when the client closes first.
        """
        if self.closed:
            raise ClientClosed("the client is closed")
        wanted = frozenset([states] if isinstance(states, str) else states)
        current = self.tracker.get(cl_ord_id)
        if current is not None and (current.state in wanted or current.final):
            return current
        future: asyncio.Future[TrackedOrder] = asyncio.get_running_loop().create_future()
        entry = (wanted, future)
        self._waiters.setdefault(cl_ord_id, []).append(entry)
        try:
            if math.isinf(timeout) and timeout > 0:
                return await future
            return await asyncio.wait_for(future, timeout)
        except asyncio.TimeoutError:
            raise OrderWaitTimeout(
                cl_ord_id, wanted, timeout, self.tracker.get(cl_ord_id)
            ) from None
        finally:
            waiters = self._waiters.get(cl_ord_id, [])
            if entry in waiters:
                waiters.remove(entry)
            if not waiters:
                self._waiters.pop(cl_ord_id, None)


__all__ = [
    "ACCEPTED",
    "CANCELED",
    "DEFAULT_WAIT_TIMEOUT",
    "FILLED",
    "FINAL_STATES",
    "LIVE",
    "MMP_CANCELED",
    "NOT_PLACED",
    "PARTIALLY_FILLED",
    "REJECTED",
    "RESTS_LATER",
    "SENT",
    "UNKNOWN",
    "Fill",
    "OrderOp",
    "OrderTracker",
    "OrderWaitTimeout",
    "OrderWaits",
    "TrackedOrder",
]
