"""Public and business market-data channels end to end: the generated typed methods
against the simulator's market (issue #18 item 1).  The public connection opens
on first use without login; every push arrives typed, none falls back."""

from __future__ import annotations

import logging

import pytest
from okx_ws import (
    AsyncWebsocketAPIClient,
    Books5PushItem,
    BooksPushItem,
    CandlePushItem,
    TickersPushItem,
    WebsocketAPIClient,
)

from okx_ws_sim import MarketRates, Simulator, SimulatorThread
from tests.conftest import FAST, client_options

RATES = MarketRates(walk=0.005, books=0.01, books5=0.01, tickers=0.01, candle=0.01)


async def test_market_channels_arrive_typed_without_credentials(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="okx_ws")
    async with Simulator(idle_timeout=5.0, market_rates=RATES) as sim:
        async with AsyncWebsocketAPIClient(base_url=sim.base_url, **FAST) as client:
            tickers = await client.subscribe_tickers("BTC-USDT")
            books5 = await client.subscribe_books5("BTC-USDT")
            books = await client.subscribe_books("BTC-USDT-SWAP")
            candles = await client.subscribe_candle("BTC-USDT", bar="1m")
            ticker = (await tickers.get(timeout=5)).data[0]
            assert type(ticker) is TickersPushItem and ticker.inst_id == "BTC-USDT"
            top = (await books5.get(timeout=5)).data[0]
            assert type(top) is Books5PushItem and 0 < len(top.asks) <= 5
            snapshot = await books.get(timeout=5)
            assert snapshot.message.get("action") == "snapshot"
            first = snapshot.data[0]
            assert type(first) is BooksPushItem and first.prev_seq_id == -1 and first.checksum == 0
            update = (await books.get(timeout=5)).data[0]
            assert update.prev_seq_id == first.seq_id  # OKX's chaining, typed
            candle = (await candles.get(timeout=5)).data[0]
            assert type(candle) is CandlePushItem and candle.confirm in ("0", "1")
            assert float(candle.high) >= float(candle.low)
    assert "do not match" not in caplog.text


def test_the_blocking_client_gets_market_data_too() -> None:
    with SimulatorThread(idle_timeout=5.0, market_rates=RATES) as sim:
        with WebsocketAPIClient(**client_options(sim.base_url)) as client:
            stream = client.subscribe_bbo_tbt("ETH-USDT")
            item = stream.get(timeout=5).data[0]
            assert len(item.bids) == 1 and len(item.asks) == 1
            assert float(item.bids[0][0]) < float(item.asks[0][0])
