"""Typed ``orders`` / ``sprd-orders`` pushes and the order tracker against the simulator.

The simulator pushes order updates on those two channels whenever an order
changes (the other channels are acked only, until it serves them): every push
must arrive typed without falling back to unvalidated items, and the tracker
must follow each order to its final state.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from okx_ws import (
    AsyncWebsocketAPIClient,
    OrdersPushItem,
    SprdOrdersPushItem,
    WebsocketAPIClient,
)

from okx_ws_sim import Simulator, SimulatorThread
from tests.conftest import client_options

SPREAD = "BTC-USDT_BTC-USDT-SWAP"


async def test_orders_pushes_are_typed_and_tracked_through_amend_and_fill(
    sim: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="okx_ws")
    async with AsyncWebsocketAPIClient(**client_options(sim.base_url)) as client:
        await client.track_orders()
        stream = await client.subscribe_orders("SPOT", inst_id="BTC-USDT")
        resting = {"instId": "BTC-USDT", "tdMode": "cash", "side": "buy", "ordType": "limit",
                   "px": "40000", "sz": "0.01", "clOrdId": "e2e1"}  # fmt: skip
        placed = await client.submit_new_order(resting)
        live = await stream.get(timeout=5)
        item = live.data[0]
        assert type(item) is OrdersPushItem
        assert (item.cl_ord_id, item.ord_id, item.state, item.px) == (
            "e2e1", placed.data[0].ord_id, "live", "40000",
        )  # fmt: skip
        assert live.arg["channel"] == "orders" and "uid" in live.arg
        await client.amend_order({"instId": "BTC-USDT", "clOrdId": "e2e1", "newPx": "50000"})
        states = []
        while not states or states[-1] != "filled":
            states.append((await stream.get(timeout=5)).data[0].state)
        assert states[-1] == "filled"
        tracked = await client.wait_for("e2e1", "filled", timeout=5)
        assert (tracked.state, tracked.ord_id, str(tracked.filled_sz)) == (
            "filled", placed.data[0].ord_id, "0.01",
        )  # fmt: skip
        assert tracked.px == "50000" and tracked.avg_px is not None
        assert sim.find_order(cl_ord_id="e2e1")["state"] == "filled"  # type: ignore[index]
    assert "do not match" not in caplog.text


async def test_sprd_orders_pushes_are_typed_and_a_cancel_is_tracked(
    sim: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="okx_ws")
    async with AsyncWebsocketAPIClient(**client_options(sim.base_url)) as client:
        await client.track_orders()
        stream = await client.subscribe_sprd_orders(sprd_id=SPREAD)
        await client.submit_spread_order({"sprdId": SPREAD, "side": "buy", "ordType": "limit",
                                          "sz": "1", "px": "20", "clOrdId": "e2es1"})  # fmt: skip
        live = (await stream.get(timeout=5)).data[0]
        assert type(live) is SprdOrdersPushItem
        assert (live.sprd_id, live.cl_ord_id, live.state) == (SPREAD, "e2es1", "live")
        await client.cancel_spread_order({"clOrdId": "e2es1"})
        canceled = (await stream.get(timeout=5)).data[0]
        assert canceled.state == "canceled"
        tracked = await client.wait_for("e2es1", timeout=5)
        assert (tracked.state, tracked.inst_id, tracked.lookup) == ("canceled", SPREAD, "spread")
    assert "do not match" not in caplog.text


def test_the_blocking_client_gets_typed_pushes_and_tracks(sim_thread: SimulatorThread) -> None:
    seen: list[Any] = []
    with WebsocketAPIClient(**client_options(sim_thread.base_url)) as client:
        client.track_orders()
        stream = client.subscribe_orders()
        client.subscribe_orders(callback=seen.append)
        client.submit_new_order({"instId": "ETH-USDT", "tdMode": "cash", "side": "buy",
                                 "ordType": "limit", "px": "3000", "sz": "0.01",
                                 "clOrdId": "e2eb1"})  # fmt: skip
        states = []
        for update in stream.iter(timeout=5.0):
            states.append(update.data[0].state)
            if states[-1] == "filled":
                break
        assert states[-1] == "filled"
        assert client.wait_for("e2eb1", timeout=5).state == "filled"
        assert all(type(u.data[0]) is OrdersPushItem for u in seen)
