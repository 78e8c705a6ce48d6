"""The transport interface every backend implements: open, send text, receive text, close.

Apart from the registry (:mod:`okx_ws_core.transports.registry`) so that the backends,
which implement it, and the registry, which imports them on first use, form
no import cycle.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Literal, Protocol, runtime_checkable

__all__ = [
    "CLOSE_TIMEOUT_S",
    "MAX_MESSAGE_BYTES",
    "Connector",
    "Transport",
    "TransportClosed",
    "TransportName",
]

TransportName = Literal["websockets", "httpx-ws"]
MAX_MESSAGE_BYTES = 4 * 1024 * 1024
CLOSE_TIMEOUT_S = 1.0


class TransportClosed(Exception):
    """The socket is gone; the message says why (close code, network error).

    Internal: the runtime turns it into :class:`~okx_ws_core.errors.ConnectionLost`
    or a reconnect; it never reaches a caller.
    """


class Transport(Protocol):
    """One open WebSocket carrying text frames.

    ``send`` may be cancelled (its caller was).  A cancelled write may have
    left part of a frame on the wire, so the link drops the socket, unless the
    transport also has ``write_interrupted() -> bool`` and it answers False:
    its writes are whole or nothing even when cancelled (see the built-in
    backends).  Dropping costs every request then in flight on that socket.
    """

    async def send(self, text: str) -> None: ...

    async def recv(self) -> str: ...

    async def close(self) -> None: ...


@runtime_checkable
class Connector(Protocol):
    """Opens transports; raise any exception to report a failed connect."""

    def open(self, url: str, timeout: float) -> AbstractAsyncContextManager[Transport]: ...
