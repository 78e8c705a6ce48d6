"""The narrow transport interface: open, send text, receive text, close.

The runtime never learns which library carries its frames.  ``transport=``
takes a backend's name or any object with an ``open(url, timeout)`` async
context manager yielding a :class:`Transport` (httpx's pattern): that is how
:mod:`okx_ws_core.testing` drives a client with no socket at all.

``websockets`` is the default because it costs the least per message on the
machines we measured (see the README's benchmarks); ``httpx-ws`` stays a
first-class choice for users who need httpx's proxy and TLS settings.  Each
backend is imported on first connect, so ``import okx_ws`` pays for neither.
A transport is opened and closed inside one task, the link's reader, because
httpx-ws requires it.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Literal, Protocol, runtime_checkable

TransportName = Literal["websockets", "httpx-ws"]
TRANSPORTS: tuple[TransportName, ...] = ("websockets", "httpx-ws")
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


class _Named:
    """A built-in backend chosen by name, imported on first use."""

    def __init__(self, name: TransportName) -> None:
        self.name = name

    def open(self, url: str, timeout: float) -> AbstractAsyncContextManager[Transport]:
        if self.name == "httpx-ws":
            from .transport_httpx import open_httpx_ws

            return open_httpx_ws(url, timeout)
        from .transport_websockets import open_websockets

        return open_websockets(url, timeout)

    def __repr__(self) -> str:
        return f"<transport {self.name}>"


def connector_for(transport: TransportName | Connector) -> Connector:
    if isinstance(transport, str):
        if transport not in TRANSPORTS:
            raise ValueError(f"transport must be one of {TRANSPORTS}, got {transport!r}")
        return _Named(transport)
    return transport
