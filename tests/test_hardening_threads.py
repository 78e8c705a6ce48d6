"""Hardening (issue #17): the clock read, a refused re-login, restored subscriptions,
and the blocking client's threads.

Socket-free where it can be (a :class:`ScriptedServer` on the virtual clock of
:func:`okx_ws_core.testing.run`); the blocking client's tests run its real loop
thread against the scripted server, with every interval configured short.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from okx_ws_core import (
    AsyncWebsocketClient,
    ClockSyncError,
    ConnectTimeout,
)
from okx_ws_core.testing import ScriptedServer, run


def make_client(server: Any, **overrides: Any) -> AsyncWebsocketClient:
    options: dict[str, Any] = {"attach_event_listeners": False, "id_prefix": "h", **overrides}
    return AsyncWebsocketClient("key1", "secret1", "pass1", transport=server, **options)


def now() -> float:
    return asyncio.get_running_loop().time()


# -- 1. a failed clock read ---------------------------------------------------------------


def flaky_clock(failures: int, reads: list[float]) -> httpx.MockTransport:
    """OKX's GET /api/v5/public/time: HTTP 503 ``failures`` times, then the time."""

    def handle(request: httpx.Request) -> httpx.Response:
        reads.append(now())
        if len(reads) <= failures:
            return httpx.Response(503, json={"code": "50001", "msg": "Service unavailable"})
        ts = str(int(time.time() * 1000))
        return httpx.Response(200, json={"code": "0", "msg": "", "data": [{"ts": ts}]})

    return httpx.MockTransport(handle)


def test_a_failed_clock_read_is_retried_with_the_backoff_and_named_to_the_caller() -> None:
    async def main() -> None:
        reads: list[float] = []
        server = ScriptedServer()
        options = {"sync_time": True, "reconnect_delay": 1.0, "reconnect_max_delay": 8.0}
        async with make_client(server, rest_transport=flaky_clock(3, reads), **options) as c:
            with pytest.raises(ConnectTimeout, match="clock could not be read") as info:
                await c.connect("private", timeout=0.5)
            assert isinstance(info.value.__cause__, ClockSyncError)
            assert server.connect_attempts == 0  # no socket opened for a login it cannot sign
            await c.connect("private", timeout=60)
            assert len(reads) == 4 and server.logins == 1
            gaps = [b - a for a, b in zip(reads, reads[1:], strict=False)]
            assert gaps[0] >= 0.5 and gaps[1] >= 1.0 and gaps[2] >= 2.0  # the backoff, growing
            assert server.connect_attempts == 1

    run(main())
