"""The simulator's private and business channels over a real socket: what each pushes,
on which events, with OKX's documented fields (docs-v5 channel pages), snapshots on
subscribing, partial fills driven by ``Simulator.fill``, and refused subscriptions.

Expected field sets are written here from OKX's docs, not imported from the
simulator, so a field the simulator drops or misnames fails.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

from okx_ws_sim import Account, Simulator, SimulatorThread
from okx_ws_sim.testing import SAMPLE_ORDER, RawClient, inst_id_code

SPREAD = "BTC-USDT_BTC-USDT-SWAP"

# OKX's "WS / Order channel" push data (the fields an ordinary order has).
ORDER_PUSH_FIELDS = {
    "instType", "instId", "tgtCcy", "ccy", "ordId", "clOrdId", "tag", "px", "pxUsd", "pxVol",
    "pxType", "sz", "notionalUsd", "ordType", "side", "posSide", "tdMode", "fillPx", "tradeId",
    "fillSz", "fillPnl", "fillTime", "fillFee", "fillFeeCcy", "fillPxVol", "fillPxUsd",
    "fillMarkVol", "fillFwdPx", "fillMarkPx", "fillIdxPx", "execType", "accFillSz",
    "fillNotionalUsd", "avgPx", "state", "lever", "attachAlgoClOrdId", "tpTriggerPx",
    "tpTriggerPxType", "tpOrdPx", "slTriggerPx", "slTriggerPxType", "slOrdPx", "attachAlgoOrds",
    "linkedAlgoOrd", "stpId", "stpMode", "feeCcy", "fee", "rebateCcy", "rebate", "pnl", "source",
    "cancelSource", "amendSource", "category", "isTpLimit", "uTime", "cTime", "reqId",
    "amendResult", "reduceOnly", "quickMgnType", "algoClOrdId", "algoId", "lastPx", "code", "msg",
    "tradeQuoteCcy",
}  # fmt: skip
# Fields whose value is not a string in OKX's example.
NON_STRING = {"attachAlgoOrds", "linkedAlgoOrd"}
# OKX's "WS / Fills channel" push data.
FILL_FIELDS = {
    "instId", "fillSz", "fillPx", "side", "ts", "ordId", "clOrdId", "tradeId", "execType", "count",
}  # fmt: skip
ACCOUNT_FIELDS = {
    "uTime", "totalEq", "isoEq", "adjEq", "availEq", "ordFroz", "imr", "mmr", "mgnRatio",
    "notionalUsd", "upl", "details",
}  # fmt: skip
DETAIL_FIELDS = {
    "ccy", "eq", "cashBal", "uTime", "isoEq", "availEq", "disEq", "availBal", "frozenBal",
    "ordFrozen", "liab", "upl", "eqUsd", "coinUsdPrice",
}  # fmt: skip
POSITION_FIELDS = {
    "instType", "mgnMode", "posId", "posSide", "pos", "posCcy", "availPos", "avgPx", "upl",
    "uplRatio", "instId", "lever", "liqPx", "markPx", "imr", "margin", "mgnRatio", "mmr", "liab",
    "liabCcy", "interest", "tradeId", "notionalUsd", "optVal", "adl", "ccy", "last", "idxPx",
    "realizedPnl", "pnl", "fee", "fundingFee", "cTime", "uTime", "pTime",
}  # fmt: skip
POS_DATA_FIELDS = {
    "posId", "tradeId", "instId", "instType", "mgnMode", "avgPx", "ccy", "posSide", "pos",
    "posCcy", "uTime",
}  # fmt: skip
SPRD_ORDER_FIELDS = {
    "sprdId", "ordId", "clOrdId", "tag", "px", "sz", "ordType", "side", "fillSz", "fillPx",
    "tradeId", "accFillSz", "pendingFillSz", "pendingSettleSz", "canceledSz", "state", "avgPx",
    "cancelSource", "uTime", "cTime", "code", "msg", "reqId", "amendResult",
}  # fmt: skip
SPRD_TRADE_FIELDS = {
    "sprdId", "tradeId", "ordId", "clOrdId", "tag", "fillPx", "fillSz", "side", "state",
    "execType", "ts", "legs", "code", "msg",
}  # fmt: skip
LEG_FIELDS = {"instId", "px", "sz", "szCont", "side", "fillPnl", "fee", "feeCcy", "tradeId"}


def order(inst: str = "BTC-USDT", **over: Any) -> dict[str, Any]:
    item: dict[str, Any] = {**SAMPLE_ORDER, "instIdCode": inst_id_code(inst)}
    item.update(over)
    return {k: v for k, v in item.items() if v is not None}


def strings(item: dict[str, Any], skip: set[str] = NON_STRING) -> None:
    """Every value is a string (numbers as decimal strings), as OKX sends them."""
    wrong = {k: v for k, v in item.items() if k not in skip and not isinstance(v, str)}
    assert not wrong, wrong


class Inbox:
    """Pushes of one RawClient by channel, whatever order they arrive in."""

    def __init__(self, client: RawClient) -> None:
        self.client = client
        self.held: list[dict[str, Any]] = []

    def _pick(self, channel: str) -> dict[str, Any] | None:
        self.held += self.client.pushes
        self.client.pushes.clear()
        for i, frame in enumerate(self.held):
            if frame.get("arg", {}).get("channel") == channel and "data" in frame:
                return self.held.pop(i)
        return None

    async def next(self, channel: str, timeout: float = 2.0) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (frame := self._pick(channel)) is None:
            self.held.append(await self.client.recv(max(deadline - loop.time(), 0.001)))
        return frame

    async def none(self, channel: str, wait: float = 0.15) -> None:
        """No push of ``channel`` arrives within ``wait`` seconds."""
        with pytest.raises(asyncio.TimeoutError):
            await self.next(channel, wait)

    async def subscribe(self, arg: dict[str, Any]) -> dict[str, Any]:
        """Subscribe; returns the ack (pushes that follow it stay in the inbox)."""
        await self.client.send({"op": "subscribe", "args": [arg]})
        while True:
            frame = await self.client.recv()
            if "event" in frame:
                return frame
            self.held.append(frame)


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(seed=3) as s:
        yield s


@pytest.fixture
async def priv(sim: Simulator) -> AsyncIterator[Inbox]:
    async with await RawClient.open(sim.url("private")) as c:
        await c.login()
        yield Inbox(c)


@pytest.fixture
async def biz(sim: Simulator) -> AsyncIterator[Inbox]:
    async with await RawClient.open(sim.url("business")) as c:
        await c.login()
        yield Inbox(c)


async def subscribed(inbox: Inbox, *args: dict[str, Any]) -> None:
    for arg in args:
        ack = await inbox.subscribe(arg)
        assert ack["event"] == "subscribe" and ack["arg"] == arg, ack


def data0(push: dict[str, Any]) -> dict[str, Any]:
    assert len(push["data"]) == 1, push
    item: dict[str, Any] = push["data"][0]
    return item


# -- orders -----------------------------------------------------------------------------
async def test_orders_push_has_okx_fields_and_no_snapshot(sim: Simulator, priv: Inbox) -> None:
    await subscribed(priv, {"channel": "orders", "instType": "ANY"})
    await priv.none("orders")  # OKX: "Data will not be pushed when first subscribed"
    await priv.client.request("order", order(clOrdId="o1", tag="t1"))
    push = await priv.next("orders")
    assert push["arg"] == {"channel": "orders", "instType": "ANY", "uid": "100000001"}
    item = data0(push)
    assert ORDER_PUSH_FIELDS <= set(item), ORDER_PUSH_FIELDS - set(item)
    strings(item)
    assert (item["instType"], item["instId"], item["clOrdId"], item["tag"]) == (
        "SPOT", "BTC-USDT", "o1", "t1",
    )  # fmt: skip
    assert (item["px"], item["sz"], item["ordType"], item["side"], item["tdMode"]) == (
        "40000", "0.01", "limit", "buy", "cash",
    )  # fmt: skip
    # a live order reports no fill: fillSz "0", fillPx/tradeId/fillTime/execType "", avgPx "0"
    assert (item["state"], item["accFillSz"], item["fillSz"], item["avgPx"]) == (
        "live", "0", "0", "0",
    )  # fmt: skip
    assert item["fillPx"] == item["tradeId"] == item["fillTime"] == item["execType"] == ""
    assert (item["fee"], item["feeCcy"], item["rebateCcy"]) == ("0", "BTC", "USDT")
    assert (item["code"], item["msg"], item["reqId"], item["amendResult"]) == ("0", "", "", "")
    assert item["attachAlgoOrds"] == [] and item["linkedAlgoOrd"] == {"algoId": ""}
    assert item["cTime"] == item["uTime"] and item["cTime"].isdigit()
    assert sim.find_order("o1") == item  # the same view


async def test_amend_and_cancel_pushes(priv: Inbox) -> None:
    await subscribed(priv, {"channel": "orders", "instType": "SPOT"})
    await priv.client.request("order", order(clOrdId="a1"))
    await priv.next("orders")
    await priv.client.request(
        "amend-order", {"instIdCode": inst_id_code("BTC-USDT"), "clOrdId": "a1",
                        "newPx": "41000", "reqId": "r7"},
    )  # fmt: skip
    amended = data0(await priv.next("orders"))
    assert (amended["px"], amended["reqId"], amended["amendResult"]) == ("41000", "r7", "0")
    await priv.client.request(
        "cancel-order", {"instIdCode": inst_id_code("BTC-USDT"), "clOrdId": "a1"}
    )
    canceled = data0(await priv.next("orders"))
    assert (canceled["state"], canceled["cancelSource"], canceled["fillSz"]) == (
        "canceled", "1", "0",
    )  # fmt: skip
    # OKX: reqId / amendResult are "" on an update that is not an amendment
    assert (canceled["reqId"], canceled["amendResult"], canceled["px"]) == ("", "", "41000")


async def test_a_refused_amend_with_cxl_on_fail_cancels_the_order(
    sim: Simulator, priv: Inbox
) -> None:
    await subscribed(priv, {"channel": "orders", "instType": "ANY"})
    await priv.client.request("order", order(sz="0.4", clOrdId="x1"))
    await priv.next("orders")
    sim.fill("x1", "0.2")
    await priv.next("orders")
    reply = await priv.client.request(
        "amend-order", {"instIdCode": inst_id_code("BTC-USDT"), "clOrdId": "x1",
                        "newSz": "0.1", "cxlOnFail": True, "reqId": "r9"},
    )  # fmt: skip
    assert reply["data"][0]["sCode"] != "0"
    item = data0(await priv.next("orders"))
    # docs: amendResult is "" when cxlOnFail=true and the amendment is rejected
    assert (item["state"], item["reqId"], item["amendResult"]) == ("canceled", "r9", "")
    assert (item["accFillSz"], item["fillSz"]) == ("0.2", "0")


async def test_a_margin_order_is_a_margin_instrument_type(priv: Inbox) -> None:
    await subscribed(
        priv, {"channel": "orders", "instType": "SPOT"}, {"channel": "orders", "instType": "MARGIN"}
    )
    await priv.client.request("order", order(tdMode="cross", clOrdId="m1"))
    push = await priv.next("orders")
    assert push["arg"]["instType"] == "MARGIN" and data0(push)["instType"] == "MARGIN"
    await priv.none("orders")  # the SPOT subscription does not get it


# -- fills: partial, then full -------------------------------------------------------------
async def test_sim_fill_drives_partially_filled_then_filled_with_every_push(
    sim: Simulator, priv: Inbox
) -> None:
    await subscribed(
        priv,
        {"channel": "orders", "instType": "ANY"},
        {"channel": "fills"},
        {"channel": "account", "ccy": "BTC"},
        {"channel": "balance_and_position"},
    )
    await priv.next("account")  # the snapshots
    await priv.next("balance_and_position")
    await priv.client.request("order", order(sz="0.4", clOrdId="p1"))
    assert data0(await priv.next("orders"))["state"] == "live"
    await priv.none("account")  # placing froze USDT, and this subscription is for BTC only
    await priv.none("balance_and_position")  # no cash moved

    returned = sim.fill("p1", "0.1")
    part = data0(await priv.next("orders"))
    assert returned == part
    assert (part["state"], part["accFillSz"], part["fillSz"], part["fillPx"]) == (
        "partially_filled", "0.1", "0.1", "40000",
    )  # fmt: skip
    assert part["execType"] == "M" and part["avgPx"] == "40000" and part["tradeId"]
    assert part["fillTime"] == part["uTime"] and part["fillFeeCcy"] == "BTC"
    fill = await priv.next("fills")
    assert fill["arg"] == {"channel": "fills", "uid": "100000001"}
    item = data0(fill)
    assert set(item) == FILL_FIELDS
    strings(item)
    assert (item["tradeId"], item["ordId"], item["fillSz"], item["fillPx"], item["side"]) == (
        part["tradeId"], part["ordId"], "0.1", "40000", "buy",
    )  # fmt: skip
    assert (item["execType"], item["count"], item["instId"]) == ("M", "1", "BTC-USDT")
    assert item["clOrdId"] == "0"  # OKX: only a positive int64 clOrdId is returned here
    account = await priv.next("account")
    assert account["eventType"] == "event_update" and "curPage" not in account
    assert [d["ccy"] for d in data0(account)["details"]] == ["BTC"]
    assert data0(account)["details"][0]["cashBal"] == "10.1"
    bal_pos = data0(await priv.next("balance_and_position"))
    assert (bal_pos["eventType"], bal_pos["posData"]) == ("filled", [])
    assert bal_pos["balData"] == [
        {"ccy": "BTC", "cashBal": "10.1", "uTime": bal_pos["pTime"]},
        {"ccy": "USDT", "cashBal": "96000", "uTime": bal_pos["pTime"]},
    ]
    assert bal_pos["trades"] == [{"instId": "BTC-USDT", "tradeId": part["tradeId"]}]

    sim.fill("p1")  # what remains
    done = data0(await priv.next("orders"))
    assert (done["state"], done["accFillSz"], done["fillSz"], done["avgPx"]) == (
        "filled", "0.4", "0.3", "40000",
    )  # fmt: skip
    assert int(done["tradeId"]) > int(part["tradeId"])
    assert data0(await priv.next("fills"))["fillSz"] == "0.3"
    assert data0(await priv.next("account"))["details"][0]["cashBal"] == "10.4"
    assert sim.balances()["USDT"] == {"availBal": "84000", "frozenBal": "0"}


async def test_an_order_beyond_the_book_depth_fills_partially_at_once(
    sim: Simulator, priv: Inbox
) -> None:
    await subscribed(priv, {"channel": "orders", "instType": "SPOT"}, {"channel": "fills"})
    # ETH-USDT: reference price 3000, depth 10; a marketable buy of 12 takes 10 as taker
    await priv.client.request("order", order("ETH-USDT", px="3100", sz="12", clOrdId="d1"))
    first = data0(await priv.next("orders"))
    assert (first["state"], first["accFillSz"], first["fillSz"], first["fillPx"]) == (
        "partially_filled", "10", "10", "3000",
    )  # fmt: skip
    assert first["execType"] == "T"
    assert data0(await priv.next("fills"))["execType"] == "T"
    sim.fill("d1", px="3050")  # the rest as a maker, at a better price than its limit
    last = data0(await priv.next("orders"))
    avg = (Decimal(10) * 3000 + Decimal(2) * 3050) / 12
    assert (last["state"], last["accFillSz"], Decimal(last["avgPx"])) == ("filled", "12", avg)
    # unused funds frozen at the 3100 limit are released
    assert sim.balances()["USDT"] == {"availBal": str(100000 - 30000 - 6100), "frozenBal": "0"}


async def test_a_quote_sized_market_buy_reports_base_currency(priv: Inbox) -> None:
    await subscribed(priv, {"channel": "orders", "instType": "SPOT"})
    await priv.client.request("order", order(ordType="market", px=None, sz="1000"))
    item = data0(await priv.next("orders"))
    # OKX: accFillSz / fillSz are in base currency for market orders whatever tgtCcy
    assert (item["sz"], item["accFillSz"], item["fillSz"], item["avgPx"]) == (
        "1000", "0.02", "0.02", "50000",
    )  # fmt: skip


def test_fill_refuses_what_no_counterparty_could_do() -> None:
    with SimulatorThread() as s:
        with pytest.raises(KeyError):
            s.fill("nope")
        s.run(_place(s, order(clOrdId="f1", sz="0.5")))
        for bad in ({"sz": "0"}, {"sz": "0.6"}, {"sz": "-1"}, {"px": "40001"}, {"sz": 0.1}):
            with pytest.raises(ValueError):
                s.fill("f1", **bad)
        assert s.fill("f1", "0.2")["state"] == "partially_filled"
        assert s.fill("f1", px="39000")["state"] == "filled"  # better for a buy: allowed
        with pytest.raises(ValueError):
            s.fill("f1", "0.1")  # filled: not live any more
        assert s.balances()["BTC"]["availBal"] == "10.5"


async def _place(s: SimulatorThread, item: dict[str, Any]) -> None:
    async with await RawClient.open(s.url("private")) as c:
        await c.login()
        assert (await c.request("order", item))["code"] == "0"


# -- positions ----------------------------------------------------------------------------
async def test_swap_fills_open_and_close_a_position(sim: Simulator, priv: Inbox) -> None:
    await subscribed(
        priv, {"channel": "positions", "instType": "ANY"}, {"channel": "balance_and_position"}
    )
    empty = await priv.next("positions")
    assert (empty["eventType"], empty["curPage"], empty["lastPage"], empty["data"]) == (
        "snapshot", 1, True, [],
    )  # fmt: skip
    snapshot = data0(await priv.next("balance_and_position"))
    assert snapshot["eventType"] == "snapshot" and snapshot["posData"] == []
    assert [b["ccy"] for b in snapshot["balData"]] == ["BTC", "ETH", "USDT"]
    swap = order("BTC-USDT-SWAP", tdMode="cross", ordType="market", px=None, sz="5")
    await priv.client.request("order", {**swap, "clOrdId": "s1"})
    push = await priv.next("positions")
    assert push["eventType"] == "event_update" and push["arg"]["uid"] == "100000001"
    pos = data0(push)
    assert POSITION_FIELDS <= set(pos), POSITION_FIELDS - set(pos)
    strings(pos, {"closeOrderAlgo"})
    assert (pos["instType"], pos["instId"], pos["posSide"], pos["mgnMode"]) == (
        "SWAP", "BTC-USDT-SWAP", "net", "cross",
    )  # fmt: skip
    assert (pos["pos"], pos["avgPx"], pos["upl"], pos["lever"], pos["ccy"]) == (
        "5", "50000", "0", "10", "USDT",
    )  # fmt: skip
    assert pos["notionalUsd"] == "2500"  # 5 contracts x 0.01 BTC x 50000
    bal_pos = data0(await priv.next("balance_and_position"))
    assert bal_pos["eventType"] == "filled" and bal_pos["balData"] == []  # margin only checked
    (pos_data,) = bal_pos["posData"]
    assert POS_DATA_FIELDS <= set(pos_data)
    assert (pos_data["posId"], pos_data["pos"], pos_data["tradeId"]) == (
        pos["posId"], "5", pos["tradeId"],
    )  # fmt: skip
    assert sim.positions() == [{**pos, "pTime": sim.positions()[0]["pTime"]}]
    # close it at 51000 (a resting sell filled by a counterparty): pos "0", pnl realised
    await priv.client.request(
        "order", {**swap, "side": "sell", "ordType": "limit", "px": "51000", "clOrdId": "s2"}
    )
    sim.fill("s2")
    closed = data0(await priv.next("positions"))
    assert (closed["pos"], closed["posId"], closed["avgPx"]) == ("0", pos["posId"], "")
    assert closed["realizedPnl"] == closed["pnl"] == "50"  # 1000 x 5 x 0.01
    assert sim.positions() == []
    await subscribed(priv, {"channel": "positions", "instType": "SWAP"})
    assert (await priv.next("positions"))["data"] == []  # snapshots hold open positions only


async def test_positions_in_long_short_mode_and_filters(sim: Simulator, priv: Inbox) -> None:
    await subscribed(priv, {"channel": "positions", "instType": "FUTURES"})
    await priv.next("positions")
    swap = order("BTC-USDT-SWAP", tdMode="isolated", ordType="market", px=None, posSide="short")
    await priv.client.request("order", {**swap, "side": "sell", "sz": "3"})
    await priv.none("positions")  # a SWAP position: not for this FUTURES subscription
    await subscribed(priv, {"channel": "positions", "instType": "SWAP", "instFamily": "BTC-USDT"})
    pos = data0(await priv.next("positions"))  # its snapshot
    assert (pos["posSide"], pos["pos"], pos["mgnMode"]) == ("short", "3", "isolated")
    assert pos["margin"] != "" and pos["imr"] == ""  # isolated: margin, not imr


async def test_account_snapshot_and_event_updates(sim: Simulator, priv: Inbox) -> None:
    await subscribed(priv, {"channel": "account"})
    snap = await priv.next("account")
    assert (snap["eventType"], snap["curPage"], snap["lastPage"]) == ("snapshot", 1, True)
    assert snap["arg"] == {"channel": "account", "uid": "100000001"}
    item = data0(snap)
    assert ACCOUNT_FIELDS <= set(item)
    strings(item, {"details"})
    # every currency with a balance; USD values at the reference prices
    assert item["totalEq"] == str(100000 + 10 * 50000 + 100 * 3000)
    details = {d["ccy"]: d for d in item["details"]}
    assert list(details) == ["BTC", "ETH", "USDT"]
    btc = details["BTC"]
    assert DETAIL_FIELDS <= set(btc)
    strings(btc, {"collateralEnabled"})
    assert (btc["eq"], btc["cashBal"], btc["availBal"], btc["frozenBal"]) == ("10", "10", "10", "0")
    assert (btc["eqUsd"], btc["coinUsdPrice"]) == ("500000", "50000")
    # placing an order freezes funds: an event update with that currency only
    await priv.client.request("order", order(sz="0.5", clOrdId="e1"))
    update = await priv.next("account")
    assert update["eventType"] == "event_update" and "lastPage" not in update
    (usdt,) = data0(update)["details"]
    assert (usdt["ccy"], usdt["availBal"], usdt["frozenBal"], usdt["ordFrozen"]) == (
        "USDT", "80000", "20000", "20000",
    )  # fmt: skip
    assert usdt["cashBal"] == "100000"
    await priv.client.request(
        "cancel-order", {"instIdCode": inst_id_code("BTC-USDT"), "clOrdId": "e1"}
    )
    assert data0(await priv.next("account"))["details"][0]["frozenBal"] == "0"


async def test_account_snapshot_leaves_out_empty_currencies() -> None:
    broke = Account("k2", "s2", "p2", balances={"USDT": "5", "BTC": "0"})
    async with Simulator(accounts=[broke]) as s, await RawClient.open(s.url()) as c:
        await c.login(broke)
        inbox = Inbox(c)
        await subscribed(inbox, {"channel": "account"})
        assert [d["ccy"] for d in data0(await inbox.next("account"))["details"]] == ["USDT"]
        await subscribed(inbox, {"channel": "account", "ccy": "BTC"})
        assert data0(await inbox.next("account"))["details"] == []


# -- spreads --------------------------------------------------------------------------------
async def test_sprd_orders_and_sprd_trades_through_partial_fills(
    sim: Simulator, biz: Inbox
) -> None:
    await subscribed(biz, {"channel": "sprd-orders"}, {"channel": "sprd-trades", "sprdId": SPREAD})
    await biz.none("sprd-orders")
    await biz.client.request(
        "sprd-order", {"sprdId": SPREAD, "side": "buy", "ordType": "limit", "px": "20",
                       "sz": "3", "clOrdId": "sp1", "tag": "tg"},
    )  # fmt: skip
    live = data0(await biz.next("sprd-orders"))
    assert set(live) == SPRD_ORDER_FIELDS
    strings(live)
    assert (live["state"], live["pendingFillSz"], live["avgPx"], live["fillSz"]) == (
        "live", "3", "0", "0",
    )  # fmt: skip
    sim.fill("sp1", "1")
    part = data0(await biz.next("sprd-orders"))
    assert (part["state"], part["accFillSz"], part["pendingFillSz"], part["fillSz"]) == (
        "partially_filled", "1", "2", "1",
    )  # fmt: skip
    trade_push = await biz.next("sprd-trades")
    assert trade_push["arg"] == {"channel": "sprd-trades", "sprdId": SPREAD, "uid": "100000001"}
    trade = data0(trade_push)
    assert set(trade) == SPRD_TRADE_FIELDS
    strings(trade, {"legs"})
    assert (trade["tradeId"], trade["ordId"], trade["clOrdId"], trade["tag"]) == (
        part["tradeId"], part["ordId"], "sp1", "tg",
    )  # fmt: skip
    assert (trade["fillPx"], trade["fillSz"], trade["state"], trade["execType"]) == (
        "20", "1", "filled", "M",
    )  # fmt: skip
    legs = trade["legs"]
    assert [(leg["instId"], leg["side"]) for leg in legs] == [
        ("BTC-USDT", "buy"), ("BTC-USDT-SWAP", "sell"),
    ]  # fmt: skip
    assert all(set(leg) == LEG_FIELDS for leg in legs)
    sim.fill("sp1")
    done = data0(await biz.next("sprd-orders"))
    assert (done["state"], done["accFillSz"], done["pendingFillSz"], done["canceledSz"]) == (
        "filled", "3", "0", "0",
    )  # fmt: skip
    assert data0(await biz.next("sprd-trades"))["fillSz"] == "2"


async def test_sprd_cancel_reports_the_canceled_size(biz: Inbox) -> None:
    await subscribed(biz, {"channel": "sprd-orders", "sprdId": SPREAD})
    await biz.client.request(
        "sprd-order",
        {
            "sprdId": SPREAD,
            "side": "buy",
            "ordType": "limit",
            "px": "1",
            "sz": "2",
            "clOrdId": "c1",
        },
    )
    await biz.next("sprd-orders")
    await biz.client.request("sprd-cancel-order", {"clOrdId": "c1"})
    item = data0(await biz.next("sprd-orders"))
    assert (item["state"], item["canceledSz"], item["pendingFillSz"], item["cancelSource"]) == (
        "canceled", "2", "0", "1",
    )  # fmt: skip


# -- subscriptions refused ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("arg", "code"),
    [
        ({"channel": "orders"}, "60012"),  # instType is required
        ({"channel": "orders", "instType": "ANY", "instID": "BTC-USDT"}, "60012"),  # unknown key
        ({"channel": "orders", "instType": 5}, "60012"),  # not a string
        ({"channel": "orders", "instType": "FOO"}, "60018"),
        ({"channel": "orders", "instType": "ANY", "instId": "NOPE-USDT"}, "60018"),
        ({"channel": "orders", "instType": "SWAP", "instId": "BTC-USDT"}, "60018"),  # wrong type
        ({"channel": "orders", "instType": "ANY", "instId": SPREAD}, "60018"),
        ({"channel": "orders", "instType": "FUTURES", "instFamily": "NOPE-USD"}, "60018"),
        ({"channel": "fills", "instId": "NOPE"}, "60018"),
        ({"channel": "positions", "instType": "SPOT"}, "60018"),  # positions have no SPOT
        ({"channel": "positions"}, "60012"),
        ({"channel": "account", "currency": "BTC"}, "60012"),
        ({"channel": "balance_and_position", "ccy": "BTC"}, "60012"),
    ],
)
async def test_private_subscription_args_are_checked(
    priv: Inbox, arg: dict[str, Any], code: str
) -> None:
    reply = await priv.subscribe(arg)
    assert (reply["event"], reply["code"]) == ("error", code), reply
    assert "connId" in reply


async def test_business_subscription_args_are_checked(biz: Inbox) -> None:
    reply = await biz.subscribe({"channel": "sprd-orders", "sprdId": "NOPE_NOPE"})
    assert reply["code"] == "60018" and "sprdId:NOPE_NOPE" in reply["msg"]
    reply = await biz.subscribe({"channel": "sprd-trades", "instId": "BTC-USDT"})
    assert reply["code"] == "60012"


async def test_accepted_variants_of_each_channel(priv: Inbox, biz: Inbox) -> None:
    for arg in (
        {"channel": "orders", "instType": "FUTURES", "instFamily": "BTC-USDT"},
        {"channel": "orders", "instType": "OPTION", "instFamily": "BTC-USD"},
        {"channel": "orders", "instType": "MARGIN", "instId": "BTC-USDT"},
        {"channel": "fills", "instId": "BTC-USDT-SWAP"},
        {"channel": "account", "ccy": "ETH", "extraParams": '{"updateInterval": "0"}'},
        {"channel": "positions", "instType": "ANY", "instId": "ETH-USDT-SWAP"},
    ):
        assert (await priv.subscribe(arg))["event"] == "subscribe", arg
    await subscribed(biz, {"channel": "sprd-trades"}, {"channel": "sprd-orders", "sprdId": SPREAD})


async def test_fills_filter_by_instrument_and_unsubscribe(sim: Simulator, priv: Inbox) -> None:
    await subscribed(priv, {"channel": "fills", "instId": "ETH-USDT"})
    await priv.client.request("order", order(px="60000", clOrdId="x1"))  # BTC-USDT, fills
    await priv.none("fills")
    await priv.client.request("order", order("ETH-USDT", px="3000", sz="1", clOrdId="x2"))
    assert data0(await priv.next("fills"))["instId"] == "ETH-USDT"
    await priv.client.send(
        {"op": "unsubscribe", "args": [{"channel": "fills", "instId": "ETH-USDT"}]}
    )
    assert (await priv.client.recv())["event"] == "unsubscribe"
    await priv.client.request("order", order("ETH-USDT", px="3000", sz="1", clOrdId="x3"))
    await priv.none("fills")


async def test_every_connection_of_the_account_gets_the_pushes(sim: Simulator) -> None:
    async with (
        await RawClient.open(sim.url()) as a,
        await RawClient.open(sim.url()) as b,
    ):
        await a.login()
        await b.login()
        first, second = Inbox(a), Inbox(b)
        await subscribed(first, {"channel": "fills"})
        await subscribed(second, {"channel": "fills"})
        await a.request("order", order(px="60000"))
        assert data0(await first.next("fills")) == data0(await second.next("fills"))


async def test_dropped_reply_still_pushes_to_other_connections(sim: Simulator) -> None:
    async with await RawClient.open(sim.url()) as watcher, await RawClient.open(sim.url()) as c:
        await watcher.login()
        await c.login()
        inbox = Inbox(watcher)
        await subscribed(inbox, {"channel": "orders", "instType": "ANY"}, {"channel": "fills"})
        sim.faults.drop_after_execute("order")
        await c.send({"id": "q1", "op": "order", "args": [order(px="60000", clOrdId="lost")]})
        assert data0(await inbox.next("orders"))["state"] == "filled"
        assert data0(await inbox.next("fills"))["ordId"] == sim.find_order("lost")["ordId"]  # type: ignore[index]


async def test_delisting_pushes_the_canceled_orders_and_the_released_funds(
    sim: Simulator, priv: Inbox
) -> None:
    await subscribed(priv, {"channel": "orders", "instType": "ANY"}, {"channel": "account"})
    await priv.next("account")
    await priv.client.request("order", order("ETH-USDT", px="2000", sz="1", clOrdId="dl1"))
    await priv.next("orders")
    await priv.next("account")
    sim.remove_instrument("ETH-USDT")
    canceled = data0(await priv.next("orders"))
    assert (canceled["state"], canceled["cancelSource"]) == ("canceled", "0")
    assert data0(await priv.next("account"))["details"][0]["frozenBal"] == "0"
