"""The simulator's market channels on the wire: who may subscribe what where, and
the shape of every push (OKX's field names), over raw sockets.

Rates are milliseconds here, so nothing waits for real intervals.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from okx_ws_sim import Instrument, Simulator
from okx_ws_sim.market_channels import MarketRates
from okx_ws_sim.testing import SAMPLE_ORDER, RawClient

FAST = MarketRates(
    walk=0.002,
    books=0.005,
    l2_tbt=0.002,
    books5=0.005,
    bbo_tbt=0.002,
    tickers=0.005,
    trades=0.002,
    mark_price=0.005,
    funding_rate=0.01,
    index_tickers=0.005,
    candle=0.005,
    sprd_bbo_tbt=0.002,
    sprd_books5=0.005,
)
SPREAD = "BTC-USDT_BTC-USDT-SWAP"


@pytest.fixture
async def msim() -> AsyncIterator[Simulator]:
    async with Simulator(seed=7, market_rates=FAST, rate_limits=False) as sim:
        yield sim


async def next_on(c: RawClient, channel: str, timeout: float = 2.0) -> dict[str, Any]:
    """The next push of ``channel`` (other frames skipped)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        frame = await c.next_push(max(deadline - loop.time(), 0.001))
        if frame.get("arg", {}).get("channel") == channel and "data" in frame:
            return frame


async def ack(c: RawClient, **arg: str) -> dict[str, Any]:
    await c.send({"op": "subscribe", "args": [arg]})
    reply = await c.reply_event("subscribe")
    assert reply["event"] == "subscribe", reply
    assert reply["arg"] == arg
    return reply


def is_row(row: list[str], n: int = 4) -> bool:
    return len(row) == n and all(isinstance(x, str) for x in row)


# -- validation from the simulator's own table ------------------------------------------------
@pytest.mark.parametrize(
    ("kind", "arg", "code"),
    [
        ("public", {"channel": "books", "instId": "NOPE-USDT"}, "60018"),
        ("public", {"channel": "no-such-channel", "instId": "BTC-USDT"}, "60018"),
        ("business", {"channel": "books", "instId": "BTC-USDT"}, "60018"),  # wrong URL
        ("public", {"channel": "candle1m", "instId": "BTC-USDT"}, "60018"),  # business only
        ("business", {"channel": "candle7m", "instId": "BTC-USDT"}, "60018"),  # no such bar
        ("public", {"channel": "trades-all", "instId": "BTC-USDT"}, "60018"),
        ("public", {"channel": "books", "instId": "BTC-USDT", "sz": "5"}, "60012"),
        ("public", {"channel": "books"}, "60012"),
        ("public", {"channel": "tickers", "instID": "BTC-USDT"}, "60012"),
        ("public", {"channel": "funding-rate", "instId": "BTC-USDT"}, "60018"),  # SWAP only
        ("public", {"channel": "books", "instId": SPREAD}, "60018"),
        ("business", {"channel": "sprd-books5", "sprdId": "BTC-USDT"}, "60018"),
        ("public", {"channel": "instruments", "instType": "FOO"}, "60018"),
        ("public", {"channel": "index-tickers", "instId": "NOPE-USD"}, "60018"),
    ],
)
async def test_subscriptions_refused_as_okx_does(
    msim: Simulator, kind: str, arg: dict[str, str], code: str
) -> None:
    async with await RawClient.open(msim.url(kind)) as c:
        reply = await c.subscribe(arg)
        assert (reply["event"], reply["code"]) == ("error", code)
    assert msim.stats.subscribes == 0


async def test_l2_tbt_needs_a_login_on_the_public_connection(msim: Simulator) -> None:
    async with await RawClient.open(msim.url("public")) as c:
        for channel in ("books-l2-tbt", "books50-l2-tbt"):
            reply = await c.subscribe({"channel": channel, "instId": "BTC-USDT"})
            assert (reply["event"], reply["code"]) == ("error", "60011")
        assert (await c.login())["code"] == "0"
        await ack(c, channel="books-l2-tbt", instId="BTC-USDT")
        snapshot = await next_on(c, "books-l2-tbt")
        assert snapshot["action"] == "snapshot" and len(snapshot["data"][0]["bids"]) == 400


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("books-l2-tbt", "books"),
        ("books-l2-tbt", "books50-l2-tbt"),
        ("books", "books-l2-tbt"),
        ("books50-l2-tbt", "books-l2-tbt"),
    ],
)
async def test_books_l2_tbt_is_not_combined_on_one_instrument(
    msim: Simulator, first: str, second: str
) -> None:
    async with await RawClient.open(msim.url("public")) as c:
        await c.login()
        await ack(c, channel=first, instId="BTC-USDT")
        await c.send({"op": "subscribe", "args": [{"channel": second, "instId": "BTC-USDT"}]})
        reply = await c.reply_event("subscribe")
        assert (reply["event"], reply["code"]) == ("error", "60012")
        assert "books-l2-tbt" in reply["msg"]
        # another instrument, or books with books50-l2-tbt, is fine
        await c.send({"op": "subscribe", "args": [{"channel": second, "instId": "ETH-USDT"}]})
        assert (await c.reply_event("subscribe"))["arg"]["instId"] == "ETH-USDT"


async def test_books_and_books50_may_share_an_instrument(msim: Simulator) -> None:
    async with await RawClient.open(msim.url("public")) as c:
        await c.login()
        await ack(c, channel="books", instId="BTC-USDT")
        await c.send(
            {"op": "subscribe", "args": [{"channel": "books50-l2-tbt", "instId": "BTC-USDT"}]}
        )
        assert (await c.reply_event("subscribe"))["arg"]["channel"] == "books50-l2-tbt"


# -- push shapes ------------------------------------------------------------------------------
async def test_books5_and_bbo_tbt_are_snapshots(msim: Simulator) -> None:
    async with await RawClient.open(msim.url("public")) as c:
        await ack(c, channel="books5", instId="BTC-USDT")
        push = await next_on(c, "books5")
        data = push["data"][0]
        assert set(data) == {"asks", "bids", "instId", "ts", "seqId"}
        assert len(data["bids"]) == len(data["asks"]) == 5 and "action" not in push
        assert all(is_row(r) and r[2] == "0" for r in data["bids"] + data["asks"])
        assert float(data["bids"][0][0]) < float(data["asks"][0][0])
        await ack(c, channel="bbo-tbt", instId="ETH-USDT-SWAP")
        bbo = (await next_on(c, "bbo-tbt"))["data"][0]
        assert set(bbo) == {"asks", "bids", "ts", "seqId"}
        assert len(bbo["bids"]) == len(bbo["asks"]) == 1 and isinstance(bbo["seqId"], int)
        later = (await next_on(c, "bbo-tbt"))["data"][0]  # pushed again when it changes
        assert (later["bids"], later["asks"]) != (bbo["bids"], bbo["asks"])


async def test_books_snapshot_shape(msim: Simulator) -> None:
    async with await RawClient.open(msim.url("public")) as c:
        await ack(c, channel="books", instId="BTC-USDT-SWAP")
        push = await next_on(c, "books")
        assert push["action"] == "snapshot" and push["arg"] == {
            "channel": "books",
            "instId": "BTC-USDT-SWAP",
        }
        data = push["data"][0]
        assert set(data) == {"asks", "bids", "ts", "checksum", "prevSeqId", "seqId"}
        assert (data["checksum"], data["prevSeqId"]) == (0, -1)
        assert len(data["bids"]) == len(data["asks"]) == 400
        prices = [float(r[0]) for r in data["bids"]]
        assert prices == sorted(prices, reverse=True)
        update = await next_on(c, "books")
        assert update["action"] == "update" and update["data"][0]["checksum"] == 0
        assert abs(int(update["data"][0]["ts"]) - int(data["ts"])) < 60_000


async def test_tickers_follow_the_book(msim: Simulator) -> None:
    async with await RawClient.open(msim.url("public")) as c:
        await ack(c, channel="tickers", instId="BTC-USDT")
        first = (await next_on(c, "tickers"))["data"][0]
        assert {
            "instType",
            "instId",
            "last",
            "lastSz",
            "askPx",
            "askSz",
            "bidPx",
            "bidSz",
            "open24h",
            "high24h",
            "low24h",
            "sodUtc0",
            "sodUtc8",
            "volCcy24h",
            "vol24h",
            "ts",
        } == set(first)
        assert first["last"] == "50000" and float(first["bidPx"]) < float(first["askPx"])
        book = msim.market.book("BTC-USDT", 1)
        assert book["bids"][0][0] <= float(first["askPx"])
        second = (await next_on(c, "tickers"))["data"][0]
        assert (second["bidPx"], second["askPx"], second["bidSz"], second["askSz"]) != (
            first["bidPx"],
            first["askPx"],
            first["bidSz"],
            first["askSz"],
        )


async def test_fills_appear_as_public_trades(msim: Simulator) -> None:
    async with (
        await RawClient.open(msim.url("public")) as pub,
        await RawClient.open(msim.url("business")) as biz,
        await RawClient.open(msim.url("private")) as priv,
    ):
        await ack(pub, channel="trades", instId="BTC-USDT")
        await ack(biz, channel="trades-all", instId="BTC-USDT")
        await priv.login()
        reply = await priv.request("order", {**SAMPLE_ORDER, "px": "50000", "clOrdId": "t1"})
        assert reply["data"][0]["sCode"] == "0"  # crosses the reference price: a taker fill
        trade = (await next_on(pub, "trades"))["data"][0]
        assert trade == {
            "instId": "BTC-USDT",
            "tradeId": trade["tradeId"],
            "px": "50000",
            "sz": "0.01",
            "side": "buy",
            "ts": trade["ts"],
            "count": "1",
            "source": "0",
        }
        every = (await next_on(biz, "trades-all"))["data"][0]
        assert set(every) == {"instId", "tradeId", "px", "sz", "side", "source", "ts"}
        assert every["tradeId"] == trade["tradeId"] == msim.find_order("t1")["tradeId"]  # type: ignore[index]


async def test_a_maker_fill_is_a_trade_on_the_takers_side(msim: Simulator) -> None:
    async with (
        await RawClient.open(msim.url("public")) as pub,
        await RawClient.open(msim.url("private")) as priv,
    ):
        await ack(pub, channel="trades", instId="BTC-USDT")
        await priv.login()
        await priv.request("order", {**SAMPLE_ORDER, "clOrdId": "m1"})  # rests at 40000
        msim.fill("m1", "0.004")
        trade = (await next_on(pub, "trades"))["data"][0]
        assert (trade["px"], trade["sz"], trade["side"]) == ("40000", "0.004", "sell")


async def test_spread_channels(msim: Simulator) -> None:
    async with await RawClient.open(msim.url("business")) as biz:
        await ack(biz, channel="sprd-bbo-tbt", sprdId=SPREAD)
        bbo = (await next_on(biz, "sprd-bbo-tbt"))["data"][0]
        assert set(bbo) == {"asks", "bids", "ts"} and is_row(bbo["bids"][0], 3)
        await ack(biz, channel="sprd-books5", sprdId=SPREAD)
        five = (await next_on(biz, "sprd-books5"))["data"][0]
        assert len(five["asks"]) == 5 and all(is_row(r, 3) for r in five["asks"])
        await ack(biz, channel="sprd-public-trades", sprdId=SPREAD)
        await biz.login()
        item = {"sprdId": SPREAD, "side": "sell", "ordType": "limit", "px": "20", "sz": "1"}
        assert (await biz.request("sprd-order", item))["data"][0]["sCode"] == "0"
        trade = (await next_on(biz, "sprd-public-trades"))["data"][0]
        assert set(trade) == {"sprdId", "tradeId", "px", "sz", "side", "ts"}
        assert (trade["sprdId"], trade["side"], trade["px"]) == (SPREAD, "sell", "25")


async def test_mark_price_funding_rate_index_tickers(msim: Simulator) -> None:
    async with await RawClient.open(msim.url("public")) as c:
        await ack(c, channel="mark-price", instId="BTC-USDT-SWAP")
        mark = (await next_on(c, "mark-price"))["data"][0]
        assert set(mark) == {"instType", "instId", "markPx", "ts"} and mark["instType"] == "SWAP"
        await ack(c, channel="funding-rate", instId="BTC-USDT-SWAP")
        funding = (await next_on(c, "funding-rate"))["data"][0]
        assert funding["instId"] == "BTC-USDT-SWAP" and int(funding["nextFundingTime"]) > int(
            funding["fundingTime"]
        )
        assert {"fundingRate", "fundingTime", "method", "ts"} <= set(funding)
        await ack(c, channel="index-tickers", instId="BTC-USDT")
        index = (await next_on(c, "index-tickers"))["data"][0]
        assert set(index) == {
            "instId",
            "idxPx",
            "high24h",
            "low24h",
            "open24h",
            "sodUtc0",
            "sodUtc8",
            "ts",
        }
        assert abs(float(index["idxPx"]) - 50000) < 1000


@pytest.mark.parametrize("bar", ["1m", "1H", "1Dutc"])
async def test_candles_on_business(msim: Simulator, bar: str) -> None:
    async with await RawClient.open(msim.url("business")) as c:
        await ack(c, channel=f"candle{bar}", instId="BTC-USDT")
        row = (await next_on(c, f"candle{bar}"))["data"][0]
        assert len(row) == 9 and all(isinstance(x, str) for x in row)
        ts, o, h, low, close = int(row[0]), *map(float, row[1:5])
        assert low <= min(o, close) <= max(o, close) <= h and row[8] == "0"
        assert ts % 60_000 == 0


async def test_instruments_full_list_then_only_changes(msim: Simulator) -> None:
    async with await RawClient.open(msim.url("public")) as c:
        await ack(c, channel="instruments", instType="SPOT")
        full = (await next_on(c, "instruments"))["data"]
        spot = {i["instId"] for i in full}
        assert {"BTC-USDT", "ETH-USDT", "BTC-USDC"} <= spot and all(
            i["instType"] == "SPOT" for i in full
        )
        assert {"instIdCode", "tickSz", "lotSz", "minSz", "state"} <= set(full[0])
        new = Instrument(
            "SOL-USDT", "SPOT", ref_px=_dec("150"), depth=_dec("10"), base="SOL", quote="USDT"
        )
        msim.add_instrument(new)
        listed = (await next_on(c, "instruments"))["data"]
        assert [i["instId"] for i in listed] == ["SOL-USDT"] and listed[0]["state"] == "live"
        msim.remove_instrument("SOL-USDT")
        gone = (await next_on(c, "instruments"))["data"]
        assert [(i["instId"], i["state"]) for i in gone] == [("SOL-USDT", "expired")]


async def test_pushes_only_while_subscribed(msim: Simulator) -> None:
    async with await RawClient.open(msim.url("public")) as c:
        await ack(c, channel="bbo-tbt", instId="BTC-USDT")
        await next_on(c, "bbo-tbt")
        await c.send({"op": "unsubscribe", "args": [{"channel": "bbo-tbt", "instId": "BTC-USDT"}]})
        assert (await c.reply_event("unsubscribe"))["arg"]["channel"] == "bbo-tbt"
        assert msim.market.subscriptions() == 0
        sent = msim.stats.market_pushes["bbo-tbt"]
        with pytest.raises(asyncio.TimeoutError):
            await c.recv(timeout=0.05)
        assert msim.stats.market_pushes["bbo-tbt"] == sent
    assert msim.market.subscriptions() == 0


async def test_closing_a_connection_drops_its_subscriptions(msim: Simulator) -> None:
    async with await RawClient.open(msim.url("public")) as c:
        await ack(c, channel="books", instId="BTC-USDT")
        await ack(c, channel="tickers", instId="BTC-USDT")
        assert msim.market.subscriptions() == 2
    for _ in range(100):
        if msim.market.subscriptions() == 0:
            break
        await asyncio.sleep(0.005)
    assert msim.market.subscriptions() == 0


def _dec(text: str) -> Any:
    from decimal import Decimal

    return Decimal(text)
