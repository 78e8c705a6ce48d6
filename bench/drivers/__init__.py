"""The clients under test, by short name, and the module whose import time is theirs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .base import AsyncDriver, DriverUnavailable, SyncDriver


@dataclass(frozen=True)
class ClientSpec:
    key: str
    blocking: bool
    make: Callable[[], Any]
    import_module: str


def _floor() -> AsyncDriver:
    from .floor import FloorDriver

    return FloorDriver()


def _okx_async(transport: str) -> Callable[[], AsyncDriver]:
    def make() -> AsyncDriver:
        from .okx_ws_clients import OkxWsAsyncDriver

        return OkxWsAsyncDriver(transport)

    return make


def _okx_blocking(transport: str) -> Callable[[], SyncDriver]:
    def make() -> SyncDriver:
        from .okx_ws_clients import OkxWsBlockingDriver

        return OkxWsBlockingDriver(transport)

    return make


def _okx_core(transport: str) -> Callable[[], AsyncDriver]:
    def make() -> AsyncDriver:
        from .okx_ws_clients import OkxWsCoreDriver

        return OkxWsCoreDriver(transport)

    return make


def _python_okx() -> AsyncDriver:
    from .python_okx import PythonOkxDriver

    return PythonOkxDriver()


def _ccxt() -> AsyncDriver:
    from .ccxt_pro import CcxtProDriver

    return CcxtProDriver()


CLIENTS: dict[str, ClientSpec] = {
    spec.key: spec
    for spec in (
        ClientSpec("floor", False, _floor, "websockets.asyncio.client"),
        ClientSpec("okx-ws-async-httpx", False, _okx_async("httpx-ws"), "okx_ws"),
        ClientSpec("okx-ws-async-websockets", False, _okx_async("websockets"), "okx_ws"),
        ClientSpec("okx-ws-blocking-httpx", True, _okx_blocking("httpx-ws"), "okx_ws"),
        ClientSpec("okx-ws-blocking-websockets", True, _okx_blocking("websockets"), "okx_ws"),
        ClientSpec("okx-ws-core-httpx", False, _okx_core("httpx-ws"), "okx_ws_core"),
        ClientSpec("okx-ws-core-websockets", False, _okx_core("websockets"), "okx_ws_core"),
        ClientSpec("python-okx", False, _python_okx, "okx.websocket.WsPrivateAsync"),
        ClientSpec("ccxt-pro", False, _ccxt, "ccxt.pro"),
    )
}

__all__ = ["CLIENTS", "AsyncDriver", "ClientSpec", "DriverUnavailable", "SyncDriver"]
