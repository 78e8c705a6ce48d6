"""Every operation through both generated clients against the simulator.

Each scenario checks the typed reply, the order state the simulator ends up
with, and that the simulator received exactly one request per call (a client
sending a request twice would otherwise pass: the duplicate is refused with
51016 and its reply ignored).  The blocking client runs in a worker thread so
that one scenario body serves both clients.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from okx_ws import AsyncWebsocketAPIClient, OkxApiError, ParamsValidationError, WebsocketAPIClient
from okx_ws.operations import OPERATIONS

from okx_ws_sim import Engine, Simulator
from okx_ws_sim import protocol as sim_protocol
from okx_ws_sim import rules as sim_rules
from tests.conftest import client_options

Send = Callable[..., Awaitable[Any]]


class Call:
    """``await call("submit_new_order", params)`` on one generated client, counting
    the requests each call should have put on the wire (every call that passed
    validation: a ParamsValidationError sends nothing)."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self.sent: Counter[str] = Counter()  # OKX op -> requests the calls should have sent

    async def __call__(self, name: str, params: Any, **kw: Any) -> Any:
        try:
            result = await self._send(name, params, **kw)
        except ParamsValidationError:
            raise
        except BaseException:
            self.sent[OPERATIONS[name].op] += 1
            raise
        self.sent[OPERATIONS[name].op] += 1
        return result


def assert_one_request_per_call(call: Call, sim: Simulator) -> None:
    """The simulator received exactly the requests the calls made: no more, no fewer,
    and no id twice."""
    assert sim.stats.requests_by_op == call.sent
    assert sim.stats.requests_total == call.sent.total()
    assert sim.stats.duplicate_request_ids == []


_ids = itertools.count(1)
SPREAD = "BTC-USDT_BTC-USDT-SWAP"
OPTION = "BTC-USD-251226-60000-C"


def cid(prefix: str = "e") -> str:
    return f"{prefix}{next(_ids)}"


def limit(px: str = "20000", **extra: Any) -> dict[str, Any]:
    return {
        "instId": "BTC-USDT",
        "tdMode": "cash",
        "side": "buy",
        "ordType": "limit",
        "px": px,
        "sz": "0.01",
        "clOrdId": cid(),
        **extra,
    }


@pytest.fixture(params=["async", "blocking"])
async def call(request: pytest.FixtureRequest, sim: Simulator) -> AsyncIterator[Call]:
    """``await call("submit_new_order", params)`` on the chosen generated client."""
    options = client_options(sim.base_url)
    if request.param == "async":
        async with AsyncWebsocketAPIClient(**options) as client:

            async def call_async(name: str, params: Any, **kw: Any) -> Any:
                return await getattr(client, name)(params, **kw)

            yield Call(call_async)
    else:
        client = WebsocketAPIClient(**options)

        async def call_blocking(name: str, params: Any, **kw: Any) -> Any:
            return await asyncio.to_thread(getattr(client, name), params, **kw)

        yield Call(call_blocking)
        await asyncio.to_thread(client.close)


SCENARIOS: dict[str, Callable[[Call, Simulator], Awaitable[None]]] = {}


def scenario(name: str) -> Callable[[Callable[[Call, Simulator], Awaitable[None]]], Any]:
    assert name in OPERATIONS, name

    def register(fn: Callable[[Call, Simulator], Awaitable[None]]) -> Any:
        SCENARIOS[name] = fn
        return fn

    return register


@scenario("submit_new_order")
async def _submit(call: Call, sim: Simulator) -> None:
    params = limit(tag="bot1")
    reply = await call("submit_new_order", params)
    item = reply.data[0]
    assert (reply.code, item.s_code, item.cl_ord_id, item.tag) == (
        "0",
        "0",
        params["clOrdId"],
        "bot1",
    )
    stored = sim.find_order(cl_ord_id=params["clOrdId"])
    assert stored is not None and (stored["ordId"], stored["state"], stored["px"]) == (
        item.ord_id,
        "live",
        "20000",
    )
    market = {
        "instId": "BTC-USDT",
        "tdMode": "cash",
        "side": "buy",
        "ordType": "market",
        "sz": "0.01",
        "clOrdId": cid(),
    }
    await call("submit_new_order", market)
    filled = sim.find_order(cl_ord_id=market["clOrdId"])
    assert filled is not None and filled["state"] == "filled"


@scenario("submit_multiple_orders")
async def _submit_batch(call: Call, sim: Simulator) -> None:
    batch = [limit(px=str(19000 + i)) for i in range(5)]
    reply = await call("submit_multiple_orders", batch)
    assert [i.cl_ord_id for i in reply.data] == [o["clOrdId"] for o in batch]
    for order in batch:
        stored = sim.find_order(cl_ord_id=order["clOrdId"])
        assert stored is not None and stored["state"] == "live"
    with pytest.raises(OkxApiError) as info:
        await call("submit_multiple_orders", [limit(), limit(sz="1000000"), {**batch[0]}])
    assert info.value.code == "2"
    assert [i["sCode"] for i in info.value.data] == ["0", "51008", "51016"]


@scenario("cancel_order")
async def _cancel(call: Call, sim: Simulator) -> None:
    placed = (await call("submit_new_order", limit())).data[0]
    reply = await call("cancel_order", {"instId": "BTC-USDT", "ordId": placed.ord_id})
    assert reply.data[0].ord_id == placed.ord_id
    assert sim.find_order(ord_id=placed.ord_id)["state"] == "canceled"  # type: ignore[index]
    with pytest.raises(OkxApiError) as info:
        await call("cancel_order", {"instId": "BTC-USDT", "ordId": placed.ord_id})
    assert info.value.data[0]["sCode"] == "51400"


@scenario("cancel_multiple_orders")
async def _cancel_batch(call: Call, sim: Simulator) -> None:
    batch = [limit() for _ in range(3)]
    await call("submit_multiple_orders", batch)
    reply = await call(
        "cancel_multiple_orders", [{"instId": "BTC-USDT", "clOrdId": o["clOrdId"]} for o in batch]
    )
    assert len(reply.data) == 3
    assert {sim.find_order(cl_ord_id=o["clOrdId"])["state"] for o in batch} == {"canceled"}  # type: ignore[index]


@scenario("amend_order")
async def _amend(call: Call, sim: Simulator) -> None:
    order = limit()
    await call("submit_new_order", order)
    reply = await call(
        "amend_order",
        {"instId": "BTC-USDT", "clOrdId": order["clOrdId"], "newPx": "21000", "reqId": "r1"},
    )
    assert reply.data[0].req_id == "r1"
    assert sim.find_order(cl_ord_id=order["clOrdId"])["px"] == "21000"  # type: ignore[index]


@scenario("amend_multiple_orders")
async def _amend_batch(call: Call, sim: Simulator) -> None:
    batch = [limit() for _ in range(2)]
    await call("submit_multiple_orders", batch)
    await call(
        "amend_multiple_orders",
        [{"instId": "BTC-USDT", "clOrdId": o["clOrdId"], "newSz": "0.02"} for o in batch],
    )
    assert {sim.find_order(cl_ord_id=o["clOrdId"])["sz"] for o in batch} == {"0.02"}  # type: ignore[index]


@scenario("mass_cancel_orders")
async def _mass_cancel(call: Call, sim: Simulator) -> None:
    option = {
        "instId": OPTION,
        "tdMode": "isolated",
        "side": "buy",
        "ordType": "limit",
        "px": "0.01",
        "sz": "1",
        "clOrdId": cid(),
    }
    await call("submit_new_order", option)
    reply = await call(
        "mass_cancel_orders", {"instType": "OPTION", "instFamily": "BTC-USD", "lockInterval": "0"}
    )
    assert reply.data[0].result is True
    assert sim.find_order(cl_ord_id=option["clOrdId"])["state"] == "canceled"  # type: ignore[index]


@scenario("submit_spread_order")
async def _spread(call: Call, sim: Simulator) -> None:
    order = {
        "sprdId": SPREAD,
        "side": "buy",
        "ordType": "limit",
        "px": "-5",
        "sz": "1",
        "clOrdId": cid(),
        "tag": "sp1",
    }
    reply = await call("submit_spread_order", order)
    stored = sim.find_order(cl_ord_id=order["clOrdId"])
    assert stored is not None and (stored["ordId"], stored["sprdId"], stored["state"]) == (
        reply.data[0].ord_id,
        SPREAD,
        "live",
    )


@scenario("amend_spread_order")
async def _spread_amend(call: Call, sim: Simulator) -> None:
    order = {
        "sprdId": SPREAD,
        "side": "buy",
        "ordType": "limit",
        "px": "-5",
        "sz": "1",
        "clOrdId": cid(),
    }
    await call("submit_spread_order", order)
    reply = await call(
        "amend_spread_order", {"clOrdId": order["clOrdId"], "newPx": "-6", "reqId": "q1"}
    )
    assert reply.data[0].req_id == "q1"
    assert sim.find_order(cl_ord_id=order["clOrdId"])["px"] == "-6"  # type: ignore[index]


@scenario("cancel_spread_order")
async def _spread_cancel(call: Call, sim: Simulator) -> None:
    order = {
        "sprdId": SPREAD,
        "side": "sell",
        "ordType": "limit",
        "px": "50",
        "sz": "1",
        "clOrdId": cid(),
    }
    placed = (await call("submit_spread_order", order)).data[0]
    await call("cancel_spread_order", {"ordId": placed.ord_id})
    assert sim.find_order(ord_id=placed.ord_id)["state"] == "canceled"  # type: ignore[index]


@scenario("mass_cancel_spread_orders")
async def _spread_mass_cancel(call: Call, sim: Simulator) -> None:
    order = {
        "sprdId": SPREAD,
        "side": "buy",
        "ordType": "limit",
        "px": "-5",
        "sz": "1",
        "clOrdId": cid(),
    }
    await call("submit_spread_order", order)
    reply = await call("mass_cancel_spread_orders", {})
    assert reply.data[0].result is True
    assert sim.find_order(cl_ord_id=order["clOrdId"])["state"] == "canceled"  # type: ignore[index]


# Adding an operation (docs/guide/adding-an-operation.md): each check below names the
# step still missing for each op, instead of a bare KeyError or a list diff.
GUIDE = "docs/guide/adding-an-operation.md"


def missing_scenario(name: str) -> str:
    return (
        f'{name}: no end-to-end scenario; add one with @scenario("{name}") in'
        f" tests/test_e2e_operations.py (step 4 of {GUIDE})"
    )


def missing_simulator_rule(name: str) -> str:
    op = OPERATIONS[name].op
    return (
        f"op {op!r} ({name}) is not served by the simulator, which answers it 60013 Invalid"
        f" args: add its item rule to RULES in okx_ws_sim/rules.py, its endpoint to OPS in"
        f" okx_ws_sim/protocol.py and its handler to Engine.HANDLERS in okx_ws_sim/engine.py"
        f" (step 3 of {GUIDE})"
    )


def test_every_operation_has_a_scenario() -> None:
    missing = [missing_scenario(name) for name in OPERATIONS if name not in SCENARIOS]
    assert not missing, "\n".join(missing)
    assert set(SCENARIOS) <= set(OPERATIONS)  # scenario() refuses other names


def test_every_operation_is_served_by_the_simulator() -> None:
    tables = (sim_protocol.OPS, sim_rules.RULES, Engine.HANDLERS)
    missing = [
        missing_simulator_rule(name)
        for name, operation in OPERATIONS.items()
        if not all(operation.op in table for table in tables)
    ]
    assert not missing, "\n".join(missing)


@pytest.mark.parametrize("name", list(OPERATIONS))
async def test_operation_end_to_end(name: str, call: Call, sim: Simulator) -> None:
    if name not in SCENARIOS:
        pytest.fail(missing_scenario(name), pytrace=False)
    await SCENARIOS[name](call, sim)
    assert_one_request_per_call(call, sim)


async def test_invalid_params_send_nothing(call: Call, sim: Simulator) -> None:
    await call("submit_new_order", limit())  # connected and logged in
    sent = sim.stats.requests_total
    with pytest.raises(ParamsValidationError, match="clOrdId"):
        await call("submit_new_order", limit(clOrdId="1-not-valid"))
    with pytest.raises(ParamsValidationError, match="21"):
        await call("submit_multiple_orders", [limit() for _ in range(21)])
    with pytest.raises(ParamsValidationError, match="ordId"):
        await call("cancel_order", {"instId": "BTC-USDT"})
    with pytest.raises(ParamsValidationError, match="sz"):
        await call("submit_new_order", {**limit(), "sz": 0.1})
    assert sim.stats.requests_total == sent
    assert_one_request_per_call(call, sim)


async def test_expired_exp_time_is_rejected_and_nothing_placed(call: Call, sim: Simulator) -> None:
    order = limit()
    with pytest.raises(OkxApiError):
        await call("submit_new_order", order, exp_time=1_000)
    assert sim.find_order(cl_ord_id=order["clOrdId"]) is None
    assert_one_request_per_call(call, sim)
