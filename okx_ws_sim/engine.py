"""Order book state of the simulator: instruments, balances, orders.

Pure (no I/O, no clock: ``now_ms`` is passed in) so it is unit-testable and the
server stays a thin router.  One ``Engine`` serves every account; each op
handler takes one request item and returns one reply item, appending every
order whose state changed to ``changed`` (the server pushes those on the
``orders`` / ``sprd-orders`` channels).  What else changed is noted on the
account (``AccountState.pending``: fills, balances, positions) until the server
takes it to push the other private channels (``fills``, ``sprd-trades``,
``account``, ``positions``, ``balance_and_position``).

Matching model (deliberately simple): each instrument has a reference price
and a depth.  A market order, or a limit order that crosses the reference
price (buy px >= ref, sell px <= ref), fills at the reference price up to the
depth (taker, execType T); the rest of a limit order rests as
``partially_filled``, the rest of a market/ioc/fok order is canceled.  Prices
never move, so a resting order fills only when an amend makes it marketable or
when ``fill()`` trades it as a maker (execType M) at its own price: tests and
demos drive an order through ``partially_filled`` to ``filled`` that way.

Spot fills move balances.  Derivative fills (SWAP, FUTURES, OPTION) open and
close positions, net or long/short by the order's ``posSide``; their margin is
only checked, never moved.  Spread fills move neither (the legs are not booked).
Fees are zero.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from . import codes, views
from .auth import Account
from .instruments import RETIRED_CODES, Instrument, default_instruments
from .rules import ORD_TYPES
from .views import fmt, usd_price

ZERO: Final = Decimal(0)

SPOT_TD_MODES: Final = frozenset({"cash", "spot_isolated", "cross", "isolated"})
DERIV_TD_MODES: Final = frozenset({"cross", "isolated"})
SPRD_ORD_TYPES: Final = frozenset({"market", "limit", "post_only", "ioc"})
# ordTypes that must carry px.
PRICED: Final = frozenset({"limit", "post_only", "fok", "ioc", "mmp", "mmp_and_post_only", "rpi"})
# Orders that may only rest (make): one that would cross is canceled instead (cancelSource
# 31).  RPI orders rest like post-only ones (OKX's "RPI 挂单": resting orders only).
MAKER_ONLY: Final = frozenset({"post_only", "mmp_and_post_only", "rpi"})
IMMEDIATE: Final = frozenset({"market", "ioc", "fok", "optimal_limit_ioc"})
LIVE_STATES: Final = frozenset({"live", "partially_filled"})
# Margin the simulator asks for on derivatives (1/leverage); balances are only
# checked, never moved, for SWAP / OPTION / SPREAD ("keep it simple").
DERIV_MARGIN_RATE: Final = Decimal("0.1")
FIRST_ORD_ID: Final = 700_000_000_000_000_000
FIRST_TRADE_ID: Final = 500_000_000
FIRST_POS_ID: Final = 900_000_000_000_000_000
POSITION_TYPES: Final = frozenset({"SWAP", "FUTURES", "OPTION"})
# Finished (filled / canceled) orders kept per account for orders() / find_order()
# and cancel-after-fill answers; older ones are forgotten so long soaks and
# benchmarks run in bounded memory.
MAX_FINISHED_ORDERS: Final = 100_000


class ItemError(Exception):
    """An item-level failure: becomes ``sCode`` / ``sMsg`` of that item."""

    def __init__(self, code: str, msg: str) -> None:
        super().__init__(f"{code} {msg}")
        self.code = code
        self.msg = msg


def param_error(field_name: str) -> ItemError:
    return ItemError(codes.PARAM_ERROR, f"Parameter {field_name} error")


def not_found() -> ItemError:
    return ItemError(codes.INSTRUMENT_NOT_FOUND, codes.INSTRUMENT_NOT_FOUND_MSG)


def _dec(
    item: dict[str, Any], name: str, *, required: bool, positive: bool = True
) -> Decimal | None:
    raw = item.get(name)
    if raw is None or raw == "":
        if required:
            raise param_error(name)
        return None
    if not isinstance(raw, str):  # numbers travel as decimal strings
        raise param_error(name)
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise param_error(name) from None
    if not value.is_finite() or (positive and value <= 0):
        raise param_error(name)
    return value


def _str(item: dict[str, Any], name: str, *, required: bool = False) -> str:
    raw = item.get(name)
    if raw is None or raw == "":
        if required:
            raise param_error(name)
        return ""
    if not isinstance(raw, str):
        raise param_error(name)
    return raw


def _bool(item: dict[str, Any], name: str) -> bool:
    raw = item.get(name, False)
    if isinstance(raw, bool):  # booleans travel as JSON booleans, never "true"
        return raw
    raise param_error(name)


@dataclass(eq=False, slots=True)
class Order:
    ord_id: str
    cl_ord_id: str
    tag: str
    inst: Instrument
    side: str
    ord_type: str
    sz: Decimal
    px: Decimal | None
    td_mode: str = ""
    pos_side: str = ""
    tgt_ccy: str = ""
    reduce_only: bool = False
    state: str = "live"
    # Filled so far in the unit of sz (quote currency for a quote-sized market buy):
    # what `remaining` is computed from.  OKX reports accFillSz in base currency
    # (contracts for derivatives): that is acc_base.
    acc_fill_sz: Decimal = ZERO
    acc_base: Decimal = ZERO
    fill_sz: Decimal = ZERO  # base / contracts filled by the change being pushed (0: none)
    fill_px: Decimal | None = None  # the last fill's price, size, trade and time
    last_fill_sz: Decimal = ZERO
    trade_id: str = ""
    fill_time: int = 0
    exec_type: str = ""  # T (taker) or M (maker) of the last fill
    fill_notional: Decimal = ZERO  # sum of base size * price over the fills
    c_time: int = 0
    u_time: int = 0
    req_id: str = ""
    amend_result: str = ""
    cancel_source: str = ""
    # Funds frozen for this order (spot only): amount of `reserved_ccy`.
    reserved: Decimal = ZERO
    reserved_ccy: str = ""
    # A spot market buy sized in quote currency: sz is quote, fills are base.
    sz_in_quote: bool = False
    uid: str = ""
    # The currency a spot order trades in: the pair's quote unless tradeQuoteCcy named
    # another of its list (BTC-USDC traded in USD).  "" for other instTypes.
    quote_ccy: str = ""

    @property
    def is_spread(self) -> bool:
        return self.inst.inst_type == "SPREAD"

    @property
    def inst_type(self) -> str:
        """OKX's instType of the order: a spot pair traded on margin (tdMode cross or
        isolated) is a MARGIN order."""
        if self.inst.inst_type == "SPOT" and self.td_mode in ("cross", "isolated"):
            return "MARGIN"
        return self.inst.inst_type

    @property
    def is_live(self) -> bool:
        return self.state in LIVE_STATES

    @property
    def remaining(self) -> Decimal:
        return self.sz - self.acc_fill_sz

    @property
    def avg_px(self) -> Decimal | None:
        if self.acc_base == 0:
            return None
        return self.fill_notional / self.acc_base

    def to_dict(self) -> dict[str, Any]:
        """The order as OKX pushes it on the ``orders`` / ``sprd-orders`` channel."""
        return views.order_push(self)


@dataclass(eq=False, slots=True)
class Fill:
    """One trade of one order: what the fills / sprd-trades channels push."""

    order: Order
    trade_id: str
    px: Decimal
    sz: Decimal  # base currency (contracts for derivatives), as OKX reports fillSz
    ts: int
    exec_type: str  # T taker, M maker


@dataclass(eq=False)
class Position:
    """One derivatives position: net (signed) or one side of long/short mode."""

    pos_id: str
    inst: Instrument
    mgn_mode: str  # cross / isolated (the orders' tdMode)
    pos_side: str  # net / long / short
    exposure: Decimal = ZERO  # contracts, + long, - short (whatever the mode)
    avg_px: Decimal | None = None
    pnl: Decimal = ZERO  # realised by closing fills, fee excluded
    trade_id: str = ""
    c_time: int = 0
    u_time: int = 0

    @property
    def pos(self) -> Decimal:
        """OKX's ``pos``: signed in net mode, a quantity of that side otherwise."""
        return -self.exposure if self.pos_side == "short" else self.exposure

    @property
    def key(self) -> tuple[str, str, str]:
        return self.inst.inst_id, self.mgn_mode, self.pos_side

    def apply(self, delta: Decimal, px: Decimal) -> None:
        """Trade ``delta`` contracts (+ buy, - sell) at ``px``."""
        old = self.exposure
        new = old + delta
        if old == 0 or (old > 0) == (delta > 0):  # opening or adding
            held = self.avg_px if self.avg_px is not None else px
            self.avg_px = (abs(old) * held + abs(delta) * px) / abs(new)
        else:  # closing, perhaps flipping (net mode)
            closed = min(abs(delta), abs(old))
            direction = 1 if old > 0 else -1
            assert self.avg_px is not None
            self.pnl += (px - self.avg_px) * closed * direction * self.inst.ct_val
            if abs(delta) > abs(old):
                self.avg_px = px
        self.exposure = new


@dataclass(slots=True)
class Pending:
    """What changed on an account since the server last took it (to push it)."""

    fills: list[Fill] = field(default_factory=list)
    ccys: set[str] = field(default_factory=set)  # available / frozen / cash moved
    cash: set[str] = field(default_factory=set)  # cash balance moved
    positions: dict[tuple[str, str, str], Position] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.fills or self.ccys or self.positions)


@dataclass
class AccountState:
    account: Account
    uid: str
    avail: dict[str, Decimal]
    frozen: dict[str, Decimal] = field(default_factory=dict)
    orders: dict[str, Order] = field(default_factory=dict)  # ordId -> order
    by_cl_ord_id: dict[str, Order] = field(default_factory=dict)  # latest with that id
    finished: deque[Order] = field(default_factory=deque)  # oldest first
    positions: dict[tuple[str, str, str], Position] = field(default_factory=dict)
    bal_u_time: dict[str, int] = field(default_factory=dict)  # ccy -> last change (ms)
    pending: Pending = field(default_factory=Pending)

    def cash(self, ccy: str) -> Decimal:
        """Cash balance: available plus frozen."""
        return self.avail.get(ccy, ZERO) + self.frozen.get(ccy, ZERO)

    def ccys(self) -> list[str]:
        return sorted(set(self.avail) | set(self.frozen))

    def moved(self, ccy: str, *, cash: bool = False) -> None:
        """Note that ``ccy``'s balance moved (``cash``: its cash balance too)."""
        self.pending.ccys.add(ccy)
        if cash:
            self.pending.cash.add(ccy)

    def take(self, now_ms: int) -> Pending | None:
        """What changed since the last take (None: nothing); balances are stamped
        ``now_ms``, the time the server pushes them."""
        pending = self.pending
        if not pending:
            return None
        self.pending = Pending()
        for ccy in pending.ccys:
            self.bal_u_time[ccy] = now_ms
        return pending

    def discard(self, now_ms: int) -> None:
        """Forget what changed (nobody listens), stamping the balances' times."""
        pending = self.pending
        for ccy in pending.ccys:
            self.bal_u_time[ccy] = now_ms
        pending.fills.clear()
        pending.ccys.clear()
        pending.cash.clear()
        pending.positions.clear()

    def balance_snapshot(self) -> dict[str, dict[str, str]]:
        ccys = set(self.avail) | set(self.frozen)
        return {
            c: {
                "availBal": fmt(self.avail.get(c, ZERO)),
                "frozenBal": fmt(self.frozen.get(c, ZERO)),
            }
            for c in sorted(ccys)
        }


Handler = Callable[["Engine", AccountState, dict[str, Any], int, list[Order]], dict[str, Any]]


class Engine:
    def __init__(
        self,
        accounts: Iterable[Account],
        instruments: dict[str, Instrument] | None = None,
        *,
        first_ord_id: int = FIRST_ORD_ID,
        max_finished_orders: int = MAX_FINISHED_ORDERS,
        first_trade_id: int = FIRST_TRADE_ID,
        first_pos_id: int = FIRST_POS_ID,
    ) -> None:
        self.instruments = dict(instruments) if instruments is not None else default_instruments()
        self.by_code: dict[int, Instrument] = {}
        self._index()
        self._next_id = first_ord_id
        self._next_trade_id = first_trade_id
        self._next_pos_id = first_pos_id
        self.max_finished_orders = max_finished_orders
        # instId -> ordId -> its live priced orders: what the market shows in its books
        self.resting: dict[str, dict[str, Order]] = {}
        # Called with every fill (market.py turns them into public trades).
        self.on_fill: Callable[[Fill], None] | None = None
        self.accounts: dict[str, AccountState] = {}
        for n, acct in enumerate(accounts):
            self.add_account(acct, n)

    def add_account(self, acct: Account, n: int | None = None) -> AccountState:
        uid = acct.uid or str(100000001 + (len(self.accounts) if n is None else n))
        state = AccountState(acct, uid, acct.decimal_balances())
        self.accounts[acct.api_key] = state
        return state

    # -- instruments ----------------------------------------------------------------
    def _index(self) -> None:
        """Rebuild ``by_code``: instIdCode (and MARGIN listing code) -> instrument."""
        by_code: dict[int, Instrument] = {}
        for inst in self.instruments.values():
            by_code[inst.inst_id_code] = inst
            if inst.margin_enabled:
                by_code.setdefault(inst.margin_code, inst)
        self.by_code = by_code

    def add_instrument(self, inst: Instrument) -> None:
        """List ``inst``; ValueError if its instId or instIdCode is taken."""
        if inst.inst_id in self.instruments:
            raise ValueError(f"instrument {inst.inst_id} is already listed")
        wanted = [inst.inst_id_code] + ([inst.margin_code] if inst.margin_enabled else [])
        clash = [self.by_code[c].inst_id for c in wanted if c in self.by_code]
        if clash:
            raise ValueError(f"instIdCode of {inst.inst_id} is taken by {clash[0]}")
        if RETIRED_CODES.intersection(wanted):
            raise ValueError(f"instIdCode of {inst.inst_id} is retired (a delisted USD pair's)")
        self.instruments[inst.inst_id] = inst
        self._index()

    def remove_instrument(self, inst_id: str, now_ms: int) -> tuple[Instrument, list[Order]]:
        """Delist ``inst_id`` (KeyError if unknown): its code stops resolving and its
        live orders are canceled (cancelSource ``delisted``); returns those orders."""
        inst = self.instruments.pop(inst_id)
        self._index()
        changed: list[Order] = []
        for acct in self.accounts.values():
            for order in list(acct.orders.values()):
                if order.is_live and order.inst.inst_id == inst_id:
                    self._finish(acct, order, "canceled", now_ms)
                    order.cancel_source = codes.CANCEL_SOURCE_DELISTED
                    changed.append(order)
        return inst, changed

    def resolve(self, item: dict[str, Any]) -> Instrument:
        """The (non-spread) instrument of an order / cancel / amend item.

        ``instIdCode`` wins whenever present, whatever ``instId`` says (OKX's
        precedence rule); ``instId`` alone is only reached in legacy mode, since
        strict validation refuses such items first.
        """
        code = item.get("instIdCode")
        if code is None or code == "":
            if item.get("instId") in (None, ""):
                raise ItemError(codes.MISSING_PARAM, codes.MISSING_PARAM_MSG.format("instIdCode"))
            return self._instrument(_str(item, "instId"), spread=False)
        if type(code) is not int:
            raise ItemError(codes.BAD_INST_ID_CODE, "Parameter instIdCode error")
        inst = self.by_code.get(code)
        if inst is None or inst.inst_type == "SPREAD":
            raise not_found()
        return inst

    # -- queries ------------------------------------------------------------------
    def orders(self, api_key: str, state: str | None = None) -> list[dict[str, Any]]:
        acct = self.accounts.get(api_key)
        if acct is None:
            return []
        return [o.to_dict() for o in acct.orders.values() if state is None or o.state == state]

    def find_order(
        self, api_key: str, cl_ord_id: str | None = None, ord_id: str | None = None
    ) -> dict[str, Any] | None:
        order = self.find(api_key, cl_ord_id=cl_ord_id, ord_id=ord_id)
        return order.to_dict() if order is not None else None

    def find(
        self, api_key: str, cl_ord_id: str | None = None, ord_id: str | None = None
    ) -> Order | None:
        """The order with that ordId, else the latest with that clOrdId; None if unknown."""
        acct = self.accounts.get(api_key)
        if acct is None:
            return None
        if ord_id:
            return acct.orders.get(ord_id)
        return acct.by_cl_ord_id.get(cl_ord_id or "")

    def balances(self, api_key: str) -> dict[str, dict[str, str]]:
        acct = self.accounts.get(api_key)
        return acct.balance_snapshot() if acct is not None else {}

    @property
    def last_ord_id(self) -> int:
        return self._next_id

    @property
    def last_trade_id(self) -> int:
        return self._next_trade_id

    @property
    def last_pos_id(self) -> int:
        return self._next_pos_id

    # -- ops --------------------------------------------------------------------
    def _retire(self, acct: AccountState, order: Order) -> None:
        """Note a finished order; forget the oldest beyond max_finished_orders."""
        finished = acct.finished
        finished.append(order)
        while len(finished) > self.max_finished_orders:
            old = finished.popleft()
            acct.orders.pop(old.ord_id, None)
            if old.cl_ord_id and acct.by_cl_ord_id.get(old.cl_ord_id) is old:
                del acct.by_cl_ord_id[old.cl_ord_id]

    def _new_ord_id(self) -> str:
        self._next_id += 1
        return str(self._next_id)

    def _instrument(self, inst_id: str, *, spread: bool) -> Instrument:
        inst = self.instruments.get(inst_id)
        if inst is None or (inst.inst_type == "SPREAD") != spread:
            raise not_found()
        return inst

    def place(
        self, acct: AccountState, item: dict[str, Any], now_ms: int, changed: list[Order]
    ) -> dict[str, Any]:
        inst = self.resolve(item)
        td_mode = _str(item, "tdMode", required=True)
        allowed_modes = SPOT_TD_MODES if inst.inst_type == "SPOT" else DERIV_TD_MODES
        if td_mode not in allowed_modes:
            raise param_error("tdMode")
        side, ord_type = _side_type(item, ORD_TYPES)
        if ord_type == "optimal_limit_ioc" and inst.inst_type == "SPOT":
            raise param_error("ordType")
        sz = _dec(item, "sz", required=True)
        assert sz is not None
        px = _dec(item, "px", required=ord_type in PRICED) if ord_type in PRICED else None
        pos_side = _str(item, "posSide")
        if pos_side and pos_side not in ("long", "short", "net"):
            raise param_error("posSide")
        tgt_ccy = _str(item, "tgtCcy")
        if tgt_ccy and (tgt_ccy not in ("base_ccy", "quote_ccy") or inst.inst_type != "SPOT"):
            raise param_error("tgtCcy")
        reduce_only = _bool(item, "reduceOnly")
        quote_ccy = _trade_quote_ccy(item, inst)
        _check_slippage(item)
        if ord_type == "rpi":
            assert px is not None
            self._check_rpi_notional(inst, sz, px)
        cl_ord_id, tag = _cl_ord_id_tag(acct, item)
        order = Order(
            ord_id="",
            cl_ord_id=cl_ord_id,
            tag=tag,
            inst=inst,
            side=side,
            ord_type=ord_type,
            sz=sz,
            px=px,
            td_mode=td_mode,
            pos_side=pos_side,
            tgt_ccy=tgt_ccy,
            reduce_only=reduce_only,
            c_time=now_ms,
            u_time=now_ms,
            uid=acct.uid,
            quote_ccy=quote_ccy,
        )
        if inst.inst_type == "SPOT" and ord_type == "market":
            # OKX: spot market buys are sized in quote currency unless tgtCcy says otherwise.
            order.sz_in_quote = (
                tgt_ccy or ("quote_ccy" if side == "buy" else "base_ccy")
            ) == "quote_ccy"
        return {
            "ordId": self._book(acct, order, changed),
            "sCode": codes.OK,
            "sMsg": "Order placed",
        }

    def place_spread(
        self, acct: AccountState, item: dict[str, Any], now_ms: int, changed: list[Order]
    ) -> dict[str, Any]:
        inst = self._instrument(_str(item, "sprdId", required=True), spread=True)
        side, ord_type = _side_type(item, SPRD_ORD_TYPES)
        sz = _dec(item, "sz", required=True)
        assert sz is not None
        px = _dec(item, "px", required=True, positive=False) if ord_type != "market" else None
        cl_ord_id, tag = _cl_ord_id_tag(acct, item)
        order = Order(
            ord_id="",
            cl_ord_id=cl_ord_id,
            tag=tag,
            inst=inst,
            side=side,
            ord_type=ord_type,
            sz=sz,
            px=px,
            c_time=now_ms,
            u_time=now_ms,
            uid=acct.uid,
        )
        return {"ordId": self._book(acct, order, changed), "sCode": codes.OK, "sMsg": ""}

    def _book(self, acct: AccountState, order: Order, changed: list[Order]) -> str:
        """Reserve funds, assign the ordId, index the order, match it; returns the ordId."""
        self._reserve(acct, order)
        order.ord_id = self._new_ord_id()
        acct.orders[order.ord_id] = order
        if order.cl_ord_id:
            acct.by_cl_ord_id[order.cl_ord_id] = order
        self._match(acct, order)
        if order.is_live and order.px is not None:
            self.resting.setdefault(order.inst.inst_id, {})[order.ord_id] = order
        changed.append(order)
        return order.ord_id

    def cancel(
        self, acct: AccountState, item: dict[str, Any], now_ms: int, changed: list[Order]
    ) -> dict[str, Any]:
        inst_id = self.resolve(item).inst_id
        return self._cancel(acct, item, inst_id, now_ms, changed, codes.CANCEL_FAILED)

    def cancel_spread(
        self, acct: AccountState, item: dict[str, Any], now_ms: int, changed: list[Order]
    ) -> dict[str, Any]:
        return self._cancel(acct, item, None, now_ms, changed, codes.SPRD_CANCEL_FAILED)

    def _cancel(
        self,
        acct: AccountState,
        item: dict[str, Any],
        inst_id: str | None,
        now_ms: int,
        changed: list[Order],
        fail_code: str,
    ) -> dict[str, Any]:
        """Cancel one live order (``inst_id`` None: a spread order, looked up by id only)."""
        order = self._lookup(acct, item, inst_id, fail_code)
        if not order.is_live:
            raise ItemError(
                fail_code,
                "Cancellation failed as the order has been filled, canceled or does not exist.",
            )
        self._finish(acct, order, "canceled", now_ms)
        order.cancel_source = codes.CANCEL_SOURCE_USER
        changed.append(order)
        return {"ordId": order.ord_id, "clOrdId": order.cl_ord_id, "sCode": codes.OK, "sMsg": ""}

    def amend(
        self, acct: AccountState, item: dict[str, Any], now_ms: int, changed: list[Order]
    ) -> dict[str, Any]:
        inst_id = self.resolve(item).inst_id
        return self._amend(acct, item, inst_id, now_ms, changed, codes.AMEND_FAILED)

    def amend_spread(
        self, acct: AccountState, item: dict[str, Any], now_ms: int, changed: list[Order]
    ) -> dict[str, Any]:
        return self._amend(acct, item, None, now_ms, changed, codes.SPRD_AMEND_FAILED)

    def _amend(
        self,
        acct: AccountState,
        item: dict[str, Any],
        inst_id: str | None,
        now_ms: int,
        changed: list[Order],
        fail_code: str,
    ) -> dict[str, Any]:
        req_id = _str(item, "reqId")
        new_sz = _dec(item, "newSz", required=False)
        new_px = _dec(item, "newPx", required=False, positive=inst_id is not None)
        if new_sz is None and new_px is None:
            raise param_error("newSz")
        cxl_on_fail = _bool(item, "cxlOnFail")
        order = self._lookup(acct, item, inst_id, fail_code)
        if not order.is_live:
            raise ItemError(
                fail_code,
                "Order modification failed as the order has been filled, canceled or does not exist.",
            )
        try:
            if new_sz is not None and new_sz <= order.acc_fill_sz:
                raise ItemError(fail_code, "New order size must exceed the filled size.")
            if new_px is not None and order.px is None:
                raise ItemError(fail_code, "Market orders can't be amended.")
            if order.ord_type == "rpi" and new_sz is not None:
                # OKX rechecks the minimum only when the size changes, at the price
                # after the amend; a new price alone is not rechecked.
                price = new_px if new_px is not None else order.px
                assert price is not None
                self._check_rpi_notional(order.inst, new_sz, price)
            old_sz, old_px = order.sz, order.px
            self._release(acct, order)
            order.sz = new_sz if new_sz is not None else order.sz
            order.px = new_px if new_px is not None else order.px
            try:
                self._reserve(acct, order)
            except ItemError:
                order.sz, order.px = old_sz, old_px
                self._reserve(acct, order)
                raise
        except ItemError:
            if cxl_on_fail:
                # OKX: a rejected amend with cxlOnFail cancels the order; its push
                # carries the reqId and amendResult "" (docs of amendResult).
                self._finish(acct, order, "canceled", now_ms)
                order.cancel_source = codes.CANCEL_SOURCE_AMEND_FAILED
                order.req_id = req_id
                order.amend_result = ""
                changed.append(order)
            raise
        order.req_id = req_id
        order.amend_result = "0"
        order.u_time = now_ms
        self._match(acct, order)
        changed.append(order)
        return {"ordId": order.ord_id, "clOrdId": order.cl_ord_id, "sCode": codes.OK, "sMsg": ""}

    def mass_cancel(
        self, acct: AccountState, item: dict[str, Any], now_ms: int, changed: list[Order]
    ) -> dict[str, Any]:
        inst_type = _str(item, "instType", required=True)
        inst_family = _str(item, "instFamily", required=True)
        if "lockInterval" in item:
            try:
                lock = int(item["lockInterval"])
            except (TypeError, ValueError):
                raise param_error("lockInterval") from None
            if not 0 <= lock <= 10000:
                raise param_error("lockInterval")
        for order in list(acct.orders.values()):
            if (
                order.is_live
                and order.inst.inst_type == inst_type
                and order.inst.inst_family == inst_family
            ):
                self._finish(acct, order, "canceled", now_ms)
                mmp = order.ord_type in ("mmp", "mmp_and_post_only")
                order.cancel_source = codes.CANCEL_SOURCE_MMP if mmp else codes.CANCEL_SOURCE_USER
                changed.append(order)
        return {"result": True}

    def mass_cancel_spread(
        self, acct: AccountState, item: dict[str, Any], now_ms: int, changed: list[Order]
    ) -> dict[str, Any]:
        sprd_id = _str(item, "sprdId")
        if sprd_id:
            self._instrument(sprd_id, spread=True)
        for order in list(acct.orders.values()):
            if order.is_live and order.is_spread and (not sprd_id or order.inst.inst_id == sprd_id):
                self._finish(acct, order, "canceled", now_ms)
                order.cancel_source = codes.CANCEL_SOURCE_USER
                changed.append(order)
        return {"result": True}

    def _check_rpi_notional(self, inst: Instrument, sz: Decimal, px: Decimal) -> None:
        """54051 when an RPI order of ``sz`` at ``px`` is worth less than OKX's minimum
        for its instType (codes.RPI_MIN_NOTIONAL_USD); no minimum where none is listed
        or no USD price is known."""
        minimum = codes.RPI_MIN_NOTIONAL_USD.get(inst.inst_type)
        if minimum is None:
            return
        if inst.inst_type == "SPOT":
            notional, ccy = sz * px, inst.quote
        else:  # linear SWAP / FUTURES: contracts x contract value x price
            notional, ccy = sz * inst.ct_val * px, inst.settle
        rate = usd_price(ccy, self.instruments)
        if rate is not None and notional * rate < minimum:
            raise ItemError(codes.RPI_MIN_NOTIONAL, codes.RPI_MIN_NOTIONAL_MSG.format(minimum))

    # -- fills driven from outside (Simulator.fill) --------------------------------
    def fill(
        self,
        acct: AccountState,
        order: Order,
        sz: Decimal,
        now_ms: int,
        px: Decimal | None = None,
    ) -> None:
        """Trade ``sz`` of a resting order as a maker (execType M), at its own price
        unless ``px`` (no worse than its limit) says otherwise: what a counterparty
        hitting the order would do.  ValueError if the order is not live, ``sz`` is
        not in (0, remaining] or ``px`` is worse than the order's limit."""
        if not order.is_live:
            raise ValueError(f"order {order.ord_id} is {order.state}, not live")
        if not sz.is_finite() or sz <= 0 or sz > order.remaining:
            raise ValueError(f"sz must be in (0, {fmt(order.remaining)}], got {sz}")
        price = px if px is not None else order.px if order.px is not None else order.inst.ref_px
        if order.px is not None and (
            (order.side == "buy" and price > order.px)
            or (order.side == "sell" and price < order.px)
        ):
            raise ValueError(f"px {price} is worse than the order's limit {order.px}")
        order.u_time = now_ms
        order.fill_sz = ZERO
        order.req_id = order.amend_result = ""  # OKX: "" unless the update is an amendment
        self._trade(acct, order, sz, sz, price, "M")
        self._after_fill(acct, order)

    # -- internals ----------------------------------------------------------------
    def _lookup(
        self, acct: AccountState, item: dict[str, Any], inst_id: str | None, fail_code: str
    ) -> Order:
        ord_id = _str(item, "ordId")
        cl_ord_id = _str(item, "clOrdId")
        if not ord_id and not cl_ord_id:
            raise ItemError(codes.ORD_ID_REQUIRED, codes.ORD_ID_REQUIRED_MSG)
        order = acct.orders.get(ord_id) if ord_id else acct.by_cl_ord_id.get(cl_ord_id)
        if (
            order is None
            or (inst_id is not None and (order.inst.inst_id != inst_id or order.is_spread))
            or (inst_id is None and not order.is_spread)
            or (ord_id and cl_ord_id and order.cl_ord_id != cl_ord_id)
        ):
            raise ItemError(fail_code, "Order does not exist.")
        return order

    def _reserve(self, acct: AccountState, order: Order) -> None:
        """Freeze what a live order needs (spot) or check margin (others)."""
        inst = order.inst
        if inst.inst_type != "SPOT":
            price = order.px if order.px is not None else inst.ref_px
            if inst.inst_type == "SPREAD":
                need = abs(price) * order.remaining * DERIV_MARGIN_RATE
            elif inst.inst_type == "OPTION":
                need = price * order.remaining * inst.ct_val if order.side == "buy" else ZERO
            else:
                need = price * order.remaining * inst.ct_val * DERIV_MARGIN_RATE
            if acct.avail.get(inst.settle, ZERO) < need:
                raise _insufficient(inst.settle)
            return
        remaining = order.remaining
        if order.side == "buy":
            ccy = order.quote_ccy or inst.quote
            if order.sz_in_quote:
                need = remaining
            else:
                need = (order.px if order.px is not None else inst.ref_px) * remaining
        else:
            ccy = inst.base
            need = remaining / inst.ref_px if order.sz_in_quote else remaining
        if acct.avail.get(ccy, ZERO) < need:
            raise _insufficient(ccy)
        acct.avail[ccy] = acct.avail.get(ccy, ZERO) - need
        acct.frozen[ccy] = acct.frozen.get(ccy, ZERO) + need
        order.reserved, order.reserved_ccy = need, ccy
        acct.moved(ccy)

    def _release(self, acct: AccountState, order: Order) -> None:
        if order.reserved and order.reserved_ccy:
            ccy = order.reserved_ccy
            acct.frozen[ccy] -= order.reserved
            acct.avail[ccy] = acct.avail.get(ccy, ZERO) + order.reserved
            acct.moved(ccy)
        order.reserved = ZERO

    def _unrest(self, order: Order) -> None:
        resting = self.resting.get(order.inst.inst_id)
        if resting is not None:
            resting.pop(order.ord_id, None)

    def _finish(self, acct: AccountState, order: Order, state: str, now_ms: int) -> None:
        self._unrest(order)
        self._release(acct, order)
        order.state = state
        order.fill_sz = ZERO
        order.req_id = order.amend_result = ""  # not an amendment's update
        order.u_time = now_ms
        self._retire(acct, order)

    def _match(self, acct: AccountState, order: Order) -> None:
        inst = order.inst
        ref = inst.ref_px
        order.fill_sz = ZERO
        if order.px is None:
            marketable = True
        elif order.side == "buy":
            marketable = order.px >= ref
        else:
            marketable = order.px <= ref
        if order.ord_type in MAKER_ONLY and marketable:
            self._finish(acct, order, "canceled", order.u_time)
            order.cancel_source = codes.CANCEL_SOURCE_POST_ONLY  # would take liquidity
            return
        if not marketable:
            if order.ord_type in IMMEDIATE:
                self._finish(acct, order, "canceled", order.u_time)
                order.cancel_source = codes.CANCEL_SOURCE_IOC
            return
        remaining_base = order.remaining / ref if order.sz_in_quote else order.remaining
        if order.ord_type == "fok" and remaining_base > inst.depth:
            self._finish(acct, order, "canceled", order.u_time)
            order.cancel_source = codes.CANCEL_SOURCE_FOK
            return
        qty_base = min(remaining_base, inst.depth)
        qty = qty_base * ref if order.sz_in_quote else qty_base  # in the order's sz unit
        self._trade(acct, order, qty_base, qty, ref, "T")
        if order.remaining > 0 and order.ord_type in IMMEDIATE:
            fill_sz = order.fill_sz
            self._finish(acct, order, "canceled", order.u_time)
            order.fill_sz = fill_sz
            order.cancel_source = (
                codes.CANCEL_SOURCE_MARKET_REST
                if order.ord_type == "market"
                else codes.CANCEL_SOURCE_IOC
            )
            return
        self._after_fill(acct, order)

    def _after_fill(self, acct: AccountState, order: Order) -> None:
        """State after a fill: filled (funds left over released) or partially filled."""
        if order.remaining <= 0:
            self._unrest(order)
            self._release(acct, order)
            order.state = "filled"
            self._retire(acct, order)
        else:
            order.state = "partially_filled"

    def _trade(
        self,
        acct: AccountState,
        order: Order,
        qty_base: Decimal,
        qty: Decimal,
        px: Decimal,
        exec_type: str,
    ) -> None:
        """One fill of ``qty_base`` (``qty`` in the order's sz unit) at ``px``: moves
        balances (spot) or the position (derivatives), updates the order's fill
        fields and notes the fill for the fills / sprd-trades channels."""
        self._next_trade_id += 1
        trade_id = str(self._next_trade_id)
        now = order.u_time
        inst = order.inst
        if inst.inst_type == "SPOT":
            self._settle(acct, order, qty_base, qty, px)
        elif inst.inst_type in POSITION_TYPES:
            self._position(acct, order, qty_base, px, trade_id, now)
        order.acc_fill_sz += qty
        order.acc_base += qty_base
        order.fill_notional += qty_base * px
        order.fill_sz = order.last_fill_sz = qty_base
        order.fill_px = px
        order.trade_id = trade_id
        order.fill_time = now
        order.exec_type = exec_type
        fill = Fill(order, trade_id, px, qty_base, now, exec_type)
        acct.pending.fills.append(fill)
        if self.on_fill is not None:
            self.on_fill(fill)

    def _settle(
        self, acct: AccountState, order: Order, qty_base: Decimal, qty: Decimal, px: Decimal
    ) -> None:
        """Move spot balances for a fill of ``qty_base`` at ``px``."""
        inst = order.inst
        ccy, quote = order.reserved_ccy, order.quote_ccy or inst.quote
        if order.side == "buy":
            if order.sz_in_quote:
                used = qty
            else:
                used = (order.px if order.px is not None else inst.ref_px) * qty_base
            spent = qty_base * px
            acct.frozen[ccy] -= used
            order.reserved -= used
            acct.avail[ccy] += used - spent
            acct.avail[inst.base] = acct.avail.get(inst.base, ZERO) + qty_base
        else:
            acct.frozen[ccy] -= qty_base
            order.reserved -= qty_base
            acct.avail[quote] = acct.avail.get(quote, ZERO) + qty_base * px
        acct.moved(inst.base, cash=True)
        acct.moved(quote, cash=True)

    def _position(
        self,
        acct: AccountState,
        order: Order,
        qty: Decimal,
        px: Decimal,
        trade_id: str,
        now_ms: int,
    ) -> None:
        """Book a derivatives fill on its position (created on first use)."""
        key = (order.inst.inst_id, order.td_mode, order.pos_side or "net")
        position = acct.positions.get(key)
        if position is None:
            self._next_pos_id += 1
            position = Position(str(self._next_pos_id), order.inst, key[1], key[2], c_time=now_ms)
            acct.positions[key] = position
        position.apply(qty if order.side == "buy" else -qty, px)
        position.trade_id = trade_id
        position.u_time = now_ms
        acct.pending.positions[key] = position

    # op name -> handler.  Kept here so the server's dispatch is one dict lookup.
    HANDLERS: dict[str, Handler] = {}


Engine.HANDLERS = {
    "order": Engine.place,
    "batch-orders": Engine.place,
    "cancel-order": Engine.cancel,
    "batch-cancel-orders": Engine.cancel,
    "amend-order": Engine.amend,
    "batch-amend-orders": Engine.amend,
    "mass-cancel": Engine.mass_cancel,
    "sprd-order": Engine.place_spread,
    "sprd-amend-order": Engine.amend_spread,
    "sprd-cancel-order": Engine.cancel_spread,
    "sprd-mass-cancel": Engine.mass_cancel_spread,
}


def _insufficient(ccy: str) -> ItemError:
    return ItemError(
        codes.INSUFFICIENT_BALANCE, f"Order failed. Insufficient {ccy} balance in account."
    )


def _side_type(item: dict[str, Any], ord_types: frozenset[str]) -> tuple[str, str]:
    side = _str(item, "side", required=True)
    if side not in ("buy", "sell"):
        raise param_error("side")
    ord_type = _str(item, "ordType", required=True)
    if ord_type not in ord_types:
        raise param_error("ordType")
    return side, ord_type


def _check_slippage(item: dict[str, Any]) -> None:
    """slippagePct within OKX's range and precision (codes.SLIPPAGE_*); the simulator's
    book has no slippage, so it changes nothing else."""
    pct = _dec(item, "slippagePct", required=False, positive=False)
    if pct is None:
        return
    if not ZERO <= pct <= Decimal(codes.SLIPPAGE_MAX):
        raise ItemError(codes.SLIPPAGE_RANGE, codes.SLIPPAGE_RANGE_MSG)
    exponent = pct.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > codes.SLIPPAGE_MAX_DECIMALS:
        raise ItemError(codes.SLIPPAGE_PRECISION, codes.SLIPPAGE_PRECISION_MSG)


def _trade_quote_ccy(item: dict[str, Any], inst: Instrument) -> str:
    """The currency a spot order trades in: tradeQuoteCcy, which must be in the pair's
    tradeQuoteCcyList, else the pair's quote; "" off SPOT, where tradeQuoteCcy is refused
    (OKX: "Only applicable to SPOT"; *uncertain* whether OKX refuses or ignores it)."""
    wanted = _str(item, "tradeQuoteCcy")
    if inst.inst_type != "SPOT":
        if wanted:
            raise param_error("tradeQuoteCcy")
        return ""
    if wanted and wanted not in inst.trade_quote_ccys:
        # *Uncertain*: OKX documents the rule, not its code; 51000 like any bad value.
        raise param_error("tradeQuoteCcy")
    return wanted or inst.quote


def _cl_ord_id_tag(acct: AccountState, item: dict[str, Any]) -> tuple[str, str]:
    cl_ord_id = _str(item, "clOrdId")
    if cl_ord_id and (
        len(cl_ord_id) > 32
        or not cl_ord_id.isascii()
        or not cl_ord_id.isalnum()
        or not cl_ord_id[0].isalpha()
    ):
        raise param_error("clOrdId")
    tag = _str(item, "tag")
    if tag and (len(tag) > 16 or not tag.isascii() or not tag.isalnum()):
        raise param_error("tag")
    if cl_ord_id:
        existing = acct.by_cl_ord_id.get(cl_ord_id)
        if existing is not None and existing.is_live:
            raise ItemError(codes.DUPLICATE_CL_ORD_ID, "Duplicated clOrdId")
    return cl_ord_id, tag
