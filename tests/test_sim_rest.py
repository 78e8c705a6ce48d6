"""GET /api/v5/public/instruments on the simulator's port: OKX's fields and
errors, stable codes, call counting, the demo header, and REST faults."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from okx_ws_sim import Instrument, Simulator, SimulatorThread, default_instruments
from okx_ws_sim.testing import HttpReply, RawClient, http_get, inst_id_code

PATH = "/api/v5/public/instruments"
FIELDS = {
    "instType", "instId", "instIdCode", "uly", "instFamily", "baseCcy", "quoteCcy",
    "settleCcy", "ctVal", "ctMult", "ctValCcy", "ctType", "optType", "stk", "listTime",
    "expTime", "lever", "tickSz", "lotSz", "minSz", "alias", "ruleType", "state",
    "tradeQuoteCcyList",
}  # fmt: skip


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator() as s:
        yield s


async def get(sim: Simulator, query: str = "", **headers: str) -> HttpReply:
    return await http_get(f"{sim.rest_url}{PATH}{query}", headers)


async def listed(sim: Simulator, query: str) -> dict[str, dict[str, object]]:
    reply = await get(sim, query)
    assert reply.status == 200 and reply.headers["content-type"] == "application/json"
    body = reply.json()
    assert list(body) == ["code", "msg", "data"] and (body["code"], body["msg"]) == ("0", "")
    return {item["instId"]: item for item in body["data"]}


async def test_spot(sim: Simulator) -> None:
    items = await listed(sim, "?instType=SPOT")
    # No Crypto-USD pair since OKX merged USD spot into USDC (2026-09-30).
    assert list(items) == ["BTC-USDT", "ETH-USDT", "ETH-BTC", "BTC-USDC", "ETH-USDC"]
    btc = items["BTC-USDT"]
    assert set(btc) == FIELDS
    assert btc["instIdCode"] == 10001 and type(btc["instIdCode"]) is int
    assert (btc["instType"], btc["baseCcy"], btc["quoteCcy"], btc["state"]) == (
        "SPOT",
        "BTC",
        "USDT",
        "live",
    )
    assert (btc["tickSz"], btc["lotSz"], btc["minSz"], btc["lever"]) == (
        "0.1",
        "0.00000001",
        "0.00001",
        "10",
    )
    for empty in ("uly", "instFamily", "settleCcy", "ctVal", "ctType", "optType", "stk", "expTime"):
        assert btc[empty] == "", empty
    assert btc["tradeQuoteCcyList"] == ["USDT"]
    scalars = {k: v for k, v in btc.items() if k not in ("instIdCode", "tradeQuoteCcyList")}
    assert all(type(v) is str for v in scalars.values())


async def test_margin_lists_margin_pairs_with_the_spot_code(sim: Simulator) -> None:
    items = await listed(sim, "?instType=MARGIN")
    assert list(items) == ["BTC-USDT", "ETH-USDT"]  # ETH-BTC is not margin-enabled
    btc = items["BTC-USDT"]
    assert btc["instType"] == "MARGIN" and btc["instIdCode"] == inst_id_code("BTC-USDT")
    assert (btc["baseCcy"], btc["quoteCcy"], btc["instFamily"]) == ("BTC", "USDT", "BTC-USDT")


async def test_swap_futures_option(sim: Simulator) -> None:
    swaps = await listed(sim, "?instType=SWAP")
    assert list(swaps) == ["BTC-USDT-SWAP", "ETH-USDT-SWAP"]
    swap = swaps["BTC-USDT-SWAP"]
    assert set(swap) == FIELDS
    assert (swap["instIdCode"], swap["ctVal"], swap["ctMult"], swap["ctValCcy"]) == (
        20001,
        "0.01",
        "1",
        "BTC",
    )
    assert (swap["ctType"], swap["settleCcy"], swap["instFamily"], swap["uly"]) == (
        "linear",
        "USDT",
        "BTC-USDT",
        "BTC-USDT",
    )
    assert swap["baseCcy"] == "" and swap["expTime"] == "" and swap["lever"] == "100"
    assert swap["tradeQuoteCcyList"] == []
    fut = (await listed(sim, "?instType=FUTURES"))["BTC-USDT-261225"]
    assert fut["instIdCode"] == 30001 and fut["expTime"] == "1798185600000"  # 2026-12-25 08:00Z
    options = await listed(sim, "?instType=OPTION&instFamily=BTC-USD")
    assert sorted(options) == [
        "BTC-USD-251226-40000-P",
        "BTC-USD-251226-60000-C",
        "BTC-USD-251226-60000-P",
    ]
    call = options["BTC-USD-251226-60000-C"]
    assert (call["optType"], call["stk"], call["settleCcy"], call["lever"]) == (
        "C",
        "60000",
        "BTC",
        "",
    )
    assert call["ctType"] == "" and call["expTime"] == "1766736000000"
    assert list(await listed(sim, "?instType=OPTION&uly=ETH-USD")) == ["ETH-USD-251226-4000-C"]


async def test_filters(sim: Simulator) -> None:
    assert list(await listed(sim, "?instType=SWAP&instFamily=ETH-USDT")) == ["ETH-USDT-SWAP"]
    assert list(await listed(sim, "?instType=SWAP&uly=ETH-USDT")) == ["ETH-USDT-SWAP"]
    assert list(await listed(sim, "?instType=SPOT&instId=ETH-BTC")) == ["ETH-BTC"]
    assert await listed(sim, "?instType=SWAP&instFamily=DOGE-USDT") == {}
    # SPOT has no instFamily: the filter is ignored; unknown parameters are too
    assert len(await listed(sim, "?instType=SPOT&instFamily=X-Y&foo=1")) == 5
    # spreads are not instruments of this endpoint
    for inst_type in ("SPOT", "MARGIN", "SWAP", "FUTURES"):
        listing = await listed(sim, f"?instType={inst_type}")
        assert not any("_" in inst_id for inst_id in listing), inst_type


@pytest.mark.parametrize(
    ("query", "status", "code", "msg"),
    [
        ("", 400, "50014", "Parameter instType can not be empty."),
        ("?instType=", 400, "50014", "Parameter instType can not be empty."),
        ("?instType=spot", 400, "51000", "Parameter instType error"),
        ("?instType=SPREAD", 400, "51000", "Parameter instType error"),
        ("?instType=OPTION", 400, "50015", "Either parameter instFamily or uly is required"),
        (
            "?instType=SPOT&instId=DOGE-XYZ",
            200,
            "51001",
            "Instrument ID, Instrument ID code or Spread ID doesn't exist.",
        ),
        (
            "?instType=SWAP&instId=BTC-USDT",  # listed, but not under SWAP
            200,
            "51001",
            "Instrument ID, Instrument ID code or Spread ID doesn't exist.",
        ),
    ],
)
async def test_errors(sim: Simulator, query: str, status: int, code: str, msg: str) -> None:
    reply = await get(sim, query)
    assert reply.status == status and reply.headers["content-type"] == "application/json"
    assert reply.json() == {"code": code, "msg": msg, "data": []}
    assert sim.rest_calls(PATH) == 1  # an error answer is still an answer


async def test_unknown_paths_are_404(sim: Simulator) -> None:
    for path in ("/api/v5/public/funding-rate", "/api/v5/public/instruments/", "/"):
        reply = await http_get(sim.rest_url + path)
        assert reply.status == 404, path
    assert sim.rest_calls() == 0 and sim.stats.connections_rejected == 3


async def test_websocket_paths_still_work(sim: Simulator) -> None:
    async with await RawClient.open(sim.url("public")) as c:
        await c.send("ping")
        assert await c.recv_text() == "pong"
    with pytest.raises(InvalidStatus):  # a WS handshake to a REST path gets the JSON answer
        async with connect(sim.rest_url.replace("http", "ws") + PATH + "?instType=SPOT"):
            pass


async def test_codes_are_stable_across_restarts_and_simulators(sim: Simulator) -> None:
    before = {i["instId"]: i["instIdCode"] for i in (await listed(sim, "?instType=SWAP")).values()}
    await sim.restart()
    after = {i["instId"]: i["instIdCode"] for i in (await listed(sim, "?instType=SWAP")).values()}
    async with Simulator() as other:
        again = {
            i["instId"]: i["instIdCode"] for i in (await listed(other, "?instType=SWAP")).values()
        }
    assert before == after == again == {"BTC-USDT-SWAP": 20001, "ETH-USDT-SWAP": 20002}
    table = default_instruments()
    assert {i.inst_id_code for i in table.values()} == {
        10001, 10002, 10003, 20001, 20002, 30001, 40001, 40002, 40003, 40004, 50001, 50002,
        10004, 10005,
    }  # fmt: skip
    # adding an instrument shifts no code; a code-less one gets a derived, stable code
    extra = Instrument("SOL-USDT", "SPOT", Decimal("150"), Decimal("100"), "SOL", "USDT", "USDT")
    sim.add_instrument(extra)
    spot = await listed(sim, "?instType=SPOT")
    assert spot["BTC-USDT"]["instIdCode"] == 10001
    assert spot["SOL-USDT"]["instIdCode"] == extra.inst_id_code == 659079723  # CRC-32 based


async def test_listing_and_delisting_show_in_rest(sim: Simulator) -> None:
    sol = Instrument(
        "SOL-USDT", "SPOT", Decimal(150), Decimal(100), "SOL", "USDT", "USDT", lever="5"
    )
    sim.add_instrument(sol)
    assert "SOL-USDT" in await listed(sim, "?instType=SPOT")
    assert "SOL-USDT" in await listed(sim, "?instType=MARGIN")
    sim.remove_instrument("SOL-USDT")
    assert "SOL-USDT" not in await listed(sim, "?instType=SPOT")
    sim.remove_instrument("BTC-USDT-SWAP")
    assert list(await listed(sim, "?instType=SWAP")) == ["ETH-USDT-SWAP"]


async def test_rest_calls_counted_per_path_and_inst_type(sim: Simulator) -> None:
    for query in ("?instType=SPOT", "?instType=SWAP", "?instType=SWAP&instFamily=BTC-USDT", ""):
        await get(sim, query)
    assert sim.rest_calls() == 4 and sim.rest_calls(PATH) == 4
    assert sim.rest_calls(PATH, inst_type="SWAP") == 2
    assert sim.rest_calls(inst_type="SPOT") == 1 and sim.rest_calls(inst_type="") == 1
    assert sim.rest_calls(PATH, inst_type="OPTION") == 0 and sim.rest_calls("/other") == 0
    assert sim.stats.rest_calls[f"{PATH}?instType=SWAP"] == 2
    sim.reset()
    assert sim.rest_calls() == 0 and sim.rest_last_headers == {}


async def test_demo_header_is_recorded(sim: Simulator) -> None:
    await get(sim, "?instType=SPOT")
    assert sim.stats.rest_simulated_trading == 0
    assert "x-simulated-trading" not in sim.rest_last_headers
    await get(sim, "?instType=SPOT", **{"x-simulated-trading": "1", "User-Agent": "bot/1"})
    assert sim.stats.rest_simulated_trading == 1
    assert sim.rest_last_headers["x-simulated-trading"] == "1"
    assert sim.rest_last_headers["user-agent"] == "bot/1"


async def test_fail_rest(sim: Simulator) -> None:
    sim.faults.fail_rest(count=2)
    assert sim.faults.active
    for _ in range(2):
        reply = await get(sim, "?instType=SPOT")
        assert reply.status == 503 and reply.headers["content-type"] == "application/json"
        assert reply.json()["code"] == "50001" and reply.json()["data"] == []
    assert (await get(sim, "?instType=SPOT")).status == 200
    assert sim.rest_calls() == 1  # faulted requests are not answers
    assert sim.stats.faults_injected["rest_fail"] == 2 and not sim.faults.active
    sim.faults.fail_rest(status=500, path="/api/v5/public/time")  # another path: untouched
    assert (await get(sim, "?instType=SPOT")).status == 200
    sim.faults.reset()
    with pytest.raises(ValueError):
        sim.faults.fail_rest(count=0)
    with pytest.raises(ValueError):
        sim.faults.fail_rest(status=42)


async def test_hang_rest_drops_without_answer(sim: Simulator) -> None:
    sim.faults.hang_rest(seconds=0.05)
    t0 = time.monotonic()
    with pytest.raises(ConnectionError):
        await get(sim, "?instType=SPOT")
    assert time.monotonic() - t0 >= 0.04
    assert (await get(sim, "?instType=SPOT")).status == 200  # one-shot
    assert sim.stats.faults_injected["rest_hang"] == 1 and sim.rest_calls() == 1


async def test_hang_rest_times_out_a_client_and_ends_on_stop() -> None:
    s = Simulator()
    await s.start()
    s.faults.hang_rest(seconds=8.0)
    pending = asyncio.ensure_future(http_get(f"{s.rest_url}{PATH}?instType=SPOT", timeout=3))
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(asyncio.shield(pending), 0.1)  # the client's own timeout
    t0 = time.monotonic()
    await s.stop()  # releases the held request at once
    assert time.monotonic() - t0 < 1.0
    with pytest.raises(ConnectionError):
        await pending


def test_thread_mirrors_the_rest_api() -> None:
    with SimulatorThread(legacy_inst_id=True) as sim:
        assert sim.legacy_inst_id and sim.rest_url.startswith("http://127.0.0.1:")
        sim.faults.fail_rest()
        reply = asyncio.run(http_get(f"{sim.rest_url}{PATH}?instType=SWAP"))
        assert reply.status == 503
        reply = asyncio.run(
            http_get(f"{sim.rest_url}{PATH}?instType=SWAP", {"x-simulated-trading": "1"})
        )
        assert reply.status == 200 and len(reply.json()["data"]) == 2
        assert sim.rest_calls(PATH, inst_type="SWAP") == 1 and sim.rest_calls() == 1
        assert sim.rest_last_headers["x-simulated-trading"] == "1"
        assert sim.inst_id_code("BTC-USDT") == 10001
        sol = Instrument("SOL-USDT", "SPOT", Decimal(150), Decimal(100), inst_id_code=10099)
        assert sim.add_instrument(sol) == sol and sim.instrument("SOL-USDT") == sol
        assert sim.remove_instrument("SOL-USDT") == sol and sim.instrument("SOL-USDT") is None
