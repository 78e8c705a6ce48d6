"""The simulator's pure order engine, without sockets."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from okx_ws_sim import DEFAULT_API_KEY, Account, Engine, Instrument
from okx_ws_sim.auth import default_account
from okx_ws_sim.engine import ItemError, Order, fmt
from okx_ws_sim.testing import inst_id_code


def make() -> tuple[Engine, Any]:
    eng = Engine([default_account()])
    return eng, eng.accounts[DEFAULT_API_KEY]


def place(
    eng: Engine, acct: Any, inst: str = "BTC-USDT", **item: Any
) -> tuple[dict[str, Any], list[Order]]:
    """Place an item naming ``inst`` by its instIdCode (``instIdCode=`` overrides)."""
    base = {
        "instIdCode": eng.instruments[inst].inst_id_code if inst in eng.instruments else 999,
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
    place(eng, acct, ordType="fok", px="60000", sz="0.5", inst="BTC-USDT")
    states = [o.state for o in acct.orders.values()]
    assert states == ["canceled", "filled"]  # depth of BTC-USDT is 5: fok fits
    place(eng, acct, ordType="fok", inst="ETH-USDT", px="3100", sz="11")  # beyond depth 10
    assert list(acct.orders.values())[-1].state == "canceled"
    assert acct.frozen["USDT"] == 0


def test_ioc_partial_then_canceled() -> None:
    eng, acct = make()
    place(eng, acct, ordType="ioc", inst="ETH-USDT", px="3100", sz="12")
    o = list(acct.orders.values())[-1]
    assert (o.state, o.acc_fill_sz, o.fill_sz) == ("canceled", 10, 10)
    assert acct.frozen["USDT"] == 0 and acct.avail["ETH"] == 110


def test_post_only_marketable_is_canceled() -> None:
    eng, acct = make()
    place(eng, acct, ordType="post_only", px="60000")
    o = list(acct.orders.values())[-1]
    assert o.state == "canceled" and o.cancel_source == "31"  # OKX: post-only would take


def test_errors() -> None:
    eng, acct = make()
    with pytest.raises(ItemError) as e:
        place(eng, acct, inst="NOPE")
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
        place(eng, acct, inst="BTC-USD-251226-60000-C", tdMode="cross", px="0.01")
    out, _ = place(eng, acct, inst="BTC-USD-251226-60000-C", tdMode="cross", px="0.1", side="sell")
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


def test_code_resolves_and_wins_over_inst_id() -> None:
    eng, acct = make()
    place(eng, acct, inst="ETH-USDT", instId="BTC-USDT", px="2000", clOrdId="w1")
    order = eng.find_order(DEFAULT_API_KEY, cl_ord_id="w1")
    assert order is not None and order["instId"] == "ETH-USDT"
    assert eng.by_code[inst_id_code("ETH-USDT")].inst_id == "ETH-USDT"
    # legacy path (only reached when validation lets instId stand alone)
    changed: list[Order] = []
    legacy = {"instId": "ETH-USDT", "tdMode": "cash", "side": "buy", "ordType": "limit"}
    eng.place(acct, {**legacy, "px": "2000", "sz": "1"}, 1, changed)
    assert changed[0].inst.inst_id == "ETH-USDT"
    with pytest.raises(ItemError) as e:
        eng.place(acct, {**legacy, "instId": "", "px": "2000", "sz": "1"}, 1, changed)
    assert (e.value.code, e.value.msg) == ("50014", "Parameter instIdCode can not be empty.")


@pytest.mark.parametrize("code", ["10001", 10001.0, True])
def test_engine_refuses_a_code_that_is_not_an_int(code: object) -> None:
    eng, acct = make()
    with pytest.raises(ItemError) as e:
        place(eng, acct, instIdCode=code)
    assert (e.value.code, e.value.msg) == ("51000", "Parameter instIdCode error")


def test_spread_codes_do_not_resolve_for_plain_orders() -> None:
    eng, acct = make()
    with pytest.raises(ItemError) as e:
        place(eng, acct, instIdCode=eng.instruments["BTC-USDT_BTC-USDT-SWAP"].inst_id_code)
    assert e.value.code == "51001"
    assert e.value.msg == "Instrument ID, Instrument ID code or Spread ID doesn't exist."


def test_add_and_remove_instrument() -> None:
    eng, acct = make()
    sol = Instrument("SOL-USDT", "SPOT", Decimal("150"), Decimal("100"), "SOL", "USDT", "USDT")
    assert sol.inst_id_code == Instrument("SOL-USDT", "SPOT", Decimal(1), Decimal(1)).inst_id_code
    eng.add_instrument(sol)
    out, _ = place(eng, acct, inst="SOL-USDT", px="100", sz="1", clOrdId="s1")
    assert out["sCode"] == "0"
    with pytest.raises(ValueError):
        eng.add_instrument(sol)
    with pytest.raises(ValueError):  # code taken
        eng.add_instrument(
            Instrument("X-USDT", "SPOT", Decimal(1), Decimal(1), inst_id_code=sol.inst_id_code)
        )
    removed, changed = eng.remove_instrument("SOL-USDT", 5)
    assert removed is sol and [o.cl_ord_id for o in changed] == ["s1"]
    assert changed[0].state == "canceled" and changed[0].cancel_source == "0"  # by the system
    assert acct.frozen["USDT"] == 0
    with pytest.raises(ItemError) as e:
        place(eng, acct, instIdCode=sol.inst_id_code)
    assert e.value.code == "51001"
    with pytest.raises(KeyError):
        eng.remove_instrument("SOL-USDT", 6)


def test_instrument_codes_must_be_positive_ints() -> None:
    with pytest.raises(ValueError):
        Instrument("X-USDT", "SPOT", Decimal(1), Decimal(1), inst_id_code=-3)


def test_neither_ord_id_nor_cl_ord_id() -> None:
    eng, acct = make()
    with pytest.raises(ItemError) as e:
        eng.cancel(acct, {"instIdCode": inst_id_code("BTC-USDT")}, 1, [])
    assert (e.value.code, e.value.msg) == (
        "51003",
        "Either client order ID or order ID is required.",
    )
