"""``AsyncWebsocketClient``: executes operations over OKX's three WebSockets.

The path of one request goes down once: :meth:`AsyncWebsocketClient.call`
has :meth:`Operation.prepare_with_codes` (in :mod:`.protocol`) validate the
parameters and fill in the fields the spec marks as resolved (``instIdCode``
from the instrument registry's cache) in one call, then hands the ``args`` to
the :class:`~.net.sender.RequestSender`, which admits the request (OKX's
limits), takes the connection's usable link (connecting first only when there
is none), refuses to send once the deadline has passed
(``RequestTimeout(sent=False)``: a frame sent with no time left only comes back
as an unknown fate), stamps it (``orders.fates``) and awaits
:meth:`Session.request`, which registers a future under a fresh id and has the
link write one frame.  The link's reader gives each inbound frame to that
session, which resolves the future by id; the sender books the reply on the way
up and ``call`` types it.  A reply that comes after its caller stopped waiting
(timed out, cancelled) settles that request's fate: see :mod:`.late` and
:meth:`AsyncWebsocketClient.cancelled_fates`.  docs/guide/architecture.md lists
the modules the path runs, as ``tests/test_request_path.py`` measures them.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import weakref
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from ..book.orderbook import Resync
from ..book.stream import BookIO, BookStream
from ..errors import (
    ClientClosed,
    ConfigurationError,
    OkxApiError,
    OkxWsError,
    ParamsValidationError,
    RequestCancelled,
    UnexpectedReply,
)
from ..lazy import pydantic
from ..net.connection import LOGIN_POLICY, Connection
from ..net.pacing import Pacer, shared_connect_gate
from ..net.sender import RequestSender
from ..options import ClientOptions
from ..orders.fates import Sending, StampTrackReconciler, Target, Verdict, okx_now_ms
from ..orders.tracker import (
    DEFAULT_WAIT_TIMEOUT,
    FINAL_STATES,
    OrderOp,
    OrderTracker,
    OrderWaits,
    TrackedOrder,
)
from ..protocol.endpoints import CONNECTION_KEYS
from ..protocol.frames import (
    ErrorEvent,
    ExtraFields,
    Inbound,
    Malformed,
    Notice,
    Operation,
    Pong,
    Push,
    Reply,
    RequestIds,
    Resolved,
)
from ..protocol.late import LateReply, Retained
from ..protocol.ratelimit import ConnectionLimits
from ..protocol.signing import login_args, login_timestamp
from ..rest.clock import server_offset_ms
from ..rest.instruments import InstrumentRegistry
from ..rest.queries import PublicRest, SignedRest
from ..streams.channels import (
    DEFAULT_BUFFER,
    Channel,
    ChannelRouter,
    ChannelStream,
    ChannelUpdate,
    UpdateCallback,
)
from ..streams.events import Event, EventEmitter, Handler, attach_logging_listeners
from ..streams.updates import UPDATE_QUEUE_SIZE, UpdateStream
from ..streams.updates import Registry as UpdateRegistry
from ..transports.registry import connector_for

DEFAULT_LOGGER = logging.getLogger("okx_ws")
if TYPE_CHECKING:  # pydantic is imported on first use (see lazy.py)
    from pydantic import BaseModel

R = TypeVar("R", bound="BaseModel")
I = TypeVar("I", bound="BaseModel")  # noqa: E741 - a channel's item model
# Item codes after which a resolved instIdCode is no longer trusted (50014: code missing,
# 51001: instrument does not exist); the order is never re-sent, the cache entry is dropped.
_STALE_CODE_SCODES = frozenset({"50014", "51001"})
_NO_CODES: Mapping[str, int] = {}  # an operation without resolved fields looks nothing up


def _credentials(
    api_key: str | None, api_secret: str | None, api_passphrase: str | None
) -> tuple[str, str, str] | None:
    """The three credentials, or ``None`` for a public-only client; never one or two."""
    given = [v is not None for v in (api_key, api_secret, api_passphrase)]
    if any(given) and not all(given):
        raise ConfigurationError("api_key, api_secret and api_passphrase must be given together")
    return (str(api_key), str(api_secret), str(api_passphrase)) if all(given) else None


def _registry(opts: ClientOptions, logger: logging.Logger) -> InstrumentRegistry:
    """The client's instIdCode registry: its REST host, demo flag and preset codes."""
    return InstrumentRegistry(
        opts.rest_base(),
        demo_trading=opts.demo_trading,
        preset=opts.instruments,
        transport=opts.rest_transport,
        logger=logger,
        shared=opts.share_limits,
        origin=opts.rest_origin(),
    )


class AsyncWebsocketClient:
    """asyncio client for OKX's ``public``, ``private`` and ``business`` WebSockets.

    Use one instance per event loop, ideally as ``async with``.  Connections
    open lazily on first use, or up front with :meth:`connect_ws_api` so the
    first order waits for no handshake, login or instrument list.
    """

    def __init__(
        self,
        api_key: str | None = None,
        api_secret: str | None = None,
        api_passphrase: str | None = None,
        *,
        options: ClientOptions | None = None,
        connection_limits: ConnectionLimits | None = None,
        **overrides: Any,
    ) -> None:
        """Credentials, then either ``options`` or any :class:`ClientOptions` field by name.

        ``connection_limits`` are OKX's limits on connecting (the generated clients
        pass the spec's); without them connects and subscriptions are not paced.
        """
        credentials = _credentials(api_key, api_secret, api_passphrase)
        self.options = opts = ClientOptions.build(options, overrides)
        self._credentials = credentials
        self.logger = opts.logger or DEFAULT_LOGGER
        self.time_offset_ms = 0
        self.closed = False
        self._events = EventEmitter(self.logger)
        if opts.attach_event_listeners:
            attach_logging_listeners(self._events, self.logger)
        try:
            self._ids = RequestIds(opts.id_prefix)
        except ValueError as exc:
            raise ConfigurationError(str(exc)) from None
        self._instrument_channels: tuple[Channel[Any, Any], ...] = ()
        self._following_instruments = False
        self._update_streams: UpdateRegistry = weakref.WeakSet()
        self.instruments = _registry(opts, self.logger)
        # OKX counts connects per IP: clients of one host share one gate unless opted out.
        gate = shared_connect_gate(opts.url("public")) if opts.share_limits else None
        self._pacer = Pacer(opts.rate_limit, connection_limits, gate)
        self._channels = ChannelRouter(
            self.logger,
            forget=self._forget_subscription,
            subscribed=lambda key: self._connections[key].subscriptions,
        )
        self._fates = StampTrackReconciler(
            stamp_exp_time=opts.stamp_exp_time,
            okx_now_ms=okx_now_ms(self.get_time_offset_ms),
            rest=self._signed_rest,
            logger=self.logger,
            codes=lambda: self.instruments.codes,
        )
        self._sender: RequestSender[Sending] = RequestSender(
            pacer=self._pacer,
            hooks=self._fates,
            next_id=self._ids.next,
            min_send_time=opts.min_send_time,
            logger=self.logger,
        )
        self._clock_synced: asyncio.Future[int] | None = None
        self._public_rest: PublicRest | None = None  # order book snapshots, made on first use
        self._connections = self._make_connections(opts)

    def _make_connections(self, opts: ClientOptions) -> dict[str, Connection]:
        """One :class:`Connection` per OKX endpoint, none open yet (they connect lazily)."""
        connector = connector_for(opts.transport)
        return {
            key: Connection(
                key,
                opts,
                connector,
                login_args=None if self._credentials is None else self._login_args,
                emit=self.emit,
                forward=self._on_inbound,
                pacer=self._pacer,
                sync_clock=self.sync_time,
                before_login=self._sync_once if opts.sync_time else None,
            )
            for key in CONNECTION_KEYS
        }

    def __repr__(self) -> str:
        key = self._credentials[0] if self._credentials else None
        shown = f"{key[:4]}…" if key else None
        usable = [k for k, c in self._connections.items() if c.is_usable]
        return (
            f"<{type(self).__name__} market={self.options.market!r} demo={self.options.demo_trading}"
            f" api_key={shown!r} connected={usable}>"
        )

    @property
    def in_flight(self) -> int:
        """Requests sent and still awaiting their reply, over every connection."""
        return sum(conn.in_flight for conn in self._connections.values())

    def retained(self) -> dict[str, Retained]:
        """What the client keeps by design, bounded: entries held now and the cap.

        The late replies that settle unknown fates (an hour at most), the cancelled
        calls' fates (until settled), and the ids of requests that timed out, which
        each live link remembers for their late reply (five minutes at most).  For
        leak hunts and the soak: everything else the client holds stays flat.
        """
        out = self._fates.retained()
        orphans = [conn.orphans() for conn in self._connections.values()]
        out["expired request ids"] = Retained(
            sum(o.entries for o in orphans), sum(o.cap for o in orphans)
        )
        return out

    # -- configuration and events -----------------------------------------

    def set_time_offset_ms(self, offset_ms: int) -> None:
        """Milliseconds to add to the local clock when signing a login (server minus local)."""
        self.time_offset_ms = int(offset_ms)

    def get_time_offset_ms(self) -> int:
        return self.time_offset_ms

    def on(self, event: str, handler: Handler) -> Handler:
        """Register ``handler(event: Event)`` for ``open``, ``reconnect``, ``reconnected``,
        ``authenticated``, ``response``, ``late_reply``, ``update``, ``exception`` or ``close``.

        ``late_reply``: OKX's reply to a request that had timed out or whose call
        was cancelled (``message``); it settles that request's fate (see :meth:`reconcile`).
        """
        try:
            return self._events.on(event, handler)
        except ValueError as exc:
            raise ConfigurationError(str(exc)) from None

    def off(self, event: str, handler: Handler) -> None:
        self._events.off(event, handler)

    def emit(self, event: Event) -> None:
        self._events.emit(event)

    async def sync_time(self) -> int:
        """Read OKX's clock (``GET /api/v5/public/time``) and sign later logins with it.

        Returns the offset in ms (server minus local, from the round trip's
        midpoint), which is also what :meth:`get_time_offset_ms` returns now.
        Raises :class:`ClockSyncError` when the time cannot be read.
        """
        opts = self.options
        offset = await server_offset_ms(
            opts.rest_base(),
            demo_trading=opts.demo_trading,
            transport=opts.rest_transport,
            timeout=opts.request_timeout,
        )
        self.set_time_offset_ms(offset)
        self.logger.info("okx-ws: clock offset to OKX %d ms", offset)
        return offset

    async def _sync_once(self) -> None:
        """With ``sync_time=True``: one clock read before the first login, shared by all.

        Only a successful read is kept: a failed one (OKX's REST down) would otherwise
        fail every later login the same way, so the next connect attempt reads again.
        """
        synced = self._clock_synced
        if synced is None or (synced.done() and (synced.cancelled() or synced.exception())):
            synced = self._clock_synced = asyncio.ensure_future(self.sync_time())
        await asyncio.shield(synced)

    def _login_args(self) -> dict[str, Any]:
        assert self._credentials is not None
        key, secret, passphrase = self._credentials
        return login_args(key, secret, passphrase, login_timestamp(self.time_offset_ms))

    # -- connections --------------------------------------------------------

    def _connection(self, key: str) -> Connection:
        if self.closed:
            raise ClientClosed("the client is closed")
        try:
            conn = self._connections[key]
        except KeyError:
            raise ConfigurationError(
                f"connection must be one of {CONNECTION_KEYS}, got {key!r}"
            ) from None
        if LOGIN_POLICY.get(key) == "required" and self._credentials is None:
            raise ConfigurationError(
                f"the {key!r} connection needs api_key, api_secret and api_passphrase"
            )
        return conn

    def _operation_connection(self, key: str, op: str) -> Connection:
        """Operations are sent on a logged-in link: no credentials, nothing is sent."""
        conn = self._connection(key)
        if self._credentials is None:
            raise ConfigurationError(
                f"operation {op!r} needs api_key, api_secret and api_passphrase"
            )
        return conn

    async def connect(self, connection: str, *, timeout: float | None = None) -> None:
        """Open (and log in to) one connection now; raises ConnectTimeout or AuthenticationError."""
        conn = self._connection(connection)
        await conn.connect_within(self.options.request_timeout if timeout is None else timeout)

    async def connect_ws_api(self, *, timeout: float | None = None) -> None:
        """Open and log in ``private`` and ``business``, and load the codes of
        ``instrument_types``, so the first order waits for nothing.

        If several fail, the connections' error is raised: with a wrong
        ``base_url`` the instrument list fails too, and less helpfully."""
        results = await asyncio.gather(
            self.connect("private", timeout=timeout),
            self.connect("business", timeout=timeout),
            self.load_instruments(self.options.instrument_types),
            return_exceptions=True,
        )
        for result in results:
            if isinstance(result, BaseException):
                raise result
        await self._follow_instruments(timeout)

    def register_instrument_channels(self, channels: Iterable[Channel[Any, Any]]) -> None:
        """The channel(s) whose pushes keep instrument codes fresh (the generated clients
        pass the spec's ``role: instruments``); used by :meth:`connect_ws_api`."""
        self._instrument_channels = tuple(channels)

    async def _follow_instruments(self, timeout: float | None) -> None:
        """Subscribe to the instruments channel for ``instrument_types`` (once), so new
        listings resolve without REST and delistings are refused before sending.
        Best effort: without it the REST list stays the source, so a failure is logged."""
        opts = self.options
        if not opts.follows_instruments or self._following_instruments:
            return
        self._following_instruments = True
        for channel in self._instrument_channels:
            for inst_type in opts.instrument_types:
                try:
                    await self.subscribe_channel(
                        channel,
                        {"instType": inst_type},
                        callback=functools.partial(self._on_instruments, inst_type),
                        timeout=timeout,
                    )
                except OkxWsError as exc:
                    self.logger.warning(
                        "okx-ws: not following %s instruments by push (%s); REST stays the source",
                        inst_type,
                        exc,
                    )

    def _on_instruments(self, inst_type: str, update: ChannelUpdate[Any]) -> None:
        self.instruments.merge_push(
            inst_type, [item.model_dump(by_alias=True, exclude_none=True) for item in update.data]
        )

    async def load_instruments(
        self, inst_types: Iterable[str], *, inst_families: Iterable[str] = ()
    ) -> None:
        """Load the instIdCodes of ``inst_types`` (OPTION needs ``inst_families``) now."""
        if self.closed:
            raise ClientClosed("the client is closed")
        await self.instruments.load(tuple(inst_types), inst_families=tuple(inst_families))

    # -- WS API requests ----------------------------------------------------

    async def call(
        self,
        operation: Operation[Any, R],
        params: object,
        *,
        exp_time: int | None = None,
        timeout: float | None = None,
        extra_fields: ExtraFields | None = None,
    ) -> R:
        """Validate ``params``, send one request and return the typed reply (``code == "0"``).

        ``extra_fields``: fields OKX added after this release, sent unvalidated
        (a mapping for every item, or one mapping per batch item).
        Raises :class:`ParamsValidationError` (nothing sent), :class:`OkxApiError`
        for any other code (with every item's result), :class:`RequestTimeout`
        when no reply came in time (``sent=False``: the deadline passed before
        sending, nothing was sent) and :class:`ConnectionLost` when the link died
        with the request in flight.  A request is never sent twice.  A call
        cancelled once its frame was being written is listed by
        :meth:`cancelled_fates`.
        """
        conn = self._operation_connection(operation.connection, operation.op)
        codes = self.instruments.codes if operation.resolved else _NO_CODES
        args, filled, cold = operation.prepare_with_codes(params, extra_fields, codes)
        timeout = self.options.request_timeout if timeout is None else timeout
        deadline = None  # the sender starts the clock, unless codes must be loaded first
        if cold:  # resolve_items raises before anything is sent
            deadline = asyncio.get_running_loop().time() + timeout
            pairs = [(field.target, field.source) for field in operation.resolved]
            await self.instruments.resolve_items(args, pairs, timeout=timeout)
        try:
            reply = await self._sender.send(conn, operation, args, exp_time, timeout, deadline)
        except OkxApiError as error:
            error.response = _typed_or_none(operation.response_model, error.reply)
            self._forget_stale_codes(error, args, filled)
            raise
        try:  # model_validate less its wrapper: the same checks, 4.7k fewer instructions
            typed: R = operation.response_model.__pydantic_validator__.validate_python(reply)
            return typed
        except pydantic.ValidationError as exc:  # accepted, but not in the shape the spec knows
            raise UnexpectedReply(reply, operation.response_model.__name__, str(exc)) from None

    async def send_ws_api_request(
        self,
        connection: str,
        op: str,
        args: list[dict[str, Any]],
        *,
        exp_time: int | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """Send a raw request (OKX names; no validation, no instIdCode) and return the reply."""
        conn = self._operation_connection(connection, op)
        timeout = self.options.request_timeout if timeout is None else timeout
        return await self._sender.send_raw(conn, op, _mappings(op, args), exp_time, timeout)

    def _forget_stale_codes(
        self, error: OkxApiError, args: list[dict[str, Any]], filled: Iterable[tuple[int, Resolved]]
    ) -> None:
        for index, field in filled:
            if (
                index < len(error.data)
                and str(error.data[index].get("sCode")) in _STALE_CODE_SCODES
            ):
                self.instruments.invalidate(str(args[index][field.source]))

    # -- inbound events no waiter consumed ----------------------------------

    def _on_inbound(self, key: str, event: Inbound, consumed: bool) -> None:
        if type(event) is Reply:
            if not consumed:
                self.logger.warning(
                    "okx-ws %s: reply to unknown or expired request id=%s op=%s code=%s",
                    key,
                    event.id,
                    event.message.get("op"),
                    event.message.get("code"),
                )
            if self._events.has("response"):
                self.emit(Event("response", key, message=event.message))
        elif type(event) is Push:
            self._channels.dispatch(key, event.arg, event.message)
            self._dispatch_update(Event("update", key, message=event.message))
        elif isinstance(event, LateReply):
            self._on_late_reply(key, event)
        elif type(event) is Pong or consumed:
            return
        elif isinstance(event, ErrorEvent):
            detail = f"OKX error {event.code}: {event.msg}"
            self.emit(Event("exception", key, message=event.message, detail=detail))
        elif isinstance(event, Malformed):
            detail = f"unexpected frame ({event.reason}): {event.text!r}"
            self.emit(Event("exception", key, detail=detail))
        else:
            if isinstance(event, Notice):
                self.logger.warning("okx-ws %s: notice %s %s", key, event.code, event.msg)
            self.emit(Event("response", key, message=getattr(event, "message", None)))

    def _on_late_reply(self, key: str, event: LateReply) -> None:
        """OKX answered a request whose caller stopped waiting: that settles its fate."""
        self._fates.late_reply(event.id, event.op, event.args, event.message)
        detail = (
            f"late reply to {event.op!r} request id={event.id} that {event.why}:"
            f" code={event.message.get('code')}"
        )
        self.logger.info("okx-ws %s: %s", key, detail)
        self.emit(Event("late_reply", key, message=event.message, detail=detail))
        if self._events.has("response"):
            self.emit(Event("response", key, message=event.message))

    def _dispatch_update(self, event: Event) -> None:
        if self._events.has("update"):
            self.emit(event)
        for stream in tuple(self._update_streams):
            stream.put(event)

    # -- subscriptions ------------------------------------------------------

    async def subscribe(
        self,
        args: Mapping[str, Any] | Iterable[Mapping[str, Any]],
        connection: str = "public",
        *,
        timeout: float | None = None,
        buffer: int | None = None,
        login: bool = False,
    ) -> UpdateStream:
        """Subscribe, wait for OKX's acks, and return the stream of these subscriptions' pushes.

        The stream is registered before the subscribe frame leaves, so no push
        can slip between the ack and your first read; drop it if you read
        pushes elsewhere (``on("update")``, typed streams): an unreferenced
        stream stops receiving.  Restored automatically after every reconnect.

        ``login``: the channels need a login (the spec's ``login``, e.g. ``books-l2-tbt``
        on the public connection): the connection logs in first, and again on every
        reconnect while they stay subscribed.  Without credentials that raises
        :class:`ConfigurationError` before anything is sent.
        """
        items = _subscription_items("subscribe", args)
        stream = UpdateStream(
            self._update_streams,
            self.logger,
            UPDATE_QUEUE_SIZE if buffer is None else buffer,
            only=(connection, items),
        )
        try:
            await self._change_subscription("subscribe", items, connection, timeout, login)
        except BaseException:
            stream.end()
            raise
        return stream

    async def unsubscribe(
        self,
        args: Mapping[str, Any] | Iterable[Mapping[str, Any]],
        connection: str = "public",
        *,
        timeout: float | None = None,
    ) -> None:
        await self._change_subscription("unsubscribe", args, connection, timeout)

    async def _change_subscription(
        self,
        event: str,
        args: Mapping[str, Any] | Iterable[Mapping[str, Any]],
        connection: str,
        timeout: float | None,
        login: bool = False,
    ) -> None:
        conn = self._connection(connection)
        items = _subscription_items(event, args)
        await conn.change_subscription(
            event, items, self.options.request_timeout if timeout is None else timeout, login=login
        )

    def subscriptions(self, connection: str) -> list[dict[str, Any]]:
        return [dict(a) for a in self._connection(connection).subscriptions]

    def updates(self, *, buffer: int | None = None) -> UpdateStream:
        """Channel updates as an async iterator (``Event.message`` is OKX's push).

        The stream starts buffering at once, so pushes that arrive before the
        first ``await`` are not lost; it holds ``buffer`` pushes at most
        (default ``UPDATE_QUEUE_SIZE``, 10,000; the oldest dropped beyond), has
        one reader at a time, and ends with :meth:`UpdateStream.aclose` or when
        the client closes.  A stream nobody references any more stops receiving.
        Raises :class:`ClientClosed` once the client is closed.
        """
        if self.closed:
            raise ClientClosed("the client is closed")
        size = UPDATE_QUEUE_SIZE if buffer is None else buffer
        return UpdateStream(self._update_streams, self.logger, size)

    async def subscribe_channel(
        self,
        channel: Channel[Any, I],
        args: object = None,
        *,
        callback: UpdateCallback[I] | None = None,
        timeout: float | None = None,
        buffer: int = DEFAULT_BUFFER,
    ) -> ChannelStream[I]:
        """Subscribe to one typed channel (a generated constant) and return its stream.

        ``args``: the channel's args model or a mapping with OKX names, validated
        before anything is sent.  The stream buffers from now on (``buffer``
        updates at most); with ``callback`` updates go to it instead.
        """
        self._connection(channel.connection)
        stream = ChannelStream(
            self._channels,
            channel,
            channel.prepare(args),
            self._unsubscribe_one,
            callback=callback,
            buffer=buffer,
            logger=self.logger,
        )
        await stream._registration.open(self._subscribe_one, timeout)
        return stream

    async def _subscribe_one(
        self, channel: Channel[Any, Any], arg: dict[str, Any], timeout: float | None
    ) -> None:
        await self._change_subscription(
            "subscribe", arg, channel.connection, timeout, channel.login
        )

    def _forget_subscription(self, connection: str, arg: dict[str, Any]) -> None:
        """A typed subscribe failed and nothing uses ``arg``: do not restore it on reconnect."""
        remembered = self._connections[connection].subscriptions
        if arg in remembered:
            remembered.remove(arg)

    async def _unsubscribe_one(
        self, channel: Channel[Any, Any], arg: dict[str, Any], timeout: float | None
    ) -> None:
        if not self.closed:
            await self.unsubscribe(arg, channel.connection, timeout=timeout)

    # -- order books ----------------------------------------------------------------

    async def order_book(
        self,
        channel: Channel[Any, Any],
        inst_id: str,
        *,
        resync: Resync = "resubscribe",
        depth: int | None = None,
        buffer: int = DEFAULT_BUFFER,
        timeout: float | None = None,
        wait: bool = True,
    ) -> BookStream:
        """Follow one order book (a channel with ``book`` set, a generated constant).

        Checks OKX's combination rule against this connection's subscriptions
        (:class:`ConfigurationError`, nothing sent), subscribes, and with ``wait``
        returns once the book is valid (:class:`UpdateTimeout` after ``timeout``,
        default ``request_timeout``).  ``resync``: after a gap, resubscribe for a
        fresh snapshot (default: exact on every channel) or join a REST snapshot
        (``"rest"``: exact on tick-by-tick channels; a snapshot that falls inside an
        aggregated push is refused and fetched again); without any subscribe
        snapshot from OKX the book starts from REST either way.  ``depth``: levels
        kept per side (default the channel's).  See
        :class:`~okx_ws_core.book.stream.BookStream`.
        """
        self._connection(channel.connection)
        stream = BookStream(
            self._book_io(), channel, inst_id, resync=resync, depth=depth, buffer=buffer
        )
        await stream.open(timeout, wait=wait)
        return stream

    def _book_io(self) -> BookIO:
        opts = self.options
        if self._public_rest is None:
            self._public_rest = PublicRest(
                opts.rest_base(),
                demo_trading=opts.demo_trading,
                transport=opts.rest_transport,
                timeout=opts.request_timeout,
            )
        return BookIO(
            router=self._channels,
            subscribe=self._subscribe_one,
            unsubscribe=self._unsubscribe_one,
            rest=self._public_rest,
            subscribed=lambda key: self._connections[key].subscriptions,
            on=self.on,
            off=self.off,
            logger=self.logger,
            timeout=opts.request_timeout,
            retry_delay=opts.reconnect_delay,
            retry_max_delay=opts.reconnect_max_delay,
        )

    # -- orders: tracking and reconciliation ------------------------------------

    def register_order_tracking(
        self, ops: Iterable[OrderOp], channels: Iterable[Channel[Any, Any]]
    ) -> None:
        """Learn which operations and channels concern orders (the generated clients
        pass the spec's); needed by ``stamp_exp_time``, ``track_orders`` and ``reconcile``."""
        self._fates.register(ops, channels)

    @property
    def tracker(self) -> OrderTracker | None:
        """The order tracker, once :meth:`track_orders` started it."""
        return self._fates.tracker

    async def track_orders(
        self,
        *,
        subscribe: bool = True,
        max_finished: int = 10_000,
        finished_ttl: float | None = 3600.0,
        refresh_on_reconnect: bool = True,
        timeout: float | None = None,
    ) -> OrderTracker:
        """Start folding replies and order pushes into one state per order (idempotent).

        With ``subscribe`` it subscribes to every order channel (``orders`` for
        every instType, ``sprd-orders`` for every spread).  Finished orders are
        forgotten after ``finished_ttl`` seconds or beyond ``max_finished``.
        With ``refresh_on_reconnect`` (and credentials) the open orders of a
        connection that came back are looked up on OKX's REST API, since the
        pushes sent while it was down are lost.
        """
        if self.closed:
            raise ClientClosed("the client is closed")
        fates = self._fates
        if fates.waits is None:
            tracker = OrderTracker(max_finished=max_finished, finished_ttl=finished_ttl)
            fates.waits = OrderWaits(tracker)
            for channel in fates.channels.values():
                self._channels.observe(channel, fates.observe)
            if refresh_on_reconnect and self._credentials is not None:
                fates.refresh_on_reconnect = True
                self.on("reconnected", self._refresh_orders)
        for channel in fates.channels.values() if subscribe else ():
            if channel.channel in fates.subscribed:
                continue
            arg = channel.prepare(None)
            self._connection(channel.connection)
            self._channels.hold(channel.connection, arg)
            try:
                await self._change_subscription(
                    "subscribe", arg, channel.connection, timeout, channel.login
                )
            except BaseException:
                self._channels.release(channel.connection, arg, failed=True)
                raise
            fates.subscribed.add(channel.channel)
        return fates.waits.tracker

    def _refresh_orders(self, event: Event) -> None:
        if not self.closed:
            self._fates.reconnected(event.connection, self.options.request_timeout)

    def tracked_order(self, cl_ord_id: str) -> TrackedOrder | None:
        """The tracked order's current snapshot (``None`` if not tracked)."""
        tracker = self._fates.tracker
        return None if tracker is None else tracker.get(cl_ord_id)

    async def wait_for(
        self,
        cl_ord_id: str,
        states: str | Iterable[str] = FINAL_STATES,
        *,
        timeout: float | None = None,
    ) -> TrackedOrder:
        """Wait until the tracked order ``cl_ord_id`` reaches one of ``states`` (or any
        final state: check ``.state``).

        Raises :class:`OrderWaitTimeout` after ``timeout`` seconds (default
        :data:`~okx_ws_core.orders.tracker.DEFAULT_WAIT_TIMEOUT`, 60 s; ``math.inf`` waits
        with no limit) and :class:`ClientClosed` if the client closes first.
        """
        if self.closed:
            raise ClientClosed("the client is closed")
        waits = self._fates.waits
        if waits is None:
            raise ConfigurationError("wait_for() needs the order tracker: call track_orders()")
        return await waits.wait_for(
            cl_ord_id, states, DEFAULT_WAIT_TIMEOUT if timeout is None else timeout
        )

    async def reconcile(
        self, target: Target, *, timeout: float | None = None
    ) -> dict[str, Verdict]:
        """Ask OKX's REST API what became of the orders of ``target``: a
        :class:`RequestTimeout`, :class:`ConnectionLost` or :class:`RequestCancelled`
        (see :meth:`cancelled_fates`), a list of clOrdIds (of tracked orders) or a
        mapping clOrdId -> instId (``None``: a spread order).  OKX's late reply
        to that very request, if it came, answers a place request without REST.

        Returns a :class:`Verdict` per clOrdId (placed, not placed, unknown and
        why); waits out a request's expTime before answering "not placed".
        ``timeout`` bounds each REST look-up (default ``request_timeout``).
        """
        if self.closed:
            raise ClientClosed("the client is closed")
        if self._credentials is None:
            raise ConfigurationError("reconcile() needs api_key, api_secret and api_passphrase")
        wait = self.options.request_timeout if timeout is None else timeout
        return await self._fates.reconcile(target, timeout=wait)

    def cancelled_fates(self) -> list[RequestCancelled]:
        """Requests whose call was cancelled once the frame was being written, oldest first.

        Their fate on OKX is unknown (the frame may have arrived), exactly like a
        :class:`RequestTimeout` with ``sent=True``; each :class:`RequestCancelled`
        carries what :meth:`reconcile` needs.  One leaves this list when OKX's
        late reply to it arrives (also a ``late_reply`` event) or when
        ``reconcile(record)`` gave no "unknown" verdict; the tracker shows its
        orders as ``unknown`` meanwhile.  At most the newest 10,000 are kept.
        """
        return self._fates.cancelled_fates()

    def _signed_rest(self) -> SignedRest:
        assert self._credentials is not None
        return SignedRest(
            self.options.rest_base(),
            self._credentials,
            demo_trading=self.options.demo_trading,
            transport=self.options.rest_transport,
            timeout=self.options.request_timeout,
            offset_ms=self.get_time_offset_ms,
        )

    # -- lifecycle ----------------------------------------------------------

    async def close(self) -> None:
        """Close every connection; requests still in flight fail with ``ConnectionLost``."""
        if self.closed:
            return
        self.closed = True
        if self._fates.waits is not None:
            self._fates.waits.close()  # before anything awaits: no waiter outlives close()
        self._channels.close()
        await asyncio.gather(*(c.close() for c in self._connections.values()))
        await self.instruments.aclose()
        if self._public_rest is not None:
            await self._public_rest.aclose()
        await self._fates.aclose()
        for stream in tuple(self._update_streams):
            stream.end()
        await self._events.drain()

    async def __aenter__(self) -> AsyncWebsocketClient:
        if self.closed:  # a closed client cannot be used again: say so now, not at first call
            raise ClientClosed("the client is closed; create a new one")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


def _typed_or_none(model: type[R], reply: dict[str, Any]) -> R | None:
    """A rejected reply as the operation's model (items keep every field), if it fits."""
    try:
        return model.model_validate(reply)
    except ValueError:  # pydantic's ValidationError: a reply shaped unlike the spec's
        return None


def _subscription_items(
    event: str, args: Mapping[str, Any] | Iterable[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Subscription arguments as a list of dicts, each naming its channel."""
    items = [dict(args)] if isinstance(args, Mapping) else _mappings(event, args)
    if not items:
        raise ParamsValidationError(event, [("(params)", "at least one channel is needed")])
    for i, item in enumerate(items):
        if "channel" not in item:
            raise ParamsValidationError(event, [(f"[{i}].channel", "Field required")])
    return items


def _mappings(what: str, args: object) -> list[dict[str, Any]]:
    """``args`` as a list of dicts, or ParamsValidationError saying what it was instead."""
    if isinstance(args, (str, bytes, Mapping)) or not isinstance(args, Iterable):
        raise ParamsValidationError(
            what, [("(params)", f"expected a list of mappings, got {type(args).__name__}")]
        )
    items = list(args)
    for i, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise ParamsValidationError(
                what, [(f"[{i}]", f"expected a mapping, got {type(item).__name__}")]
            )
    return [dict(item) for item in items]
