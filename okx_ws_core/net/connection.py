"""One logical OKX connection (``public``, ``private`` or ``business``).

It keeps one usable link (open, logged in where needed, subscriptions
restored) with its :class:`Session`, opens it on demand, and reconnects with
backoff when it dies.  Concurrent callers share one connect attempt and one
login.  A refused first login is reported to every waiter and is *not*
retried in a loop: the next call makes one fresh attempt.  A login refused on
a *reconnect* is retried with the backoff (a growing, capped delay), each
refusal reported as an ``exception`` event: nothing else would retry it, and a
subscribe-only user makes no call.  OKX's 64008 notice moves to a fresh link
while replies in flight on the old one still arrive.

A failed connect says why (``connect_errors``): the first failure of a run of
attempts is an ``exception`` event logged at WARNING with the URL, the later
ones are logged at DEBUG with their count.  A connection refused on this
machine (a wrong ``base_url``, the simulator not running) fails the first
connect at once with :class:`ConnectRefused`: waiting would not help.

Who logs in is decided per connection (:data:`LOGIN_POLICY`) and per channel
(``Channel.login``), never by a channel's name: the private connection always
logs in; the business one logs in whenever the client has credentials and opens
without them for its public channels; the public one logs in only while a
channel that needs it (``books-l2-tbt``) is subscribed, on the live link before
that subscribe and on every reconnect before the subscriptions are restored.
OKX has no logout: a link stays logged in after its last such channel goes, and
the next link does not log in.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Final, Literal

from ..errors import (
    AuthenticationError,
    ClientClosed,
    ClockSyncError,
    ConfigurationError,
    ConnectionLost,
    ConnectRefused,
    ConnectTimeout,
    RequestTimeout,
    SubscriptionError,
)
from ..options import ClientOptions
from ..protocol.frames import NOTICE_RECONNECT_CODE, Inbound, Notice, encode_op
from ..protocol.late import MAX_EXPIRED, Retained
from ..protocol.signing import LOGIN_CLOCK_CODES as _CLOCK_CODES
from ..protocol.timing import Backoff, Heartbeat
from ..streams.events import Event
from ..transports import connect_errors
from ..transports.interface import Connector, TransportClosed
from .link import Link, LinkFailed
from .pacing import Pacer
from .session import Session

_RETIRE_POLL_S = 0.01
# Detail of the ``exception`` event of each login refused on a reconnect (the streams'
# subscriptions are paused until one succeeds); the event's error is the AuthenticationError.
RELOGIN_REFUSED = "login refused on reconnect"
LoginArgs = Callable[[], dict[str, Any]]
Forward = Callable[[str, Inbound, bool], None]
SyncClock = Callable[[], Awaitable[int]]  # reads OKX's clock, returns the new offset (ms)

LoginPolicy = Literal["required", "with-credentials", "on-demand"]
# How each connection logs in.  "required": nothing works without credentials (OKX
# serves only logged-in users there).  "with-credentials": logs in when the client has
# credentials, and opens without them for the public channels it carries (candles,
# trades-all, the spreads' public books).  "on-demand": logs in only while a channel
# marked ``login`` is subscribed (OKX asks a login for books-l2-tbt on /ws/v5/public).
LOGIN_POLICY: Final[dict[str, LoginPolicy]] = {
    "public": "on-demand",
    "private": "required",
    "business": "with-credentials",
}


class Connection:
    def __init__(
        self,
        key: str,
        options: ClientOptions,
        connector: Connector,
        *,
        login_args: LoginArgs | None,
        emit: Callable[[Event], None],
        forward: Forward,
        pacer: Pacer,
        sync_clock: SyncClock | None = None,
        before_login: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.key = key
        self.url = options.url(key)
        self.subscriptions: list[dict[str, Any]] = []
        self._options = options
        self._connector = connector
        self._login_args = login_args
        self._login_on_demand = LOGIN_POLICY.get(key) == "on-demand"
        # The remembered subscriptions that need a login (on an on-demand connection).
        self._login_subscriptions: list[dict[str, Any]] = []
        self._authenticated: Session | None = None  # the session that logged in
        self._login_lock = asyncio.Lock()
        self._emit = emit
        self._forward = forward
        self._pacer = pacer
        self._sync_clock = sync_clock
        self._before_login = before_login
        self._offset = 0  # the clock offset the last sync found (ms)
        self._backoff = Backoff(options.reconnect_delay, options.reconnect_max_delay)
        # The link last made usable (open, logged in, resubscribed) and its session; it may
        # have closed since (check ``link.closed``).  Public for the sender, which reads it
        # on every request: an attribute, where :attr:`link_now` would be a call.
        self.active: tuple[Link, Session] | None = None
        self._ready: asyncio.Future[tuple[Link, Session]] | None = None
        self._connect_task: asyncio.Task[None] | None = None
        self._last_error: BaseException | None = None
        self._failures = 0  # connects failed in a row (logged at WARNING once, then DEBUG)
        # After a login refused on a reconnect: the refusal and when the next login is due.
        self._refused: tuple[AuthenticationError, float] | None = None
        self._opened_before = False
        self._retiring: dict[asyncio.Task[None], Link] = {}
        self._sessions: set[Session] = set()  # of links not yet dead, retiring ones included
        self.closed = False

    @property
    def is_usable(self) -> bool:
        """Whether a link is usable now (see :attr:`link_now`)."""
        return self.link_now is not None

    @property
    def can_log_in(self) -> bool:
        """The client has credentials for this connection."""
        return self._login_args is not None

    def _wants_login(self) -> bool:
        """Whether a new link logs in before it is usable."""
        if self._login_args is None:
            return False
        return not self._login_on_demand or bool(self._login_subscriptions)

    def orphans(self) -> Retained:
        """Expired request ids its live links remember (see :mod:`.late`), and at most."""
        sessions = self._sessions
        return Retained(sum(s.orphaned for s in sessions), MAX_EXPIRED * len(sessions))

    @property
    def in_flight(self) -> int:
        """Requests sent on this connection's links and still awaiting their reply."""
        return sum(session.in_flight for session in self._sessions)

    # -- readiness --------------------------------------------------------

    @property
    def link_now(self) -> tuple[Link, Session] | None:
        """The usable link and its session (open, logged in, resubscribed) now, if any;
        never waits (:meth:`link_by` connects first, :meth:`connect_within` only connects)."""
        active = self.active
        return active if active is not None and not active[0].closed else None

    async def connect_within(self, timeout: float) -> None:
        """Make a link usable within ``timeout`` seconds (``connect()``); returns nothing."""
        await self.link_by(asyncio.get_running_loop().time() + timeout)

    async def link_by(self, deadline: float) -> tuple[Link, Session]:
        """The usable link and session by loop time ``deadline``, connecting (and logging
        in) first if needed; :class:`ConnectTimeout` if none is usable by then."""
        active = self.link_now
        if active is not None:
            return active
        ready = self._start_connect()
        loop = asyncio.get_running_loop()
        refused = self._refused
        if refused is not None and refused[1] > deadline:  # the next login comes too late
            exc = refused[0]
            raise AuthenticationError(exc.code, exc.msg, connection=self.key, hint=exc.hint)
        try:
            return await asyncio.wait_for(asyncio.shield(ready), max(0.0, deadline - loop.time()))
        except ConnectRefused:  # a TimeoutError too: not the wait's own timeout
            raise
        except asyncio.TimeoutError:
            last = self._last_error
            if isinstance(last, ClockSyncError):  # sync_time: no login can be signed yet
                why = f": OKX's clock could not be read, so no login was tried ({last})"
            elif isinstance(last, AuthenticationError) or last is None:
                why = f": last attempt failed with {last!r}" if last is not None else ""
            else:
                why = (
                    f" after {self._failures} failed connect attempt(s);"
                    f" the last: {self._explain(last)}"
                )
            raise ConnectTimeout(f"{self.key!r} was not usable in time{why}") from last

    def _start_connect(self) -> asyncio.Future[tuple[Link, Session]]:
        if self.closed:
            raise ClientClosed("the client is closed")
        if self._connect_task is None or self._connect_task.done():
            loop = asyncio.get_running_loop()
            self._ready = ready = _new_ready(loop)
            self._failures = 0  # a new run of attempts: its first failure is a WARNING
            self._connect_task = loop.create_task(
                self._connect_loop(ready), name=f"okx-ws-{self.key}-connect"
            )
        assert self._ready is not None
        return self._ready

    async def _connect_loop(self, ready: asyncio.Future[tuple[Link, Session]]) -> None:
        clock_synced = False
        while not self.closed:
            try:
                if self._before_login is not None and self._wants_login():
                    await self._before_login()  # sync_time: read the clock before any socket
                await self._pacer.connect_turn()
                active = await self._open()
            except AuthenticationError as exc:
                if exc.code in _CLOCK_CODES and self._sync_clock:
                    if clock_synced:  # refused again after one sync: report, never loop
                        hint = f"still refused after syncing (clock off by {self._offset} ms)"
                        exc = AuthenticationError(exc.code, exc.msg, connection=self.key, hint=hint)
                    else:
                        clock_synced = True  # one sync and one fresh login
                        retry = await self._resync(exc)
                        if retry is None:
                            continue
                        exc = retry
                if not ready.done():
                    ready.set_exception(exc)
                if not self._opened_before:  # a caller's first login: reported, never looped
                    self._emit(Event("exception", self.key, error=exc, detail="login refused"))
                    return
                self._last_error = exc
                delay = self._backoff.next_delay()
                detail = (
                    f"{RELOGIN_REFUSED}, retry in {delay:.3f}s;"
                    f" {len(self.subscriptions)} subscriptions wait"
                )
                self._emit(Event("exception", self.key, error=exc, detail=detail))
                # Callers meanwhile wait for the next login if it comes before their
                # deadline, else fail at once with this refusal; none forces a login.
                loop = asyncio.get_running_loop()
                self._ready = ready = _new_ready(loop)
                self._refused = (exc, loop.time() + delay)
                try:
                    await asyncio.sleep(delay)
                finally:
                    self._refused = None
                continue
            except Exception as exc:  # refused, reset, handshake rejected, timed out...
                self._last_error = exc
                self._failures += 1
                if self._refused_here(exc, ready):
                    return
                delay = self._backoff.next_delay()
                self._emit(self._failure_event(exc, delay))
                await asyncio.sleep(delay)
                continue
            self._backoff.reset()
            self._last_error = None
            self._failures = 0
            previous, self.active = self.active, active
            if previous is not None:
                self._retire(*previous)
            self._emit(Event("open", self.key, detail=self.url))
            if self._opened_before:
                restored = f"{len(self.subscriptions)} subscriptions restored"
                self._emit(Event("reconnected", self.key, detail=restored))
            self._opened_before = True
            if not ready.done():
                ready.set_result(active)
            return

    def _explain(self, exc: BaseException) -> str:
        return connect_errors.explain(exc, self.url, self._options.base_url)

    def _failure_event(self, exc: Exception, delay: float) -> Event:
        """The first failure of a run at WARNING with its URL and cause; repeats quiet."""
        if isinstance(exc, ClockSyncError):
            why = f"reading OKX's clock failed ({exc})"
        else:
            why = self._explain(exc)
        if self._failures == 1:
            detail = f"{why}; retry in {delay:.3f}s"
            return Event("exception", self.key, error=exc, detail=detail)
        detail = f"failed again (attempt {self._failures}): {why}; retry in {delay:.3f}s"
        return Event("exception", self.key, error=exc, detail=detail, quiet=True)

    def _refused_here(self, exc: Exception, ready: asyncio.Future[tuple[Link, Session]]) -> bool:
        """A first connect refused on this machine fails at once (ConnectRefused)."""
        if (
            self._opened_before  # a reconnect waits for a restarting simulator
            or isinstance(exc, ClockSyncError)  # REST, not this URL: retried, then named
            or not (connect_errors.refused(exc) and connect_errors.is_loopback(self.url))
        ):
            return False
        error = ConnectRefused(connect_errors.nothing_listens(self.url, self._options.base_url))
        error.__cause__ = exc
        if not ready.done():
            ready.set_exception(error)
        self._emit(Event("exception", self.key, error=error, detail="connect refused"))
        return True

    async def _resync(self, refused: AuthenticationError) -> AuthenticationError | None:
        """Read OKX's clock after a login refused for its timestamp; None: try again."""
        assert self._sync_clock is not None
        try:
            self._offset = offset = await self._sync_clock()
        except Exception as exc:  # ClockSyncError: report the refusal, with why
            hint = f"{refused.hint} Reading OKX's clock failed too: {exc}"
            return AuthenticationError(refused.code, refused.msg, connection=self.key, hint=hint)
        detail = f"login refused for its timestamp: the clock was off by {offset} ms; synced"
        self._emit(Event("exception", self.key, error=refused, detail=detail))
        return None

    async def _open(self) -> tuple[Link, Session]:
        """Open, log in and resubscribe one new link; only then is it usable."""
        options = self._options

        def on_event(event: Inbound, consumed: bool) -> None:
            if isinstance(event, Notice) and event.code == NOTICE_RECONNECT_CODE:
                self._on_notice(link, event)
            self._forward(self.key, event, consumed)

        session = Session(self.key, on_event)
        self._sessions.add(session)
        link = Link(
            self.key,
            self.url,
            self._connector,
            options.request_timeout,
            Heartbeat(options.ping_interval, options.pong_timeout),
            session.on_frame,
            self._on_link_closed_for(session),
        )
        try:
            # A Connector that ignores its timeout must not hang this connection for good.
            await asyncio.wait_for(asyncio.shield(link.opened), options.request_timeout)
            if self._wants_login():
                await self._login(link, session, options.request_timeout)
            if self.subscriptions:
                await self._restore_subscriptions(link, session)
            if link.closed:  # died after its last setup reply: retry, never install it
                raise LinkFailed(f"closed during setup: {session.closed_reason}")
        except BaseException:
            link.abort("setup failed")
            raise
        return link, session

    async def _login(self, link: Link, session: Session, timeout: float) -> None:
        assert self._login_args is not None
        self._pacer.session_op(session.ops, "login")
        login = session.expect_login()
        await link.send(encode_op("login", [self._login_args()]))
        await asyncio.wait_for(login, timeout)
        self._authenticated = session
        self._emit(Event("authenticated", self.key))

    async def _login_live(self, link: Link, session: Session, deadline: float) -> None:
        """Log in on the usable link (a channel that needs it is being subscribed).

        Concurrent subscribers share one login.  A refusal for the login's
        timestamp reads OKX's clock once and tries again, as a connect does.
        """
        loop = asyncio.get_running_loop()
        async with self._login_lock:
            if session is self._authenticated:
                return
            for attempt in (1, 2):
                wait = max(0.0, deadline - loop.time())
                try:
                    await self._login(link, session, wait)
                    return
                except AuthenticationError as exc:
                    if attempt == 2 or exc.code not in _CLOCK_CODES or self._sync_clock is None:
                        raise
                    retry = await self._resync(exc)
                    if retry is not None:
                        raise retry from None
                except (LinkFailed, TransportClosed) as exc:
                    raise ConnectionLost(
                        id="", op="login", cl_ord_ids=(), reason=str(exc)
                    ) from None
                except asyncio.TimeoutError:
                    raise RequestTimeout(
                        id="", op="login", cl_ord_ids=(), timeout=wait, sent=True
                    ) from None

    async def _restore_subscriptions(self, link: Link, session: Session) -> None:
        try:
            await self._send_subscription(link, session, "subscribe", list(self.subscriptions))
        except SubscriptionError as exc:  # OKX refused one now: report it, keep the link
            self._emit(Event("exception", self.key, error=exc, detail="resubscribe refused"))

    # -- subscriptions ------------------------------------------------------

    async def _send_subscription(
        self,
        link: Link,
        session: Session,
        event: str,
        args: list[dict[str, Any]],
        timeout: float | None = None,
    ) -> None:
        self._pacer.session_op(session.ops, event)
        acked = session.expect_subscription(event, args)
        timeout = self._options.request_timeout if timeout is None else max(0.0, timeout)
        try:
            await link.send(encode_op(event, args))
            await asyncio.wait_for(asyncio.shield(acked), timeout)
        except TransportClosed as exc:
            raise ConnectionLost(id="", op=event, cl_ord_ids=(), reason=str(exc)) from None
        except asyncio.TimeoutError:
            raise RequestTimeout(
                id="", op=event, cl_ord_ids=(), timeout=timeout, sent=True
            ) from None
        finally:
            session.forget_subscription(acked)
            if acked.done() and not acked.cancelled():
                acked.exception()

    async def change_subscription(
        self, event: str, args: list[dict[str, Any]], timeout: float, *, login: bool = False
    ) -> None:
        """Send one subscribe/unsubscribe; ``timeout`` bounds connecting, logging in and
        the acks together.  ``login``: these channels need a login (``Channel.login``)."""
        if login and event == "subscribe" and self._login_args is None:
            raise ConfigurationError(
                f"channel {args[0].get('channel')!r} needs a login: give the client"
                " api_key, api_secret and api_passphrase"
            )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        link, session = await self.link_by(deadline)
        if event == "subscribe":
            self.subscriptions.extend(a for a in args if a not in self.subscriptions)
            if login and self._login_on_demand:
                self._login_subscriptions.extend(
                    a for a in args if a not in self._login_subscriptions
                )
        else:
            self.subscriptions[:] = [a for a in self.subscriptions if a not in args]
            self._login_subscriptions[:] = [a for a in self._login_subscriptions if a not in args]
        try:
            if login and event == "subscribe" and session is not self._authenticated:
                await self._login_live(link, session, deadline)
            await self._send_subscription(link, session, event, args, deadline - loop.time())
        except ConnectionLost:
            raise  # still remembered: restored (after a login if one needs it) by the reconnect
        except Exception:
            if event == "subscribe":
                self.subscriptions[:] = [a for a in self.subscriptions if a not in args]
                self._login_subscriptions[:] = [
                    a for a in self._login_subscriptions if a not in args
                ]
            raise

    # -- link lifecycle ------------------------------------------------------

    def _on_link_closed_for(self, session: Session) -> Callable[[Link, str], None]:
        def closed(link: Link, reason: str) -> None:
            session.close(reason)
            self._sessions.discard(session)
            if self.active is None or self.active[0] is not link:
                return  # never usable, or retired after a 64008 notice
            self.active = None
            self._emit(Event("close", self.key, detail=reason))
            if not self.closed:
                self._emit(Event("reconnect", self.key, detail=reason))
                self._start_connect()

        return closed

    def _on_notice(self, link: Link, notice: Notice) -> None:
        """64008: OKX will close this link soon; open a fresh one now."""
        if self.active is not None and self.active[0] is link and not self.closed:
            self._emit(Event("reconnect", self.key, detail=f"notice {notice.code}: {notice.msg}"))
            self._start_connect()

    def _retire(self, link: Link, session: Session) -> None:
        """Let replies in flight on an old link arrive, then close it."""

        async def drain() -> None:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + self._options.request_timeout
            while session.in_flight and not link.closed and loop.time() < deadline:
                await asyncio.sleep(_RETIRE_POLL_S)
            await link.aclose("retired")

        task = asyncio.get_running_loop().create_task(drain())
        self._retiring[task] = link
        task.add_done_callback(lambda done: self._retiring.pop(done, None))

    async def close(self) -> None:
        """Close the link; requests still in flight fail with ``ConnectionLost``."""
        self.closed = True
        if self._connect_task is not None:
            self._connect_task.cancel()
            await asyncio.gather(self._connect_task, return_exceptions=True)
        if self._ready is not None and not self._ready.done():
            self._ready.set_exception(ClientClosed("the client was closed"))
        active, self.active = self.active, None
        retiring = dict(self._retiring)
        for task in retiring:
            task.cancel()
        await asyncio.gather(*retiring, return_exceptions=True)
        links = [*retiring.values(), *([active[0]] if active is not None else [])]
        await asyncio.gather(*(link.aclose("client closed") for link in links))
        if active is not None:
            active[1].close("client closed")
            self._emit(Event("close", self.key, detail="client closed"))


def _new_ready(loop: asyncio.AbstractEventLoop) -> asyncio.Future[tuple[Link, Session]]:
    ready: asyncio.Future[tuple[Link, Session]] = loop.create_future()
    ready.add_done_callback(_mark_retrieved)
    return ready


def _mark_retrieved(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()
