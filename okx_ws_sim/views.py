"""OKX's views of the engine's state: each item a channel pushes or a REST query returns.

Shapes transcribed from OKX's docs-v5 pages (as mirrored 2026-06): "WS / Order
channel" and "GET / Order details" (order-book orders), "WS / Fills channel",
"Account channel", "Positions channel", "Balance and position channel", and the
spread "Order channel", "Trades channel" and "GET / Order details".  Every number
is a decimal string; a field that does not apply is ``""`` as OKX sends it.  The
fields OKX documents for features the simulator lacks (algo orders, TP/SL,
options greeks, borrowing...) are there with their empty values, so a client
that reads them finds what OKX would send an ordinary account.

The push and REST views of an order differ where OKX's do: the push describes
*this update* (fillSz / fillPx / tradeId / fillTime / execType / fillFee are
those of the fill it reports, ``"0"`` / ``""`` when it reports none, avgPx
``"0"`` before any fill), the REST answer the *last fill* (avgPx ``""`` before
any fill) and has no reqId / amendResult / code / msg.

Pure: no clock and no I/O; every time is passed in.  The engine's types are
only imported for annotations, so ``engine`` may import this module.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from .engine import AccountState, Fill, Order, Position
    from .instruments import Instrument

_ZERO: Final = Decimal(0)
# Leverage the simulator trades derivatives at: its margin rate is 0.1 (engine.py).
LEVER: Final = "10"
# Currencies worth one US dollar (OKX prices them near 1; exactly 1 here).
USD_LIKE: Final = frozenset({"USD", "USDT", "USDC"})

# Order fields for features the simulator lacks, with the value OKX sends an
# ordinary order ("" or false-ish); shared by the push and the REST view.
_ORDER_EMPTY: Final[dict[str, Any]] = {
    "algoClOrdId": "",
    "algoId": "",
    "attachAlgoClOrdId": "",
    "attachAlgoOrds": [],
    "cancelSourceReason": "",
    "category": "normal",
    "ccy": "",
    "isTpLimit": "false",
    "linkedAlgoOrd": {"algoId": ""},
    "pnl": "0",
    "pxType": "",
    "pxUsd": "",
    "pxVol": "",
    "quickMgnType": "",
    "rebate": "0",
    "slOrdPx": "",
    "slTriggerPx": "",
    "slTriggerPxType": "",
    "source": "",
    "stpId": "",
    "stpMode": "",
    "tpOrdPx": "",
    "tpTriggerPx": "",
    "tpTriggerPxType": "",
}


def fmt(value: Decimal | None) -> str:
    """Decimal to OKX's string form: no exponent, no trailing zeros ("" for None)."""
    if value is None:
        return ""
    if value == value.to_integral_value():
        return format(value.quantize(Decimal(1)), "f")
    return format(value.normalize(), "f")


def ms(value: int) -> str:
    """A Unix-ms time as OKX sends it; "" for none (0)."""
    return str(value) if value else ""


def usd_price(ccy: str, instruments: Mapping[str, Instrument]) -> Decimal | None:
    """What one unit of ``ccy`` is worth in USD: 1 for dollars, else the reference
    price of its ``-USDT`` spot pair; None when the simulator lists no such pair."""
    if ccy in USD_LIKE:
        return Decimal(1)
    inst = instruments.get(f"{ccy}-USDT")
    return inst.ref_px if inst is not None and inst.inst_type == "SPOT" else None


# -- orders ---------------------------------------------------------------------------
def fee_ccys(order: Order) -> tuple[str, str]:
    """(feeCcy, rebateCcy): spot buys pay fees in what they receive (base), sells in
    quote (OKX's examples); derivatives in the settlement currency."""
    inst = order.inst
    if inst.inst_type == "SPOT":
        quote = order.quote_ccy or inst.quote  # the tradeQuoteCcy it trades in
        return (inst.base, quote) if order.side == "buy" else (quote, inst.base)
    return inst.settle, inst.settle


def _lever(inst: Instrument) -> str:
    return LEVER if inst.inst_type in ("SWAP", "FUTURES") else ""


def _notional_usd(order: Order) -> str:
    """Estimated notional of the order in USD, "" when no USD price is known."""
    inst = order.inst
    px = order.px if order.px is not None else inst.ref_px
    if inst.inst_type == "SPOT" and inst.quote in USD_LIKE:
        return fmt(order.sz if order.sz_in_quote else order.sz * px)
    if inst.inst_type in ("SWAP", "FUTURES") and inst.settle in USD_LIKE:
        return fmt(order.sz * inst.ct_val * px)
    return ""


def _order_common(order: Order) -> dict[str, Any]:
    inst = order.inst
    fee_ccy, rebate_ccy = fee_ccys(order)
    return {
        **_ORDER_EMPTY,
        "instType": order.inst_type,
        "instId": inst.inst_id,
        "tgtCcy": order.tgt_ccy,
        "ordId": order.ord_id,
        "clOrdId": order.cl_ord_id,
        "tag": order.tag,
        "px": fmt(order.px),
        "sz": fmt(order.sz),
        "notionalUsd": _notional_usd(order),
        "ordType": order.ord_type,
        "side": order.side,
        "posSide": order.pos_side or ("net" if inst.inst_type != "SPOT" else ""),
        "tdMode": order.td_mode,
        "accFillSz": fmt(order.acc_base),
        "state": order.state,
        "lever": _lever(inst),
        "feeCcy": fee_ccy,
        "fee": "0",
        "rebateCcy": rebate_ccy,
        "reduceOnly": "true" if order.reduce_only else "false",
        "cancelSource": order.cancel_source,
        "tradeQuoteCcy": (order.quote_ccy or inst.quote) if inst.inst_type == "SPOT" else "",
        "uTime": str(order.u_time),
        "cTime": str(order.c_time),
    }


def order_push(order: Order) -> dict[str, Any]:
    """One item of an ``orders`` (or, for a spread order, ``sprd-orders``) push."""
    if order.is_spread:
        return sprd_order(order, push=True)
    item = _order_common(order)
    filled = order.fill_sz > 0
    inst = order.inst
    avg = order.avg_px
    item.update(
        fillPx=fmt(order.fill_px) if filled else "",
        tradeId=order.trade_id if filled else "",
        fillSz=fmt(order.fill_sz) if filled else "0",
        fillPnl="0",
        fillTime=ms(order.fill_time) if filled else "",
        fillFee="0",
        fillFeeCcy=fee_ccys(order)[0] if filled else "",
        fillPxVol="",
        fillPxUsd="",
        fillMarkVol="",
        fillFwdPx="",
        fillMarkPx=fmt(inst.ref_px) if filled and inst.inst_type != "SPOT" else "",
        fillIdxPx=fmt(inst.ref_px) if filled else "",
        fillNotionalUsd=(
            fmt(order.fill_sz * order.fill_px * _contract_value(inst))
            if filled
            and order.fill_px is not None
            and inst.inst_type != "OPTION"  # option prices are in coin
            and inst.quote in USD_LIKE
            else ""
        ),
        execType=order.exec_type if filled else "",
        avgPx=fmt(avg) if avg is not None else "0",
        amendSource="1" if order.amend_result == "0" else "",
        reqId=order.req_id,
        amendResult=order.amend_result,
        lastPx=fmt(inst.ref_px),
        code="0",
        msg="",
    )
    return item


def order_rest(order: Order) -> dict[str, Any]:
    """One item of ``GET /api/v5/trade/order`` and ``/trade/orders-pending``."""
    item = _order_common(order)
    avg = order.avg_px
    item.update(
        fillPx=fmt(order.fill_px),
        tradeId=order.trade_id,
        fillSz=fmt(order.last_fill_sz),
        fillTime=ms(order.fill_time),
        avgPx=fmt(avg),
    )
    return item


def _contract_value(inst: Instrument) -> Decimal:
    return inst.ct_val if inst.inst_type in ("SWAP", "FUTURES") else Decimal(1)


def sprd_order(order: Order, *, push: bool) -> dict[str, Any]:
    """A spread order: a ``sprd-orders`` push item (``push``) or an item of
    ``GET /api/v5/sprd/order``.  OKX: pendingFillSz + canceledSz + accFillSz = sz."""
    live = order.is_live
    avg = order.avg_px
    if push:  # this update's fill, if it reports one
        filled = order.fill_sz > 0
        fill_sz = fmt(order.fill_sz) if filled else "0"
        fill_px = fmt(order.fill_px) if filled else ""
        trade_id = order.trade_id if filled else ""
    else:  # the last fill
        fill_sz, fill_px, trade_id = fmt(order.last_fill_sz), fmt(order.fill_px), order.trade_id
    item: dict[str, Any] = {
        "sprdId": order.inst.inst_id,
        "ordId": order.ord_id,
        "clOrdId": order.cl_ord_id,
        "tag": order.tag,
        "px": fmt(order.px),
        "sz": fmt(order.sz),
        "ordType": order.ord_type,
        "side": order.side,
        "fillSz": fill_sz,
        "fillPx": fill_px,
        "tradeId": trade_id,
        "accFillSz": fmt(order.acc_base),
        "pendingFillSz": fmt(order.remaining if live else _ZERO),
        "pendingSettleSz": "0",
        "canceledSz": fmt(order.remaining if order.state == "canceled" else _ZERO),
        "state": order.state,
        "avgPx": fmt(avg) if avg is not None else "0",
        "cancelSource": order.cancel_source,
        "uTime": str(order.u_time),
        "cTime": str(order.c_time),
    }
    if push:
        item.update(code="0", msg="", reqId=order.req_id, amendResult=order.amend_result)
    return item


# -- fills ------------------------------------------------------------------------------
def _fills_cl_ord_id(cl_ord_id: str) -> str:
    """OKX's fills channel returns clOrdId only when it is a positive signed int64
    (1..2^63-1), else "0"; the orders channel always returns it."""
    if cl_ord_id.isascii() and cl_ord_id.isdigit() and 0 < int(cl_ord_id) < 2**63:
        return cl_ord_id
    return "0"


def fill_item(fill: Fill) -> dict[str, Any]:
    """One item of a ``fills`` push (one trade: count "1", never aggregated)."""
    order = fill.order
    return {
        "instId": order.inst.inst_id,
        "fillSz": fmt(fill.sz),
        "fillPx": fmt(fill.px),
        "side": order.side,
        "ts": str(fill.ts),
        "ordId": order.ord_id,
        "clOrdId": _fills_cl_ord_id(order.cl_ord_id),
        "tradeId": fill.trade_id,
        "execType": fill.exec_type,
        "count": "1",
    }


def sprd_legs(fill: Fill, instruments: Mapping[str, Instrument]) -> list[dict[str, Any]]:
    """The two legs of a spread trade, from the sprdId ``LEG1_LEG2``.

    *Uncertain*, our model: buying the spread buys the first leg and sells the
    second (OKX's example), the first leg trades at its reference price and the
    second at that plus the spread price; each leg's sz is the spread's, szCont
    its contracts ("" for spot); leg tradeIds are derived from the spread trade's.
    """
    order = fill.order
    names = order.inst.inst_id.split("_")
    legs: list[dict[str, Any]] = []
    first = instruments.get(names[0]) if names else None
    base_px = first.ref_px if first is not None else _ZERO
    for index, name in enumerate(names):
        inst = instruments.get(name)
        buy = (order.side == "buy") == (index == 0)
        px = base_px if index == 0 else base_px + fill.px
        contract = inst is not None and inst.inst_type in ("SWAP", "FUTURES", "OPTION")
        legs.append(
            {
                "instId": name,
                "px": fmt(px),
                "sz": fmt(fill.sz),
                "szCont": fmt(fill.sz / inst.ct_val) if contract and inst is not None else "",
                "side": "buy" if buy else "sell",
                "fillPnl": "",
                "fee": "0",
                "feeCcy": inst.settle if inst is not None else "",
                "tradeId": f"{fill.trade_id}{index + 1}",
            }
        )
    return legs


def sprd_trade_item(fill: Fill, instruments: Mapping[str, Instrument]) -> dict[str, Any]:
    """One item of a ``sprd-trades`` push (state filled: the sim never rejects one)."""
    order = fill.order
    return {
        "sprdId": order.inst.inst_id,
        "tradeId": fill.trade_id,
        "ordId": order.ord_id,
        "clOrdId": order.cl_ord_id,
        "tag": order.tag,
        "fillPx": fmt(fill.px),
        "fillSz": fmt(fill.sz),
        "side": order.side,
        "state": "filled",
        "execType": fill.exec_type,
        "ts": str(fill.ts),
        "legs": sprd_legs(fill, instruments),
        "code": "0",
        "msg": "",
    }


# -- balances ----------------------------------------------------------------------------
def nonzero_ccys(acct: AccountState) -> list[str]:
    """Currencies OKX includes in a snapshot: those with a non-zero balance."""
    return [ccy for ccy in acct.ccys() if acct.cash(ccy) != 0]


def balance_detail(
    acct: AccountState, ccy: str, instruments: Mapping[str, Instrument], now_ms: int
) -> dict[str, Any]:
    """One ``details`` item of the account channel (a Spot-mode account: fields that
    apply to other account modes are "")."""
    cash = acct.cash(ccy)
    frozen = acct.frozen.get(ccy, _ZERO)
    price = usd_price(ccy, instruments)
    return {
        "ccy": ccy,
        "eq": fmt(cash),
        "cashBal": fmt(cash),
        "uTime": str(acct.bal_u_time.get(ccy, now_ms)),
        "isoEq": "",
        "availEq": "",
        "disEq": "",
        "fixedBal": "0",
        "availBal": fmt(acct.avail.get(ccy, _ZERO)),
        "frozenBal": fmt(frozen),
        "ordFrozen": fmt(frozen),
        "liab": "",
        "upl": "",
        "uplLiab": "",
        "crossLiab": "",
        "isoLiab": "",
        "rewardBal": "0",
        "mgnRatio": "",
        "imr": "",
        "mmr": "",
        "interest": "",
        "twap": "0",
        "frpType": "0",
        "maxLoan": "",
        "eqUsd": fmt(cash * price) if price is not None else "",
        "borrowFroz": "",
        "notionalLever": "",
        "coinUsdPrice": fmt(price) if price is not None else "",
        "stgyEq": "0",
        "isoUpl": "",
        "spotInUseAmt": "",
        "clSpotInUseAmt": "",
        "maxSpotInUseAmt": "",
        "spotIsoBal": "0",
        "smtSyncEq": "0",
        "spotCopyTradingEq": "0",
        "spotBal": fmt(cash),
        "openAvgPx": "",
        "accAvgPx": "",
        "spotUpl": "",
        "spotUplRatio": "",
        "totalPnl": "",
        "totalPnlRatio": "",
        "colRes": "0",
        "colBorrAutoConversion": "0",
        "collateralEnabled": False,
        "autoLendStatus": "unsupported",
        "autoLendMtAmt": "0",
    }


def account_item(
    acct: AccountState,
    ccys: Iterable[str],
    instruments: Mapping[str, Instrument],
    now_ms: int,
) -> dict[str, Any]:
    """The one data item of an ``account`` push: account-wide totals (over every
    currency) and ``details`` for ``ccys``."""
    total = _ZERO
    for ccy in acct.ccys():
        price = usd_price(ccy, instruments)
        if price is not None:
            total += acct.cash(ccy) * price
    notional = sum(
        (abs(p.exposure) * p.inst.ct_val * (usd_price(p.inst.base, instruments) or _ZERO))
        for p in acct.positions.values()
    )
    return {
        "uTime": str(now_ms),
        "totalEq": fmt(total),
        "isoEq": "",
        "adjEq": fmt(total),
        "availEq": "",
        "ordFroz": "0",
        "imr": "0",
        "mmr": "0",
        "borrowFroz": "",
        "mgnRatio": "",
        "notionalUsd": fmt(Decimal(notional)),
        "notionalUsdForBorrow": "0",
        "notionalUsdForSwap": "",
        "notionalUsdForFutures": "",
        "notionalUsdForOption": "",
        "upl": "",
        "delta": "",
        "deltaLever": "",
        "deltaNeutralStatus": "0",
        "details": [balance_detail(acct, ccy, instruments, now_ms) for ccy in ccys],
    }


# -- positions -----------------------------------------------------------------------------
# Fields of a positions push the simulator does not model (loans, greeks, spot in use,
# liquidation): OKX sends "" where they do not apply, and so does the simulator.
_POSITION_BLANKS: Final[dict[str, str]] = dict.fromkeys(
    (
        "baseBal",
        "quoteBal",
        "baseBorrowed",
        "baseInterest",
        "quoteBorrowed",
        "quoteInterest",
        "posCcy",
        "nonSettleAvgPx",
        "liqPx",
        "mgnRatio",
        "mmr",
        "liab",
        "liabCcy",
        "pendingCloseOrdLiabVal",
        "deltaBS",
        "deltaPA",
        "gammaBS",
        "gammaPA",
        "thetaBS",
        "thetaPA",
        "vegaBS",
        "vegaPA",
        "spotInUseAmt",
        "spotInUseCcy",
        "clSpotInUseAmt",
        "maxSpotInUseAmt",
        "settledPnl",
        "bizRefId",
        "bizRefType",
    ),
    "",
)


def position_item(
    position: Position, instruments: Mapping[str, Instrument], now_ms: int
) -> dict[str, Any]:
    """One item of a ``positions`` push (a flat position has pos "0")."""
    inst = position.inst
    mark = inst.ref_px
    avg = position.avg_px
    open_ = position.exposure != 0
    upl = (mark - avg) * position.exposure * inst.ct_val if avg is not None and open_ else _ZERO
    base_usd = usd_price(inst.base, instruments)
    notional = abs(position.exposure) * inst.ct_val * (base_usd or _ZERO)
    margin = abs(position.exposure) * inst.ct_val * mark / Decimal(LEVER)
    cross = position.mgn_mode == "cross"
    option = inst.inst_type == "OPTION"
    cost = abs(position.exposure) * inst.ct_val * avg if avg is not None else _ZERO
    return {
        **_POSITION_BLANKS,
        "instType": inst.inst_type,
        "instId": inst.inst_id,
        "mgnMode": position.mgn_mode,
        "posId": position.pos_id,
        "posSide": position.pos_side,
        "pos": fmt(position.pos),
        "availPos": fmt(abs(position.pos)) if option else "",
        "avgPx": fmt(avg) if open_ else "",
        "upl": fmt(upl),
        "uplRatio": fmt(upl / cost) if cost else "0",
        "uplLastPx": fmt(upl),
        "uplRatioLastPx": fmt(upl / cost) if cost else "0",
        "lever": "" if option else LEVER,
        "markPx": fmt(mark),
        "imr": fmt(margin) if cross and not option else "",
        "margin": fmt(margin) if not cross and not option else "",
        "interest": "0",
        "tradeId": position.trade_id,
        "optVal": fmt(position.exposure * inst.ct_val * mark) if option else "",
        "notionalUsd": fmt(notional) if base_usd is not None else "",
        "adl": "1",
        "ccy": inst.settle,
        "last": fmt(mark),
        "idxPx": fmt(base_usd) if base_usd is not None else "",
        "usdPx": fmt(usd_price(inst.settle, instruments) or _ZERO),
        "bePx": fmt(avg) if open_ else "",
        "realizedPnl": fmt(position.pnl),
        "pnl": fmt(position.pnl),
        "fee": "0",
        "fundingFee": "0",
        "liqPenalty": "0",
        "closeOrderAlgo": [],
        "cTime": str(position.c_time),
        "uTime": str(position.u_time),
        "pTime": str(now_ms),
    }


def bal_pos_position(position: Position) -> dict[str, Any]:
    """One ``posData`` item of a ``balance_and_position`` push."""
    inst = position.inst
    return {
        "posId": position.pos_id,
        "tradeId": position.trade_id,
        "instId": inst.inst_id,
        "instType": inst.inst_type,
        "mgnMode": position.mgn_mode,
        "avgPx": fmt(position.avg_px) if position.exposure != 0 else "",
        "ccy": inst.settle,
        "posSide": position.pos_side,
        "pos": fmt(position.pos),
        "baseBal": "",
        "quoteBal": "",
        "posCcy": "",
        "nonSettleAvgPx": "",
        "settledPnl": "",
        "uTime": str(position.u_time),
    }


def bal_pos_item(
    acct: AccountState,
    event_type: str,
    ccys: Iterable[str],
    positions: Iterable[Position],
    fills: Iterable[Fill],
    now_ms: int,
) -> dict[str, Any]:
    """The one data item of a ``balance_and_position`` push.  OKX: "Only balData
    will be pushed if only the account balance changes; only posData will be
    pushed if only the position changes" (the other list is empty here)."""
    return {
        "pTime": str(now_ms),
        "eventType": event_type,
        "balData": [
            {
                "ccy": ccy,
                "cashBal": fmt(acct.cash(ccy)),
                "uTime": str(acct.bal_u_time.get(ccy, now_ms)),
            }
            for ccy in ccys
        ],
        "posData": [bal_pos_position(p) for p in positions],
        "trades": [{"instId": f.order.inst.inst_id, "tradeId": f.trade_id} for f in fills],
    }


__all__ = [
    "account_item",
    "bal_pos_item",
    "fill_item",
    "fmt",
    "order_push",
    "order_rest",
    "position_item",
    "sprd_order",
    "sprd_trade_item",
    "usd_price",
]
