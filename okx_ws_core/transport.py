"""The narrow transport interface: connect, send text, receive text, close.

The protocol core never learns which library carries its frames.  httpx-ws is
the default; ``websockets`` is offered because on this kind of machine it costs
far less per message (see the README's benchmark section).  Both are entered as
async context managers inside the one task that owns the link, because
httpx-ws's anyio task group must be exited by the task that entered it.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any, Literal, Protocol

import httpx
from httpx_ws import (
    AsyncWebSocketSession,
    HTTPXWSException,
    WebSocketDisconnect,
    WebSocketInvalidTypeReceived,
    aconnect_ws,
)

TransportName = Literal["httpx-ws", "websockets"]
TRANSPORTS: tuple[TransportName, ...] = ("httpx-ws", "websockets")
MAX_MESSAGE_BYTES = 4 * 1024 * 1024
CLOSE_TIMEOUT_S = 1.0


class TransportClosed(Exception):
    """The socket is gone; ``reason`` says why (close code, network error)."""


class Transport(Protocol):
    async def send(self, text: str) -> None: ...

    async def recv(self) -> str: ...

    async def close(self) -> None: ...


class _HttpxWs:
    __slots__ = ("_session",)

    def __init__(self, session: AsyncWebSocketSession) -> None:
        self._session = session

    async def send(self, text: str) -> None:
        try:
            await self._session.send_text(text)
        except HTTPXWSException as exc:
            raise TransportClosed(f"send failed: {exc!r}") from exc

    async def recv(self) -> str:
        while True:
            try:
                return await self._session.receive_text()
            except WebSocketInvalidTypeReceived:
                continue  # binary frames are not part of OKX's protocol
            except WebSocketDisconnect as exc:
                raise TransportClosed(
                    f"closed by server: code={exc.code} {exc.reason or ''}"
                ) from exc
            except HTTPXWSException as exc:
                raise TransportClosed(f"receive failed: {exc!r}") from exc

    async def close(self) -> None:
        await self._session.close()


class _Websockets:
    __slots__ = ("_ws", "_closed_error")

    def __init__(self, ws: Any, closed_error: type[Exception]) -> None:
        self._ws = ws
        self._closed_error = closed_error

    async def send(self, text: str) -> None:
        try:
            await self._ws.send(text)
        except self._closed_error as exc:
            raise TransportClosed(f"send failed: {exc}") from exc

    async def recv(self) -> str:
        while True:
            try:
                message = await self._ws.recv()
            except self._closed_error as exc:
                raise TransportClosed(f"closed: {exc}") from exc
            if isinstance(message, str):
                return message

    async def close(self) -> None:
        await self._ws.close()


@contextlib.asynccontextmanager
async def open_transport(
    url: str, name: TransportName, connect_timeout: float
) -> AsyncIterator[Transport]:
    """Open one WebSocket; the caller's task must also be the one that exits it."""
    if name == "httpx-ws":
        async with httpx.AsyncClient(timeout=connect_timeout) as http:
            async with aconnect_ws(
                url,
                http,
                max_message_size_bytes=MAX_MESSAGE_BYTES,
                keepalive_ping_interval_seconds=None,  # OKX uses text "ping", see Heartbeat
                session_class=AsyncWebSocketSession,
            ) as session:
                yield _HttpxWs(session)
    elif name == "websockets":
        try:
            from websockets.asyncio.client import connect
            from websockets.exceptions import ConnectionClosed
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ImportError(
                "transport='websockets' needs the websockets package: pip install 'okx-ws[sim]'"
            ) from exc
        async with connect(
            url,
            open_timeout=connect_timeout,
            ping_interval=None,
            max_size=MAX_MESSAGE_BYTES,
            compression=None,
            close_timeout=CLOSE_TIMEOUT_S,
        ) as ws:
            yield _Websockets(ws, ConnectionClosed)
    else:
        raise ValueError(f"transport must be one of {TRANSPORTS}, got {name!r}")
