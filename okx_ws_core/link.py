"""One physical WebSocket: its reader task, heartbeat and in-flight request ids.

A :class:`Link` knows nothing about reconnecting; it reports what it reads and
when it dies to its owner (:class:`okx_ws_core.connection.Connection`), which
decides what happens next.  The transport is entered and exited inside the
link's own task, as httpx-ws requires.
"""

from __future__ import annotations

import asyncio
import collections
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .protocol import PING
from .timing import Heartbeat
from .transport import CLOSE_TIMEOUT_S, Transport, TransportClosed, TransportName, open_transport

if TYPE_CHECKING:
    from .connection import Connection


class LinkFailed(Exception):
    """The link could not open or died before it became usable."""


@dataclass(slots=True)
class SubscriptionWaiter:
    event: str  # "subscribe" | "unsubscribe"
    remaining: list[dict[str, Any]]
    future: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class Link:
    def __init__(
        self,
        owner: Connection,
        url: str,
        transport: TransportName,
        connect_timeout: float,
        heartbeat: Heartbeat,
    ) -> None:
        self.owner = owner
        self.url = url
        self._transport_name = transport
        self._connect_timeout = connect_timeout
        self.heartbeat = heartbeat
        self._loop = asyncio.get_running_loop()
        self.opened: asyncio.Future[None] = self._loop.create_future()
        self.transport: Transport | None = None
        self.in_flight: set[str] = set()
        self.usable = False  # open, logged in where needed
        self.closed = False
        self.login_waiter: asyncio.Future[dict[str, Any]] | None = None
        self.subscription_waiters: collections.deque[SubscriptionWaiter] = collections.deque()
        self._abort_reason = ""
        self._task = self._loop.create_task(self._run(), name=f"okx-ws-{owner.key}-link")

    async def send(self, text: str) -> None:
        """Write one frame.  A failed write retires the link at once.

        Marking it unusable right away (not when the reader notices) stops new
        requests from being thrown at a socket that is already gone: they wait
        for the reconnect instead of failing one after another.
        """
        transport = self.transport
        if transport is None or self.closed:
            raise TransportClosed("link is closed")
        try:
            await transport.send(text)
        except Exception as exc:
            self.usable = False
            self.abort(f"send failed: {exc!r}")
            raise
        self.heartbeat.sent(self._loop.time())

    def abort(self, reason: str) -> None:
        """Drop the link at once (heartbeat dead, setup failed): no close handshake."""
        if not self._task.done():
            self._abort_reason = reason
            self._task.cancel()

    async def aclose(self, reason: str) -> None:
        """Close politely (client closing, link retired), dropping it if the peer is slow."""
        self._abort_reason = reason
        transport = self.transport
        if transport is not None and not self.closed:
            try:
                await asyncio.wait_for(transport.close(), CLOSE_TIMEOUT_S)
            except Exception:  # already broken: abort below
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
        heartbeat_task: asyncio.Task[None] | None = None
        try:
            async with open_transport(self.url, self._transport_name, self._connect_timeout) as t:
                self.transport = t
                self.heartbeat.start(self._loop.time())
                self.opened.set_result(None)
                heartbeat_task = self._loop.create_task(self._keep_alive())
                on_text = self.owner.client.on_text
                heartbeat = self.heartbeat
                loop_time = self._loop.time
                while True:
                    text = await t.recv()
                    heartbeat.received(loop_time())
                    on_text(self, text)
        except asyncio.CancelledError:
            reason = self._abort_reason or "cancelled"
            if not self._abort_reason:
                raise
        except TransportClosed as exc:
            reason = self._abort_reason or str(exc)
        except Exception as exc:  # connect refused, handshake rejected, DNS...
            reason = f"{type(exc).__name__}: {exc}"
        finally:
            self.closed = True
            self.usable = False
            if heartbeat_task is not None:
                heartbeat_task.cancel()
            if not self.opened.done():
                self.opened.set_exception(LinkFailed(reason))
                self.opened.exception()  # retrieved here; the owner reads it via `opened`
            self.owner.on_link_closed(self, reason)

    async def _keep_alive(self) -> None:
        loop_time = self._loop.time
        while True:
            action, at = self.heartbeat.poll(loop_time())
            if action == "ping":
                try:
                    await self.send(PING)
                except Exception:
                    return  # send() has aborted the link
            elif action == "dead":
                self.abort(f"no pong within {self.heartbeat.pong_timeout:g}s of ping")
                return
            await asyncio.sleep(max(0.0, at - loop_time()))
