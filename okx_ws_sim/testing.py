"""A raw JSON WebSocket client for poking at the simulator (tests, debugging).

Deliberately not the okx-ws client: it sends exactly what it is given, so
tests can check the simulator's wire behaviour independently of the SDK.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from .auth import Account, login_args

#: A resting spot limit buy on the default account (tests add clOrdId and tweaks).
SAMPLE_ORDER: dict[str, Any] = {
    "instId": "BTC-USDT",
    "tdMode": "cash",
    "side": "buy",
    "ordType": "limit",
    "px": "40000",
    "sz": "0.01",
}

_ids = itertools.count(1)


class RawClient:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.pushes: list[dict[str, Any]] = []  # frames skipped while waiting for a reply

    @classmethod
    async def open(cls, url: str) -> RawClient:
        return cls(await connect(url, ping_interval=None, compression=None))

    async def close(self) -> None:
        await self.ws.close()

    async def __aenter__(self) -> RawClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def send(self, frame: dict[str, Any] | str) -> None:
        await self.ws.send(frame if isinstance(frame, str) else json.dumps(frame))

    async def recv_text(self, timeout: float = 2.0) -> str:
        data = await asyncio.wait_for(self.ws.recv(), timeout)
        return data if isinstance(data, str) else data.decode()

    async def recv(self, timeout: float = 2.0) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(await self.recv_text(timeout))
        return result

    async def login(self, account: Account | None = None, timestamp: Any = None) -> dict[str, Any]:
        await self.send({"op": "login", "args": [login_args(account, timestamp)]})
        return await self.recv()

    async def subscribe(self, *args: dict[str, Any]) -> dict[str, Any]:
        await self.send({"op": "subscribe", "args": list(args)})
        return await self.recv()

    async def request(
        self,
        op: str,
        *args: dict[str, Any],
        rid: str | None = None,
        timeout: float = 2.0,
        **extra: Any,
    ) -> dict[str, Any]:
        """Send one WS API request and return its reply; other frames go to ``pushes``."""
        rid = rid or f"r{next(_ids)}"
        await self.send({"id": rid, "op": op, "args": list(args), **extra})
        return await self.reply(rid, timeout)

    async def reply(self, rid: str, timeout: float = 2.0) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            frame = await self.recv(max(deadline - loop.time(), 0.001))
            if frame.get("id") == rid and "op" in frame:
                return frame
            self.pushes.append(frame)

    async def next_push(self, timeout: float = 2.0) -> dict[str, Any]:
        if self.pushes:
            return self.pushes.pop(0)
        return await self.recv(timeout)
