"""A tiny OKX-shaped stand-in server: login always OK, every request answered at once.

It exists so the harness can be built and tested without okx_ws_sim, and so
``--server echo`` can show how fast each client goes when the server does
almost nothing (the real simulator validates and books every order, which
caps throughput on a 2-core machine).
"""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

_dumps = json.JSONEncoder(separators=(",", ":")).encode
_ord_ids = itertools.count(1_000_000)


def reply_to(msg: dict[str, Any]) -> dict[str, Any]:
    """OKX's reply to one request: echo id/op, one success item per arg."""
    now_us = str(time.time_ns() // 1000)
    data = [
        {
            "clOrdId": arg.get("clOrdId", ""),
            "ordId": arg.get("ordId") or str(next(_ord_ids)),
            "tag": arg.get("tag", ""),
            "ts": now_us[:-3],
            "sCode": "0",
            "sMsg": "",
        }
        for arg in msg.get("args") or [{}]
    ]
    return {
        "id": msg.get("id"),
        "op": msg.get("op"),
        "code": "0",
        "msg": "",
        "data": data,
        "inTime": now_us,
        "outTime": now_us,
    }


async def _handler(ws: ServerConnection) -> None:
    try:
        async for message in ws:
            if message == "ping":
                await ws.send("pong")
                continue
            msg = json.loads(message)
            op = msg.get("op")
            if op == "login":
                await ws.send(_dumps({"event": "login", "code": "0", "msg": "", "connId": "e0"}))
            elif op in ("subscribe", "unsubscribe"):
                await ws.send(_dumps({"event": op, "arg": (msg.get("args") or [{}])[0]}))
            else:
                await ws.send(_dumps(reply_to(msg)))
    except ConnectionClosed:
        pass


async def start_echo_server(host: str = "127.0.0.1", port: int = 0) -> Server:
    """Start the stand-in; its URL is ``ws://host:<server.sockets[0] port>``."""
    return await serve(_handler, host, port, ping_interval=None, compression=None)
