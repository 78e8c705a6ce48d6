"""The order tracker on both generated clients, over the scripted peer.

The peer answers orders like OKX (a reply item per order) and pushes
``orders`` / ``sprd-orders`` updates the way OKX does, including the case
where the push beats the reply.  Async tests run on virtual time.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import httpx
import pytest
from okx_ws import (
    FINAL_STATES,
    AsyncWebsocketAPIClient,
    ConfigurationError,
    OrderWaitTimeout,
    WebsocketAPIClient,
)

from okx_ws_core.testing import ScriptedServer, ServerLink, run

CREDENTIALS = {"api_key": "k", "api_secret": "s", "api_passphrase": "p"}
SPREAD = "BTC-USDT_BTC-USDT-SWAP"


def link_of(server: ScriptedServer, connection: str) -> ServerLink:
    [link] = [lk for lk in server.open_links() if lk.url.endswith(f"/{connection}")]
    return link


class Okx:
    """Answers order requests and pushes order updates as OKX does."""

    def __init__(self, *, push_first: bool = False) -> None:
        self.server = ScriptedServer(answer=self.answer)
        self.push_first = push_first
        self.next_id = 100
        self.orders: dict[str, dict[str, Any]] = {}  # clOrdId -> push item

    def push(self, cl: str, connection: str = "private", **changes: Any) -> None:
        item = self.orders[cl]
        item.update(changes, uTime=str(int(item["uTime"]) + 1))
        channel = "sprd-orders" if "sprdId" in item else "orders"
        arg = {
            "channel": channel,
            "uid": "1",
            **({"instType": "ANY"} if channel == "orders" else {}),
        }
        link_of(self.server, connection).push({"arg": arg, "data": [dict(item)]})

    def answer(self, frame: dict[str, Any]) -> dict[str, Any]:
        data = []
        for arg in frame["args"]:
            cl = arg.get("clOrdId", "")
            if frame["op"] in ("order", "sprd-order"):
                self.next_id += 1
                item = {"ordId": str(self.next_id), "clOrdId": cl, "state": "live",
                        "sz": arg["sz"], "px": arg.get("px", ""), "side": arg["side"],
                        "ordType": arg["ordType"], "accFillSz": "0", "avgPx": "",
                        "fillSz": "0", "fillPx": "", "tradeId": "", "cTime": "1", "uTime": "1"}  # fmt: skip
                if frame["op"] == "sprd-order":
                    item["sprdId"] = arg["sprdId"]
                else:
                    item.update(instType="SPOT", instId="BTC-USDT", tdMode="cash")
                self.orders[cl] = item
                if self.push_first:  # a market order filled at once: its push comes first
                    self.push(cl, "business" if "sprdId" in item else "private",
                              state="filled", accFillSz=arg["sz"], avgPx="100",
                              fillSz=arg["sz"], fillPx="100", tradeId="t9")  # fmt: skip
            data.append({"clOrdId": cl, "ordId": self.orders.get(cl, {}).get("ordId", ""),
                         "sCode": "0", "sMsg": ""})  # fmt: skip
        return {"id": frame["id"], "op": frame["op"], "code": "0", "msg": "", "data": data,
                "inTime": "1", "outTime": "2"}  # fmt: skip


def order(cl: str) -> dict[str, Any]:
    return {"instId": "BTC-USDT", "tdMode": "cash", "side": "buy", "ordType": "limit",
            "px": "100", "sz": "3", "clOrdId": cl}  # fmt: skip


def api(okx: Okx, **overrides: Any) -> AsyncWebsocketAPIClient:
    options: dict[str, Any] = {"transport": okx.server, "instruments": {"BTC-USDT": 7},
                               "attach_event_listeners": False, **overrides}  # fmt: skip
    return AsyncWebsocketAPIClient(**CREDENTIALS, **options)


def test_track_orders_subscribes_to_every_order_channel_once() -> None:
    async def main() -> None:
        okx = Okx()
        async with api(okx) as client:
            tracker = await client.track_orders()
            assert await client.track_orders() is tracker
            private = link_of(okx.server, "private").ops("subscribe")
            business = link_of(okx.server, "business").ops("subscribe")
            assert [f["args"] for f in private] == [[{"channel": "orders", "instType": "ANY"}]]
            assert [f["args"] for f in business] == [[{"channel": "sprd-orders"}]]

    run(main())


def test_partial_fills_then_filled_and_wait_for() -> None:
    async def main() -> None:
        okx = Okx()
        async with api(okx) as client:
            await client.track_orders()
            await client.submit_new_order(order("a1"))
            got = client.tracked_order("a1")
            assert got is not None and (got.state, got.ord_id) == ("live", "101")
            waiting = asyncio.ensure_future(client.wait_for("a1", "filled", timeout=30))
            loop = asyncio.get_running_loop()
            loop.call_later(1, lambda: okx.push("a1", state="partially_filled", accFillSz="1",
                                                avgPx="100", fillSz="1", fillPx="100",
                                                tradeId="t1"))  # fmt: skip
            loop.call_later(2, lambda: okx.push("a1", state="filled", accFillSz="3",
                                                avgPx="100.5", fillSz="2", fillPx="100.75",
                                                tradeId="t2"))  # fmt: skip
            filled = await waiting
            assert (filled.state, str(filled.filled_sz), str(filled.avg_px)) == (
                "filled", "3", "100.5",
            )  # fmt: skip
            assert [f.trade_id for f in filled.fills] == ["t1", "t2"]
            assert loop.time() == 2.0

    run(main())


def test_a_push_that_beats_its_reply_over_the_wire() -> None:
    async def main() -> None:
        okx = Okx(push_first=True)
        async with api(okx) as client:
            await client.track_orders()
            arrivals: list[str] = []
            ws = client.get_ws_client()
            ws.on("update", lambda event: arrivals.append("push"))
            ws.on("response", lambda event: arrivals.append("reply"))
            waiting = asyncio.ensure_future(client.wait_for("b1", "filled", timeout=1))
            await client.submit_new_order(order("b1"))
            assert arrivals == ["push", "reply"]
            got = client.tracked_order("b1")
            assert got is not None and (got.state, got.ord_id, str(got.filled_sz)) == (
                "filled", "101", "3",
            )  # fmt: skip
            assert (await waiting) == got

    run(main())


def test_a_cancel_is_confirmed_by_its_push_not_its_ack() -> None:
    async def main() -> None:
        okx = Okx()
        async with api(okx) as client:
            await client.track_orders()
            await client.submit_new_order(order("c1"))
            await client.cancel_order({"instId": "BTC-USDT", "clOrdId": "c1"})
            assert client.tracked_order("c1").state == "live"  # type: ignore[union-attr]
            okx.push("c1", state="canceled", cancelSource="1")
            canceled = await client.wait_for("c1", "canceled", timeout=1)
            assert canceled.data["cancelSource"] == "1"

    run(main())


def test_spread_orders_are_tracked_from_sprd_orders() -> None:
    async def main() -> None:
        okx = Okx()
        async with api(okx) as client:
            await client.track_orders()
            spread = {"sprdId": SPREAD, "side": "sell", "ordType": "limit", "sz": "2",
                      "px": "-5", "clOrdId": "s1"}  # fmt: skip
            await client.submit_spread_order(spread)
            okx.push("s1", "business", state="filled", accFillSz="2", avgPx="-5",
                     tradeId="x", fillSz="2", fillPx="-5")  # fmt: skip
            got = await client.wait_for("s1", timeout=1)
            assert (got.state, got.inst_id, got.lookup, str(got.avg_px)) == (
                "filled", SPREAD, "spread", "-5",
            )  # fmt: skip

    run(main())


def test_wait_for_times_out_with_the_last_state_and_needs_the_tracker() -> None:
    async def main() -> None:
        okx = Okx()
        async with api(okx) as client:
            with pytest.raises(ConfigurationError, match="track_orders"):
                await client.wait_for("x", timeout=1)
            await client.track_orders(subscribe=False)
            await client.submit_new_order(order("d1"))
            with pytest.raises(OrderWaitTimeout) as caught:
                await client.wait_for("d1", {"filled"}, timeout=5)
            assert caught.value.order is not None and caught.value.order.state == "live"
            assert asyncio.get_running_loop().time() == 5.0

    run(main())


def test_a_failed_track_orders_subscribes_again_next_time() -> None:
    async def main() -> None:
        okx = Okx()
        async with api(okx) as client:
            okx.server.drop_on = {"subscribe"}
            with pytest.raises(Exception, match="dropped"):
                await client.track_orders()
            okx.server.drop_on = set()
            await client.track_orders()
            await client.get_ws_client().connect("private")
            ws = client.get_ws_client()
            assert ws.subscriptions("private") == [{"channel": "orders", "instType": "ANY"}]
            assert ws.subscriptions("business") == [{"channel": "sprd-orders"}]

    run(main())


def test_the_tracker_keeps_folding_after_a_reconnect() -> None:
    async def main() -> None:
        okx = Okx()
        async with api(okx) as client:
            await client.track_orders()
            await client.submit_new_order(order("e1"))
            link_of(okx.server, "private").close("scripted: cut")
            await asyncio.sleep(5)
            assert link_of(okx.server, "private").ops("subscribe")  # restored
            okx.push("e1", state="canceled")
            assert (await client.wait_for("e1", timeout=1)).state == "canceled"

    run(main())


def test_the_blocking_client_tracks_and_waits() -> None:
    okx = Okx()
    with WebsocketAPIClient(**CREDENTIALS, transport=okx.server, instruments={"BTC-USDT": 7},
                            attach_event_listeners=False) as client:  # fmt: skip
        client.track_orders()
        client.submit_new_order(order("f1"))
        loop = client.get_ws_client().loop
        timer = threading.Timer(
            0.05, lambda: loop.call_soon_threadsafe(lambda: okx.push("f1", state="filled"))
        )
        timer.start()
        got = client.wait_for("f1", FINAL_STATES, timeout=5)
        timer.join()
        assert got.state == "filled"
        assert client.tracked_order("f1") == got
        with pytest.raises(OrderWaitTimeout):
            client.wait_for("f1-never", timeout=0.05)


def test_open_orders_are_looked_up_after_a_reconnect_since_pushes_were_lost() -> None:
    async def main() -> None:
        okx = Okx()
        asked: list[tuple[float, str]] = []

        def rest(request: httpx.Request) -> httpx.Response:
            asked.append((asyncio.get_running_loop().time(), request.url.params["clOrdId"]))
            item = {**okx.orders[request.url.params["clOrdId"]], "state": "filled",
                    "accFillSz": "3", "avgPx": "100", "uTime": "50"}  # fmt: skip
            return httpx.Response(200, json={"code": "0", "msg": "", "data": [item]})

        async with api(okx, rest_transport=httpx.MockTransport(rest)) as client:
            await client.track_orders()
            await client.submit_new_order(order("g1"))
            await client.submit_new_order(order("g2"))
            okx.push("g2", state="canceled")
            link_of(okx.server, "private").close("scripted: cut")  # g1 fills meanwhile
            got = await client.wait_for("g1", timeout=30)
            assert (got.state, str(got.filled_sz)) == ("filled", "3")
            assert [cl for _, cl in asked] == ["g1"]  # only the open one
            assert asked[0][0] < 5.0

    run(main())


def test_no_lookup_after_a_reconnect_when_not_asked_to() -> None:
    async def main() -> None:
        okx = Okx()
        asked: list[httpx.Request] = []

        def rest(request: httpx.Request) -> httpx.Response:
            asked.append(request)
            return httpx.Response(200, json={"code": "51603", "msg": "", "data": []})

        async with api(okx, rest_transport=httpx.MockTransport(rest)) as client:
            await client.track_orders(refresh_on_reconnect=False)
            await client.submit_new_order(order("h1"))
            link_of(okx.server, "private").close("scripted: cut")
            await asyncio.sleep(10)
            assert link_of(okx.server, "private").ops("subscribe")
        assert asked == []

    run(main())
