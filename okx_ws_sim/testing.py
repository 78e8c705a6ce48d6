"""Raw clients for poking at the simulator (tests, debugging): JSON over
WebSocket (RawClient), plain HTTP GET (http_get), and order items that name
instruments by instIdCode (SAMPLE_ORDER, by_code, inst_id_code).

Deliberately not the okx-ws client: they send exactly what they are given, so
tests can check the simulator's wire behaviour independently of the SDK.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from websockets.asyncio.client import ClientConnection, connect

from .auth import Account, login_args
from .instruments import default_instruments

_DEFAULT_CODES: dict[str, int] = {i.inst_id: i.inst_id_code for i in default_instruments().values()}


def inst_id_code(inst_id: str) -> int:
    """instIdCode of an instrument of the default table (KeyError otherwise).
    For instruments added at runtime use ``Simulator.inst_id_code``."""
    return _DEFAULT_CODES[inst_id]


def by_code(inst_id: str, **fields: Any) -> dict[str, Any]:
    """An order / cancel / amend item naming ``inst_id`` by its instIdCode."""
    return {"instIdCode": inst_id_code(inst_id), **fields}


#: A resting spot limit buy of BTC-USDT on the default account (tests add clOrdId
#: and tweaks).  It names the instrument by instIdCode only, as OKX requires.
SAMPLE_ORDER: dict[str, Any] = {
    "instIdCode": inst_id_code("BTC-USDT"),
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

    async def reply_event(self, event: str, timeout: float = 2.0) -> dict[str, Any]:
        """The next ``event`` frame (subscribe / unsubscribe ack) or error; pushes meanwhile
        go to ``pushes``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            frame = await self.recv(max(deadline - loop.time(), 0.001))
            if frame.get("event") in (event, "error"):
                return frame
            self.pushes.append(frame)

    async def next_push(self, timeout: float = 2.0) -> dict[str, Any]:
        if self.pushes:
            return self.pushes.pop(0)
        return await self.recv(timeout)


@dataclass(frozen=True)
class HttpReply:
    status: int
    headers: dict[str, str]  # names lower-cased
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


async def http_get(
    url: str, headers: dict[str, str] | None = None, timeout: float = 2.0
) -> HttpReply:
    """One plain HTTP/1.1 GET over a fresh socket, read to EOF (the simulator closes
    after each answer).  Raw on purpose, like RawClient: no HTTP library in between."""
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    lines = [f"GET {target} HTTP/1.1", f"Host: {parts.netloc}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    try:
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        raw = await asyncio.wait_for(reader.read(), timeout)
    finally:
        writer.close()
        await writer.wait_closed()
    if not raw:
        raise ConnectionError(f"no HTTP answer from {url}")
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    fields = dict(line.split(": ", 1) for line in header_lines)
    return HttpReply(int(status_line.split()[1]), {k.lower(): v for k, v in fields.items()}, body)
