"""The simulator speaks OKX as it is today (checked 2026-12): RPI names, tradeQuoteCcy,
pxAmendType, subCode in replies, retired ELP names refused, Crypto-USD spot pairs
delisted, post-only / RPI orders pushed ``live`` only after their reply and
``canceled`` alone when they would cross, and the RPI minimum notional (54051).

Protocol-level: raw frames over a socket (``RawClient``), never the okx-ws client,
so these pin the simulator's own table (``okx_ws_sim/rules.py``), not the client's spec.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from okx_ws_sim import Simulator
from okx_ws_sim.auth import DEFAULT_BALANCES, Account, default_account
from okx_ws_sim.instruments import RETIRED_SPOT, Instrument
from okx_ws_sim.testing import SAMPLE_ORDER, RawClient, http_get, inst_id_code

# Default account plus the dollars a USDC pair trades in (tradeQuoteCcy USD or USDC).
_BASE = default_account()
ACCOUNT = Account(
    _BASE.api_key,
    _BASE.api_secret,
    _BASE.passphrase,
    balances={**DEFAULT_BALANCES, "USD": "50000", "USDC": "50000"},
    uid=_BASE.uid,
)
PLACE_AND_AMEND = ("order", "batch-orders", "amend-order", "batch-amend-orders")


def order(inst: str = "BTC-USDT", **over: Any) -> dict[str, Any]:
    """SAMPLE_ORDER (a resting BTC-USDT buy at 40000, 0.01 = 400 USD) on ``inst``."""
    item: dict[str, Any] = {**SAMPLE_ORDER, "instIdCode": inst_id_code(inst), **over}
    return {k: v for k, v in item.items() if v is not None}


def amend(ord_id: str, inst: str = "BTC-USDT", **over: Any) -> dict[str, Any]:
    return {"instIdCode": inst_id_code(inst), "ordId": ord_id, **over}


@pytest.fixture
async def csim() -> AsyncIterator[Simulator]:
    async with Simulator(seed=11, accounts=[ACCOUNT]) as s:
        yield s


@pytest.fixture
async def priv(csim: Simulator) -> AsyncIterator[RawClient]:
    async with await RawClient.open(csim.url("private")) as c:
        await c.login(ACCOUNT)
        yield c


async def subscribed(csim: Simulator) -> RawClient:
    """A private connection logged in and subscribed to every order push."""
    c = await RawClient.open(csim.url("private"))
    await c.login(ACCOUNT)
    ack = await c.subscribe({"channel": "orders", "instType": "ANY"})
    assert ack["event"] == "subscribe"
    return c


def item0(reply: dict[str, Any]) -> dict[str, Any]:
    data: list[dict[str, Any]] = reply["data"]
    assert len(data) == 1, reply
    return data[0]


async def placed(c: RawClient, **over: Any) -> dict[str, Any]:
    """Place ``order(**over)``; assert it succeeded; its reply item."""
    it = item0(await c.request("order", order(**over)))
    assert it["sCode"] == "0", it
    return it


async def fence(c: RawClient) -> None:
    """A request answered only after every push of the requests before it (one
    connection's frames are served in order): a cancel of an order that does not exist."""
    r = await c.request("cancel-order", {"instIdCode": inst_id_code("BTC-USDT"), "ordId": "1"})
    assert item0(r)["sCode"] == "51400"


def placed_id(sim: Simulator, cl_ord_id: str) -> str:
    o = sim.find_order(cl_ord_id=cl_ord_id)
    assert o is not None
    ord_id: str = o["ordId"]
    return ord_id


def order_pushes(c: RawClient, ord_id: str) -> list[dict[str, Any]]:
    """The orders-channel items of ``ord_id`` received so far, in order."""
    return [
        d
        for p in c.pushes
        if p.get("arg", {}).get("channel") == "orders"
        for d in p["data"]
        if d["ordId"] == ord_id
    ]


# -- 1. RPI fields, tradeQuoteCcy, pxAmendType accepted -------------------------------------
async def test_rpi_order_with_every_new_field_rests(csim: Simulator, priv: RawClient) -> None:
    it = await placed(
        priv,
        ordType="rpi",
        sz="0.02",  # 800 USD: above the SPOT RPI minimum
        clOrdId="rpi1",
        rpiTakerAccess=True,
        rpiPxRound=True,
        pxAmendType="1",
        tradeQuoteCcy="USDT",
    )
    o = csim.find_order(ord_id=it["ordId"])
    assert o is not None
    assert (o["ordType"], o["state"], o["tradeQuoteCcy"]) == ("rpi", "live", "USDT")


@pytest.mark.parametrize(
    "field_value",
    [
        {"rpiTakerAccess": True, "ordType": "ioc", "px": "60000"},
        {"rpiTakerAccess": False},
        {"rpiPxRound": False},
        {"pxAmendType": "0"},
        {"tradeQuoteCcy": "USDT"},
    ],
)
async def test_new_fields_accepted_on_plain_orders(
    priv: RawClient, field_value: dict[str, Any]
) -> None:
    await placed(priv, **field_value)


@pytest.mark.parametrize(
    ("field_value", "bad"),
    [
        ({"pxAmendType": "2"}, "pxAmendType"),
        ({"pxAmendType": 1}, "pxAmendType"),  # a string, never a number
        ({"rpiTakerAccess": "true"}, "rpiTakerAccess"),  # a JSON boolean, never "true"
        ({"rpiPxRound": 1}, "rpiPxRound"),
        ({"tradeQuoteCcy": 5}, "tradeQuoteCcy"),
    ],
)
async def test_new_fields_type_checked(
    priv: RawClient, field_value: dict[str, Any], bad: str
) -> None:
    it = item0(await priv.request("order", order(**field_value)))
    assert (it["sCode"], it["sMsg"]) == ("51000", f"Parameter {bad} error")


async def test_batch_orders_accept_rpi_fields(priv: RawClient) -> None:
    r = await priv.request(
        "batch-orders",
        order(ordType="rpi", sz="0.02", rpiPxRound=False),
        order(rpiTakerAccess=True, pxAmendType="1"),
    )
    assert r["code"] == "0", r
    assert [i["sCode"] for i in r["data"]] == ["0", "0"]


@pytest.mark.parametrize("op", ["amend-order", "batch-amend-orders"])
async def test_amend_accepts_px_amend_type_and_rpi_fields(
    csim: Simulator, priv: RawClient, op: str
) -> None:
    it = await placed(priv)
    r = await priv.request(
        op,
        amend(it["ordId"], newPx="39000", pxAmendType="1", rpiTakerAccess=True, rpiPxRound=True),
    )
    assert item0(r)["sCode"] == "0", r
    o = csim.find_order(ord_id=it["ordId"])
    assert o is not None and o["px"] == "39000"


async def test_amend_type_checks_new_fields(priv: RawClient) -> None:
    it = await placed(priv)
    r = await priv.request("amend-order", amend(it["ordId"], newSz="0.02", pxAmendType="x"))
    assert (item0(r)["sCode"], item0(r)["sMsg"]) == ("51000", "Parameter pxAmendType error")


# -- 2. retired ELP names refused -------------------------------------------------------------
async def test_ord_type_elp_refused_as_a_bad_value(csim: Simulator, priv: RawClient) -> None:
    r = await priv.request("order", order(ordType="elp", sz="0.02"))
    assert r["code"] == "1"
    assert (item0(r)["sCode"], item0(r)["sMsg"]) == ("51000", "Parameter ordType error")
    assert csim.orders() == []


@pytest.mark.parametrize("op", ["order", "batch-orders"])
async def test_is_elp_taker_access_refused_as_unknown(
    csim: Simulator, priv: RawClient, op: str
) -> None:
    r = await priv.request(op, order(ordType="ioc", px="60000", isElpTakerAccess=True))
    assert (item0(r)["sCode"], item0(r)["sMsg"]) == ("51000", "Parameter isElpTakerAccess error")
    assert csim.orders() == []


@pytest.mark.parametrize("op", ["amend-order", "batch-amend-orders"])
async def test_is_elp_taker_access_refused_on_amend(
    csim: Simulator, priv: RawClient, op: str
) -> None:
    it = await placed(priv)
    r = await priv.request(op, amend(it["ordId"], newPx="39000", isElpTakerAccess=True))
    assert (item0(r)["sCode"], item0(r)["sMsg"]) == ("51000", "Parameter isElpTakerAccess error")
    o = csim.find_order(ord_id=it["ordId"])
    assert o is not None and o["px"] == "40000"


async def test_elp_in_a_batch_fails_only_its_item(priv: RawClient) -> None:
    r = await priv.request("batch-orders", order(), order(ordType="elp"))
    assert r["code"] == "2"
    assert [i["sCode"] for i in r["data"]] == ["0", "51000"]


# -- 3. subCode in place / amend reply items ------------------------------------------------------
async def test_sub_code_empty_in_every_place_and_amend_item(priv: RawClient) -> None:
    ok = await placed(priv)
    assert ok["subCode"] == ""
    bad = item0(await priv.request("order", order(side="up")))
    assert (bad["sCode"], bad["subCode"]) == ("51000", "")
    batch = await priv.request("batch-orders", order(), order(sz="-1"))
    assert [(i["sCode"], i["subCode"]) for i in batch["data"]] == [("0", ""), ("51000", "")]
    amended = item0(await priv.request("amend-order", amend(ok["ordId"], newSz="0.02")))
    assert (amended["sCode"], amended["subCode"]) == ("0", "")
    missing = item0(await priv.request("amend-order", amend("42", newSz="0.02")))
    assert missing["sCode"] != "0" and missing["subCode"] == ""
    both = await priv.request(
        "batch-amend-orders", amend(ok["ordId"], newSz="0.03"), amend("42", newSz="1")
    )
    assert [i["subCode"] for i in both["data"]] == ["", ""]


async def test_sub_code_follows_s_msg(priv: RawClient) -> None:
    """OKX documents subCode right after sMsg in each item."""
    keys = list((await placed(priv)).keys())
    assert keys[-3:] == ["sCode", "sMsg", "subCode"]


async def test_cancel_items_carry_no_sub_code(priv: RawClient) -> None:
    it = await placed(priv)
    r = await priv.request("cancel-order", amend(it["ordId"]))
    assert item0(r)["sCode"] == "0" and "subCode" not in item0(r)


# -- 4. Crypto-USD spot pairs delisted (USD merged into USDC, 2026-09-30) -------------------------
async def spot_listing(sim: Simulator, query: str = "") -> list[dict[str, Any]]:
    reply = await http_get(f"{sim.rest_url}/api/v5/public/instruments?instType=SPOT{query}")
    body = reply.json()
    assert reply.status == 200 and body["code"] == "0", body
    data: list[dict[str, Any]] = body["data"]
    return data


async def test_usd_spot_pairs_absent_and_usdc_pairs_listed(csim: Simulator) -> None:
    listed = {i["instId"]: i for i in await spot_listing(csim)}
    assert not set(RETIRED_SPOT) & set(listed)
    assert {"BTC-USD", "ETH-USD"} <= set(RETIRED_SPOT)
    for inst_id in ("BTC-USDC", "ETH-USDC"):
        assert listed[inst_id]["quoteCcy"] == "USDC"
        assert listed[inst_id]["tradeQuoteCcyList"] == ["USDC", "USD"]
    assert listed["BTC-USDT"]["tradeQuoteCcyList"] == ["USDT"]
    codes = {i["instIdCode"] for i in listed.values()}
    assert not set(RETIRED_SPOT.values()) & codes


async def test_retired_usd_pair_by_inst_id_is_unknown(csim: Simulator) -> None:
    reply = await http_get(
        f"{csim.rest_url}/api/v5/public/instruments?instType=SPOT&instId=BTC-USD"
    )
    assert reply.json()["code"] == "51001"


async def test_order_on_a_retired_usd_code_gets_51001(csim: Simulator, priv: RawClient) -> None:
    item = {**order(), "instIdCode": RETIRED_SPOT["BTC-USD"]}
    it = item0(await priv.request("order", item))
    assert it["sCode"] == "51001"
    assert it["sMsg"] == "Instrument ID, Instrument ID code or Spread ID doesn't exist."
    assert csim.orders() == []


async def test_retired_code_never_reused(csim: Simulator) -> None:
    """A bot that cached BTC-USD's code must never trade another pair by it."""
    with pytest.raises(ValueError, match="retired"):
        csim.add_instrument(
            Instrument(
                "NEW-USDC",
                "SPOT",
                csim.engine.instruments["BTC-USDC"].ref_px,
                csim.engine.instruments["BTC-USDC"].depth,
                "NEW",
                "USDC",
                "USDC",
                inst_id_code=RETIRED_SPOT["BTC-USD"],
            )
        )


# -- tradeQuoteCcy: which dollars a USDC pair trades in -----------------------------------------
async def test_trade_quote_ccy_usd_spends_usd(csim: Simulator, priv: RawClient) -> None:
    it = await placed(priv, inst="BTC-USDC", tradeQuoteCcy="USD", px="40000", sz="0.1")
    o = csim.find_order(ord_id=it["ordId"])
    assert o is not None and (o["instId"], o["tradeQuoteCcy"]) == ("BTC-USDC", "USD")
    bal = csim.balances()
    assert (bal["USD"]["frozenBal"], bal["USDC"]["frozenBal"]) == ("4000", "0")


async def test_trade_quote_ccy_defaults_to_the_pairs_quote(
    csim: Simulator, priv: RawClient
) -> None:
    it = await placed(priv, inst="BTC-USDC", px="40000", sz="0.1")
    o = csim.find_order(ord_id=it["ordId"])
    assert o is not None and o["tradeQuoteCcy"] == "USDC"
    assert csim.balances()["USDC"]["frozenBal"] == "4000"


async def test_trade_quote_ccy_usd_sell_is_paid_in_usd(csim: Simulator, priv: RawClient) -> None:
    """A marketable sell fills at the reference price; the proceeds are USD."""
    ref = csim.engine.instruments["BTC-USDC"].ref_px
    before = csim.balances()["USD"]["availBal"]
    await placed(priv, inst="BTC-USDC", tradeQuoteCcy="USD", side="sell", px="1", sz="0.1")
    after = csim.balances()["USD"]["availBal"]
    assert float(after) - float(before) == pytest.approx(float(ref) * 0.1)


@pytest.mark.parametrize(
    ("inst", "ccy"),
    [("BTC-USDC", "USDT"), ("BTC-USDT", "USD"), ("BTC-USDT-SWAP", "USDT")],
)
async def test_trade_quote_ccy_outside_the_pairs_list_refused(
    priv: RawClient, inst: str, ccy: str
) -> None:
    over: dict[str, Any] = {"tdMode": "cross", "sz": "1"} if inst.endswith("SWAP") else {}
    it = item0(await priv.request("order", order(inst, tradeQuoteCcy=ccy, **over)))
    assert (it["sCode"], it["sMsg"]) == ("51000", "Parameter tradeQuoteCcy error")


# -- 5. orders channel: post-only and RPI (mid-August 2026) --------------------------------------
@pytest.mark.parametrize(
    ("ord_type", "sz"), [("post_only", "0.01"), ("mmp_and_post_only", "0.01"), ("rpi", "0.02")]
)
async def test_crossing_maker_order_pushed_canceled_only(
    csim: Simulator, ord_type: str, sz: str
) -> None:
    c = await subscribed(csim)
    try:
        it = await placed(c, ordType=ord_type, px="60000", sz=sz)  # buy above the book
        await fence(c)
        pushes = order_pushes(c, it["ordId"])
        assert [p["state"] for p in pushes] == ["canceled"]
        assert pushes[0]["cancelSource"] == "31"
        assert pushes[0]["ordType"] == ord_type
    finally:
        await c.close()


async def frames_until_push(c: RawClient, rid: str, ord_id_of: str) -> list[str]:
    """Read frames in arrival order until both the reply ``rid`` and an orders push
    arrived; their kinds ("reply" / "push") in that order."""
    kinds: list[str] = []
    while not ("reply" in kinds and "push" in kinds):
        frame = json.loads(await c.recv_text())
        if frame.get("id") == rid:
            kinds.append("reply")
        elif frame.get("arg", {}).get("channel") == "orders":
            assert frame["data"][0]["clOrdId"] == ord_id_of
            kinds.append("push")
    return kinds


@pytest.mark.parametrize(("ord_type", "sz"), [("post_only", "0.01"), ("rpi", "0.02")])
async def test_resting_maker_order_live_push_after_reply(
    csim: Simulator, ord_type: str, sz: str
) -> None:
    """Even when the reply is held back, the live push of a post-only / RPI order never
    precedes it: OKX pushes it once the order rests in the book."""
    c = await subscribed(csim)
    try:
        csim.faults.delay_replies(0.05)
        await c.send(
            {"id": "p1", "op": "order", "args": [order(ordType=ord_type, sz=sz, clOrdId="m1")]}
        )
        assert await frames_until_push(c, "p1", "m1") == ["reply", "push"]
    finally:
        await c.close()


async def test_limit_order_live_push_unchanged(csim: Simulator) -> None:
    """A plain limit order is still pushed live on receipt, before a late reply."""
    c = await subscribed(csim)
    try:
        csim.faults.delay_replies(0.05)
        await c.send({"id": "l1", "op": "order", "args": [order(clOrdId="l1")]})
        assert await frames_until_push(c, "l1", "l1") == ["push", "reply"]
    finally:
        await c.close()


async def test_held_live_push_never_overtaken(csim: Simulator) -> None:
    """A cancel sent before the post-only's (late) reply: its canceled push still comes
    after the live one."""
    c = await subscribed(csim)
    try:
        csim.faults.delay_replies(0.05)
        await c.send(
            {"id": "a1", "op": "order", "args": [order(ordType="post_only", clOrdId="h1")]}
        )
        await c.send(
            {
                "id": "a2",
                "op": "cancel-order",
                "args": [{"instIdCode": inst_id_code("BTC-USDT"), "clOrdId": "h1"}],
            }
        )
        await c.reply("a1")
        await c.reply("a2")
        await fence(c)
        assert [p["state"] for p in order_pushes(c, placed_id(csim, "h1"))] == ["live", "canceled"]
    finally:
        await c.close()


# -- 6. RPI minimum notional (54051, since 2026-09-15) ----------------------------------------------
@pytest.mark.parametrize(
    ("inst", "td_mode", "px", "ok_sz", "low_sz", "minimum"),
    [
        ("BTC-USDT", "cash", "40000", "0.0125", "0.0124", "500"),  # 500 USD ok, 496 not
        ("BTC-USDT-261225", "cross", "40000", "5", "4", "2000"),  # ctVal 0.01 BTC
        ("BTC-USDT-SWAP", "cross", "40000", "12.5", "12.49", "5000"),
    ],
)
async def test_rpi_minimum_notional(
    csim: Simulator,
    priv: RawClient,
    inst: str,
    td_mode: str,
    px: str,
    ok_sz: str,
    low_sz: str,
    minimum: str,
) -> None:
    base = {"ordType": "rpi", "tdMode": td_mode, "px": px}
    await placed(priv, inst=inst, sz=ok_sz, **base)
    low = item0(await priv.request("order", order(inst, sz=low_sz, **base)))
    assert low["sCode"] == "54051"
    assert f"({minimum} USD)" in low["sMsg"]
    assert len(csim.orders()) == 1


async def test_rpi_minimum_per_batch_item(priv: RawClient) -> None:
    r = await priv.request(
        "batch-orders", order(ordType="rpi", sz="0.02"), order(ordType="rpi", sz="0.01")
    )
    assert r["code"] == "2"
    assert [i["sCode"] for i in r["data"]] == ["0", "54051"]


async def test_rpi_minimum_not_for_other_orders(priv: RawClient) -> None:
    await placed(priv, sz="0.001")  # a 40 USD limit order
    await placed(priv, ordType="post_only", sz="0.001")
    await placed(priv, ordType="ioc", px="60000", sz="0.001", rpiTakerAccess=True)


async def test_rpi_amend_rechecks_only_a_new_size(csim: Simulator, priv: RawClient) -> None:
    it = await placed(priv, ordType="rpi", sz="0.02")  # 800 USD
    low = item0(await priv.request("amend-order", amend(it["ordId"], newSz="0.01")))
    assert low["sCode"] == "54051"
    o = csim.find_order(ord_id=it["ordId"])
    assert o is not None and (o["state"], o["sz"]) == ("live", "0.02")  # the order stays
    # A new price alone is not rechecked (OKX), even if it takes the value below 500.
    px_only = item0(await priv.request("amend-order", amend(it["ordId"], newPx="20000")))
    assert px_only["sCode"] == "0"
    # A new size is checked at the order's price after the amend.
    both = item0(await priv.request("amend-order", amend(it["ordId"], newSz="0.03", newPx="20000")))
    assert both["sCode"] == "0"


# -- slippagePct (SPOT market orders, since 2026-05-06) ---------------------------------------------
@pytest.mark.parametrize("pct", ["0", "0.01", "0.0123", "0.05"])
async def test_slippage_pct_accepted_on_a_spot_market_order(priv: RawClient, pct: str) -> None:
    await placed(priv, ordType="market", px=None, tgtCcy="base_ccy", sz="0.01", slippagePct=pct)


@pytest.mark.parametrize(
    ("pct", "code"),
    [("0.0501", "54084"), ("0.06", "54084"), ("-0.01", "54084"), ("0.01234", "54085")],
)
async def test_slippage_pct_out_of_range_or_too_precise(
    csim: Simulator, priv: RawClient, pct: str, code: str
) -> None:
    item = order(ordType="market", px=None, tgtCcy="base_ccy", sz="0.01", slippagePct=pct)
    it = item0(await priv.request("order", item))
    assert it["sCode"] == code and it["sMsg"], it
    assert csim.orders() == []


async def test_slippage_pct_must_be_a_decimal_string(priv: RawClient) -> None:
    item = order(ordType="market", px=None, tgtCcy="base_ccy", sz="0.01", slippagePct=0.01)
    it = item0(await priv.request("order", item))
    assert (it["sCode"], it["sMsg"]) == ("51000", "Parameter slippagePct error")
