"""``Simulator``: wires the simulator's parts together and keeps its public API.

One port serves ``/ws/v5/public``, ``/ws/v5/private`` and ``/ws/v5/business``
(query strings ignored) and the REST GETs of ``rest.ROUTES``, answered as
plain HTTP before any handshake; anything else gets HTTP 404.  The parts:

- ``transport``: accepts, tracks and closes every socket;
- ``protocol``: parses frames and builds every frame sent;
- ``session``: login, subscriptions and pushes per connection;
- ``ws_api``: WS API requests, executed by the pure ``engine``;
- ``rest``: the REST routes and their front;
- ``policy``: rate limits and faults, asked before each step;
- ``state``: engine, accounts and counters, which ``reset()`` renews.

The per-request path is one JSON decode, a few dict look-ups, the engine call
and one JSON encode; no task is created per request unless a fault asks for it.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Coroutine, Iterable
from decimal import Decimal, InvalidOperation
from http import HTTPStatus
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from . import codes, protocol, views
from .auth import Account, default_account
from .clock import SimClock
from .engine import AccountState, Engine, Order
from .faults import FaultPlan
from .instruments import Instrument, default_instruments
from .limits import RateLimits, connect_refusal_text
from .market import Market
from .market_book import DEFAULT_HISTORY, DEFAULT_LEVELS
from .market_channels import MarketRates
from .policy import Policy
from .protocol import PATHS, FrameKind
from .rest import RestFront
from .session import Connection, Sessions
from .state import SimState
from .stats import SimStats
from .transport import Transport
from .ws_api import WsApi


class Simulator:
    """An OKX-compatible WebSocket server on loopback.  See the package docstring."""

    sessions: Sessions
    ws_api: WsApi
    transport: Transport
    rest: RestFront

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        accounts: Iterable[Account] | None = None,
        idle_timeout: float = 30.0,
        timestamp_window: float = 30.0,
        seed: int | None = None,
        *,
        instruments: dict[str, Instrument] | None = None,
        rate_limits: bool | RateLimits = True,
        clock_offset_s: float = 0.0,
        clock: SimClock | None = None,
        channel_conn_count: bool = False,
        track_request_ids: bool = True,
        legacy_inst_id: bool = False,
        market_rates: MarketRates | None = None,
        market_levels: int = DEFAULT_LEVELS,
        market_history: int = DEFAULT_HISTORY,
    ) -> None:
        self.host = host
        self.port = port
        self.idle_timeout = idle_timeout
        self.clock = clock or SimClock()
        if clock_offset_s:
            self.clock.offset_s = clock_offset_s
        self._initial_accounts = list(accounts) if accounts is not None else [default_account()]
        # The listing: add/remove_instrument change it and reset() keeps it.
        self._instruments = dict(instruments) if instruments is not None else default_instruments()
        self._rng = random.Random(seed)
        self.state = SimState(
            Engine(self._initial_accounts, self._instruments),
            {a.api_key: a for a in self._initial_accounts},
        )
        self.faults = FaultPlan(self._on_fault_action)
        # OKX's limits (limits.py) unless False; a RateLimits for other numbers.
        limits = RateLimits() if rate_limits is True else rate_limits or None
        self.policy = Policy(self.faults, self.state, self.clock, limits, self._rng)
        # The synthetic market (market.py): books per instrument, seeded by ``seed``.
        self.market = Market(
            self.state,
            self.clock,
            self.faults,
            seed,
            rates=market_rates,
            levels=market_levels,
            history=market_history,
        )
        self.market.on_engine()
        self._build_fronts(
            timestamp_window=timestamp_window,
            channel_conn_count=channel_conn_count,
            legacy_inst_id=legacy_inst_id,
            track_request_ids=track_request_ids,
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._sweeper: asyncio.Task[None] | None = None

    def _build_fronts(
        self,
        *,
        timestamp_window: float,
        channel_conn_count: bool,
        legacy_inst_id: bool,
        track_request_ids: bool,
    ) -> None:
        """What faces the clients, over the state: sessions, WebSocket API, transport, REST."""
        self.sessions = Sessions(
            self.state,
            self.policy,
            self.clock,
            timestamp_window=timestamp_window,
            channel_conn_count=channel_conn_count,
            market=self.market,
        )
        self.ws_api = WsApi(
            self.state,
            self.sessions,
            self.policy,
            self.clock,
            abort=self._abort,
            spawn=self._spawn,
            legacy_inst_id=legacy_inst_id,
            track_request_ids=track_request_ids,
        )
        self.transport = Transport(self._handler, self._process_request)
        # Signed REST requests share the login's timestamp window (OKX: 30 s both).
        self.rest = RestFront(
            self.state,
            self.policy,
            self.clock,
            self.transport.abort,
            lambda: self.sessions.timestamp_window,
            market=self.market,
        )

    # -- shared state -----------------------------------------------------------------
    @property
    def engine(self) -> Engine:
        return self.state.engine

    @property
    def accounts(self) -> dict[str, Account]:
        return self.state.accounts

    @property
    def stats(self) -> SimStats:
        """Counters since start or ``reset()`` (faults that fired: ``faults_injected``)."""
        return self.state.stats

    @property
    def rest_last_headers(self) -> dict[str, str]:
        """Headers (names lower-cased) of the last REST request answered by a route."""
        return self.state.rest_last_headers

    # -- settings ---------------------------------------------------------------------
    @property
    def rate_limits(self) -> RateLimits | None:
        """The limits enforced (OKX's by default), None when off."""
        return self.policy.limits

    @property
    def timestamp_window(self) -> float:
        """Seconds a login or signed REST timestamp may be off the simulator's clock
        (OKX: 30 for both)."""
        return self.sessions.timestamp_window

    @timestamp_window.setter
    def timestamp_window(self, seconds: float) -> None:
        self.sessions.timestamp_window = seconds

    @property
    def channel_conn_count(self) -> bool:
        """Send ``channel-conn-count`` events after private subscriptions."""
        return self.sessions.channel_conn_count

    @channel_conn_count.setter
    def channel_conn_count(self, on: bool) -> None:
        self.sessions.channel_conn_count = on

    @property
    def legacy_inst_id(self) -> bool:
        """True: order/amend/cancel items may carry only instId, as before OKX's 2026
        switch to instIdCode (for testing old bots).  False: OKX today."""
        return self.ws_api.legacy_inst_id

    @legacy_inst_id.setter
    def legacy_inst_id(self, on: bool) -> None:
        self.ws_api.legacy_inst_id = on

    @property
    def track_request_ids(self) -> bool:
        """stats.request_ids grows by one entry per distinct id: off for long benchmarks."""
        return self.ws_api.track_request_ids

    @track_request_ids.setter
    def track_request_ids(self, on: bool) -> None:
        self.ws_api.track_request_ids = on

    @property
    def clock_offset_s(self) -> float:
        """How far the simulator's clock runs ahead of this machine's (negative: behind):
        login timestamps, expTime, ts fields and GET /api/v5/public/time all follow it."""
        return self.clock.offset_s

    @clock_offset_s.setter
    def clock_offset_s(self, seconds: float) -> None:
        self.clock.offset_s = seconds

    # -- lifecycle ------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    def url(self, kind: str = "private") -> str:
        """Full URL of one endpoint: ``public``, ``private`` or ``business``."""
        return f"{self.base_url}/ws/v5/{kind}"

    @property
    def rest_url(self) -> str:
        """Base URL of the REST endpoints (same port): ``http://HOST:PORT``."""
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self.transport.listening

    async def start(self) -> None:
        if self.transport.listening:
            return
        self._loop = asyncio.get_running_loop()
        self.market.attach(self._spawn)
        self.rest.hold()
        self.port = await self.transport.listen(self.host, self.port)
        if self._sweeper is None:
            self._sweeper = self._loop.create_task(self._sweep())

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            await asyncio.gather(self._sweeper, return_exceptions=True)
            self._sweeper = None
        await self._close()
        while self._tasks:
            tasks = list(self._tasks)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def restart(self, down_for: float = 0.0) -> None:
        """Stop listening (every connection drops, close code 1001) and listen again on
        the same port, after ``down_for`` seconds.  State (orders, balances) is kept."""
        self.faults.note_armed("restart")
        self.stats.faults_injected["restart"] += 1
        await self._close()
        if down_for > 0:
            await asyncio.sleep(down_for)
        await self.start()

    async def _close(self) -> None:
        self.rest.release()  # held REST requests end now, or the close waits for them
        await self.transport.close()

    async def __aenter__(self) -> Simulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def reset(self) -> None:
        """Clear faults, counters, rate-limit counts, orders and balances (back to the
        initial accounts)."""
        self.faults.reset(counts=True)
        # ordIds (and trade / position ids) keep growing across resets: a client may
        # still hold old ones
        old = self.engine
        engine = Engine(
            self._initial_accounts,
            self._instruments,
            first_ord_id=old.last_ord_id,
            first_trade_id=old.last_trade_id,
            first_pos_id=old.last_pos_id,
        )
        self.state.engine = engine
        self.market.on_engine()
        self.state.accounts = {a.api_key: a for a in self._initial_accounts}
        self.state.stats = SimStats()
        self.state.rest_last_headers = {}
        self.policy.reset()
        self.sessions.relog()

    # -- state accessors (call on the simulator's loop) ---------------------------------
    def add_account(self, account: Account) -> None:
        self.accounts[account.api_key] = account
        self._initial_accounts.append(account)
        self.engine.add_account(account)

    def orders(self, api_key: str | None = None, state: str | None = None) -> list[dict[str, Any]]:
        """Every order of the account (default account when None), OKX-shaped."""
        return self.engine.orders(api_key or self._initial_accounts[0].api_key, state)

    def find_order(
        self,
        cl_ord_id: str | None = None,
        api_key: str | None = None,
        ord_id: str | None = None,
    ) -> dict[str, Any] | None:
        """The latest order with that clOrdId (or ordId), any state; None if unknown."""
        return self.engine.find_order(
            api_key or self._initial_accounts[0].api_key, cl_ord_id=cl_ord_id, ord_id=ord_id
        )

    def balances(self, api_key: str | None = None) -> dict[str, dict[str, str]]:
        """Per currency: availBal and frozenBal (cashBal is their sum)."""
        return self.engine.balances(api_key or self._initial_accounts[0].api_key)

    def positions(self, api_key: str | None = None) -> list[dict[str, Any]]:
        """The account's open derivatives positions, as the positions channel shows them."""
        acct = self.engine.accounts.get(api_key or self._initial_accounts[0].api_key)
        if acct is None:
            return []
        now, instruments = self.clock.now_ms(), self.engine.instruments
        return [
            views.position_item(p, instruments, now)
            for p in acct.positions.values()
            if p.exposure != 0
        ]

    def fill(
        self,
        cl_ord_id: str | None = None,
        sz: str | int | Decimal | None = None,
        *,
        ord_id: str | None = None,
        px: str | int | Decimal | None = None,
        api_key: str | None = None,
    ) -> dict[str, Any]:
        """Fill a resting order as a counterparty would: ``sz`` of it (its sz unit:
        base currency, contracts; None: all that remains) at its own price (``px``:
        another price no worse than its limit), as a maker (execType M).  Pushes
        everything a real fill pushes (orders / sprd-orders, fills / sprd-trades,
        account, positions, balance_and_position) and returns the order as the
        orders channel shows it.  The order is found by ``ord_id``, else the latest
        with ``cl_ord_id``.  KeyError: no such order; ValueError: it is not live,
        ``sz`` is not in (0, what remains] or ``px`` is worse than its limit.

        Call on the simulator's loop (``SimulatorThread.fill`` does).  Partial
        fills in a row take an order through partially_filled to filled."""
        key = api_key or self._initial_accounts[0].api_key
        acct = self.engine.accounts.get(key)
        order = self.engine.find(key, cl_ord_id=cl_ord_id, ord_id=ord_id)
        if acct is None or order is None:
            raise KeyError(f"no order {ord_id or cl_ord_id!r} for account {key!r}")
        size = order.remaining if sz is None else _decimal(sz, "sz")
        price = None if px is None else _decimal(px, "px")
        self.engine.fill(acct, order, size, self.clock.now_ms(), price)
        self._push(acct, [order])
        return order.to_dict()

    def _push(self, acct: AccountState, changed: list[Order]) -> None:
        """Push what changed on ``acct`` outside any request (fill, delisting)."""
        frames = self.sessions.render(acct, changed)
        if frames and self._loop is not None and self.running:
            self._spawn(self.sessions.deliver(frames))

    def connection_count(self, kind: str | None = None) -> int:
        return self.sessions.count(kind)

    # -- instruments ---------------------------------------------------------------------
    def instrument(self, inst_id: str) -> Instrument | None:
        return self.engine.instruments.get(inst_id)

    def inst_id_code(self, inst_id: str) -> int:
        """The instIdCode of a listed instrument (KeyError if not listed)."""
        return self.engine.instruments[inst_id].inst_id_code

    def add_instrument(self, inst: Instrument) -> Instrument:
        """List ``inst`` now (a new listing): REST shows it, orders may use its code.
        ValueError if its instId or code is taken.  Survives ``reset()``."""
        self.engine.add_instrument(inst)
        self._instruments[inst.inst_id] = inst
        self._market_listing([inst], delisted=False)
        return inst

    def remove_instrument(self, inst_id: str) -> Instrument:
        """Delist ``inst_id`` (KeyError if not listed): it leaves the REST listing,
        its code answers 51001, its live orders are canceled (and pushed)."""
        inst, changed = self.engine.remove_instrument(inst_id, self.clock.now_ms())
        self._instruments.pop(inst_id, None)
        for acct in self.engine.accounts.values():
            self._push(acct, [o for o in changed if o.uid == acct.uid])
        self._market_listing([inst], delisted=True)
        return inst

    def _market_listing(self, insts: list[Instrument], *, delisted: bool) -> None:
        """Push a listing change on the ``instruments`` channel (only what changed)."""
        self.market.instruments_changed(insts, delisted=delisted)
        if self._loop is not None and self.running:
            self._spawn(self.market.drain())

    # -- REST ----------------------------------------------------------------------------
    def rest_calls(self, path: str | None = None, inst_type: str | None = None) -> int:
        """REST requests answered by a route (faulted ones excluded) since start or
        ``reset()``: all, or those to ``path``, or with query ``instType=inst_type``."""
        return self.rest.calls(path, inst_type)

    # -- connections ---------------------------------------------------------------------
    async def _process_request(
        self, connection: ServerConnection, request: Request
    ) -> Response | None:
        answer = await self.rest.answer(connection, request)
        if answer is not None:
            return answer
        if request.path.partition("?")[0].rstrip("/") not in PATHS:
            self.stats.connections_rejected += 1
            return connection.respond(HTTPStatus.NOT_FOUND, "Not Found\n")
        if not self.policy.admit_connection(str(connection.remote_address[0])):
            self.stats.connections_throttled += 1
            assert self.policy.limits is not None  # no limits: every connection is admitted
            text = connect_refusal_text(self.policy.limits.connect)
            return connection.respond(codes.CONNECT_LIMIT_STATUS, text)
        return None

    async def _handler(self, ws: ServerConnection) -> None:
        kind = PATHS[ws.request.path.partition("?")[0].rstrip("/")] if ws.request else "public"
        assert self._loop is not None
        conn_id = f"{self._rng.getrandbits(32):08x}"
        conn = self.sessions.open(ws, kind, conn_id, self._loop.time())
        try:
            async for message in ws:
                if not await self._on_frame(conn, message):
                    break
        except ConnectionClosed:
            pass
        finally:
            self.sessions.close(conn)

    async def _on_frame(self, conn: Connection, message: str | bytes) -> bool:
        """Handle one inbound frame; False means the connection was dropped."""
        assert self._loop is not None
        conn.last_rx = self._loop.time()
        st, policy = self.stats, self.policy
        st.frames_received += 1
        if policy.close_on_frame(conn.frames):
            self._abort(conn)
            return False
        frame = protocol.parse(message)
        kind = frame.kind
        if kind is FrameKind.REQUEST:
            return await self.ws_api.handle(conn, frame)
        if kind is FrameKind.PING:
            st.pings += 1
            if not policy.swallow_pong():
                st.pongs_sent += 1
                await conn.ws.send("pong")
        elif kind is FrameKind.MALFORMED or kind is FrameKind.UNKNOWN:
            st.malformed_received += kind is FrameKind.MALFORMED
            msg = f"Invalid request: {protocol.excerpt(frame.text)}"
            await self.sessions.send_error(conn, codes.INVALID_REQUEST, msg)
        elif not policy.admit_session_op(conn):
            st.session_ops_throttled += 1
            await self.sessions.send_error(
                conn, codes.SESSION_OPS_LIMIT_CODE, codes.SESSION_OPS_LIMIT_MSG, frame.rid
            )
        elif kind is FrameKind.LOGIN:
            await self.sessions.login(conn, frame)
        else:
            await self.sessions.subscribe(conn, frame)
        return True

    def _abort(self, conn: Connection) -> None:
        conn.closing = True
        self.transport.abort(conn.ws)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        assert self._loop is not None
        task = self._loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _sweep(self) -> None:
        """Close connections idle for ``idle_timeout`` (OKX: 30 s, code 4004)."""
        assert self._loop is not None
        interval = min(max(self.idle_timeout / 5, 0.01), 1.0)
        while True:
            await asyncio.sleep(interval)
            for conn in self.sessions.idle(self._loop.time() - self.idle_timeout):
                self._spawn(conn.ws.close(protocol.IDLE_CLOSE_CODE, protocol.IDLE_CLOSE_REASON))

    # -- fault actions ----------------------------------------------------------------------
    def _on_fault_action(self, kind: str, params: dict[str, Any]) -> int:
        """FaultPlan.send_notice / send_malformed: returns how many connections it reaches."""
        targets = [c for c in self.sessions.conns if c.kind in params["kinds"] and not c.closing]
        for conn in targets:
            if kind == "notice":
                self._spawn(self.sessions.notice(conn, float(params["close_after"])))
            elif kind == "malformed":
                self._spawn(self.sessions.malformed(conn, int(params["n"])))
            else:  # pragma: no cover - FaultPlan only sends the kinds above
                raise ValueError(kind)
        return len(targets)


def _decimal(value: str | int | Decimal, name: str) -> Decimal:
    """A number given to ``fill``: a decimal string, an int or a Decimal (no floats:
    OKX's numbers are decimal strings)."""
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise ValueError(f"{name} must be a decimal string, an int or a Decimal")
    try:
        result = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{name} is not a number: {value!r}") from None
    if not result.is_finite():
        raise ValueError(f"{name} must be finite")
    return result


__all__ = ["Simulator"]
