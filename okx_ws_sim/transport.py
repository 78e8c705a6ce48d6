"""The simulator's port: accept, track and close every socket.  Nothing else.

websockets' ``serve`` does the handshake; this module owns the one thing it
cannot: a socket ``accept()``-ed just before the server closes.

asyncio's selector loop accepts in a reader callback and hands each new socket
to a task scheduled for the *next* loop pass (``_accept_connection2``), which
wraps it in a transport attached to the ``asyncio.Server``.  If the server is
closed in between (our ``restart()`` / ``stop()`` racing a client's connect),
attaching fails (CPython 3.11: ``AssertionError`` in ``Server._attach``,
swallowed unless the loop is in debug mode): no transport, no connection, no
handler, and the socket is left to the garbage collector ("unclosed socket"
ResourceWarnings, 2-6 per soak).  Aborting connections afterwards cannot help:
there is no connection to abort.

So ``close()`` stops accepting *before* closing: it removes the listening
socket's reader, lets one loop pass run the hand-over of every socket already
accepted (each becomes a connection with a handler that websockets' close
then waits for), and only then closes the server.  Every socket accepted is
then either served or closed by the time ``close()`` returns.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response

# Largest inbound frame; a bigger one closes its connection with 1009 (message too
# big).  OKX documents no frame size (*uncertain*); 1 MiB is websockets' default and
# far above any valid frame (a 20-order batch is ~5 KB, a subscribe at most 64 KB).
MAX_FRAME_BYTES = 1 << 20

Handler = Callable[[ServerConnection], Awaitable[None]]
ProcessRequest = Callable[[ServerConnection, Request], Awaitable[Response | None]]


class Transport:
    def __init__(
        self,
        handler: Handler,
        process_request: ProcessRequest,
        *,
        close_timeout: float = 1.0,
        max_queue: int = 256,
    ) -> None:
        self._handler = handler
        self._process_request = process_request
        self._close_timeout = close_timeout
        self._max_queue = max_queue
        self._server: Server | None = None

    @property
    def listening(self) -> bool:
        return self._server is not None

    async def listen(self, host: str, port: int) -> int:
        """Accept connections on ``host:port`` (0: any free port); returns the port."""
        if self._server is None:
            self._server = await serve(
                self._serve,
                host,
                port,
                process_request=self._process_request,
                ping_interval=None,  # OKX's keep-alive is the text "ping", not protocol pings
                compression=None,
                close_timeout=self._close_timeout,
                max_queue=self._max_queue,
                max_size=MAX_FRAME_BYTES,
            )
        bound: int = self._server.sockets[0].getsockname()[1]
        return bound

    async def close(self) -> None:
        """Stop accepting, then close every connection (1001 to open WebSockets, 503 to
        handshakes in progress) and wait for their handlers; see the module docstring."""
        server, self._server = self._server, None
        if server is None:
            return
        loop = asyncio.get_running_loop()
        for sock in server.sockets:
            loop.remove_reader(sock.fileno())
        # One pass: the hand-over tasks of sockets already accepted were scheduled before
        # this point (no accept can happen after remove_reader) and run before we resume.
        await asyncio.sleep(0)
        server.close()
        await server.wait_closed()

    async def _serve(self, ws: ServerConnection) -> None:
        try:
            await self._handler(ws)
        finally:
            # A handler cancelled with its loop skips websockets' own cleanup: abort here
            # so the socket is never left to the garbage collector.
            if not ws.transport.is_closing():
                ws.transport.abort()

    @staticmethod
    def abort(ws: ServerConnection) -> None:
        """Drop one connection at once: no close frame, no reply (fault injection)."""
        ws.transport.abort()


__all__ = ["MAX_FRAME_BYTES", "Transport"]
