"""instIdCode resolution end to end: the real clients, the simulator's REST list and its
strict order checks (items without an integer instIdCode are rejected, as OKX does)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from okx_ws import (
    AsyncWebsocketAPIClient,
    InstrumentResolutionError,
    OkxApiError,
    UnknownInstrumentError,
    WebsocketAPIClient,
)

from okx_ws_sim import Simulator, SimulatorThread
from tests.conftest import client_options

LIST = "/api/v5/public/instruments"


def order(cl_ord_id: str, inst_id: str = "BTC-USDT", **extra: Any) -> dict[str, Any]:
    return {"instId": inst_id, "tdMode": "cash", "side": "buy", "ordType": "limit",
            "px": "100", "sz": "0.01", "clOrdId": cl_ord_id, **extra}  # fmt: skip


def orders_seen(sim: Simulator | SimulatorThread) -> int:
    return sim.stats.requests_by_op.get("order", 0)


async def test_100_concurrent_cold_orders_make_one_rest_call_per_inst_type(sim: Simulator) -> None:
    async with AsyncWebsocketAPIClient(**client_options(sim.base_url)) as client:
        await client.connect_ws_api()  # no instrument_types: the cache is cold
        replies = await asyncio.gather(
            *(
                client.submit_new_order(
                    order(f"cold{i}", "BTC-USDT" if i % 2 else "BTC-USDT-SWAP", tdMode="cross")
                )
                for i in range(100)
            )
        )
    assert all(reply.code == "0" for reply in replies)
    assert sim.rest_calls(LIST, "SPOT") == 1
    assert sim.rest_calls(LIST, "SWAP") == 1
    assert sim.rest_calls() == 2
    stored = sim.find_order(cl_ord_id="cold1")
    assert stored is not None and stored["instId"] == "BTC-USDT"


def test_blocking_concurrent_cold_orders_make_one_rest_call(sim_thread: SimulatorThread) -> None:
    with WebsocketAPIClient(**client_options(sim_thread.base_url)) as client:
        client.connect_ws_api()
        with ThreadPoolExecutor(max_workers=20) as pool:
            replies = list(pool.map(client.submit_new_order, [order(f"bc{i}") for i in range(40)]))
    assert all(reply.code == "0" for reply in replies)
    assert sim_thread.rest_calls(LIST, "SPOT") == 1


async def test_warming_loads_the_listed_types_so_orders_make_no_rest_call(sim: Simulator) -> None:
    options = client_options(sim.base_url, instrument_types=("SPOT", "SWAP"))
    async with AsyncWebsocketAPIClient(**options) as client:
        await client.connect_ws_api()
        assert sim.rest_calls(LIST) == 2
        await client.submit_new_order(order("warm1"))
        await client.cancel_order({"instId": "BTC-USDT", "clOrdId": "warm1"})
        assert sim.rest_calls(LIST) == 2


async def test_unknown_instrument_fails_that_call_only_and_sends_nothing(sim: Simulator) -> None:
    async with AsyncWebsocketAPIClient(**client_options(sim.base_url)) as client:
        bad, good = await asyncio.gather(
            client.submit_new_order(order("unk1", "NOPE-USDT")),
            client.submit_new_order(order("unk2")),
            return_exceptions=True,
        )
    assert isinstance(bad, UnknownInstrumentError) and bad.inst_id == "NOPE-USDT"
    assert "NOPE-USDT" in str(bad) and "nothing was sent" in str(bad)
    assert not isinstance(good, BaseException) and good.code == "0"
    assert orders_seen(sim) == 1
    assert sim.find_order(cl_ord_id="unk1") is None


def test_blocking_unknown_instrument(sim_thread: SimulatorThread) -> None:
    with WebsocketAPIClient(**client_options(sim_thread.base_url)) as client:
        with pytest.raises(UnknownInstrumentError, match="NOPE-USDT"):
            client.submit_new_order(order("unk3", "NOPE-USDT"))
    assert orders_seen(sim_thread) == 0


async def test_rest_down_fails_as_unresolved_then_recovers(sim: Simulator) -> None:
    async with AsyncWebsocketAPIClient(**client_options(sim.base_url)) as client:
        sim.faults.fail_rest(count=1, status=503)
        with pytest.raises(InstrumentResolutionError, match="BTC-USDT") as info:
            await client.submit_new_order(order("down1"))
        assert "503" in str(info.value) and "nothing was sent" in str(info.value)
        assert orders_seen(sim) == 0
        await asyncio.sleep(0.3)  # the registry's short backoff after a failed load
        assert (await client.submit_new_order(order("down2"))).code == "0"
    assert orders_seen(sim) == 1


def test_blocking_rest_down(sim_thread: SimulatorThread) -> None:
    sim_thread.faults.fail_rest(count=1, status=503)
    with WebsocketAPIClient(**client_options(sim_thread.base_url)) as client:
        with pytest.raises(InstrumentResolutionError):
            client.submit_new_order(order("down3"))
    assert orders_seen(sim_thread) == 0


async def test_preset_mapping_trades_with_rest_down(sim: Simulator) -> None:
    sim.faults.fail_rest(count=100)
    codes = {"BTC-USDT": sim.inst_id_code("BTC-USDT")}
    async with AsyncWebsocketAPIClient(**client_options(sim.base_url, instruments=codes)) as client:
        await client.submit_new_order(order("pre1"))
        await client.amend_order({"instId": "BTC-USDT", "clOrdId": "pre1", "newSz": "0.02"})
        await client.cancel_order({"instId": "BTC-USDT", "clOrdId": "pre1"})
    assert sim.rest_calls() == 0
    assert sim.stats.faults_injected.get("rest_fail", 0) == 0  # REST was never even asked


def test_blocking_preset_mapping_with_rest_down(sim_thread: SimulatorThread) -> None:
    sim_thread.faults.fail_rest(count=100)
    codes = {"BTC-USDT": sim_thread.inst_id_code("BTC-USDT")}
    with WebsocketAPIClient(**client_options(sim_thread.base_url, instruments=codes)) as client:
        assert client.submit_new_order(order("pre2")).code == "0"
    assert sim_thread.rest_calls() == 0


async def test_a_delisted_code_is_dropped_from_the_cache_and_nothing_is_resent(
    sim: Simulator,
) -> None:
    async with AsyncWebsocketAPIClient(**client_options(sim.base_url)) as client:
        await client.submit_new_order(order("del1", "ETH-BTC"))
        registry = client.get_ws_client().instruments
        assert registry.code("ETH-BTC") == sim.inst_id_code("ETH-BTC")
        sim.remove_instrument("ETH-BTC")
        with pytest.raises(OkxApiError) as info:
            await client.submit_new_order(order("del2", "ETH-BTC"))
        assert info.value.data[0]["sCode"] == "51001"
        assert registry.code("ETH-BTC") is None  # invalidated: the next call looks again
        assert orders_seen(sim) == 2  # the rejected order was not re-sent
        rest_before = sim.rest_calls(LIST)
        with pytest.raises((InstrumentResolutionError, UnknownInstrumentError), match="ETH-BTC"):
            await client.submit_new_order(order("del3", "ETH-BTC"))
        assert orders_seen(sim) == 2
        assert sim.rest_calls(LIST) - rest_before <= 1  # at most one refresh, never a loop


def test_blocking_delisted_code_is_invalidated(sim_thread: SimulatorThread) -> None:
    with WebsocketAPIClient(**client_options(sim_thread.base_url)) as client:
        client.submit_new_order(order("del4", "ETH-BTC"))
        sim_thread.remove_instrument("ETH-BTC")
        with pytest.raises(OkxApiError) as info:
            client.submit_new_order(order("del5", "ETH-BTC"))
        assert info.value.data[0]["sCode"] == "51001"
        assert client.get_ws_client().async_client.instruments.code("ETH-BTC") is None


async def test_demo_trading_rest_calls_carry_the_simulated_trading_header(sim: Simulator) -> None:
    options = client_options(sim.base_url, demo_trading=True)
    async with AsyncWebsocketAPIClient(**options) as client:
        await client.load_instruments(["SPOT"])
    assert sim.stats.rest_simulated_trading == 1


async def test_explicit_inst_id_code_is_sent_as_given(sim: Simulator) -> None:
    code = sim.inst_id_code("ETH-USDT")
    async with AsyncWebsocketAPIClient(**client_options(sim.base_url)) as client:
        await client.submit_new_order({**order("exp1", "ETH-USDT"), "instIdCode": code})
    stored = sim.find_order(cl_ord_id="exp1")
    assert stored is not None and stored["instId"] == "ETH-USDT"
    assert sim.rest_calls() == 0
