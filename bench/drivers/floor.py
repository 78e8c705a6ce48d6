"""The floor: the ``websockets`` asyncio client with hand-built JSON frames.

What any Python OKX client must at least do: one connection, a proper HMAC
login, one JSON dump per request, one JSON load per reply (orjson when
installed, as okx-ws uses it: the floor uses the fastest codec too), and a
reader task resolving a future per request id.  No validation, no timeouts,
no reconnects: everything a real client adds is measured against this.
Items carry the integer ``instIdCode`` OKX requires, read once from the
server's REST instrument list in :meth:`FloorDriver.open` (never while timed).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import json
import time
from collections.abc import Callable
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from ..workload import (
    API_KEY,
    API_SECRET,
    PASSPHRASE,
    coded_cancel_args,
    coded_order_args,
    fetch_inst_id_code,
)

try:
    import orjson

    dumps: Callable[[Any], str] = lambda obj: orjson.dumps(obj).decode()  # noqa: E731
    loads: Callable[[str | bytes], Any] = orjson.loads
except ImportError:
    dumps, loads = json.dumps, json.loads

# instIdCodes by server URL: looked up once per process, as an application would.
_CODES: dict[str, int] = {}


def login_frame() -> str:
    ts = str(int(time.time()))
    mac = hmac.new(API_SECRET.encode(), f"{ts}GET/users/self/verify".encode(), hashlib.sha256)
    sign = base64.b64encode(mac.digest()).decode()
    args = {"apiKey": API_KEY, "passphrase": PASSPHRASE, "timestamp": ts, "sign": sign}
    return json.dumps({"op": "login", "args": [args]})


class FloorDriver:
    name = "floor (raw websockets)"

    def __init__(self) -> None:
        self._ws: ClientConnection | None = None
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._ids = itertools.count(1)
        self._reader: asyncio.Task[None] | None = None
        self._code = 0

    async def open(self, base_url: str) -> None:
        if base_url not in _CODES:
            _CODES[base_url] = await asyncio.to_thread(fetch_inst_id_code, base_url)
        self._code = _CODES[base_url]
        self._ws = await connect(base_url + "/ws/v5/private", ping_interval=None, compression=None)
        await self._ws.send(login_frame())
        reply = loads(await self._ws.recv())
        if reply.get("event") != "login" or reply.get("code") != "0":
            raise RuntimeError(f"floor login failed: {reply}")
        self._reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        assert self._ws is not None
        pending = self._pending
        async for text in self._ws:
            msg = loads(text)
            fut = pending.pop(msg.get("id"), None)
            if fut is not None and not fut.done():
                fut.set_result(msg)

    async def _request(self, op: str, args: list[dict[str, Any]]) -> dict[str, Any]:
        assert self._ws is not None
        rid = str(next(self._ids))
        fut = asyncio.get_running_loop().create_future()
        self._pending[rid] = fut
        await self._ws.send(dumps({"id": rid, "op": op, "args": args}))
        return await fut

    async def order(self, cl_ord_id: str) -> tuple[str, str]:
        item = (await self._request("order", [coded_order_args(cl_ord_id, self._code)]))["data"][0]
        return item["clOrdId"], item["ordId"]

    async def cancel(self, ord_id: str) -> str:
        reply = await self._request("cancel-order", [coded_cancel_args(ord_id, self._code)])
        return str(reply["data"][0]["ordId"])

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)
