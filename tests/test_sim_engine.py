"""The simulator's pure order engine, without sockets."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from okx_ws_sim import DEFAULT_API_KEY, Account, Engine
from okx_ws_sim.auth import default_account
from okx_ws_sim.engine import ItemError, Order, fmt


def make() -> tuple[Engine, Any]:
    eng = Engine([default_account()])
    return eng, eng.accounts[DEFAULT_API_KEY]


def place(eng: Engine, acct: Any, **item: Any) -> tuple[dict[str, Any], list[Order]]:
    base = {
        "instId": "BTC-USDT",
        "tdMode": "cash",
        "side": "buy",
        "ordType": "limit",
        "px": "40000",
        "sz": "1",
    }
    base.update(item)
    changed: list[Order] = []
    return eng.place(acct, {k: v for k, v in base.items() if v is not None}, 1000, changed), changed


def test_fmt() -> None:
    assert fmt(Decimal("1E+1")) == "10"
    assert fmt(Decimal("0.1000")) == "0.1"
    assert fmt(Decimal("50000.00")) == "50000"
    assert fmt(None) == ""


def test_limit_rests_and_freezes() -> None:
    eng, acct = make()
    out, changed = place(eng, acct)
    assert out["sCode"] == "0" and len(changed) == 1 and changed[0].state == "live"
    assert acct.avail["USDT"] == 60000 and acct.frozen["USDT"] == 40000


def test_market_buy_in_quote_by_default() -> None:
    eng, acct = make()
    place(eng, acct, ordType="market", px=None, sz="1000")  # 1000 USDT
    o = next(iter(acct.orders.values()))
    assert o.state == "filled" and o.sz_in_quote
    assert acct.avail["BTC"] == Decimal("10.02") and acct.avail["USDT"] == 99000


def test_market_buy_in_base() -> None:
    eng, acct = make()
    place(eng, acct, ordType="market", px=None, sz="0.5", tgtCcy="base_ccy")
    assert acct.avail["BTC"] == Decimal("10.5") and acct.avail["USDT"] == 75000


def test_ioc_not_marketable_cancels_and_fok_beyond_depth_cancels() -> None:
    eng, acct = make()
    place(eng, acct, ordType="ioc", px="1000")
    place(eng, acct, ordType="fok", px="60000", sz="0.5", instId="BTC-USDT")
    states = [o.state for o in acct.orders.values()]
    assert states == ["canceled", "filled"]  # depth of BTC-USDT is 5: fok fits
    place(eng, acct, ordType="fok", instId="ETH-USDT", px="3100", sz="11")  # beyond depth 10
    assert list(acct.orders.values())[-1].state == "canceled"
    assert acct.frozen["USDT"] == 0


def test_ioc_partial_then_canceled() -> None:
    eng, acct = make()
    place(eng, acct, ordType="ioc", instId="ETH-USDT", px="3100", sz="12")
    o = list(acct.orders.values())[-1]
    assert (o.state, o.acc_fill_sz, o.fill_sz) == ("canceled", 10, 10)
    assert acct.frozen["USDT"] == 0 and acct.avail["ETH"] == 110


def test_post_only_marketable_is_canceled() -> None:
    eng, acct = make()
    place(eng, acct, ordType="post_only", px="60000")
    o = list(acct.orders.values())[-1]
    assert o.state == "canceled" and o.cancel_source == "post_only"


def test_errors() -> None:
    eng, acct = make()
    with pytest.raises(ItemError) as e:
        place(eng, acct, instId="NOPE")
    assert e.value.code == "51001"
    with pytest.raises(ItemError) as e:
        place(eng, acct, side="sell", sz="11")
    assert e.value.code == "51008"
    with pytest.raises(ItemError) as e:
        place(eng, acct, ordType="optimal_limit_ioc")
    assert e.value.code == "51000"
    with pytest.raises(ItemError) as e:
        place(eng, acct, reduceOnly="maybe")
    assert e.value.code == "51000"


def test_option_sell_needs_no_premium_and_buy_checks_settle_ccy() -> None:
    eng = Engine([Account("k", "s", "p", balances={"BTC": "0"})])
    acct = eng.accounts["k"]
    with pytest.raises(ItemError):
        place(eng, acct, instId="BTC-USD-251226-60000-C", tdMode="cross", px="0.01")
    out, _ = place(
        eng, acct, instId="BTC-USD-251226-60000-C", tdMode="cross", px="0.1", side="sell"
    )
    assert out["sCode"] == "0"


def test_to_dict_shapes() -> None:
    eng, acct = make()
    place(eng, acct, clOrdId="a1", tag="t")
    d = eng.find_order(DEFAULT_API_KEY, cl_ord_id="a1")
    assert d is not None
    for key in (
        "instType",
        "instId",
        "ordId",
        "clOrdId",
        "tag",
        "px",
        "sz",
        "state",
        "accFillSz",
        "avgPx",
        "cTime",
        "uTime",
    ):
        assert isinstance(d[key], str)
    changed: list[Order] = []
    eng.place_spread(
        acct,
        {
            "sprdId": "BTC-USDT_BTC-USDT-SWAP",
            "side": "sell",
            "ordType": "limit",
            "px": "-5",
            "sz": "1",
        },
        1,
        changed,
    )
    s = changed[0].to_dict()
    assert s["sprdId"] == "BTC-USDT_BTC-USDT-SWAP" and "instId" not in s and s["state"] == "filled"
    assert eng.find_order("nobody", cl_ord_id="a1") is None and eng.orders("nobody") == []
    assert eng.orders(DEFAULT_API_KEY, state="filled") != []


def test_finished_orders_are_pruned_beyond_the_cap() -> None:
    eng = Engine([default_account()], max_finished_orders=2)
    acct = eng.accounts[DEFAULT_API_KEY]
    for i in range(4):
        place(eng, acct, clOrdId=f"f{i}", px="60000", sz="0.01")  # fills at once
    place(eng, acct, clOrdId="live1")
    assert [o["clOrdId"] for o in eng.orders(DEFAULT_API_KEY)] == ["f2", "f3", "live1"]
    assert eng.find_order(DEFAULT_API_KEY, cl_ord_id="f0") is None


def test_ord_ids_continue_after_engine_swap() -> None:
    eng, acct = make()
    first, _ = place(eng, acct)
    eng2 = Engine([default_account()], first_ord_id=eng.last_ord_id)
    second, _ = place(eng2, eng2.accounts[DEFAULT_API_KEY])
    assert int(second["ordId"]) > int(first["ordId"])


def test_minimal_fallback_validator() -> None:
    from okx_ws_sim.validation import _minimal

    check = _minimal("order")
    good = {"instId": "BTC-USDT", "tdMode": "cash", "side": "buy", "ordType": "market", "sz": "1"}
    assert check(good) is None
    assert check({**good, "sz": 1}) == ("51000", "Parameter sz error")
    assert check({k: v for k, v in good.items() if k != "side"}) == (
        "51000",
        "Parameter side error",
    )
    assert _minimal("cancel-order")({"instId": "BTC-USDT"}) == ("51000", "Parameter ordId error")
    assert _minimal("amend-order")({"instId": "BTC-USDT", "ordId": "1", "cxlOnFail": 3}) == (
        "51000",
        "Parameter cxlOnFail error",
    )
