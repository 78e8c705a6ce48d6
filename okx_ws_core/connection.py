"""One logical OKX connection (``public``, ``private`` or ``business``).

It owns the current :class:`~okx_ws_core.link.Link`, opens it on demand, logs
in, restores subscriptions, and reconnects with backoff when the link dies.
Concurrent callers share one connect attempt and one login.  A refused login
is reported to every waiter and is *not* retried in a loop: the next request
makes one fresh attempt.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from .errors import AuthenticationError, ClientClosed, ConnectionLost, SubscriptionError
from .events import Event
from .link import Link, LinkFailed, SubscriptionWaiter
from .protocol import encode_op
from .signing import login_args, login_timestamp
from .timing import Backoff, Heartbeat

if TYPE_CHECKING:
    from .client import AsyncWebsocketClient

_MARKET_HINT = (
    "Check api_key/api_secret/api_passphrase, demo_trading, and that `market` matches the"
    " key's region (an EEA or US key fails on global hosts with 60032)."
)
_RETIRE_POLL_S = 0.01


class Connection:
    def __init__(self, client: AsyncWebsocketClient, key: str, url: str, needs_login: bool) -> None:
        self.client = client
        self.key = key
        self.url = url
        self.needs_login = needs_login
        self.link: Link | None = None
        self.subscriptions: list[dict[str, Any]] = []
        self.backoff = Backoff(client.options.reconnect_delay, client.options.reconnect_max_delay)
        self._ready: asyncio.Future[Link] | None = None
        self._connect_task: asyncio.Task[None] | None = None
        self._opened_before = False
        self._retiring: set[asyncio.Task[None]] = set()

    # -- readiness ------------------------------------------------------

    def usable_link(self) -> Link | None:
        link = self.link
        return link if link is not None and link.usable else None

    async def wait_usable(self, timeout: float) -> Link:
        """The usable link, connecting (and logging in) first if needed."""
        link = self.usable_link()
        if link is not None:
            return link
        ready = self.start_connect()
        return await asyncio.wait_for(asyncio.shield(ready), timeout)

    def start_connect(self) -> asyncio.Future[Link]:
        if self.client.closed:
            raise ClientClosed("the client is closed")
        if self._connect_task is None or self._connect_task.done():
            ready = asyncio.get_running_loop().create_future()
            ready.add_done_callback(_mark_retrieved)
            self._ready = ready
            self._connect_task = asyncio.get_running_loop().create_task(
                self._connect_loop(ready), name=f"okx-ws-{self.key}-connect"
            )
        assert self._ready is not None
        return self._ready

    async def _connect_loop(self, ready: asyncio.Future[Link]) -> None:
        client = self.client
        while not client.closed:
            try:
                link = await self._open_link()
            except AuthenticationError as exc:
                client.emit(Event("exception", self.key, error=exc, detail="login refused"))
                if not ready.done():
                    ready.set_exception(exc)
                return
            except Exception as exc:  # refused, reset, handshake rejected, timed out...
                delay = self.backoff.next_delay()
                client.emit(
                    Event(
                        "exception",
                        self.key,
                        error=exc,
                        detail=f"connect failed, retry in {delay:.3f}s",
                    )
                )
                await asyncio.sleep(delay)
                continue
            self.backoff.reset()
            previous, self.link = self.link, link
            if previous is not None and previous is not link:
                self._retire(previous)
            reconnected = self._opened_before
            self._opened_before = True
            client.emit(Event("open", self.key, detail=link.url))
            if reconnected:
                client.emit(
                    Event(
                        "reconnected",
                        self.key,
                        detail=f"{len(self.subscriptions)} subscriptions restored",
                    )
                )
            if not ready.done():
                ready.set_result(link)
            return

    async def _open_link(self) -> Link:
        """Open, log in and resubscribe one new link; only then is it usable."""
        options = self.client.options
        link = Link(
            self,
            self.url,
            options.transport,
            options.request_timeout,
            Heartbeat(options.ping_interval, options.pong_timeout),
        )
        try:
            await link.opened
            if self.needs_login:
                await self._login(link)
            if self.subscriptions:
                await self._restore_subscriptions(link)
        except BaseException:
            link.abort("setup failed")
            raise
        link.usable = True
        return link

    async def _restore_subscriptions(self, link: Link) -> None:
        try:
            await self._send_subscription(link, "subscribe", list(self.subscriptions))
        except SubscriptionError as exc:  # OKX refused one now: report it, keep the link
            self.client.emit(Event("exception", self.key, error=exc, detail="resubscribe refused"))

    async def _login(self, link: Link) -> None:
        client = self.client
        creds = client.credentials
        assert creds is not None
        timestamp = login_timestamp(client.time_offset_ms)
        waiter: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        link.login_waiter = waiter
        try:
            await link.send(
                encode_op("login", [login_args(creds[0], creds[1], creds[2], timestamp)])
            )
            await asyncio.wait_for(waiter, client.options.request_timeout)
        finally:
            link.login_waiter = None
        client.emit(Event("authenticated", self.key))

    def on_login_error(self, link: Link, code: str, msg: str) -> bool:
        waiter = link.login_waiter
        if waiter is None or waiter.done():
            return False
        hint = _MARKET_HINT if code in ("60005", "60009", "60024", "60032", "60007") else ""
        if code in ("60004", "60006"):
            hint = "The login timestamp is off: correct the clock with set_time_offset_ms()."
        waiter.set_exception(AuthenticationError(code, msg, connection=self.key, hint=hint))
        return True

    # -- subscriptions --------------------------------------------------

    async def _send_subscription(self, link: Link, event: str, args: list[dict[str, Any]]) -> None:
        waiter = SubscriptionWaiter(event, list(args))
        link.subscription_waiters.append(waiter)
        try:
            await link.send(encode_op(event, args))
            await asyncio.wait_for(
                asyncio.shield(waiter.future), self.client.options.request_timeout
            )
        finally:
            if waiter in link.subscription_waiters:
                link.subscription_waiters.remove(waiter)

    async def change_subscription(
        self, event: str, args: list[dict[str, Any]], timeout: float
    ) -> None:
        link = await self.wait_usable(timeout)
        if event == "subscribe":
            self.subscriptions.extend(a for a in args if a not in self.subscriptions)
        else:
            self.subscriptions[:] = [a for a in self.subscriptions if a not in args]
        try:
            await self._send_subscription(link, event, args)
        except ConnectionLost:
            raise  # still remembered: restored by the reconnect
        except Exception:
            if event == "subscribe":
                self.subscriptions[:] = [a for a in self.subscriptions if a not in args]
            raise

    # -- link lifecycle -------------------------------------------------

    def on_link_closed(self, link: Link, reason: str) -> None:
        client = self.client
        client.fail_in_flight(link, reason)
        if link.login_waiter is not None and not link.login_waiter.done():
            link.login_waiter.set_exception(LinkFailed(f"closed during login: {reason}"))
        for waiter in link.subscription_waiters:
            if not waiter.future.done():
                waiter.future.set_exception(
                    ConnectionLost(id="", op=waiter.event, cl_ord_ids=(), reason=reason)
                )
                waiter.future.exception()
        if link is not self.link:
            return  # never usable, or retired after a 64008 notice
        self.link = None
        client.emit(Event("close", self.key, detail=reason))
        if not client.closed:
            client.emit(Event("reconnect", self.key, detail=reason))
            self.start_connect()

    def on_notice(self, link: Link, code: str, msg: str) -> None:
        """64008: OKX will close this link soon; open a fresh one now."""
        if link is self.link and not self.client.closed:
            self.client.emit(Event("reconnect", self.key, detail=f"notice {code}: {msg}"))
            self.start_connect()

    def _retire(self, link: Link) -> None:
        """Let replies in flight on an old link arrive, then close it."""

        async def drain() -> None:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + self.client.options.request_timeout
            while link.in_flight and not link.closed and loop.time() < deadline:
                await asyncio.sleep(_RETIRE_POLL_S)
            await link.aclose("retired")

        task = asyncio.get_running_loop().create_task(drain())
        self._retiring.add(task)
        task.add_done_callback(self._retiring.discard)

    async def close(self) -> None:
        if self._connect_task is not None:
            self._connect_task.cancel()
            await asyncio.gather(self._connect_task, return_exceptions=True)
        if self._ready is not None and not self._ready.done():
            self._ready.set_exception(ClientClosed("the client was closed"))
        link, self.link = self.link, None
        for task in tuple(self._retiring):
            task.cancel()
        await asyncio.gather(*self._retiring, return_exceptions=True)
        if link is not None:
            await link.aclose("client closed")
            self.client.fail_in_flight(link, "client closed")


def _mark_retrieved(future: asyncio.Future[Link]) -> None:
    if not future.cancelled():
        future.exception()
