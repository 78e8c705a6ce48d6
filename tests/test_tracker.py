"""The order tracker alone: a sans-I/O state machine fed requests, replies and pushes.

No client, no socket, no clock: every feed passes ``now``.  Pushes are shaped
as OKX documents the ``orders`` / ``sprd-orders`` channels.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest

from okx_ws_core.orders.tracker import (
    CANCELED,
    FILLED,
    LIVE,
    NOT_PLACED,
    PARTIALLY_FILLED,
    REJECTED,
    SENT,
    UNKNOWN,
    OrderOp,
    OrderTracker,
    OrderWaits,
    OrderWaitTimeout,
)
from okx_ws_core.testing import run

PLACE = OrderOp("order", "place", exp_time=True, lookup="order")
BATCH = OrderOp("batch-orders", "place", exp_time=True, lookup="order")
AMEND = OrderOp("amend-order", "amend", exp_time=True, lookup="order")
CANCEL = OrderOp("cancel-order", "cancel", lookup="order")
SPREAD = OrderOp("sprd-order", "place", lookup="spread")


def order(cl: str, **extra: Any) -> dict[str, Any]:
    return {"instId": "BTC-USDT", "instIdCode": 7, "tdMode": "cash", "side": "buy",
            "ordType": "limit", "px": "100", "sz": "3", "clOrdId": cl, **extra}  # fmt: skip


def reply(*items: dict[str, Any], code: str = "0") -> dict[str, Any]:
    return {"id": "1", "op": "order", "code": code, "msg": "", "data": list(items)}


def ok(cl: str, ord_id: str) -> dict[str, Any]:
    return {"clOrdId": cl, "ordId": ord_id, "sCode": "0", "sMsg": ""}


def push(cl: str, ord_id: str, state: str, acc: str, *, u: int, **extra: Any) -> dict[str, Any]:
    item = {"instType": "SPOT", "instId": "BTC-USDT", "ordId": ord_id, "clOrdId": cl,
            "state": state, "sz": "3", "px": "100", "side": "buy", "ordType": "limit",
            "accFillSz": acc, "avgPx": "0", "fillSz": "0", "fillPx": "", "tradeId": "",
            "cTime": "1", "uTime": str(u)}  # fmt: skip
    item.update(extra)
    return item


def fill(cl: str, ord_id: str, state: str, acc: str, avg: str, trade: str, sz: str, px: str,
         *, u: int) -> dict[str, Any]:  # fmt: skip
    return push(cl, ord_id, state, acc, u=u, avgPx=avg, tradeId=trade, fillSz=sz, fillPx=px,
                fillFee="-0.01", fillFeeCcy="USDT", execType="M", fillTime=str(u))  # fmt: skip


def test_partial_fills_then_filled_keep_every_fill_and_the_average() -> None:
    t = OrderTracker()
    t.on_request(PLACE, [order("a1")], now=0.0)
    assert t.get("a1").state == SENT  # type: ignore[union-attr]
    t.on_reply(PLACE, [order("a1")], reply(ok("a1", "9")), now=0.1)
    assert t.get("a1").state == LIVE  # type: ignore[union-attr]
    t.on_push([fill("a1", "9", PARTIALLY_FILLED, "1", "100", "t1", "1", "100", u=2)], "order", 0.2)
    t.on_push(
        [fill("a1", "9", PARTIALLY_FILLED, "2", "100.5", "t2", "1", "101", u=3)], "order", 0.3
    )
    changed = t.on_push([fill("a1", "9", FILLED, "3", "101", "t3", "1", "102", u=4)], "order", 0.4)
    final = t.get("a1")
    assert final is not None and changed == [final]
    assert (final.state, final.ord_id, final.filled_sz, final.avg_px) == (
        FILLED, "9", Decimal("3"), Decimal("101"),
    )  # fmt: skip
    assert [(f.trade_id, f.px, f.sz, f.fee) for f in final.fills] == [
        ("t1", Decimal("100"), Decimal("1"), Decimal("-0.01")),
        ("t2", Decimal("101"), Decimal("1"), Decimal("-0.01")),
        ("t3", Decimal("102"), Decimal("1"), Decimal("-0.01")),
    ]
    assert final.final and final.updated_ms == 4 and final.changed_at == 0.4
    assert t.get(ord_id="9") is final


def test_a_push_that_beats_its_reply_is_not_undone_by_the_reply() -> None:
    t = OrderTracker()
    t.on_request(PLACE, [order("b1")], now=0.0)
    t.on_push([fill("b1", "5", FILLED, "3", "100", "t1", "3", "100", u=10)], "order", 0.01)
    t.on_reply(PLACE, [order("b1")], reply(ok("b1", "5")), now=0.02)
    got = t.get("b1")
    assert got is not None and (got.state, got.ord_id, got.filled_sz) == (FILLED, "5", 3)


def test_a_push_for_an_order_whose_request_we_never_saw_is_tracked_by_both_ids() -> None:
    t = OrderTracker()
    t.on_push([push("", "77", LIVE, "0", u=1)], "order", 0.0)  # placed from the web, no clOrdId
    assert t.get(ord_id="77") is not None and t.get("") is None
    t.on_push([push("w1", "78", LIVE, "0", u=1)], "order", 0.0)
    assert t.get("w1") is t.get(ord_id="78")


def test_cancel_then_a_late_live_push_never_moves_the_order_back() -> None:
    t = OrderTracker()
    t.on_reply(PLACE, [order("c1")], reply(ok("c1", "3")), now=0.0)
    t.on_reply(CANCEL, [{"instIdCode": 7, "clOrdId": "c1"}], reply(ok("c1", "3")), now=1.0)
    assert t.get("c1").state == LIVE  # type: ignore[union-attr]  # a cancel ack is not a cancel
    t.on_push([push("c1", "3", CANCELED, "0", u=5, cancelSource="1")], "order", 1.1)
    t.on_push([push("c1", "3", LIVE, "0", u=4)], "order", 1.2)  # older, delivered late
    t.on_push([push("c1", "3", LIVE, "0", u=6)], "order", 1.3)  # even a "newer" one: final stays
    assert t.get("c1").state == CANCELED  # type: ignore[union-attr]


def test_out_of_order_partial_fills_count_each_fill_once_and_keep_the_largest_total() -> None:
    t = OrderTracker()
    second = fill("d1", "4", PARTIALLY_FILLED, "2", "100.5", "t2", "1", "101", u=3)
    first = fill("d1", "4", PARTIALLY_FILLED, "1", "100", "t1", "1", "100", u=2)
    t.on_push([second], "order", 0.0)
    t.on_push([first], "order", 0.1)
    t.on_push([second], "order", 0.2)  # OKX may send a message twice
    got = t.get("d1")
    assert got is not None
    assert (got.filled_sz, got.avg_px, got.updated_ms) == (Decimal(2), Decimal("100.5"), 3)
    assert sorted(f.trade_id for f in got.fills) == ["t1", "t2"]


def test_an_amendment_push_updates_price_and_size() -> None:
    t = OrderTracker()
    t.on_push([push("e1", "8", LIVE, "0", u=1)], "order", 0.0)
    t.on_reply(
        AMEND, [{"instIdCode": 7, "clOrdId": "e1", "newPx": "99"}], reply(ok("e1", "8")), 0.5
    )
    t.on_push([push("e1", "8", LIVE, "0", u=2, px="99", sz="4", reqId="r1", amendResult="0")],
              "order", 0.6)  # fmt: skip
    got = t.get("e1")
    assert got is not None and (got.px, got.sz, got.state) == ("99", "4", LIVE)
    assert got.data["reqId"] == "r1"


def test_a_failed_amendment_is_reported_on_the_order_without_changing_its_state() -> None:
    t = OrderTracker()
    t.on_push([push("f1", "8", LIVE, "0", u=1)], "order", 0.0)
    failed = {"clOrdId": "f1", "ordId": "8", "sCode": "51503", "sMsg": "filled or canceled"}
    t.on_reply(AMEND, [{"instIdCode": 7, "clOrdId": "f1"}], reply(failed, code="1"), now=1.0)
    got = t.get("f1")
    assert got is not None and (got.state, got.code, got.msg) == (
        LIVE,
        "51503",
        "filled or canceled",
    )


def test_rejections_item_by_item_and_for_a_whole_batch() -> None:
    t = OrderTracker()
    batch = [order("g1"), order("g2")]
    t.on_request(BATCH, batch, now=0.0)
    rejected = {"clOrdId": "g2", "ordId": "", "sCode": "51008", "sMsg": "Insufficient balance"}
    t.on_reply(BATCH, batch, reply(ok("g1", "1"), rejected, code="2"), now=0.1)
    assert t.get("g1").state == LIVE  # type: ignore[union-attr]
    g2 = t.get("g2")
    assert g2 is not None and (g2.state, g2.code, g2.final) == (REJECTED, "51008", True)
    t.on_request(BATCH, [order("g3")], now=1.0)
    t.on_reply(BATCH, [order("g3")], {"id": "2", "op": "batch-orders", "code": "60013",
                                      "msg": "Invalid args", "data": []}, now=1.1)  # fmt: skip
    g3 = t.get("g3")
    assert g3 is not None and (g3.state, g3.code, g3.msg) == (REJECTED, "60013", "Invalid args")


def test_a_duplicate_clordid_rejection_does_not_reject_the_live_order() -> None:
    t = OrderTracker()
    t.on_reply(PLACE, [order("h1")], reply(ok("h1", "1")), now=0.0)
    t.on_request(PLACE, [order("h1")], now=1.0)  # the bot sends the same clOrdId again
    dup = {"clOrdId": "h1", "ordId": "", "sCode": "51016", "sMsg": "Duplicated clOrdId"}
    t.on_reply(PLACE, [order("h1")], reply(dup, code="1"), now=1.1)
    got = t.get("h1")
    assert got is not None and (got.state, got.ord_id, got.code) == (LIVE, "1", "51016")


def test_a_clordid_reused_after_its_order_finished_starts_a_new_order() -> None:
    t = OrderTracker()
    t.on_push([push("i1", "1", FILLED, "3", u=1)], "order", 0.0)
    t.on_request(PLACE, [order("i1")], now=1.0)
    assert t.get("i1").state == SENT  # type: ignore[union-attr]
    t.on_push([push("i1", "2", LIVE, "0", u=2)], "order", 1.1)
    assert t.get("i1").ord_id == "2"  # type: ignore[union-attr]
    assert t.get(ord_id="1").state == FILLED  # type: ignore[union-attr]


def test_unknown_fates_and_reconcile_answers() -> None:
    t = OrderTracker()
    t.on_request(PLACE, [order("j1"), order("j2")], now=0.0, exp_time=123, expires_at=10.0)
    t.on_failure(PLACE, [order("j1"), order("j2")], now=10.0)
    assert [o.cl_ord_id for o in t.unresolved()] == ["j1", "j2"]
    assert t.get("j1").state == UNKNOWN and t.expiry("j1") == (123, 10.0)  # type: ignore[union-attr]
    t.on_not_placed("j1", now=11.0)
    t.on_push([push("j2", "5", LIVE, "0", u=1)], "order", 11.0)  # reconcile found it
    assert (t.get("j1").state, t.get("j2").state) == (NOT_PLACED, LIVE)  # type: ignore[union-attr]
    assert t.unresolved() == []


def test_any_word_from_okx_overrides_our_own_verdict() -> None:
    t = OrderTracker()
    t.on_request(PLACE, [order("k1")], now=0.0)
    t.on_not_placed("k1", now=1.0)
    t.on_push([push("k1", "5", LIVE, "0", u=1)], "order", 2.0)
    assert t.get("k1").state == LIVE  # type: ignore[union-attr]


def test_spread_orders_are_tracked_by_sprd_id() -> None:
    t = OrderTracker()
    item = {"sprdId": "BTC-USDT_BTC-USDT-SWAP", "side": "buy", "ordType": "limit", "sz": "2",
            "px": "-1.5", "clOrdId": "s1"}  # fmt: skip
    t.on_request(SPREAD, [item], now=0.0)
    t.on_push([{"sprdId": "BTC-USDT_BTC-USDT-SWAP", "ordId": "7", "clOrdId": "s1",
                "state": "partially_filled", "sz": "2", "px": "-1.5", "accFillSz": "1",
                "avgPx": "-1.5", "fillSz": "1", "fillPx": "-1.5", "tradeId": "x1",
                "pendingFillSz": "1", "canceledSz": "0", "uTime": "5", "cTime": "1"}],
              "spread", 0.1)  # fmt: skip
    got = t.get("s1")
    assert got is not None
    assert (got.inst_id, got.lookup, got.state, got.filled_sz) == (
        "BTC-USDT_BTC-USDT-SWAP", "spread", PARTIALLY_FILLED, 1,
    )  # fmt: skip
    assert got.fills[0].px == Decimal("-1.5")


def test_finished_orders_age_out_and_are_bounded_live_ones_stay() -> None:
    t = OrderTracker(max_finished=3, finished_ttl=60.0)
    t.on_push([push("live", "0", LIVE, "0", u=1)], "order", 0.0)
    for i in range(5):
        t.on_push([push(f"m{i}", str(i + 1), FILLED, "3", u=1)], "order", float(i))
    assert [o.cl_ord_id for o in t.orders()] == ["live", "m2", "m3", "m4"]
    t.evict(63.5)  # m2 finished at 2.0, m3 at 3.0: past the ttl
    assert [o.cl_ord_id for o in t.orders()] == ["live", "m4"]
    assert t.get(ord_id="3") is None and len(t) == 2
    t.evict(10_000.0)
    assert [o.cl_ord_id for o in t.orders()] == ["live"]


def test_unresolved_orders_are_bounded_too() -> None:
    t = OrderTracker(max_unresolved=2)
    for i in range(4):
        t.on_request(PLACE, [order(f"u{i}")], now=float(i))
        t.on_failure(PLACE, [order(f"u{i}")], now=float(i))
    assert [o.cl_ord_id for o in t.unresolved()] == ["u2", "u3"]


def test_bad_bounds_are_refused() -> None:
    with pytest.raises(ValueError):  # a ConfigurationError
        OrderTracker(max_finished=-1)
    with pytest.raises(ValueError):  # a ConfigurationError
        OrderTracker(finished_ttl=-1.0)


def test_wait_for_returns_at_the_state_at_a_final_state_or_times_out() -> None:
    async def main() -> None:
        t = OrderTracker()
        waits = OrderWaits(t)
        loop = asyncio.get_running_loop()

        async def later(delay: float, item: dict[str, Any]) -> None:
            await asyncio.sleep(delay)
            waits.notify(t.on_push([item], "order", loop.time()))

        task = asyncio.ensure_future(later(2.0, push("n1", "1", LIVE, "0", u=1)))
        got = await waits.wait_for("n1", LIVE, timeout=5.0)
        assert (got.state, loop.time()) == (LIVE, 2.0)
        await task
        assert (await waits.wait_for("n1", "live", timeout=0)).state == LIVE  # already there
        task = asyncio.ensure_future(later(1.0, push("n1", "1", CANCELED, "0", u=2)))
        got = await waits.wait_for("n1", {FILLED}, timeout=5.0)  # a final state ends the wait
        assert got.state == CANCELED
        await task
        with pytest.raises(OrderWaitTimeout) as caught:
            await waits.wait_for("never", {FILLED}, timeout=3.0)
        assert caught.value.order is None and loop.time() == 6.0
        assert "never seen" in str(caught.value)

    run(main())
