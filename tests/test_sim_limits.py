"""OKX's rate limits in the simulator: each limit, its scope, its answer, and its window.

Windows run on an injected monotonic clock (``SimClock(monotonic=...)``), so
stepping through 2 s, 1 s or an hour takes no real time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from okx_ws_sim import Account, RateLimits, SimClock, Simulator
from okx_ws_sim.limits import ItemKey, Limit, Window, op_demands
from okx_ws_sim.testing import RawClient, by_code, http_get

BIG = {"USDT": "100000000", "BTC": "100000", "ETH": "1000000"}
MAIN = Account("main-key", "main-secret", "main-pass", balances=dict(BIG), uid="200000001")
OTHER = Account("other-key", "other-secret", "other-pass", balances=dict(BIG), uid="200000002")


class Ticks:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ticks() -> Ticks:
    return Ticks()


@pytest.fixture
async def lsim(ticks: Ticks) -> AsyncIterator[Simulator]:
    async with Simulator(accounts=[MAIN, OTHER], clock=SimClock(monotonic=ticks)) as s:
        yield s


async def login(sim: Simulator, account: Account | None = None, kind: str = "private") -> RawClient:
    c = await RawClient.open(sim.url(kind))
    assert (await c.login(account or MAIN))["code"] == "0"
    return c


def order(inst: str = "BTC-USDT", **over: Any) -> dict[str, Any]:
    item = by_code(inst, tdMode="cash", side="buy", ordType="limit", px="1", sz="1")
    if inst.endswith("SWAP") or "-USD-" in inst:
        item.update(tdMode="cross", px="0.01")
    item.update(over)
    return item


async def burst(c: RawClient, op: str, items: list[list[dict[str, Any]]]) -> list[str]:
    """Send one request per entry of ``items`` without waiting, then the reply codes in order."""
    rids = [f"{op.replace('-', '')}{n}" for n in range(len(items))]
    for rid, args in zip(rids, items, strict=True):
        await c.send({"id": rid, "op": op, "args": args})
    return [(await c.reply(rid))["code"] for rid in rids]


# -- per-op limits ---------------------------------------------------------------------
async def test_order_limit_is_60_per_2s_per_instrument(lsim: Simulator, ticks: Ticks) -> None:
    async with await login(lsim) as c:
        assert await burst(c, "order", [[order()]] * 60) == ["0"] * 60
        reply = await c.request("order", order(clOrdId="over1"))
        assert (reply["code"], reply["data"]) == ("50011", [])
        assert reply["msg"].startswith("Rate limit reached")
        assert lsim.find_order(cl_ord_id="over1") is None  # refused: not executed
        # the connection stays open, and another instrument is not affected
        assert (await c.request("order", order("ETH-USDT")))["code"] == "0"
        await c.send("ping")
        assert await c.recv_text() == "pong"
        ticks.now += 1.99
        assert (await c.request("order", order()))["code"] == "50011"
        ticks.now += 0.02  # 2 s after the first 60
        assert await burst(c, "order", [[order()]] * 60) == ["0"] * 60
    assert lsim.stats.rate_limited == 2 and lsim.stats.request_errors_by_code["50011"] == 2


async def test_an_instrument_at_its_limit_never_affects_another_or_another_user(
    lsim: Simulator,
) -> None:
    async with await login(lsim) as c, await login(lsim, OTHER) as other:
        await burst(c, "order", [[order()]] * 60)
        assert (await c.request("order", order()))["code"] == "50011"
        for inst in ("ETH-USDT", "BTC-USDT-SWAP", "ETH-BTC"):
            assert (await c.request("order", order(inst)))["code"] == "0", inst
        assert (await other.request("order", order()))["code"] == "0"


async def test_window_slides(lsim: Simulator, ticks: Ticks) -> None:
    async with await login(lsim) as c:
        await burst(c, "order", [[order()]] * 30)
        ticks.now += 1.0
        await burst(c, "order", [[order()]] * 30)
        ticks.now += 1.0  # the first 30 leave the window, the last 30 stay
        assert await burst(c, "order", [[order()]] * 31) == ["0"] * 30 + ["50011"]


async def test_refused_requests_count_toward_nothing(lsim: Simulator, ticks: Ticks) -> None:
    async with await login(lsim) as c:
        await burst(c, "order", [[order()]] * 60)
        assert await burst(c, "order", [[order()]] * 10) == ["50011"] * 10
        ticks.now += 2.0
        assert await burst(c, "order", [[order()]] * 61) == ["0"] * 60 + ["50011"]


async def test_option_orders_share_their_instrument_family(lsim: Simulator) -> None:
    async with await login(lsim) as c:
        calls = await burst(c, "order", [[order("BTC-USD-251226-60000-C")]] * 30)
        calls += await burst(c, "order", [[order("BTC-USD-251226-60000-P")]] * 30)
        assert calls == ["0"] * 60
        assert (await c.request("order", order("BTC-USD-251226-40000-P")))["code"] == "50011"
        assert (await c.request("order", order("ETH-USD-251226-4000-C")))["code"] == "0"


async def test_batch_orders_count_each_item_300_per_2s(lsim: Simulator) -> None:
    async with await login(lsim) as c:
        batch = [order() for _ in range(20)]
        assert await burst(c, "batch-orders", [batch] * 15) == ["0"] * 15  # 300 orders
        reply = await c.request("batch-orders", *[order() for _ in range(2)])
        assert (reply["code"], reply["data"]) == ("50011", [])
        # per instrument, items counted where they belong: ETH-USDT still has room
        assert (await c.request("batch-orders", order("ETH-USDT"), order("ETH-USDT")))[
            "code"
        ] == "0"
        # the batch limit is independent of the single-order one
        assert (await c.request("order", order()))["code"] == "0"


async def test_a_mixed_batch_counts_per_instrument(lsim: Simulator) -> None:
    async with await login(lsim) as c:
        await burst(c, "batch-orders", [[order() for _ in range(20)]] * 14)  # BTC-USDT: 280
        mixed = [order() for _ in range(10)] + [order("ETH-USDT") for _ in range(10)]
        assert (await c.request("batch-orders", *mixed))["code"] == "0"  # BTC-USDT: 290
        over = [order() for _ in range(11)] + [order("ETH-USDT")]
        assert (await c.request("batch-orders", *over))["code"] == "50011"  # 301: all refused
        assert len(lsim.orders("main-key")) == 300


async def test_a_batch_of_one_counts_as_order(lsim: Simulator) -> None:
    async with await login(lsim) as c:
        assert await burst(c, "batch-orders", [[order()]] * 60) == ["0"] * 60
        assert (await c.request("order", order()))["code"] == "50011"
        assert (await c.request("batch-orders", order()))["code"] == "50011"
        assert (await c.request("batch-orders", order(), order()))["code"] == "0"


async def test_cancel_and_amend_have_their_own_limits(lsim: Simulator) -> None:
    async with await login(lsim) as c:
        await burst(c, "order", [[order(clOrdId=f"o{n}")] for n in range(60)])
        assert (await c.request("order", order()))["code"] == "50011"
        amends = [[by_code("BTC-USDT", clOrdId=f"o{n}", newSz="2")] for n in range(60)]
        assert await burst(c, "amend-order", amends) == ["0"] * 60
        amend = by_code("BTC-USDT", clOrdId="o0", newSz="3")
        assert (await c.request("amend-order", amend))["code"] == "50011"
        cancels = [[by_code("BTC-USDT", clOrdId=f"o{n}")] for n in range(60)]
        assert await burst(c, "cancel-order", cancels) == ["0"] * 60
        cancel = by_code("BTC-USDT", clOrdId="o0")
        assert (await c.request("cancel-order", cancel))["code"] == "50011"


async def test_mass_cancel_is_5_per_2s_per_user(lsim: Simulator) -> None:
    args = [{"instType": "OPTION", "instFamily": "BTC-USD"}]
    async with await login(lsim) as c, await login(lsim, OTHER) as other:
        assert await burst(c, "mass-cancel", [args] * 6) == ["0"] * 5 + ["50011"]
        assert (await other.request("mass-cancel", *args))["code"] == "0"


async def test_spread_ops_are_20_per_2s_per_user_and_mass_cancel_5(lsim: Simulator) -> None:
    sprd = {"sprdId": "BTC-USDT_BTC-USDT-SWAP", "side": "buy", "ordType": "limit", "px": "20"}
    async with await login(lsim, kind="business") as c:
        items = [[dict(sprd, sz="1", clOrdId=f"s{n}")] for n in range(21)]
        assert await burst(c, "sprd-order", items) == ["0"] * 20 + ["50011"]
        other_spread = dict(sprd, sprdId="ETH-USDT_ETH-USDT-SWAP", px="2", sz="1")
        assert (await c.request("sprd-order", other_spread))["code"] == "50011"  # per user
        cancels = [[{"clOrdId": f"s{n}"}] for n in range(21)]
        assert await burst(c, "sprd-cancel-order", cancels) == ["0"] * 20 + ["50011"]
        assert await burst(c, "sprd-mass-cancel", [[{}]] * 6) == ["0"] * 5 + ["50011"]


# -- the sub-account ceiling -------------------------------------------------------------
async def test_sub_account_ceiling_is_1000_new_and_amended_orders(
    lsim: Simulator, ticks: Ticks
) -> None:
    insts = ["BTC-USDT", "ETH-USDT", "BTC-USDT-SWAP", "ETH-USDT-SWAP"]
    async with await login(lsim) as c, await login(lsim, OTHER) as other:
        for k, inst in enumerate(insts):  # 4 x 240 = 960 new orders, under each one's 300
            batches = [[order(inst, clOrdId=f"i{k}b{b}x{i}") for i in range(20)] for b in range(12)]
            assert await burst(c, "batch-orders", batches) == ["0"] * 12
        amends = [[by_code("BTC-USDT", clOrdId=f"i0b{b}x0", newSz="2")] for b in range(12)]
        assert await burst(c, "amend-order", amends) == ["0"] * 12  # 972
        cancels = [by_code("ETH-USDT", clOrdId=f"i1b0x{i}") for i in range(20)]
        assert (await c.request("batch-cancel-orders", *cancels))["code"] == "0"  # not counted
        fill = [order("ETH-BTC", px="0.01", sz="0.01") for _ in range(20)]
        assert (await c.request("batch-orders", *fill))["code"] == "0"  # 992
        reply = await c.request("batch-orders", *fill[:9])  # 1001
        assert (reply["code"], reply["data"]) == ("50061", [])
        assert reply["msg"] == "Sub-account rate limit exceeded."
        assert (await c.request("batch-orders", *fill[:8]))["code"] == "0"  # exactly 1000
        assert (await c.request("order", order("ETH-BTC", px="0.01", sz="0.01")))["code"] == "50061"
        cancel = by_code("ETH-USDT", clOrdId="i1b1x0")
        assert (await c.request("cancel-order", cancel))["code"] == "0"  # cancels: not counted
        assert (await other.request("order", order()))["code"] == "0"  # per sub-account
        ticks.now += 2.0
        assert (await c.request("order", order("ETH-BTC", px="0.01", sz="0.01")))["code"] == "0"
    assert lsim.stats.request_errors_by_code["50061"] == 2


# -- connections -------------------------------------------------------------------------
async def test_three_connection_requests_per_second_per_ip(lsim: Simulator, ticks: Ticks) -> None:
    opened = [await connect(lsim.url(kind)) for kind in ("public", "private", "business")]
    with pytest.raises(InvalidStatus) as info:
        await connect(lsim.url("public"))
    assert info.value.response.status_code == 429
    assert (await http_get(lsim.rest_url + "/api/v5/public/time")).status == 200  # REST: apart
    ticks.now += 1.0
    opened.append(await connect(lsim.url("public")))
    for ws in opened:
        await ws.close()
    assert lsim.stats.connections_throttled == 1 and lsim.stats.connections_opened == 4


async def test_480_login_subscribe_unsubscribe_per_hour_per_connection(
    lsim: Simulator, ticks: Ticks
) -> None:
    sub = {"op": "subscribe", "args": [{"channel": "orders", "instType": "ANY"}]}
    unsub = {"op": "unsubscribe", "args": [{"channel": "orders", "instType": "ANY"}]}
    async with await login(lsim) as c, await login(lsim) as fresh:  # each login: 1 of 480
        for n in range(479):
            await c.send(sub if n % 2 == 0 else unsub)
        events = [(await c.recv())["event"] for _ in range(479)]
        assert events == ["subscribe", "unsubscribe"] * 239 + ["subscribe"]
        await c.send(dict(unsub, id="u481"))
        refused = await c.recv()
        assert isinstance(refused.pop("connId"), str)
        assert refused == {
            "event": "error",
            "code": "60014",
            "msg": "Requests too frequent.",
            "id": "u481",
        }
        await c.send("ping")  # the connection stays open
        assert await c.recv_text() == "pong"
        assert (await fresh.subscribe(sub["args"][0]))["event"] == "subscribe"  # per connection
        ticks.now += 3600.0
        assert (await c.subscribe(sub["args"][0]))["event"] == "subscribe"
    assert lsim.stats.session_ops_throttled == 1


def test_limits_can_be_turned_off_or_changed() -> None:
    assert Simulator().rate_limits == RateLimits()
    assert Simulator(rate_limits=False).rate_limits is None
    custom = RateLimits(connect=Limit(10, 1.0))
    assert Simulator(rate_limits=custom).rate_limits is custom


async def test_rate_limits_false_lets_everything_through() -> None:
    async with Simulator(rate_limits=False) as s:
        clients = [await RawClient.open(s.url("private")) for _ in range(5)]
        c = clients[0]
        await c.login()
        assert await burst(c, "order", [[order(px="40000", sz="0.001")]] * 70) == ["0"] * 70
        for client in clients:
            await client.close()
    assert s.stats.rate_limited == 0 and s.stats.connections_throttled == 0


# -- the table's arithmetic, without sockets -------------------------------------------------
def test_fixed_windows_restart_at_multiples_of_the_window() -> None:
    window = Window(Limit(2, 2.0), sliding=False)
    window.take(1.0, 2)
    assert window.room(1.9) == 0
    assert window.room(2.0) == 2  # a new window: fixed counts reset, sliding ones would not


def test_demands_of_a_batch() -> None:
    limits = RateLimits()
    a, b = ItemKey(("SPOT", "A")), ItemKey(("SPOT", "B"), sub_account=False)
    per_op, sub = op_demands(limits, "k", "batch-orders", [a, a, b])
    assert sorted((key, n) for key, _, n in per_op) == [
        (("batch-orders", "k", ("SPOT", "A")), 2),
        (("batch-orders", "k", ("SPOT", "B")), 1),
    ]
    assert [(key, n) for key, _, n in sub] == [(("sub-account", "k"), 2)]
    per_op, sub = op_demands(limits, "k", "batch-cancel-orders", [a])
    assert [(key, n) for key, _, n in per_op] == [(("cancel-order", "k", ("SPOT", "A")), 1)]
    assert sub == []
