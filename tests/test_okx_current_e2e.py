"""OKX as it is today, end to end against the simulator, on both clients (issue #22).

The simulator follows OKX from its own table (``okx_ws_sim/rules.py``): RPI
orders and RPI taker access, ``tradeQuoteCcy`` on a Crypto-USDC pair, a
post-only order that would cross pushed as ``canceled`` only (no ``live``),
and the Crypto-USD spot pairs OKX retired on 2026-09-30.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from okx_ws import (
    AsyncWebsocketAPIClient,
    OkxApiError,
    ParamsValidationError,
    UnknownInstrumentError,
    WebsocketAPIClient,
)

from okx_ws_sim import Simulator, SimulatorThread
from okx_ws_sim.instruments import RETIRED_SPOT
from tests.conftest import client_options

RPI = {"instId": "BTC-USDT-SWAP", "tdMode": "cross", "side": "sell", "ordType": "rpi",
       "sz": "10", "px": "60000", "rpiPxRound": True, "clOrdId": "rpi1"}  # fmt: skip
TAKER = {"instId": "ETH-USDT-SWAP", "tdMode": "cross", "side": "buy", "ordType": "ioc",
         "sz": "1", "px": "3000", "rpiTakerAccess": True, "clOrdId": "take1"}  # fmt: skip
USD_ON_USDC = {"instId": "BTC-USDC", "tdMode": "cash", "side": "sell", "ordType": "limit",
               "sz": "0.01", "px": "90000", "tradeQuoteCcy": "USD", "clOrdId": "usd1"}  # fmt: skip
CROSSING = {"instId": "BTC-USDT", "tdMode": "cash", "side": "buy", "ordType": "post_only",
            "sz": "0.001", "px": "90000", "clOrdId": "po1"}  # fmt: skip


def _received(sim: Simulator | SimulatorThread, cl_ord_id: str) -> dict[str, Any]:
    order = sim.find_order(cl_ord_id=cl_ord_id)
    assert order is not None, f"the simulator has no order {cl_ord_id}"
    return order


async def test_async_client_speaks_todays_okx(
    sim: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="okx_ws")
    async with AsyncWebsocketAPIClient(**client_options(sim.base_url)) as client:
        await client.track_orders()
        rpi = await client.submit_new_order(RPI)
        assert rpi.data[0].s_code == "0" and rpi.data[0].sub_code == ""
        assert _received(sim, "rpi1")["ordType"] == "rpi"
        assert (await client.wait_for("rpi1", "live", timeout=5)).state == "live"

        taker = await client.submit_new_order(TAKER)
        assert taker.data[0].s_code == "0"

        usd = await client.submit_new_order(USD_ON_USDC)
        assert usd.data[0].s_code == "0"
        assert _received(sim, "usd1")["tradeQuoteCcy"] == "USD"

        await client.submit_new_order(CROSSING)
        crossed = await client.wait_for("po1", timeout=5)
        assert crossed.state == "canceled"  # no live push came before it

        with pytest.raises(UnknownInstrumentError, match="BTC-USD"):
            await client.submit_new_order({**USD_ON_USDC, "instId": "BTC-USD", "clOrdId": "old1"})
        old_code = {**USD_ON_USDC, "instIdCode": RETIRED_SPOT["BTC-USD"], "clOrdId": "old2"}
        del old_code["instId"]
        with pytest.raises(OkxApiError) as caught:
            await client.submit_new_order(old_code)
        assert caught.value.failed[0]["sCode"] == "51001"
        assert "tradeQuoteCcy='USD'" in str(caught.value)  # the hint names the way forward

        with pytest.raises(ParamsValidationError, match="renamed 'rpi' by OKX"):
            await client.submit_new_order({**RPI, "ordType": "elp", "clOrdId": "elp1"})
    assert sim.find_order(cl_ord_id="old1") is None and sim.find_order(cl_ord_id="elp1") is None
    assert "do not match" not in caplog.text


def test_blocking_client_speaks_todays_okx(sim_thread: SimulatorThread) -> None:
    with WebsocketAPIClient(**client_options(sim_thread.base_url)) as client:
        client.track_orders()
        assert client.submit_new_order({**RPI, "clOrdId": "rpi2"}).data[0].s_code == "0"
        assert client.submit_new_order({**TAKER, "clOrdId": "take2"}).data[0].s_code == "0"
        assert client.submit_new_order({**USD_ON_USDC, "clOrdId": "usd2"}).data[0].s_code == "0"
        client.submit_new_order({**CROSSING, "clOrdId": "po2"})
        assert client.wait_for("po2", timeout=5).state == "canceled"
        with pytest.raises(UnknownInstrumentError):
            client.submit_new_order({**USD_ON_USDC, "instId": "ETH-USD", "clOrdId": "old3"})
        with pytest.raises(ParamsValidationError, match="renamed rpiTakerAccess"):
            client.submit_new_order({**TAKER, "isElpTakerAccess": True, "clOrdId": "elp2"})
    assert _received(sim_thread, "rpi2")["ordType"] == "rpi"
    assert _received(sim_thread, "usd2")["tradeQuoteCcy"] == "USD"
    assert sim_thread.find_order(cl_ord_id="old3") is None
