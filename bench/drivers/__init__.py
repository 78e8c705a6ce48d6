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
    transport: str | None = None  # okx-ws rows: the transport= they pass


def _floor() -> AsyncDriver:
    from .floor import FloorDriver

    return FloorDriver()


def _okx_async(transport: str) -> Callable[[], AsyncDriver]:
    def make() -> AsyncDriver:
        from .okx_ws_clients import OkxWsAsyncDriver

        return OkxWsAsyncDriver(transport)

    return make


def _okx_async_limiter() -> AsyncDriver:
    from .okx_ws_clients import OkxWsAsyncDriver, default_transport

    return OkxWsAsyncDriver(default_transport(), limiter=True)


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
        *(
            ClientSpec(f"okx-ws-{kind}-{short}", blocking, make(transport), module, transport)
            for kind, blocking, make, module in (
                ("async", False, _okx_async, "okx_ws"),
                ("blocking", True, _okx_blocking, "okx_ws"),
                ("core", False, _okx_core, "okx_ws_core"),
            )
            for short, transport in (("websockets", "websockets"), ("httpx", "httpx-ws"))
        ),
        ClientSpec("okx-ws-async-limiter", False, _okx_async_limiter, "okx_ws"),
        ClientSpec("python-okx", False, _python_okx, "okx.websocket.WsPrivateAsync"),
        ClientSpec("ccxt-pro", False, _ccxt, "ccxt.pro"),
    )
}


def okx_ws_key(kind: str, transport: str) -> str | None:
    """The CLIENTS key of okx-ws ``kind`` (async, blocking, core) on ``transport``."""
    for key, spec in CLIENTS.items():
        if key.startswith(f"okx-ws-{kind}-") and spec.transport == transport:
            return key
    return None


__all__ = [
    "CLIENTS",
    "AsyncDriver",
    "ClientSpec",
    "DriverUnavailable",
    "SyncDriver",
    "okx_ws_key",
]
