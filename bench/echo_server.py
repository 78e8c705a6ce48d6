"""A tiny OKX-shaped stand-in server: login always OK, every request answered at once.

It exists so the harness can be built and tested without okx_ws_sim, and so
``--server echo`` can show how fast each client goes when the server does
almost nothing (the real simulator validates and books every order, which
caps throughput on a 2-core machine).  Like the simulator it answers OKX's
``GET /api/v5/public/instruments?instType=SPOT`` on the same port, listing the
one instrument the workload trades with its integer ``instIdCode``.
"""

from __future__ import annotations

import itertools
import json
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from .workload import INST_ID, INST_TYPE, INSTRUMENTS_PATH

ECHO_INST_ID_CODE = 10001
# BTC-USDT as OKX's instrument list gives it (the fields ccxt's parse_market reads).
ECHO_INSTRUMENT: dict[str, Any] = {
    "alias": "",
    "baseCcy": "BTC",
    "category": "1",
    "ctMult": "",
    "ctType": "",
    "ctVal": "",
    "ctValCcy": "",
    "expTime": "",
    "instFamily": "",
    "instId": INST_ID,
    "instIdCode": ECHO_INST_ID_CODE,
    "instType": INST_TYPE,
    "lever": "10",
    "listTime": "1548133413000",
    "lotSz": "0.00000001",
    "maxLmtSz": "10000",
    "maxMktSz": "1000000",
    "minSz": "0.00001",
    "optType": "",
    "quoteCcy": "USDT",
    "settleCcy": "",
    "state": "live",
    "stk": "",
    "tickSz": "0.1",
    "uly": "",
}

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


def _rest(connection: ServerConnection, request: Request) -> Response | None:
    """Answer the instrument list over plain HTTP; let WebSocket handshakes through."""
    url = urlsplit(request.path)
    if url.path != INSTRUMENTS_PATH:
        return None
    inst_type = parse_qs(url.query).get("instType", [""])[0]
    data = [ECHO_INSTRUMENT] if inst_type == INST_TYPE else []
    body = _dumps({"code": "0", "msg": "", "data": data}).encode()
    headers = Headers(
        [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            ("Connection", "close"),
        ]
    )
    return Response(200, "OK", headers, body)


async def start_echo_server(host: str = "127.0.0.1", port: int = 0) -> Server:
    """Start the stand-in; its URL is ``ws://host:<server.sockets[0] port>``."""
    return await serve(
        _handler, host, port, process_request=_rest, ping_interval=None, compression=None
    )
