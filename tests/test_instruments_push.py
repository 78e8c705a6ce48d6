"""Instrument codes kept fresh by OKX's instruments channel (issue #18 item 3).

Since 2026-09-30 OKX's ``instruments`` channel may push only the instruments
that changed; the registry merges them by instId.  A listing resolves with no
REST call, a delisting is refused before sending.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from okx_ws import AsyncWebsocketAPIClient, UnknownInstrumentError

from okx_ws_core.rest.instruments import InstrumentRegistry
from okx_ws_sim import Simulator
from okx_ws_sim.instruments import Instrument
from tests.conftest import client_options

NEW = Instrument("NEWCOIN-USDT", "SPOT", Decimal("2"), Decimal("1000"), base="NEWCOIN",
                 quote="USDT", inst_id_code=10999, tick_sz="0.0001", lot_sz="0.01", min_sz="1")  # fmt: skip
ORDER = {"tdMode": "cash", "side": "buy", "ordType": "limit", "sz": "1", "px": "1"}


async def _until(predicate: object, what: str) -> None:
    for _ in range(200):
        if callable(predicate) and predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never happened: {what}")


async def test_a_listing_resolves_without_rest_and_a_delisting_is_refused_before_sending() -> None:
    async with Simulator(idle_timeout=5.0) as sim:
        options = client_options(sim.base_url, instrument_types=("SPOT",))
        async with AsyncWebsocketAPIClient(**options) as client:
            await client.connect_ws_api()
            registry = client.get_ws_client().instruments
            rest_calls = sim.rest_calls()
            sim.add_instrument(NEW)
            await _until(lambda: registry.code("NEWCOIN-USDT") == 10999, "the listing's push")
            placed = await client.submit_new_order(
                {**ORDER, "instId": "NEWCOIN-USDT", "clOrdId": "n1"}
            )
            assert placed.data[0].s_code == "0"
            assert sim.rest_calls() == rest_calls  # no REST call for the new listing

            sim.remove_instrument("NEWCOIN-USDT")
            await _until(lambda: registry.code("NEWCOIN-USDT") is None, "the delisting's push")
            received = sim.stats.requests_total
            with pytest.raises(UnknownInstrumentError, match="NEWCOIN-USDT"):
                await client.submit_new_order({**ORDER, "instId": "NEWCOIN-USDT", "clOrdId": "n2"})
            assert sim.stats.requests_total == received  # nothing sent


async def test_without_instrument_types_nothing_is_followed() -> None:
    async with Simulator(idle_timeout=5.0) as sim:
        async with AsyncWebsocketAPIClient(**client_options(sim.base_url)) as client:
            await client.connect_ws_api()
            assert client.get_ws_client().subscriptions("public") == []


def test_merge_push_keeps_what_it_does_not_mention() -> None:
    registry = InstrumentRegistry(None, preset={"BTC-USDT": 1})
    registry.merge_push("SPOT", [{"instId": "ETH-USDT", "instIdCode": 2, "state": "live"}])
    registry.merge_push("SPOT", [{"instId": "XRP-USDT", "instIdCode": 3, "state": "live"}])
    registry.merge_push("SPOT", [{"instId": "ETH-USDT", "instIdCode": 2, "state": "expired"}])
    assert (registry.code("BTC-USDT"), registry.code("ETH-USDT"), registry.code("XRP-USDT")) == (
        1,
        None,
        3,
    )
    registry.merge_push("SPOT", [{"instId": "BTC-USDT", "state": "expired"}])
    assert registry.code("BTC-USDT") == 1  # a preset is the user's: kept
