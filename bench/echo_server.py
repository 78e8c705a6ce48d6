"""A tiny OKX-shaped stand-in server: login always OK, every request answered at once.

It exists so the harness can be built and tested without okx_ws_sim, and so
``--server echo`` can show how fast each client goes when the server does
almost nothing (the real simulator validates and books every order, which
caps throughput on a 2-core machine).  The bench measures every client's
1,000-in-flight throughput against it, so that column ranks the clients and
not the server: it answers each read's frames in one write, with no task per
message (websockets' sans-I/O protocol under an asyncio ``Protocol``).  Like the simulator it answers OKX's
``GET /api/v5/public/instruments?instType=SPOT`` on the same port, listing the
one instrument the workload trades with its integer ``instIdCode``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.datastructures import Headers
from websockets.frames import Frame, Opcode
from websockets.http11 import Request, Response
from websockets.server import ServerProtocol

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

try:  # the fastest codec installed: the server must cost less than any client
    import orjson

    _dumps_bytes: Callable[[Any], bytes] = orjson.dumps
    _loads: Callable[[bytes], Any] = orjson.loads
except ImportError:  # pragma: no cover - orjson is a default dependency
    _encode = json.JSONEncoder(separators=(",", ":")).encode
    _dumps_bytes = lambda obj: _encode(obj).encode()  # noqa: E731
    _loads = json.loads

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


def answer(message: bytes) -> bytes:
    """The reply frame to one text frame from a client."""
    if message == b"ping":
        return b"pong"
    msg = _loads(message)
    op = msg.get("op")
    if op == "login":
        return _dumps_bytes({"event": "login", "code": "0", "msg": "", "connId": "e0"})
    if op in ("subscribe", "unsubscribe"):
        return _dumps_bytes({"event": op, "arg": (msg.get("args") or [{}])[0]})
    return _dumps_bytes(reply_to(msg))


def _rest(request: Request) -> Response:
    """Answer the instrument list over plain HTTP."""
    url = urlsplit(request.path)
    inst_type = parse_qs(url.query).get("instType", [""])[0]
    data = [ECHO_INSTRUMENT] if inst_type == INST_TYPE else []
    body = _dumps_bytes({"code": "0", "msg": "", "data": data})
    headers = Headers(
        [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            ("Connection", "close"),
        ]
    )
    return Response(200, "OK", headers, body)


class _Connection(asyncio.Protocol):
    """One client: websockets' sans-I/O protocol, fed by asyncio's callbacks.

    Everything that arrived in one read is answered with one write, and no task
    or await runs per message: with 1,000 requests in flight this server spends
    a fraction of what any client does per request, so the client is what is
    measured.
    """

    def __init__(self) -> None:
        self.ws = ServerProtocol(max_size=None)
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        ws = self.ws
        ws.receive_data(data)
        for event in ws.events_received():
            if isinstance(event, Request):
                rest = urlsplit(event.path).path == INSTRUMENTS_PATH
                ws.send_response(_rest(event) if rest else ws.accept(event))
            elif isinstance(event, Frame) and event.opcode is Opcode.TEXT:
                ws.send_text(answer(bytes(event.data)))
        self._flush()

    def eof_received(self) -> bool | None:
        self.ws.receive_eof()
        self._flush()
        return None

    def _flush(self) -> None:
        assert self.transport is not None
        chunks = self.ws.data_to_send()
        self.transport.writelines(chunk for chunk in chunks if chunk)
        if b"" in chunks or self.ws.close_expected():  # b"": the protocol closed its side
            self.transport.close()


async def start_echo_server(host: str = "127.0.0.1", port: int = 0) -> asyncio.Server:
    """Start the stand-in; its URL is ``ws://host:<server.sockets[0] port>``."""
    return await asyncio.get_running_loop().create_server(_Connection, host, port)
