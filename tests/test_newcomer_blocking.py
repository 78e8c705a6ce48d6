"""A blocking client on a thread with a running event loop says so, once (issue 19, item 7).

Its methods block that thread, so the loop running there stalls until they
return: every other task of the application freezes.  It works, so it is a
warning (logged, once per client), not an error.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from okx_ws_core import WebsocketClient
from okx_ws_core.testing import ScriptedServer

LOGGER = "okx-ws.test-newcomer-blocking"


def make(caplog: pytest.LogCaptureFixture) -> WebsocketClient:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    return WebsocketClient(
        "k",
        "s",
        "p",
        transport=ScriptedServer(),
        logger=logging.getLogger(LOGGER),
        attach_event_listeners=False,
    )


def stall_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == LOGGER and "running an asyncio event loop" in r.getMessage()
    ]


def test_constructed_in_a_coroutine_warns_once(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        client = make(caplog)
        client.connect("private", timeout=5)
        client.connect("private", timeout=5)
        client.close()

    asyncio.run(main())
    warnings = stall_warnings(caplog)
    assert len(warnings) == 1, warnings
    assert "WebsocketClient was created on a thread running an asyncio event loop" in warnings[0]
    assert "AsyncWebsocketClient" in warnings[0] and "asyncio.to_thread" in warnings[0]


def test_used_in_a_coroutine_warns_once_naming_the_method(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = make(caplog)

    async def main() -> None:
        client.connect("private", timeout=5)
        client.connect("private", timeout=5)

    asyncio.run(main())
    asyncio.run(main())
    client.close()
    warnings = stall_warnings(caplog)
    assert len(warnings) == 1, warnings
    assert warnings[0].startswith("okx-ws: WebsocketClient.connect blocks, and was called on a")


def test_worker_threads_and_plain_code_do_not_warn(caplog: pytest.LogCaptureFixture) -> None:
    client = make(caplog)
    client.connect("private", timeout=5)

    async def main() -> Any:
        return await asyncio.to_thread(client.connect, "private", timeout=5)

    asyncio.run(main())
    client.close()
    assert stall_warnings(caplog) == []
