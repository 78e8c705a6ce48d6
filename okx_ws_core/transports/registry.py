"""The transports by name, and the narrow interface they implement (open, send, recv, close).

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

from .interface import (
    CLOSE_TIMEOUT_S,
    MAX_MESSAGE_BYTES,
    Connector,
    Transport,
    TransportClosed,
    TransportName,
)

__all__ = [
    "CLOSE_TIMEOUT_S",
    "MAX_MESSAGE_BYTES",
    "TRANSPORTS",
    "Connector",
    "Transport",
    "TransportClosed",
    "TransportName",
    "connector_for",
]

TRANSPORTS: tuple[TransportName, ...] = ("websockets", "httpx-ws")


class _Named:
    """A built-in backend chosen by name, imported on first use."""

    def __init__(self, name: TransportName) -> None:
        self.name = name

    def open(self, url: str, timeout: float) -> AbstractAsyncContextManager[Transport]:
        if self.name == "httpx-ws":
            from .httpx_backend import open_httpx_ws

            return open_httpx_ws(url, timeout)
        from .websockets_backend import open_websockets

        return open_websockets(url, timeout)

    def __repr__(self) -> str:
        return f"<transport {self.name}>"


def connector_for(transport: TransportName | Connector) -> Connector:
    if isinstance(transport, str):
        if transport not in TRANSPORTS:
            raise ValueError(f"transport must be one of {TRANSPORTS}, got {transport!r}")
        return _Named(transport)
    return transport
