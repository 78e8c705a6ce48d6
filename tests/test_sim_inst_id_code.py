"""instIdCode in the six order operations, as OKX enforces it since 2026, and the
legacy switch that restores instId-only items."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

from okx_ws_sim import Instrument, Simulator
from okx_ws_sim.testing import SAMPLE_ORDER, RawClient, by_code, inst_id_code

BTC, ETH = inst_id_code("BTC-USDT"), inst_id_code("ETH-USDT")
EMPTY = ("50014", "Parameter instIdCode can not be empty.")
BAD = ("51000", "Parameter instIdCode error")
NOT_FOUND = ("51001", "Instrument ID, Instrument ID code or Spread ID doesn't exist.")
LEGACY_ORDER = {k: v for k, v in SAMPLE_ORDER.items() if k != "instIdCode"} | {"instId": "BTC-USDT"}


def fail(item: dict[str, Any]) -> tuple[str, str]:
    return item["sCode"], item["sMsg"]


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(seed=5) as s:
        yield s


async def client(sim: Simulator, kind: str = "private") -> RawClient:
    c = await RawClient.open(sim.url(kind))
    assert (await c.login())["code"] == "0"
    return c


async def test_only_inst_id_is_refused_in_every_op(sim: Simulator) -> None:
    async with await client(sim) as c:
        assert (await c.request("order", dict(SAMPLE_ORDER, clOrdId="k1")))["code"] == "0"
        for op, item in [
            ("order", LEGACY_ORDER),
            ("batch-orders", LEGACY_ORDER),
            ("cancel-order", {"instId": "BTC-USDT", "clOrdId": "k1"}),
            ("batch-cancel-orders", {"instId": "BTC-USDT", "clOrdId": "k1"}),
            ("amend-order", {"instId": "BTC-USDT", "clOrdId": "k1", "newSz": "0.02"}),
            ("batch-amend-orders", {"instId": "BTC-USDT", "clOrdId": "k1", "newSz": "0.02"}),
        ]:
            r = await c.request(op, item)
            assert r["code"] == "1" and r["msg"] == "", op
            assert fail(r["data"][0]) == EMPTY, op
    assert [o["state"] for o in sim.orders()] == ["live"]  # neither canceled nor amended
    assert sim.find_order("k1")["sz"] == "0.01"  # type: ignore[index]
    assert sim.stats.item_errors_by_code["50014"] == 6


async def test_in_a_batch_only_the_item_without_code_fails(sim: Simulator) -> None:
    async with await client(sim) as c:
        r = await c.request(
            "batch-orders",
            dict(SAMPLE_ORDER, clOrdId="b1"),
            dict(LEGACY_ORDER, clOrdId="b2"),
            dict(SAMPLE_ORDER, clOrdId="b3"),
        )
        assert r["code"] == "2"
        assert [it["sCode"] for it in r["data"]] == ["0", "50014", "0"]
        assert r["data"][1]["clOrdId"] == "b2" and r["data"][1]["ordId"] == ""
        r = await c.request(
            "batch-cancel-orders", by_code("BTC-USDT", clOrdId="b1"), {"clOrdId": "b3"}
        )
        assert r["code"] == "2" and fail(r["data"][1]) == EMPTY
    assert {o["clOrdId"]: o["state"] for o in sim.orders()} == {"b1": "canceled", "b3": "live"}


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (str(BTC), BAD),  # a string, even of the right number
        (float(BTC), BAD),
        (True, BAD),
        ([BTC], BAD),
        (None, EMPTY),
        ("", EMPTY),
        (987654321, NOT_FOUND),
        (0, NOT_FOUND),
        (-BTC, NOT_FOUND),
    ],
)
async def test_code_must_be_a_listed_integer(
    sim: Simulator, code: object, expected: tuple[str, str]
) -> None:
    async with await client(sim) as c:
        for op, item in [
            ("order", dict(SAMPLE_ORDER, instIdCode=code)),
            ("cancel-order", {"instIdCode": code, "clOrdId": "any1"}),
            ("amend-order", {"instIdCode": code, "clOrdId": "any1", "newPx": "1"}),
        ]:
            r = await c.request(op, item)
            assert r["code"] == "1" and fail(r["data"][0]) == expected, op
    assert sim.orders() == []


async def test_code_wins_over_a_disagreeing_inst_id(sim: Simulator) -> None:
    async with await client(sim) as c:
        item = dict(SAMPLE_ORDER, instIdCode=ETH, instId="BTC-USDT", px="2000", clOrdId="w1")
        assert (await c.request("order", item))["code"] == "0"
        placed = sim.find_order("w1")
        assert placed is not None and placed["instId"] == "ETH-USDT"
        assert sim.balances()["USDT"]["frozenBal"] == "20"  # 0.01 ETH at 2000
        # cancel: the code names BTC-USDT, the instId ETH-USDT: the code decides
        r = await c.request(
            "cancel-order", {"instIdCode": BTC, "instId": "ETH-USDT", "clOrdId": "w1"}
        )
        assert r["data"][0]["sCode"] == "51400"
        r = await c.request(
            "cancel-order", {"instIdCode": ETH, "instId": "BTC-USDT", "clOrdId": "w1"}
        )
        assert r["code"] == "0"


async def test_codes_of_derivatives(sim: Simulator) -> None:
    async with await client(sim) as c:
        for inst, extra in [
            ("BTC-USDT-SWAP", {"posSide": "net", "px": "49000"}),
            ("BTC-USDT-261225", {"px": "50000"}),
            ("BTC-USD-251226-60000-C", {"px": "0.04"}),
        ]:
            item = dict(SAMPLE_ORDER, instIdCode=inst_id_code(inst), tdMode="cross", **extra)
            assert (await c.request("order", item))["code"] == "0", inst
    assert sorted(o["instType"] for o in sim.orders()) == ["FUTURES", "OPTION", "SWAP"]


async def test_spread_and_mass_cancel_need_no_code(sim: Simulator) -> None:
    async with await client(sim, "business") as biz:
        item = {"sprdId": "BTC-USDT_BTC-USDT-SWAP", "side": "buy", "ordType": "limit"}
        r = await biz.request("sprd-order", dict(item, px="20", sz="1", clOrdId="sp1"))
        assert r["code"] == "0"
        # instIdCode is not a field of the spread ops
        r = await biz.request("sprd-cancel-order", {"clOrdId": "sp1", "instIdCode": BTC})
        assert fail(r["data"][0]) == ("51000", "Parameter instIdCode error")
        assert (await biz.request("sprd-cancel-order", {"clOrdId": "sp1"}))["code"] == "0"
    async with await client(sim) as c:
        r = await c.request("mass-cancel", {"instType": "OPTION", "instFamily": "BTC-USD"})
        assert r["code"] == "0"


async def test_legacy_switch_accepts_inst_id_alone() -> None:
    async with Simulator(legacy_inst_id=True) as s, await client(s) as c:
        assert s.legacy_inst_id
        r = await c.request("order", dict(LEGACY_ORDER, clOrdId="old1"))
        assert r["code"] == "0"
        r = await c.request(
            "amend-order", {"instId": "BTC-USDT", "clOrdId": "old1", "newSz": "0.02"}
        )
        assert r["code"] == "0"
        r = await c.request("cancel-order", {"instId": "BTC-USDT", "clOrdId": "old1"})
        assert r["code"] == "0"
        # the code, when given, still wins; a bad code is still refused; neither is empty
        r = await c.request("order", dict(LEGACY_ORDER, instIdCode=ETH, px="2000", clOrdId="n1"))
        assert r["code"] == "0" and s.find_order("n1")["instId"] == "ETH-USDT"  # type: ignore[index]
        assert (
            fail((await c.request("order", dict(LEGACY_ORDER, instIdCode="1")))["data"][0]) == BAD
        )
        no_inst = {k: v for k, v in LEGACY_ORDER.items() if k != "instId"}
        assert fail((await c.request("order", no_inst))["data"][0]) == EMPTY
        r = await c.request("order", dict(LEGACY_ORDER, instId="DOGE-XYZ"))
        assert fail(r["data"][0]) == NOT_FOUND


async def test_new_listing_and_delisting(sim: Simulator) -> None:
    sol = Instrument(
        "SOL-USDT",
        "SPOT",
        Decimal("150"),
        Decimal("100"),
        "SOL",
        "USDT",
        "USDT",
        inst_id_code=10042,
    )
    async with await client(sim) as c:
        await c.subscribe({"channel": "orders", "instType": "ANY"})
        item = dict(SAMPLE_ORDER, instIdCode=10042, px="100", sz="1", clOrdId="s1")
        assert fail((await c.request("order", item))["data"][0]) == NOT_FOUND
        assert sim.add_instrument(sol) is sol and sim.inst_id_code("SOL-USDT") == 10042
        assert (await c.request("order", item))["code"] == "0"
        assert (await c.next_push())["data"][0]["state"] == "live"
        assert sim.balances()["USDT"]["frozenBal"] == "100"
        assert sim.remove_instrument("SOL-USDT") is sol
        push = (await c.next_push())["data"][0]
        assert (push["clOrdId"], push["state"], push["cancelSource"]) == (
            "s1",
            "canceled",
            "0",  # canceled by the system (codes.CANCEL_SOURCE_DELISTED)
        )
        assert sim.balances()["USDT"]["frozenBal"] == "0"
        assert sim.instrument("SOL-USDT") is None
        for op, it in [
            ("order", item),
            ("cancel-order", by_code("BTC-USDT", clOrdId="s1") | {"instIdCode": 10042}),
        ]:
            assert fail((await c.request(op, it))["data"][0]) == NOT_FOUND
    sim.reset()  # the listing survives a reset: SOL-USDT stays delisted
    assert sim.instrument("SOL-USDT") is None and sim.instrument("BTC-USDT") is not None
    with pytest.raises(KeyError):
        sim.remove_instrument("SOL-USDT")
    with pytest.raises(ValueError):
        sim.add_instrument(Instrument("X-USDT", "SPOT", Decimal(1), Decimal(1), inst_id_code=BTC))
