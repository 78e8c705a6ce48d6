"""okx-ws drivers: the typed async and blocking clients, and the raw runtime.

The typed clients are what users call (params validated, reply parsed into a
response model); the raw runtime row (``okx_ws_core.AsyncWebsocketClient``)
splits the cost of that typed layer from the cost of the connection core.
Each takes ``transport`` so httpx-ws and websockets are measured side by side.
"""

from __future__ import annotations

from typing import Any

from ..workload import API_KEY, API_SECRET, INST_ID, PASSPHRASE, order_args


def _options(base_url: str, transport: str) -> dict[str, Any]:
    return {
        "api_key": API_KEY,
        "api_secret": API_SECRET,
        "api_passphrase": PASSPHRASE,
        "base_url": base_url,
        "transport": transport,
        "request_timeout": 30.0,  # 1,000 in flight on a loaded 2-core box: no spurious timeouts
        "attach_event_listeners": False,
    }


class OkxWsAsyncDriver:
    def __init__(self, transport: str) -> None:
        self.transport = transport
        self.name = f"okx-ws async [{transport}]"
        self._client: Any = None

    async def open(self, base_url: str) -> None:
        from okx_ws import AsyncWebsocketAPIClient

        self._client = AsyncWebsocketAPIClient(**_options(base_url, self.transport))
        await self._client.connect_ws_api()

    async def order(self, cl_ord_id: str) -> tuple[str, str]:
        item = (await self._client.submit_new_order(order_args(cl_ord_id))).data[0]
        return item.cl_ord_id, item.ord_id

    async def cancel(self, ord_id: str) -> str:
        reply = await self._client.cancel_order({"instId": INST_ID, "ordId": ord_id})
        return str(reply.data[0].ord_id)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()


class OkxWsBlockingDriver:
    def __init__(self, transport: str) -> None:
        self.transport = transport
        self.name = f"okx-ws blocking [{transport}]"
        self._client: Any = None

    def open(self, base_url: str) -> None:
        from okx_ws import WebsocketAPIClient

        self._client = WebsocketAPIClient(**_options(base_url, self.transport))
        self._client.connect_ws_api()

    def order(self, cl_ord_id: str) -> tuple[str, str]:
        item = self._client.submit_new_order(order_args(cl_ord_id)).data[0]
        return item.cl_ord_id, item.ord_id

    def cancel(self, ord_id: str) -> str:
        reply = self._client.cancel_order({"instId": INST_ID, "ordId": ord_id})
        return str(reply.data[0].ord_id)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


class OkxWsCoreDriver:
    """``okx_ws_core.AsyncWebsocketClient.send_ws_api_request``: no models, no validation."""

    def __init__(self, transport: str) -> None:
        self.transport = transport
        self.name = f"okx-ws core raw [{transport}]"
        self._client: Any = None

    async def open(self, base_url: str) -> None:
        from okx_ws_core import AsyncWebsocketClient

        opts = _options(base_url, self.transport)
        self._client = AsyncWebsocketClient(
            opts.pop("api_key"), opts.pop("api_secret"), opts.pop("api_passphrase"), **opts
        )
        await self._client.connect("private")

    async def order(self, cl_ord_id: str) -> tuple[str, str]:
        reply = await self._client.send_ws_api_request("private", "order", [order_args(cl_ord_id)])
        item = reply["data"][0]
        return item["clOrdId"], item["ordId"]

    async def cancel(self, ord_id: str) -> str:
        reply = await self._client.send_ws_api_request(
            "private", "cancel-order", [{"instId": INST_ID, "ordId": ord_id}]
        )
        return str(reply["data"][0]["ordId"])

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
