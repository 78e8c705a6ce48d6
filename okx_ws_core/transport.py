"""The narrow transport interface: connect, send text, receive text, close.

The protocol core never learns which library carries its frames.  httpx-ws is
the default; ``websockets`` is offered because on this kind of machine it costs
far less per message (see the README's benchmark section).  Both are entered as
async context managers inside the one task that owns the link, because
httpx-ws's anyio task group must be exited by the task that entered it.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import AsyncIterator
from typing import Any, Literal, Protocol

import anyio
import httpcore
import httpx
import wsproto.events
import wsproto.utilities
from httpx_ws import AsyncWebSocketSession, aconnect_ws

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


class _LeanSession(AsyncWebSocketSession):
    """An httpx-ws session without its background reader task.

    httpx-ws reads in a task of its own and hands every message over through
    an anyio memory stream, with a cancel scope per call: on loopback that
    costs more than the socket itself (../shared/perf-notes.md).  A link
    already owns one reader task, so :class:`_HttpxWs` reads the session's
    network stream and feeds its wsproto connection directly.  This uses the
    documented ``session_class`` hook and the public ``stream`` and
    ``connection`` attributes; the handshake stays httpx's.
    """

    @contextlib.asynccontextmanager
    async def __asynccontextmanager__(self) -> AsyncIterator[_LeanSession]:
        try:
            yield self
        finally:
            with anyio.CancelScope(shield=True), contextlib.suppress(Exception):
                await self.close()


class _HttpxWs:
    __slots__ = ("_session", "_stream", "_ws", "_events", "_parts", "_write_lock")

    def __init__(self, session: _LeanSession) -> None:
        self._session = session
        self._stream = session.stream
        self._ws = session.connection
        self._events: collections.deque[wsproto.events.Event] = collections.deque()
        self._parts: list[str] = []
        self._write_lock = asyncio.Lock()  # anyio streams refuse concurrent writers

    async def _write(self, data: bytes) -> None:
        async with self._write_lock:
            try:
                await self._stream.write(data)
            except (
                httpcore.NetworkError,
                anyio.ClosedResourceError,
                anyio.BrokenResourceError,
            ) as exc:
                raise TransportClosed(f"send failed: {exc!r}") from exc

    async def send(self, text: str) -> None:
        try:
            data = self._ws.send(wsproto.events.TextMessage(data=text))
        except wsproto.utilities.LocalProtocolError as exc:
            raise TransportClosed(f"send after close: {exc}") from exc
        await self._write(data)

    async def recv(self) -> str:
        events = self._events
        while True:
            while events:
                event = events.popleft()
                if type(event) is wsproto.events.TextMessage:
                    if event.message_finished and not self._parts:
                        return event.data
                    self._parts.append(event.data)
                    if event.message_finished:
                        text = "".join(self._parts)
                        self._parts.clear()
                        return text
                elif isinstance(event, wsproto.events.Ping):
                    await self._write(self._ws.send(event.response()))
                elif isinstance(event, wsproto.events.CloseConnection):
                    with contextlib.suppress(Exception):
                        await self._write(self._ws.send(event.response()))
                    raise TransportClosed(f"closed by server: code={event.code} {event.reason}")
            try:
                data = await self._stream.read(MAX_MESSAGE_BYTES)
            except (
                httpcore.NetworkError,
                anyio.ClosedResourceError,
                anyio.BrokenResourceError,
            ) as exc:
                raise TransportClosed(f"receive failed: {exc!r}") from exc
            if not data:
                raise TransportClosed("connection closed (EOF)")
            try:
                self._ws.receive_data(data)
            except wsproto.utilities.RemoteProtocolError as exc:
                raise TransportClosed(f"protocol error: {exc}") from exc
            events.extend(self._ws.events())

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
                session_class=_LeanSession,
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
