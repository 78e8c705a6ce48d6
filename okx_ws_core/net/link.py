"""One physical WebSocket: its reader task and its heartbeat.

A link reads, writes and reports: every inbound text frame goes to
``on_frame``, and its death (once, with a reason) to ``on_closed``.  It knows
nothing of requests, logins or reconnects; its owner decides what a frame
means and what happens after a death.  The transport is opened, and its
context left, inside the link's own task, as httpx-ws requires; ``aclose()``
sends the polite close from the caller's task, then waits for that task.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from ..protocol.frames import PING
from ..protocol.timing import Heartbeat
from ..transports.interface import CLOSE_TIMEOUT_S, Connector, Transport, TransportClosed


class LinkFailed(Exception):
    """The link could not open, or died before it became usable (internal)."""


class Link:
    def __init__(
        self,
        name: str,
        url: str,
        connector: Connector,
        connect_timeout: float,
        heartbeat: Heartbeat,
        on_frame: Callable[[str], None],
        on_closed: Callable[[Link, str], None],
    ) -> None:
        self.url = url
        self.heartbeat = heartbeat
        self.closed = False
        self._connector = connector
        self._connect_timeout = connect_timeout
        self._on_frame = on_frame
        self._on_closed = on_closed
        self._loop = asyncio.get_running_loop()
        self._transport: Transport | None = None
        self._abort_reason = ""
        self.opened: asyncio.Future[None] = self._loop.create_future()
        self._task = self._loop.create_task(self._run(), name=f"okx-ws-{name}-link")

    async def send(self, text: str) -> None:
        """Write one frame.  A failed write kills the link at once.

        Dying right away (not when the reader notices) stops new requests from
        being thrown at a socket that is already gone.  A write interrupted by
        cancellation kills it too, unless the transport says nothing was torn
        (see :class:`~.transport.Transport`): the peer would read the next frame
        as the rest of the cut one.  Shielding the write instead would cost a
        task per request and still leave the caller waiting on a stuck socket.
        """
        transport = self._transport
        if transport is None or self.closed:
            raise TransportClosed("link is closed")
        try:
            await transport.send(text)
        except Exception as exc:
            self.abort(f"send failed: {exc!r}")
            raise TransportClosed(f"send failed: {exc!r}") from exc
        except BaseException:  # cancelled mid-write: never write after a partial frame
            torn = getattr(transport, "write_interrupted", None)
            if torn is None or torn():
                self.abort("a cancelled write may have left a partial frame")
            raise
        self.heartbeat.sent(self._loop.time())

    def abort(self, reason: str) -> None:
        """Drop the link now (heartbeat dead, a send failed): no close handshake.

        It counts as closed at once, so nothing more is written to it even
        before its task has wound down and reported the death.
        """
        if not self._task.done():
            self.closed = True
            self._abort_reason = self._abort_reason or reason
            self._task.cancel()

    async def aclose(self, reason: str) -> None:
        """Close politely, dropping the link if the peer is slow."""
        self._abort_reason = self._abort_reason or reason
        transport = self._transport
        if transport is not None and not self.closed:
            try:
                await asyncio.wait_for(transport.close(), CLOSE_TIMEOUT_S)
            except Exception:  # already broken: aborted below
                pass
        try:
            await asyncio.wait_for(asyncio.shield(self._task), CLOSE_TIMEOUT_S)
        except Exception:
            pass
        self.abort(reason)
        await self.wait_closed()

    async def wait_closed(self) -> None:
        await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        reason = "closed"
        cause: BaseException | None = None  # kept for the owner's diagnosis (connect_errors)
        keep_alive: asyncio.Task[None] | None = None
        try:
            async with self._connector.open(self.url, self._connect_timeout) as transport:
                self._transport = transport
                heartbeat, loop_time, on_frame = self.heartbeat, self._loop.time, self._on_frame
                heartbeat.start(loop_time())
                self.opened.set_result(None)
                keep_alive = self._loop.create_task(self._keep_alive())
                while True:
                    text = await transport.recv()
                    heartbeat.received(loop_time())
                    on_frame(text)
        except asyncio.CancelledError:
            reason = self._abort_reason or "cancelled"
            if not self._abort_reason:
                raise
        except TransportClosed as exc:
            reason = self._abort_reason or str(exc)
        except Exception as exc:  # connect refused, handshake rejected, DNS...
            reason = self._abort_reason or f"{type(exc).__name__}: {exc}"
            cause = exc
        finally:
            self.closed = True
            if keep_alive is not None:
                keep_alive.cancel()
            if not self.opened.done():
                failed = LinkFailed(reason)
                failed.__cause__ = cause
                self.opened.set_exception(failed)
                self.opened.exception()  # retrieved here; the owner reads it via `opened`
            self._on_closed(self, reason)

    async def _keep_alive(self) -> None:
        loop_time = self._loop.time
        while True:
            action, at = self.heartbeat.poll(loop_time())
            if action == "ping":
                try:
                    await self.send(PING)
                except TransportClosed:
                    return  # send() has aborted the link
            elif action == "dead":
                self.abort(f"no pong within {self.heartbeat.pong_timeout:g}s of ping")
                return
            await asyncio.sleep(max(0.0, at - loop_time()))
