"""The httpx-ws backend (``transport="httpx_ws"``; the default is websockets).

httpx does the HTTP upgrade; after that a link reads and writes the session's
network stream itself (see :class:`_LeanSession`).  Writes issued while one
is in progress are coalesced into the next single write, so a burst of
requests costs one trip through anyio's stream instead of one each.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import AsyncIterator

import anyio
import httpcore
import httpx
import wsproto.connection
import wsproto.events
import wsproto.utilities
from httpx_ws import AsyncWebSocketSession, aconnect_ws

from .interface import MAX_MESSAGE_BYTES, TransportClosed
from .tls import shared_ssl_context

_NETWORK_ERRORS = (httpcore.NetworkError, anyio.ClosedResourceError, anyio.BrokenResourceError)


class _LeanSession(AsyncWebSocketSession):
    """An httpx-ws session without its background reader task.

    httpx-ws reads in a task of its own and hands every message over through
    an anyio memory stream, with a cancel scope per call: on loopback that
    costs more than the socket itself (``make bench`` shows it).  A link
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
    __slots__ = (
        "_session",
        "_stream",
        "_ws",
        "_events",
        "_parts",
        "_queued",
        "_flushed",
        "_writing",
        "_torn",
    )

    def __init__(self, session: _LeanSession) -> None:
        self._session = session
        self._stream = session.stream
        self._ws = session.connection
        self._events: collections.deque[wsproto.events.Event] = collections.deque()
        self._parts: list[str] = []
        self._queued: list[bytes] = []
        self._flushed: asyncio.Future[None] | None = None  # resolves when _queued is written
        self._writing = False  # anyio streams refuse concurrent writers
        self._torn = False  # a write was cancelled half-way: never write again

    async def _write(self, data: bytes) -> None:
        """Write ``data``; if a write is under way, ride along with the next one."""
        self._queued.append(data)
        if self._writing:
            if self._flushed is None:
                self._flushed = asyncio.get_running_loop().create_future()
            await asyncio.shield(self._flushed)
            return
        self._writing = True
        flushed: asyncio.Future[None] | None = None
        try:
            while self._queued:
                chunk = b"".join(self._queued) if len(self._queued) > 1 else self._queued[0]
                self._queued.clear()
                flushed, self._flushed = self._flushed, None
                await self._stream.write(chunk)
                if flushed is not None:
                    flushed.set_result(None)
                    flushed = None
        except _NETWORK_ERRORS as exc:
            raise TransportClosed(f"send failed: {exc!r}") from exc
        except BaseException:  # cancelled inside the stream's write: see write_interrupted
            self._torn = True
            raise
        finally:
            self._writing = False
            stranded = [f for f in (flushed, self._flushed) if f is not None and not f.done()]
            if stranded:  # the write failed or was cancelled: nobody else will flush these
                self._flushed = None
                self._queued.clear()
                for future in stranded:
                    future.set_exception(
                        TransportClosed("send failed: the shared write did not complete")
                    )
                    future.exception()  # retrieved here; each rider gets it from its await

    def write_interrupted(self) -> bool:
        """Whether a cancelled write may have cut a frame.

        Only the task doing the shared write can: over TLS, anyio encrypts a
        record before it hands it to the socket, so a cancel in between leaves
        the stream's record sequence broken.  A rider's cancel is harmless (its
        bytes are already queued and go out whole with the shared write).
        """
        return self._torn

    async def send(self, text: str) -> None:
        if self._torn:
            raise TransportClosed("an earlier write was cancelled half-way")
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
                    # The close reply goes out when the session exits; writing it here
                    # could wait behind a stuck write while the link still looks alive.
                    raise TransportClosed(f"closed by server: code={event.code} {event.reason}")
            try:
                data = await self._stream.read(MAX_MESSAGE_BYTES)
            except _NETWORK_ERRORS as exc:
                raise TransportClosed(f"receive failed: {exc!r}") from exc
            if not data:
                raise TransportClosed("connection closed (EOF)")
            try:
                self._ws.receive_data(data)
            except wsproto.utilities.RemoteProtocolError as exc:
                raise TransportClosed(f"protocol error: {exc}") from exc
            events.extend(self._ws.events())

    async def close(self) -> None:
        """Send our close frame through the coalescing writer, then drop the stream."""
        if self._ws.state is wsproto.connection.ConnectionState.OPEN:
            with contextlib.suppress(Exception):
                await self._write(self._ws.send(wsproto.events.CloseConnection(code=1000)))
        with contextlib.suppress(Exception):
            await self._stream.aclose()


@contextlib.asynccontextmanager
async def open_httpx_ws(url: str, connect_timeout: float) -> AsyncIterator[_HttpxWs]:
    async with httpx.AsyncClient(timeout=connect_timeout, verify=shared_ssl_context()) as http:
        async with aconnect_ws(
            url,
            http,
            max_message_size_bytes=MAX_MESSAGE_BYTES,
            keepalive_ping_interval_seconds=None,  # OKX uses text "ping", see Heartbeat
            session_class=_LeanSession,
        ) as session:
            yield _HttpxWs(session)
