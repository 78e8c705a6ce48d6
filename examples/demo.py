"""A narrated okx-ws session against the embedded OKX simulator (no network, no money).

Run it with ``make demo``. It starts the simulator on a loopback port, then
trades with the blocking ``WebsocketAPIClient`` and with the asyncio
``AsyncWebsocketAPIClient``: single, batch and partially failing orders,
amends, cancels, mass cancels and the four spread operations; then a typed
``orders`` push, an order tracked until it is filled, and two unknown fates
(a lost reply, a lost request) settled by ``reconcile()``.  It opens with market
data, without credentials: a ticker and an order book kept in sync by seqId.

Every request frame is printed as it goes on the wire (through a small
``Connector`` wrapper, the same public hook tests use), so you can see the
integer ``instIdCode`` okx-ws fills in from ``instId``: OKX has required it in
the order, amend and cancel operations since 2026.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import AsyncIterator
from typing import Any

from okx_ws import (
    AsyncWebsocketAPIClient,
    ClientOptions,
    ConfigurationError,
    ConnectionLost,
    OkxApiError,
    ParamsValidationError,
    RequestTimeout,
    UnknownInstrumentError,
    WebsocketAPIClient,
)
from pydantic import BaseModel

from okx_ws_core.endpoints import resolve_url
from okx_ws_core.transport import Transport, connector_for
from okx_ws_sim import DEFAULT_API_KEY, DEFAULT_API_SECRET, DEFAULT_PASSPHRASE, SimulatorThread

_ids = itertools.count(1)


def cl_ord_id(prefix: str) -> str:
    return f"{prefix}{next(_ids)}"


class WireTap:
    """A Connector that prints each request frame the client writes (default transport)."""

    def __init__(self) -> None:
        self._inner = connector_for("websockets")

    @contextlib.asynccontextmanager
    async def open(self, url: str, timeout: float) -> AsyncIterator[Transport]:
        async with self._inner.open(url, timeout) as transport:
            yield _Tapped(transport)


class _Tapped:
    def __init__(self, inner: Transport) -> None:
        self._inner = inner

    async def send(self, text: str) -> None:
        if text.startswith('{"id"'):  # requests; not ping, login or subscribe
            print(f"   wire:    {text}")
        await self._inner.send(text)

    async def recv(self) -> str:
        return await self._inner.recv()

    async def close(self) -> None:
        await self._inner.close()


def client_options(base_url: str) -> dict[str, Any]:
    return dict(
        api_key=DEFAULT_API_KEY,
        api_secret=DEFAULT_API_SECRET,
        api_passphrase=DEFAULT_PASSPHRASE,
        base_url=base_url,  # REST (the instrument list) goes to the same host: http://...
        transport=WireTap(),
        instrument_types=("SPOT",),  # connect_ws_api() loads their instIdCodes up front
        attach_event_listeners=False,
    )


def step(title: str, request: Any) -> None:
    print(f"\n-> {title}")
    shown = (
        [
            r.model_dump(by_alias=True, exclude_none=True) if isinstance(r, BaseModel) else r
            for r in request
        ]
        if isinstance(request, list)
        else request
    )
    print(f"   request: {json.dumps(shown)}")


def result(reply: BaseModel) -> None:
    data = reply.model_dump(by_alias=True, exclude_none=True)
    print(f"   reply:   code={data['code']} id={data['id']} op={data['op']}")
    for item in data.get("data", []):
        print(f"            {json.dumps(item)}")


def rejected(error: OkxApiError) -> None:
    print(
        f"   OKX answered code={error.code}: {len(error.succeeded)} accepted, {len(error.failed)} rejected"
    )
    for item in error.data:
        mark = "ok " if item.get("sCode") == "0" else "ERR"
        print(
            f"     {mark} clOrdId={item.get('clOrdId')} ordId={item.get('ordId') or '-'} sCode={item.get('sCode')} {item.get('sMsg') or ''}"
        )


def limit_order(prefix: str, px: str = "20000", sz: str = "0.01", **extra: Any) -> dict[str, Any]:
    return {
        "instId": "BTC-USDT",
        "tdMode": "cash",
        "side": "buy",
        "ordType": "limit",
        "px": px,
        "sz": sz,
        "clOrdId": cl_ord_id(prefix),
        **extra,
    }


def blocking_session(base_url: str) -> None:
    print("\n=== Blocking client: WebsocketAPIClient ===")
    with WebsocketAPIClient(**client_options(base_url)) as client:
        print(
            "-> connect_ws_api(): logging in to private and business, and loading the SPOT"
            " instIdCodes (GET /api/v5/public/instruments?instType=SPOT), ahead of the first order"
        )
        client.connect_ws_api()
        codes = client.get_ws_client().async_client.instruments
        print(f"   BTC-USDT is instIdCode {codes.code('BTC-USDT')}: no lookup on the order path")

        order = limit_order("demoS", tag="demo")
        step("submit_new_order (a resting limit buy)", order)
        placed = client.submit_new_order(order)
        result(placed)
        ord_id = placed.data[0].ord_id

        amend = {"instId": "BTC-USDT", "ordId": ord_id, "newPx": "21000", "reqId": "amend1"}
        step("amend_order", amend)
        result(client.amend_order(amend))

        cancel = {"instId": "BTC-USDT", "ordId": ord_id}
        step("cancel_order", cancel)
        result(client.cancel_order(cancel))

        batch = [limit_order("demoB", px=str(19000 + i)) for i in range(5)]
        step("submit_multiple_orders (a batch of five)", batch)
        placed_batch = client.submit_multiple_orders(batch)
        result(placed_batch)

        partial = [limit_order("demoP"), limit_order("demoP", sz="1000000"), {**batch[0]}]
        step("submit_multiple_orders (partially failing: no balance, duplicate clOrdId)", partial)
        try:
            client.submit_multiple_orders(partial)
        except OkxApiError as error:
            rejected(error)

        cancels = [{"instId": "BTC-USDT", "clOrdId": o["clOrdId"]} for o in batch]
        step("cancel_multiple_orders", cancels)
        result(client.cancel_multiple_orders(cancels))

        option = {
            "instId": "BTC-USD-251226-60000-C",
            "tdMode": "isolated",
            "side": "buy",
            "ordType": "limit",
            "px": "0.01",
            "sz": "1",
            "clOrdId": cl_ord_id("demoO"),
        }
        step("submit_new_order (an option: its code is fetched on first use, once)", option)
        result(client.submit_new_order(option))
        unknown = limit_order("demoU")
        unknown["instId"] = "NOPE-USDT"
        step("submit_new_order on an instrument OKX does not list", unknown)
        try:
            client.submit_new_order(unknown)
        except UnknownInstrumentError as error:
            print(f"   refused before sending: {error}")

        mass = {"instType": "OPTION", "instFamily": "BTC-USD"}
        step("mass_cancel_orders", mass)
        result(client.mass_cancel_orders(mass))

        spread_session_sync(client)


def spread_session_sync(client: WebsocketAPIClient) -> None:
    spread = {
        "sprdId": "BTC-USDT_BTC-USDT-SWAP",
        "side": "buy",
        "ordType": "limit",
        "px": "-5",
        "sz": "1",
        "clOrdId": cl_ord_id("demoSp"),
    }
    step("submit_spread_order (business connection)", spread)
    placed = client.submit_spread_order(spread)
    result(placed)
    amend = {"clOrdId": spread["clOrdId"], "newPx": "-6", "reqId": "sprdAmend1"}
    step("amend_spread_order", amend)
    result(client.amend_spread_order(amend))
    cancel = {"ordId": placed.data[0].ord_id}
    step("cancel_spread_order", cancel)
    result(client.cancel_spread_order(cancel))
    step("mass_cancel_spread_orders", {"sprdId": "BTC-USDT_BTC-USDT-SWAP"})
    result(client.mass_cancel_spread_orders({"sprdId": "BTC-USDT_BTC-USDT-SWAP"}))


async def fates_session(sim: SimulatorThread) -> None:
    """Typed pushes, an order tracked to filled, and unknown fates reconciled."""
    print("\n=== Every order's fate: typed pushes, tracking, reconcile() ===")
    options = {**client_options(sim.base_url), "stamp_exp_time": True}
    async with AsyncWebsocketAPIClient(**options) as client:
        await client.connect_ws_api()
        stream = await client.subscribe_orders(inst_type="SPOT")
        await client.track_orders()
        order = limit_order("demoT", px="40000", sz="0.02")  # rests: below the market
        step("submit_new_order (tracked), then the simulator fills it in two parts", order)
        await client.submit_new_order(order)
        update = await stream.get(timeout=2)
        push = update.data[0]
        print(f"   typed push: {type(push).__name__}(cl_ord_id={push.cl_ord_id!r},"
              f" state={push.state!r}, sz={push.sz!r})")  # fmt: skip
        await asyncio.to_thread(sim.fill, order["clOrdId"], "0.005")
        await asyncio.to_thread(sim.fill, order["clOrdId"])
        tracked = await client.wait_for(order["clOrdId"], states={"filled"}, timeout=5)
        print(f"   tracked: state={tracked.state} filled {tracked.filled_sz} at avg"
              f" {tracked.avg_px} in {len(tracked.fills)} fills")  # fmt: skip
        await stream.aclose()

        for title, arm in (
            ("its reply is lost (the order executed)", sim.faults.drop_after_execute),
            ("the request is lost (never executed)", sim.faults.drop_next_request),
        ):
            await client.connect_ws_api()  # back up after the previous case's lost link
            order = limit_order("demoR")
            step(f"submit_new_order while {title}", order)
            arm("order")
            try:
                await client.submit_new_order(order, timeout=1.0)
            except (RequestTimeout, ConnectionLost) as error:
                print(f"   {type(error).__name__}: the order's fate is unknown")
                verdict = (await client.reconcile(error))[order["clOrdId"]]
                certainty = "for sure" if verdict.definite else "as far as OKX knows"
                print(f"   reconcile(): {verdict.status} {certainty}"
                      f" (state={verdict.state}) - {verdict.reason}")  # fmt: skip


async def async_session(base_url: str) -> None:
    print("\n=== Async client: AsyncWebsocketAPIClient ===")
    async with AsyncWebsocketAPIClient(**client_options(base_url)) as client:
        await client.connect_ws_api()
        pushes: list[str] = []
        ws = client.get_ws_client()
        ws.on(
            "update",
            lambda event: (
                pushes.append(event.message["data"][0]["state"]) if event.message else None
            ),
        )
        await ws.subscribe({"channel": "orders", "instType": "ANY"}, "private")
        print("-> subscribed to the private 'orders' channel")

        orders = [limit_order("demoA", px=str(18000 + i)) for i in range(3)]
        step("three submit_new_order calls in flight at once (asyncio.gather)", orders)
        replies = await asyncio.gather(*(client.submit_new_order(o) for o in orders))
        for reply in replies:
            result(reply)

        amend = [{"instId": "BTC-USDT", "clOrdId": o["clOrdId"], "newSz": "0.02"} for o in orders]
        step("amend_multiple_orders", amend)
        result(await client.amend_multiple_orders(amend))

        bad = {
            "instId": "BTC-USDT",
            "tdMode": "cash",
            "side": "hold",
            "ordType": "limit",
            "sz": "1",
        }
        step("submit_new_order with a bad 'side' (validated locally, nothing sent)", bad)
        try:
            await client.submit_new_order(bad)
        except ValueError as error:
            print(f"   refused before sending: {error}")

        cancels = [{"instId": "BTC-USDT", "clOrdId": o["clOrdId"]} for o in orders]
        step("cancel_multiple_orders", cancels)
        result(await client.cancel_multiple_orders(cancels))

        spread = {
            "sprdId": "BTC-USDT_BTC-USDT-SWAP",
            "side": "sell",
            "ordType": "limit",
            "px": "50",
            "sz": "2",
            "clOrdId": cl_ord_id("demoAsp"),
        }
        step("submit_spread_order", spread)
        result(await client.submit_spread_order(spread))
        step("mass_cancel_spread_orders (all spreads)", {})
        result(await client.mass_cancel_spread_orders({}))
        await asyncio.sleep(0.05)
        print(f"\n-> 'orders' channel pushed {len(pushes)} updates: {', '.join(pushes)}")


def market_session(base_url: str) -> None:
    """A ticker and an order book, with no API key: public channels need no login."""
    print("\n=== Market data (no credentials): a ticker and a local order book ===")
    with WebsocketAPIClient(base_url=base_url, attach_event_listeners=False) as client:
        ticker = client.subscribe_tickers("BTC-USDT-SWAP").get(timeout=5).data[0]
        print(f"-> subscribe_tickers: {ticker.inst_id} last {ticker.last}"
              f" bid {ticker.bid_px} ask {ticker.ask_px}")  # fmt: skip
        print("-> order_book('BTC-USDT-SWAP', channel='books'): a snapshot, then updates"
              " applied only if prevSeqId == the book's seqId")  # fmt: skip
        with client.order_book("BTC-USDT-SWAP", channel="books") as book:
            seen = [f"{c.seq_id}{' (snapshot)' if c.snapshot else ''}"
                    for c in itertools.islice(book, 3)]  # fmt: skip
            print(f"   valid={book.valid} seqId={book.seq_id}, applied: {', '.join(seen)}")
            top = book.depth(5)
            print("   bids (px, sz)          asks (px, sz)")
            for bid, ask in zip(top.bids, top.asks, strict=False):
                print(f"   {bid[0]!s:>9} {bid[1]!s:<12} {ask[0]!s:>9} {ask[1]!s}")
            best_bid, best_ask = book.best_bid(), book.best_ask()
            assert best_bid is not None and best_ask is not None
            print(f"   best bid {best_bid[0]} / best ask {best_ask[0]}: spread {book.spread}")


def current_okx_session(base_url: str) -> None:
    """What changed at OKX in 2026, as a trader meets it (issue #22)."""
    print("\n=== OKX as it is today (spec/okx-changes.yaml) ===")
    print(
        f"   live private URL: {resolve_url('private')}  (port 443; 8443 refused since 2026-10-31)"
    )
    try:
        ClientOptions(base_url="wss://ws.okx.com:8443")
    except ConfigurationError as error:
        print(f"   base_url with :8443 -> ConfigurationError: {error}")
    with WebsocketAPIClient(**client_options(base_url)) as client:
        rpi = {"instId": "BTC-USDT-SWAP", "tdMode": "cross", "side": "sell", "ordType": "rpi",
               "sz": "10", "px": "60000", "rpiPxRound": True, "clOrdId": cl_ord_id("demoRpi")}  # fmt: skip
        step("submit_new_order (an RPI maker order, ELP's new name since 2026-07-28)", rpi)
        result(client.submit_new_order(rpi))
        usd = limit_order("demoUsd", px="90000", sz="0.001", side="sell", tradeQuoteCcy="USD")
        usd["instId"] = "BTC-USDC"
        step("submit_new_order (BTC-USDC traded in USD: tradeQuoteCcy, since 2026-09-30)", usd)
        result(client.submit_new_order(usd))
        retired = {**rpi, "ordType": "elp", "isElpTakerAccess": True}
        step("submit_new_order with ELP's retired names", retired)
        try:
            client.submit_new_order(retired)
        except ParamsValidationError as error:
            print(f"   refused before sending: {error}")
        old_pair = {**usd, "instId": "BTC-USD", "clOrdId": cl_ord_id("demoOld")}
        step("submit_new_order on BTC-USD (OKX retired its USD spot pairs on 2026-09-30)", old_pair)
        try:
            client.submit_new_order(old_pair)
        except UnknownInstrumentError as error:
            print(f"   refused before sending: {error}")


def main() -> None:
    with SimulatorThread() as sim:
        print(f"OKX simulator listening on {sim.base_url} (paths /ws/v5/public|private|business)")
        market_session(sim.base_url)
        current_okx_session(sim.base_url)
        blocking_session(sim.base_url)
        asyncio.run(async_session(sim.base_url))
        asyncio.run(fates_session(sim))
        print(
            f"\nDone: the simulator holds {len(sim.orders())} orders; every request above ended in a typed reply or a precise error."
        )


if __name__ == "__main__":
    main()
