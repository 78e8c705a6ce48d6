"""Request deadlines on one link: one timer per session, each request expires at its own.

The session arms a single timer at the earliest pending deadline and skips answered
requests' entries when it fires (``okx_ws_core.net.session``); these pin what that must
keep of a timer per request: every request times out exactly at its own deadline,
whatever the order they were sent in, and answered ones never time out.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from okx_ws import AsyncWebsocketAPIClient

from okx_ws_core import RequestTimeout
from okx_ws_core.testing import ScriptedServer, ok_reply, run

BUY = {"instId": "BTC-USDT", "tdMode": "cash", "side": "buy", "ordType": "limit", "sz": "1"}
CREDENTIALS = {"api_key": "k", "api_secret": "s", "api_passphrase": "p"}


def _instruments(request: httpx.Request) -> httpx.Response:
    item = {"instId": "BTC-USDT", "instIdCode": 1001, "instType": "SPOT"}
    return httpx.Response(200, json={"code": "0", "msg": "", "data": [item]})


def _silent_on(*silent: str) -> Any:
    """Answer every request but those whose clOrdId is in ``silent``."""

    def answer(frame: dict[str, Any]) -> dict[str, Any] | None:
        return None if frame["args"][0].get("clOrdId") in silent else ok_reply(frame)

    return answer


async def _timed_out_at(api: AsyncWebsocketAPIClient, cl_ord_id: str, timeout: float) -> float:
    loop = asyncio.get_running_loop()
    with pytest.raises(RequestTimeout) as caught:
        await api.submit_new_order({**BUY, "px": "1", "clOrdId": cl_ord_id}, timeout=timeout)
    assert caught.value.sent is True and caught.value.timeout == timeout
    return loop.time()


def test_each_request_times_out_at_its_own_deadline_in_any_order() -> None:
    async def main() -> list[float]:
        server = ScriptedServer(answer=_silent_on("long", "short", "mid"))
        async with AsyncWebsocketAPIClient(
            **CREDENTIALS,
            transport=server,
            rest_transport=httpx.MockTransport(_instruments),
            attach_event_listeners=False,
        ) as api:
            await api.submit_new_order({**BUY, "px": "1", "clOrdId": "warm"})
            start = asyncio.get_running_loop().time()
            ends = await asyncio.gather(
                _timed_out_at(api, "long", 9.0),
                _timed_out_at(api, "short", 2.0),  # sent after, due before
                _timed_out_at(api, "mid", 5.0),
                api.submit_new_order({**BUY, "px": "1", "clOrdId": "answered"}, timeout=1.0),
            )
            # answered before its deadline: it never times out, and the later deadlines hold
            late = await _timed_out_at(api, "short", 3.0)
            return [end - start for end in ends[:3]] + [late - start]

    assert run(main()) == pytest.approx([9.0, 2.0, 5.0, 12.0], abs=1e-9)


def test_answered_requests_leave_no_timeout_behind() -> None:
    async def main() -> int:
        server = ScriptedServer()
        async with AsyncWebsocketAPIClient(
            **CREDENTIALS,
            transport=server,
            rest_transport=httpx.MockTransport(_instruments),
            attach_event_listeners=False,
            rate_limit="off",  # 600 orders at once: OKX's limits are not the point here
        ) as api:
            for i in range(600):  # more than the session keeps of answered deadlines
                await api.submit_new_order({**BUY, "px": "1", "clOrdId": f"a{i}"}, timeout=1.0)
            await asyncio.sleep(5.0)  # every deadline passes with nothing pending
            reply = await api.submit_new_order({**BUY, "px": "1", "clOrdId": "last"})
            return [item.cl_ord_id for item in reply.data]

    assert run(main()) == ["last"]
