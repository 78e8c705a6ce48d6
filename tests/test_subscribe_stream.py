"""``subscribe()`` returns the stream of its own pushes (issue #19 item 1).

The README's ``updates()`` example lost pushes: it subscribed, then created
the stream, and a push arriving in between was gone.  Now the stream comes
from ``subscribe`` itself, registered before the frame leaves, so the order
cannot be got wrong.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from okx_ws_core import AsyncWebsocketClient, SubscriptionError
from okx_ws_core.testing import ScriptedServer, run

ARG = {"channel": "tickers", "instId": "BTC-USDT"}
OTHER = {"channel": "tickers", "instId": "ETH-USDT"}


def _push(arg: dict[str, Any], last: str) -> dict[str, Any]:
    return {"arg": arg, "data": [{"instId": arg["instId"], "last": last, "ts": "1"}]}


def test_a_push_before_the_ack_is_in_the_returned_stream_and_others_are_not() -> None:
    async def main() -> list[str]:
        server = ScriptedServer(ack_subscriptions=False)
        async with AsyncWebsocketClient(transport=server, attach_event_listeners=False) as ws:
            await ws.connect("public")
            [link] = server.open_links()
            subscribing = asyncio.ensure_future(ws.subscribe(ARG))
            for _ in range(20):
                await asyncio.sleep(0)
            link.push(_push(ARG, "early"))  # between the subscribe frame and its ack
            link.push({"event": "subscribe", "arg": ARG, "connId": "c"})
            stream = await subscribing
            link.push(_push(OTHER, "not mine"))
            link.push(_push(ARG, "later"))
            got = [(await stream.__anext__()).message["data"][0]["last"] for _ in range(2)]
            await stream.aclose()
            return got

    assert run(main()) == ["early", "later"]


def test_a_refused_subscribe_raises_subscription_error() -> None:
    async def main() -> None:
        server = ScriptedServer(ack_subscriptions=False)
        async with AsyncWebsocketClient(transport=server, attach_event_listeners=False) as ws:
            await ws.connect("public")
            [link] = server.open_links()
            subscribing = asyncio.ensure_future(ws.subscribe(ARG, timeout=1.0))
            for _ in range(20):
                await asyncio.sleep(0)
            link.push({"event": "error", "code": "60018", "msg": "no channel", "connId": "c"})
            await subscribing

    with pytest.raises(SubscriptionError, match="60018"):
        run(main())
