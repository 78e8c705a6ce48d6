"""python-okx 0.4.x: ``okx.websocket.WsPrivateAsync`` and its ``place_order``.

How it works (read from its installed source): ``place_order(args, callback,
id)`` only sends the frame; every inbound frame goes, as a raw string, to one
user callback.  So, as its users must, the driver parses each frame in that
callback and resolves a future per request id.  ``login()`` only sends the
login frame, so the driver waits for the login event itself.

``place_order`` / ``cancel_order`` send their ``args`` as given, so the items
carry the integer ``instIdCode`` OKX now requires (and no ``instId``).  The code
is read once in ``open`` from the simulator's REST instrument list through
python-okx's own REST client, ``okx.PublicData.PublicAPI(domain=...)``
``.get_instruments(instType="SPOT")``, as a python-okx user would.

Two work-arounds, both reported in the output (``note``), neither on the timed path:

* python-okx's ``WebSocketFactory.connect`` always passes an ``ssl`` context
  to ``websockets.connect``, which rejects it for a ``ws://`` URL (python-okx
  logs the error and returns None), so it cannot reach a plaintext loopback
  simulator unmodified.  The driver gives the factory a connect without ``ssl``.
* python-okx's ``login()`` sends ``timestamp`` as a JSON number; okx_ws_sim
  accepts only a string (OKX documents a string) and answers 60004.  When
  that happens the driver logs in through python-okx's own generic
  ``send("login", ...)`` with the timestamp as a string.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any

from ..workload import (
    API_KEY,
    API_SECRET,
    INST_TYPE,
    PASSPHRASE,
    coded_cancel_args,
    coded_order_args,
    fetch_inst_id_code,
    inst_id_code_in,
    rest_base,
)
from .base import DriverUnavailable

REST_TIMEOUT_S = 10.0
# instIdCodes by server URL: an application looks them up once, not per connection
# (the memory phase opens many clients; each would otherwise build an httpx client).
_CODES: dict[str, tuple[int, str]] = {}


def _inst_id_code_via_python_okx(base_url: str) -> int:
    """python-okx's own REST call for the instrument list (blocking httpx, 5 s timeout)."""
    from okx.PublicData import PublicAPI

    api = PublicAPI(flag="0", domain=rest_base(base_url))
    try:
        return inst_id_code_in(api.get_instruments(instType=INST_TYPE))
    finally:
        api.close()


def _login_item() -> dict[str, Any]:
    """python-okx's own signed login item, with its timestamp as a string.

    python-okx signs ``str(timestamp) + "GET/users/self/verify"``, so the
    signature stays valid when only the JSON type of the timestamp changes.
    """
    from okx.websocket import WsUtils

    payload = json.loads(WsUtils.initLoginParams(False, API_KEY, PASSPHRASE, API_SECRET))
    item: dict[str, Any] = payload["args"][0]
    item["timestamp"] = str(item["timestamp"])
    return item


async def _lookup_code(base_url: str) -> tuple[int, str]:
    """The instIdCode and how it was found, via python-okx's REST client if it works."""
    try:
        code = await asyncio.wait_for(
            asyncio.to_thread(_inst_id_code_via_python_okx, base_url), REST_TIMEOUT_S
        )
        return code, (
            f"instIdCode={code} from python-okx PublicAPI.get_instruments against the "
            "simulator's REST (once per process), put in each order/cancel item"
        )
    except Exception as exc:  # noqa: BLE001 - fall back, and say so
        code = await asyncio.to_thread(fetch_inst_id_code, base_url)
        return code, (
            f"python-okx PublicAPI.get_instruments failed ({type(exc).__name__}: {exc}); "
            f"instIdCode={code} read from the simulator's REST with urllib instead"
        )


class PythonOkxDriver:
    name = "python-okx WsPrivateAsync"

    def __init__(self) -> None:
        self._ws: Any = None
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._ids = itertools.count(1)
        self._logged_in: asyncio.Future[dict[str, Any]] | None = None
        self._consumer: asyncio.Task[None] | None = None
        self._code = 0
        self.note = ""

    def _on_message(self, text: str) -> None:
        if text == "pong":
            return
        msg = json.loads(text)
        fut = self._pending.pop(msg.get("id"), None) if "id" in msg else None
        if fut is not None:
            if not fut.done():
                fut.set_result(msg)
        elif msg.get("event") in ("login", "error") and self._logged_in is not None:
            if not self._logged_in.done():
                self._logged_in.set_result(msg)

    async def open(self, base_url: str) -> None:
        try:
            from okx.websocket.WsPrivateAsync import WsPrivateAsync
        except ImportError as exc:
            raise DriverUnavailable(f"python-okx not installed: {exc}") from exc
        import websockets

        if base_url not in _CODES:
            _CODES[base_url] = await _lookup_code(base_url)
        self._code, how = _CODES[base_url]
        notes = [how]
        url = base_url + "/ws/v5/private"
        ws = WsPrivateAsync(apiKey=API_KEY, passphrase=PASSPHRASE, secretKey=API_SECRET, url=url)
        factory = ws.factory
        if await factory.connect() is None:
            notes.append(
                "python-okx WebSocketFactory.connect passes ssl=SSLContext, which websockets "
                "rejects for ws:// (python-okx logs it and returns None): connected with a "
                "factory.connect that omits ssl"
            )

            async def connect_without_ssl() -> Any:
                factory.websocket = await websockets.connect(url, compression=None)
                return factory.websocket

            factory.connect = connect_without_ssl
        else:  # a future python-okx that accepts ws:// URLs
            await factory.close()
        ws.callback = self._on_message
        self._consumer = await ws.start()
        self._ws = ws
        reply = await self._login(ws.login())
        if reply.get("code") == "60004":
            notes.append(
                f"python-okx login() sends timestamp as a JSON number; okx_ws_sim answered {reply}: "
                "logged in via python-okx send('login', ...) with a string timestamp"
            )
            reply = await self._login(ws.send("login", [_login_item()]))
        if reply.get("event") != "login" or reply.get("code") != "0":
            raise DriverUnavailable(f"python-okx login failed: {reply}")
        self.note = "; ".join(notes)

    async def _login(self, sending: Any) -> dict[str, Any]:
        self._logged_in = asyncio.get_running_loop().create_future()
        await sending
        return await asyncio.wait_for(self._logged_in, 10)

    async def _request(self, send: Any, args: list[dict[str, Any]]) -> dict[str, Any]:
        rid = str(next(self._ids))
        fut = asyncio.get_running_loop().create_future()
        self._pending[rid] = fut
        await send(args, id=rid)
        return await fut

    async def order(self, cl_ord_id: str) -> tuple[str, str]:
        reply = await self._request(self._ws.place_order, [coded_order_args(cl_ord_id, self._code)])
        item = reply["data"][0]
        return item["clOrdId"], item["ordId"]

    async def cancel(self, ord_id: str) -> str:
        reply = await self._request(self._ws.cancel_order, [coded_cancel_args(ord_id, self._code)])
        return str(reply["data"][0]["ordId"])

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.stop()
        if self._consumer is not None:
            await asyncio.gather(self._consumer, return_exceptions=True)
