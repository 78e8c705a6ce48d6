"""The narrow transport interface: connect, send text, receive text, close.

The protocol core never learns which library carries its frames.  httpx-ws is
the default; ``websockets`` is offered because on this kind of machine it costs
far less per message (see the README's benchmark section).  Each backend lives
in its own module, imported on first connect, so ``import okx_ws`` does not pay
for httpx, anyio and wsproto.  Both are entered as async context managers
inside the one task that owns the link, because httpx-ws's anyio task group
must be exited by the task that entered it.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Literal, Protocol

TransportName = Literal["httpx-ws", "websockets"]
TRANSPORTS: tuple[TransportName, ...] = ("httpx-ws", "websockets")
MAX_MESSAGE_BYTES = 4 * 1024 * 1024
CLOSE_TIMEOUT_S = 1.0


class TransportClosed(Exception):
    """The socket is gone; the message says why (close code, network error)."""


class Transport(Protocol):
    async def send(self, text: str) -> None: ...

    async def recv(self) -> str: ...

    async def close(self) -> None: ...


@contextlib.asynccontextmanager
async def open_transport(
    url: str, name: TransportName, connect_timeout: float
) -> AsyncIterator[Transport]:
    """Open one WebSocket; the caller's task must also be the one that exits it."""
    opener: Callable[[str, float], AbstractAsyncContextManager[Transport]]
    if name == "httpx-ws":
        from .transport_httpx import open_httpx_ws as opener
    elif name == "websockets":
        try:
            from .transport_websockets import open_websockets as opener
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ImportError(
                "transport='websockets' needs the websockets package: pip install 'okx-ws[sim]'"
            ) from exc
    else:
        raise ValueError(f"transport must be one of {TRANSPORTS}, got {name!r}")
    async with opener(url, connect_timeout) as transport:
        yield transport
