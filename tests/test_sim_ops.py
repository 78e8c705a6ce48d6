"""Simulator WS API ops over a real socket: happy paths, item error codes, pushes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from okx_ws_sim import Simulator
from okx_ws_sim.testing import SAMPLE_ORDER, RawClient, by_code, inst_id_code

SPREAD = "BTC-USDT_BTC-USDT-SWAP"
UNLISTED = 987654321  # an instIdCode no instrument has


def order(inst: str | None = None, **over: Any) -> dict[str, Any]:
    """SAMPLE_ORDER (BTC-USDT), on ``inst`` by its instIdCode; None drops a field."""
    item: dict[str, Any] = dict(SAMPLE_ORDER)
    if inst is not None:
        item["instIdCode"] = inst_id_code(inst)
    item.update(over)
    return {k: v for k, v in item.items() if v is not None}


def sprd(**over: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "sprdId": SPREAD,
        "side": "buy",
        "ordType": "limit",
        "px": "20",
        "sz": "1",
    }
    item.update(over)
    return item


@pytest.fixture
async def osim() -> AsyncIterator[Simulator]:
    async with Simulator(seed=7) as s:
        yield s


@pytest.fixture
async def priv(osim: Simulator) -> AsyncIterator[RawClient]:
    async with await RawClient.open(osim.url("private")) as c:
        await c.login()
        yield c


@pytest.fixture
async def biz(osim: Simulator) -> AsyncIterator[RawClient]:
    async with await RawClient.open(osim.url("business")) as c:
        await c.login()
        yield c


def item0(reply: dict[str, Any]) -> dict[str, Any]:
    data: list[dict[str, Any]] = reply["data"]
    assert len(data) == 1
    return data[0]


async def test_order_rests_and_echoes(osim: Simulator, priv: RawClient) -> None:
    r = await priv.request("order", order(clOrdId="abc1", tag="mytag"))
    it = item0(r)
    assert r["code"] == "0"
    assert (it["clOrdId"], it["tag"], it["sCode"]) == ("abc1", "mytag", "0")
    assert it["ordId"].isdigit() and it["ts"].isdigit() and len(it["ts"]) == 13
    o = osim.find_order(cl_ord_id="abc1")
    assert o is not None
    assert (o["ordId"], o["state"], o["px"], o["sz"], o["accFillSz"], o["tag"], o["instId"]) == (
        it["ordId"],
        "live",
        "40000",
        "0.01",
        "0",
        "mytag",
        "BTC-USDT",
    )
    assert osim.balances()["USDT"] == {"availBal": "99600", "frozenBal": "400"}


async def test_ord_ids_unique(priv: RawClient) -> None:
    r = await priv.request("batch-orders", *[order() for _ in range(20)])
    ids = [it["ordId"] for it in r["data"]]
    assert r["code"] == "0" and len(set(ids)) == 20


async def test_market_and_marketable_fill_at_ref(osim: Simulator, priv: RawClient) -> None:
    item0(await priv.request("order", order(px="55000", sz="1", clOrdId="m1")))
    item0(
        await priv.request(
            "order", order(ordType="market", px=None, side="sell", sz="2", clOrdId="m2")
        )
    )
    m1, m2 = osim.find_order("m1"), osim.find_order("m2")
    assert m1 is not None and m2 is not None
    assert (m1["state"], m1["avgPx"], m1["accFillSz"]) == ("filled", "50000", "1")
    assert (m2["state"], m2["avgPx"], m2["accFillSz"]) == ("filled", "50000", "2")
    bal = osim.balances()
    assert bal["BTC"]["availBal"] == "9" and bal["USDT"]["availBal"] == "150000"


async def test_partial_fill(osim: Simulator, priv: RawClient) -> None:
    item0(await priv.request("order", order("ETH-USDT", px="3000", sz="15", clOrdId="p1")))
    o = osim.find_order("p1")
    assert o is not None and (o["state"], o["accFillSz"]) == ("partially_filled", "10")


async def test_insufficient_balance(osim: Simulator, priv: RawClient) -> None:
    r = await priv.request("order", order(sz="10", px="40000"))
    assert r["code"] == "1" and item0(r)["sCode"] == "51008" and item0(r)["ordId"] == ""
    r = await priv.request("order", order(side="sell", sz="11"))
    assert item0(r)["sCode"] == "51008"
    assert osim.orders() == []


async def test_duplicate_live_cl_ord_id(priv: RawClient) -> None:
    assert item0(await priv.request("order", order(clOrdId="dup1")))["sCode"] == "0"
    it = item0(await priv.request("order", order(clOrdId="dup1")))
    assert it["sCode"] == "51016" and it["clOrdId"] == "dup1"
    await priv.request("cancel-order", by_code("BTC-USDT", clOrdId="dup1"))
    assert item0(await priv.request("order", order(clOrdId="dup1")))["sCode"] == "0"


@pytest.mark.parametrize(
    ("item", "code", "field"),
    [
        (order(instIdCode=UNLISTED), "51001", None),
        (order(sz=None), "50014", None),
        (order(sz="abc"), "51000", "sz"),
        (order(sz="-1"), "51000", "sz"),
        (order(px=None), "51000", "px"),
        (order(tdMode="nope"), "51000", "tdMode"),
        (order(side="up"), "51000", "side"),
        (order(clOrdId="1startsWithDigit"), "51000", "clOrdId"),
        (order(tag="x" * 17), "51000", "tag"),
        (order("BTC-USDT-SWAP", tdMode="cash"), "51000", "tdMode"),
    ],
)
async def test_order_item_errors(
    priv: RawClient, item: dict[str, Any], code: str, field: str | None
) -> None:
    r = await priv.request("order", item)
    it = item0(r)
    assert r["code"] == "1" and it["sCode"] == code
    if field:
        assert it["sMsg"] == f"Parameter {field} error"


async def test_numbers_must_be_strings(priv: RawClient) -> None:
    it = item0(await priv.request("order", order(sz=0.01)))
    assert (it["sCode"], it["sMsg"]) == ("51000", "Parameter sz error")


async def test_batch_partial_and_all_failed(priv: RawClient) -> None:
    r = await priv.request(
        "batch-orders", order(clOrdId="b1"), order(instIdCode=UNLISTED, clOrdId="b2")
    )
    assert r["code"] == "2"
    assert [it["sCode"] for it in r["data"]] == ["0", "51001"]
    assert [it["clOrdId"] for it in r["data"]] == ["b1", "b2"]
    r = await priv.request("batch-orders", order(instIdCode=UNLISTED), order(sz="0"))
    assert r["code"] == "1" and [it["sCode"] for it in r["data"]] == ["51001", "51000"]


async def test_swap_and_option_orders(osim: Simulator, priv: RawClient) -> None:
    it = item0(
        await priv.request(
            "order",
            order("BTC-USDT-SWAP", tdMode="cross", posSide="net", sz="3", px="49000"),
        )
    )
    assert it["sCode"] == "0"
    it = item0(
        await priv.request(
            "order", order("BTC-USD-251226-60000-C", tdMode="cross", px="0.04", sz="5")
        )
    )
    assert it["sCode"] == "0"
    states = {o["instId"]: o["state"] for o in osim.orders()}
    assert states == {"BTC-USDT-SWAP": "live", "BTC-USD-251226-60000-C": "live"}
    o = osim.orders()[0]
    # OKX's order items carry no instFamily (its docs list none; the arg may filter by it)
    assert o["instType"] == "SWAP" and o["posSide"] == "net" and o["lever"] == "10"


async def test_cancel(osim: Simulator, priv: RawClient) -> None:
    ord_id = item0(await priv.request("order", order(clOrdId="c1")))["ordId"]
    r = await priv.request("cancel-order", by_code("BTC-USDT", ordId=ord_id))
    it = item0(r)
    assert (
        r["code"] == "0" and it["sCode"] == "0" and it["ordId"] == ord_id and it["clOrdId"] == "c1"
    )
    assert list(it) == ["clOrdId", "ordId", "ts", "sCode", "sMsg"]
    assert osim.find_order("c1")["state"] == "canceled"  # type: ignore[index]
    assert osim.balances()["USDT"] == {"availBal": "100000", "frozenBal": "0"}
    again = item0(await priv.request("cancel-order", by_code("BTC-USDT", ordId=ord_id)))
    assert again["sCode"] == "51400"
    unknown = item0(await priv.request("cancel-order", by_code("BTC-USDT", clOrdId="nope1")))
    assert unknown["sCode"] == "51400" and unknown["clOrdId"] == "nope1"
    wrong_inst = item0(await priv.request("cancel-order", by_code("ETH-USDT", ordId=ord_id)))
    assert wrong_inst["sCode"] == "51400"
    neither = item0(await priv.request("cancel-order", by_code("BTC-USDT")))
    assert (neither["sCode"], neither["sMsg"]) == (
        "51003",
        "Either client order ID or order ID is required.",
    )


async def test_cancel_filled_order_fails(priv: RawClient) -> None:
    ord_id = item0(await priv.request("order", order(px="60000")))["ordId"]
    assert (
        item0(await priv.request("cancel-order", by_code("BTC-USDT", ordId=ord_id)))["sCode"]
        == "51400"
    )


async def test_batch_cancel(priv: RawClient) -> None:
    r = await priv.request("batch-orders", order(clOrdId="x1"), order(clOrdId="x2"))
    r = await priv.request(
        "batch-cancel-orders",
        by_code("BTC-USDT", clOrdId="x1"),
        by_code("BTC-USDT", clOrdId="x2"),
        by_code("BTC-USDT", clOrdId="x3"),
    )
    assert r["code"] == "2" and [it["sCode"] for it in r["data"]] == ["0", "0", "51400"]


async def test_amend(osim: Simulator, priv: RawClient) -> None:
    item0(await priv.request("order", order(clOrdId="a1")))
    r = await priv.request(
        "amend-order",
        by_code("BTC-USDT", clOrdId="a1", newPx="41000", newSz="0.02", reqId="req1"),
    )
    it = item0(r)
    assert r["code"] == "0" and it["reqId"] == "req1" and it["clOrdId"] == "a1"
    assert list(it) == ["clOrdId", "ordId", "reqId", "ts", "sCode", "sMsg", "subCode"]
    o = osim.find_order("a1")
    assert o is not None and (o["px"], o["sz"], o["state"], o["amendResult"]) == (
        "41000",
        "0.02",
        "live",
        "0",
    )
    assert osim.balances()["USDT"]["frozenBal"] == "820"
    # amend into the market: fills
    item0(await priv.request("amend-order", by_code("BTC-USDT", clOrdId="a1", newPx="51000")))
    assert osim.find_order("a1")["state"] == "filled"  # type: ignore[index]
    r = await priv.request("amend-order", by_code("BTC-USDT", clOrdId="a1", newPx="1"))
    assert item0(r)["sCode"] == "51503"


async def test_amend_errors(osim: Simulator, priv: RawClient) -> None:
    r = await priv.request("amend-order", by_code("BTC-USDT", ordId="123", newSz="1"))
    assert r["code"] == "1" and item0(r)["sCode"] == "51503"
    item0(await priv.request("order", order(clOrdId="a2")))
    r = await priv.request("amend-order", by_code("BTC-USDT", clOrdId="a2"))
    assert item0(r)["sCode"] == "51000"
    # too big for the balance: amend fails, order kept ...
    r = await priv.request("amend-order", by_code("BTC-USDT", clOrdId="a2", newSz="100"))
    assert item0(r)["sCode"] == "51008"
    assert osim.find_order("a2")["state"] == "live"  # type: ignore[index]
    # ... unless cxlOnFail
    r = await priv.request(
        "amend-order", by_code("BTC-USDT", clOrdId="a2", newSz="100", cxlOnFail=True)
    )
    assert item0(r)["sCode"] == "51008"
    assert osim.find_order("a2")["state"] == "canceled"  # type: ignore[index]
    assert osim.balances()["USDT"] == {"availBal": "100000", "frozenBal": "0"}


async def test_batch_amend(priv: RawClient) -> None:
    await priv.request("batch-orders", order(clOrdId="y1"), order(clOrdId="y2"))
    r = await priv.request(
        "batch-amend-orders",
        by_code("BTC-USDT", clOrdId="y1", newSz="0.02"),
        by_code("BTC-USDT", clOrdId="y2", newSz="0.03"),
    )
    assert r["code"] == "0" and len(r["data"]) == 2


async def test_mass_cancel(osim: Simulator, priv: RawClient) -> None:
    opt = order("BTC-USD-251226-60000-C", tdMode="cross", px="0.01", sz="1")
    await priv.request(
        "batch-orders", dict(opt, clOrdId="o1"), dict(opt, clOrdId="o2"), order(clOrdId="s1")
    )
    r = await priv.request(
        "mass-cancel", {"instType": "OPTION", "instFamily": "BTC-USD", "lockInterval": "0"}
    )
    assert r["code"] == "0" and r["data"] == [{"result": True}]
    states = {o["clOrdId"]: o["state"] for o in osim.orders()}
    assert states == {"o1": "canceled", "o2": "canceled", "s1": "live"}
    r = await priv.request("mass-cancel", {"instType": "OPTION"})
    assert (r["code"], r["msg"], r["data"]) == (
        "50014",
        "Parameter instFamily can not be empty.",
        [],
    )
    r = await priv.request("mass-cancel", {"instType": "SWAP", "instFamily": "BTC-USDT"})
    assert (r["code"], r["msg"]) == ("51000", "Parameter instType error")


async def test_spread_ops(osim: Simulator, biz: RawClient) -> None:
    r = await biz.request("sprd-order", sprd(clOrdId="sp1", tag="t1"))
    it = item0(r)
    assert r["code"] == "0" and list(it) == ["clOrdId", "ordId", "tag", "sCode", "sMsg"]
    o = osim.find_order("sp1")
    assert o is not None and o["sprdId"] == SPREAD and o["state"] == "live"
    r = await biz.request("sprd-amend-order", {"clOrdId": "sp1", "newSz": "2", "reqId": "q1"})
    assert item0(r)["sCode"] == "0" and item0(r)["reqId"] == "q1"
    r = await biz.request("sprd-cancel-order", {"ordId": it["ordId"]})
    assert item0(r)["sCode"] == "0"
    assert osim.find_order("sp1")["state"] == "canceled"  # type: ignore[index]
    assert item0(await biz.request("sprd-cancel-order", {"clOrdId": "sp1"}))["sCode"] == "51400"
    assert (
        item0(await biz.request("sprd-amend-order", {"clOrdId": "sp1", "newSz": "3"}))["sCode"]
        == "51503"
    )
    assert item0(await biz.request("sprd-order", sprd(sprdId="NOPE_NOPE")))["sCode"] == "51001"
    # marketable spread order fills
    await biz.request("sprd-order", sprd(px="30", clOrdId="sp2"))
    assert osim.find_order("sp2")["state"] == "filled"  # type: ignore[index]


async def test_spread_mass_cancel(osim: Simulator, biz: RawClient) -> None:
    await biz.request("sprd-order", sprd(clOrdId="m1"))
    await biz.request("sprd-order", sprd(sprdId="ETH-USDT_ETH-USDT-SWAP", px="1", clOrdId="m2"))
    r = await biz.request("sprd-mass-cancel", {"sprdId": SPREAD})
    assert r == {**r, "code": "0", "data": [{"result": True}]}
    assert [o["state"] for o in osim.orders()] == ["canceled", "live"]
    r = await biz.request("sprd-mass-cancel", {})
    assert [o["state"] for o in osim.orders()] == ["canceled", "canceled"]


async def test_orders_channel_pushes(osim: Simulator, priv: RawClient) -> None:
    ack = await priv.subscribe({"channel": "orders", "instType": "ANY"})
    assert (
        ack["event"] == "subscribe"
        and ack["arg"] == {"channel": "orders", "instType": "ANY"}
        and "connId" in ack
    )
    ord_id = item0(await priv.request("order", order(clOrdId="push1")))["ordId"]
    push = await priv.next_push()
    assert push["arg"]["channel"] == "orders" and push["arg"]["uid"]
    assert push["data"][0]["ordId"] == ord_id and push["data"][0]["state"] == "live"
    await priv.request("cancel-order", by_code("BTC-USDT", ordId=ord_id))
    assert (await priv.next_push())["data"][0]["state"] == "canceled"
    # a second connection of the same account sees the pushes too, filtered by instType
    async with await RawClient.open(osim.url("private")) as other:
        await other.login()
        await other.subscribe({"channel": "orders", "instType": "SWAP"})
        await priv.request("order", order(clOrdId="spot2"))
        await priv.request("order", order("BTC-USDT-SWAP", tdMode="cross", clOrdId="swap1"))
        assert (await other.next_push())["data"][0]["clOrdId"] == "swap1"
    assert [p["data"][0]["clOrdId"] for p in [await priv.next_push(), await priv.next_push()]] == [
        "spot2",
        "swap1",
    ]
    await priv.send({"op": "unsubscribe", "args": [{"channel": "orders", "instType": "ANY"}]})
    assert (await priv.recv())["event"] == "unsubscribe"
    await priv.request("order", order(clOrdId="quiet1"))
    assert priv.pushes == []


async def test_sprd_orders_channel(biz: RawClient) -> None:
    ack = await biz.subscribe({"channel": "sprd-orders", "sprdId": SPREAD})
    assert ack["event"] == "subscribe"
    await biz.request("sprd-order", sprd(clOrdId="sp9"))
    push = await biz.next_push()
    assert push["arg"]["channel"] == "sprd-orders" and push["data"][0]["clOrdId"] == "sp9"


async def test_subscribe_errors(osim: Simulator) -> None:
    async with await RawClient.open(osim.url("private")) as c:
        r = await c.subscribe({"channel": "orders", "instType": "ANY"})
        assert (r["event"], r["code"]) == ("error", "60011")
        await c.login()
        r = await c.subscribe({"channel": "no-such-channel"})
        assert (r["event"], r["code"]) == ("error", "60018")
        r = await c.subscribe({"channel": "sprd-orders"})  # business-only channel
        assert r["code"] == "60018"
        await c.send({"op": "subscribe", "args": "orders"})
        assert (await c.recv())["code"] == "60012"


async def test_public_tickers(osim: Simulator) -> None:
    async with await RawClient.open(osim.url("public")) as c:
        ack = await c.subscribe({"channel": "tickers", "instId": "BTC-USDT"})
        assert ack["event"] == "subscribe"
        push = await c.recv()
        assert (
            push["arg"] == {"channel": "tickers", "instId": "BTC-USDT"}
            and push["data"][0]["last"] == "50000"
        )
        # tickers keep coming: the error is the next event frame, not the next frame
        await c.send({"op": "subscribe", "args": [{"channel": "tickers", "instId": "NOPE"}]})
        assert (await c.reply_event("subscribe"))["code"] == "60018"


async def test_channel_conn_count_opt_in() -> None:
    async with Simulator(channel_conn_count=True) as s, await RawClient.open(s.url("private")) as c:
        await c.login()
        await c.subscribe({"channel": "orders", "instType": "ANY"})
        assert (await c.recv())["event"] == "channel-conn-count"


async def test_private_cancel_cannot_touch_spread_orders(
    osim: Simulator, priv: RawClient, biz: RawClient
) -> None:
    await biz.request("sprd-order", sprd(clOrdId="spx1"))
    r = await priv.request("cancel-order", by_code(SPREAD, clOrdId="spx1"))
    assert item0(r)["sCode"] == "51001"  # a spread's code names no plain instrument
    assert osim.find_order("spx1")["state"] == "live"  # type: ignore[index]


async def test_request_id_tracking_can_be_off() -> None:
    async with Simulator(track_request_ids=False) as s, await RawClient.open(s.url("private")) as c:
        await c.login()
        await c.request("order", order(), rid="id1")
        assert s.stats.request_ids == {} and s.stats.requests_total == 1
