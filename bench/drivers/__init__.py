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


def _okx_async(transport: str | None = None, limiter: bool = True) -> Callable[[], AsyncDriver]:
    def make() -> AsyncDriver:
        from .okx_ws_clients import OkxWsAsyncDriver, default_transport

        return OkxWsAsyncDriver(transport or default_transport(), limiter)

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


# Table order: the floor, okx-ws's default configuration, then the rows that turn
# one knob each away from it (their names say which), then the peers.
CLIENTS: dict[str, ClientSpec] = {
    spec.key: spec
    for spec in (
        ClientSpec("floor", False, _floor, "websockets.asyncio.client"),
        ClientSpec("okx-ws-default", False, _okx_async(), "okx_ws"),
        ClientSpec(
            "okx-ws-async-nolimit", False, _okx_async(limiter=False), "okx_ws", "websockets"
        ),
        ClientSpec("okx-ws-async-httpx", False, _okx_async("httpx-ws"), "okx_ws", "httpx-ws"),
        *(
            ClientSpec(f"okx-ws-{kind}-{short}", blocking, make(transport), module, transport)
            for kind, blocking, make, module in (
                ("blocking", True, _okx_blocking, "okx_ws"),
                ("core", False, _okx_core, "okx_ws_core"),
            )
            for short, transport in (("websockets", "websockets"), ("httpx", "httpx-ws"))
        ),
        ClientSpec("python-okx", False, _python_okx, "okx.websocket.WsPrivateAsync"),
        ClientSpec("ccxt-pro", False, _ccxt, "ccxt.pro"),
    )
}
DEFAULT = "okx-ws-default"  # the configuration a user gets: the headline row
LIMITER_OFF = "okx-ws-async-nolimit"  # the default with rate_limit="off"


__all__ = [
    "CLIENTS",
    "DEFAULT",
    "LIMITER_OFF",
    "AsyncDriver",
    "ClientSpec",
    "DriverUnavailable",
    "SyncDriver",
]
