"""The simulator's WebSocket server: connections, routing, ping, idle, pushes.

One port serves ``/ws/v5/public``, ``/ws/v5/private`` and ``/ws/v5/business``
(query strings ignored), plus the REST GETs of ``rest.ROUTES``, answered as
plain HTTP before any handshake; anything else gets HTTP 404.  The per-request
path is one ``json.loads``, a few dict look-ups, the engine call and one
``json.dumps``; no task is created per request unless a fault asks for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
import weakref
from collections import deque
from collections.abc import Iterable
from http import HTTPStatus
from typing import Any, Final

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from . import codes, rest
from .auth import Account, LoginError, default_account, verify_login
from .engine import AccountState, Engine, ItemError, Order, fmt
from .faults import FaultPlan
from .instruments import Instrument, default_instruments
from .stats import SimStats
from .validation import validator_for

PATHS: Final = {
    "/ws/v5/public": "public",
    "/ws/v5/private": "private",
    "/ws/v5/business": "business",
}

# op -> (connection kind, max items per request)
OPS: Final[dict[str, tuple[str, int]]] = {
    "order": ("private", 1),
    "batch-orders": ("private", 20),
    "cancel-order": ("private", 1),
    "batch-cancel-orders": ("private", 20),
    "amend-order": ("private", 1),
    "batch-amend-orders": ("private", 20),
    "mass-cancel": ("private", 1),
    "sprd-order": ("business", 1),
    "sprd-amend-order": ("business", 1),
    "sprd-cancel-order": ("business", 1),
    "sprd-mass-cancel": ("business", 1),
}
# Fields each op's reply item echoes from the request, in OKX's order; True = has ts.
ECHO: Final[dict[str, tuple[tuple[str, ...], bool]]] = {
    "order": (("clOrdId", "ordId", "tag"), True),
    "batch-orders": (("clOrdId", "ordId", "tag"), True),
    "cancel-order": (("clOrdId", "ordId"), True),
    "batch-cancel-orders": (("clOrdId", "ordId"), True),
    "amend-order": (("clOrdId", "ordId", "reqId"), True),
    "batch-amend-orders": (("clOrdId", "ordId", "reqId"), True),
    "sprd-order": (("clOrdId", "ordId", "tag"), False),
    "sprd-amend-order": (("clOrdId", "ordId", "reqId"), False),
    "sprd-cancel-order": (("clOrdId", "ordId"), False),
}
# Ops whose reply item is {"result": bool}; a failure fails the whole request.
RESULT_OPS: Final = frozenset({"mass-cancel", "sprd-mass-cancel"})

# channel -> needs login, per connection kind.  Only orders / sprd-orders push
# order updates and tickers pushes one snapshot; the others are acked only.
CHANNELS: Final[dict[str, dict[str, bool]]] = {
    "public": {
        "tickers": False,
        "instruments": False,
        "trades": False,
        "books": False,
        "books5": False,
        "bbo-tbt": False,
        "mark-price": False,
    },
    "private": {"orders": True, "account": True, "positions": True, "balance_and_position": True},
    "business": {"sprd-orders": True, "sprd-trades": True, "candle1m": False},
}
ORDER_CHANNELS: Final = {"orders": "private", "sprd-orders": "business"}
# Close code of an idle connection: *uncertain* (OKX's is undocumented; reports
# show clients seeing 1006).  4004 "No data received in 30s." is our choice.
IDLE_CLOSE_CODE: Final = 4004
# Close code after the 64008 notice: *uncertain*, 1012 (service restart).
NOTICE_CLOSE_CODE: Final = 1012
MALFORMED_FRAMES: Final = ("{not json", '{"unexpected": true}')
MAX_ID_LEN: Final = 32
# Rate limits (Simulator(rate_limits=True)): op group -> (requests, window s).
# Per account and op group rather than per instrument (*uncertain*, simpler).
RATE_LIMITS: Final[dict[str, tuple[int, float]]] = {
    "order": (60, 2.0),
    "batch-orders": (300, 2.0),
    "cancel-order": (60, 2.0),
    "batch-cancel-orders": (300, 2.0),
    "amend-order": (60, 2.0),
    "batch-amend-orders": (300, 2.0),
    "mass-cancel": (5, 2.0),
    "sprd-order": (20, 2.0),
    "sprd-amend-order": (20, 2.0),
    "sprd-cancel-order": (20, 2.0),
    "sprd-mass-cancel": (20, 2.0),
}

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
_loads = json.loads


class _Conn:
    __slots__ = (
        "ws",
        "kind",
        "conn_id",
        "acct",
        "last_rx",
        "frames_left",
        "close_epoch",
        "closing",
        "subs",
    )

    def __init__(self, ws: ServerConnection, kind: str, conn_id: str, now: float) -> None:
        self.ws = ws
        self.kind = kind
        self.conn_id = conn_id
        self.acct: AccountState | None = None
        self.last_rx = now
        self.frames_left = 0
        self.close_epoch = -1
        self.closing = False
        # (channel, sorted filter items) -> push arg
        self.subs: dict[tuple[str, tuple[tuple[str, Any], ...]], dict[str, Any]] = {}


def _valid_id(rid: Any) -> bool:
    return isinstance(rid, str) and 0 < len(rid) <= MAX_ID_LEN and rid.isascii() and rid.isalnum()


class Simulator:
    """An OKX-compatible WebSocket server on loopback.  See the package docstring."""

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
        rate_limits: bool = False,
        channel_conn_count: bool = False,
        track_request_ids: bool = True,
        legacy_inst_id: bool = False,
    ) -> None:
        self.host = host
        self.port = port
        self.idle_timeout = idle_timeout
        self.timestamp_window = timestamp_window
        self.rate_limits = rate_limits
        self.channel_conn_count = channel_conn_count
        # stats.request_ids grows by one entry per distinct id: turn off for
        # multi-million-request benchmarks.
        self.track_request_ids = track_request_ids
        # True: order/amend/cancel items may carry only instId, as before OKX's
        # 2026 switch to instIdCode (for testing old bots).  False: OKX today.
        self.legacy_inst_id = legacy_inst_id
        self._initial_accounts = list(accounts) if accounts is not None else [default_account()]
        # The listing: add/remove_instrument change it and reset() keeps it.
        self._instruments = dict(instruments) if instruments is not None else default_instruments()
        self._rng = random.Random(seed)
        self.engine = Engine(self._initial_accounts, self._instruments)
        # Headers (names lower-cased) of the last REST request answered by a route.
        self.rest_last_headers: dict[str, str] = {}
        # Set on stop/restart: ends every REST request held by hang_rest().
        self._rest_release = asyncio.Event()
        self.accounts: dict[str, Account] = {a.api_key: a for a in self._initial_accounts}
        self.faults = FaultPlan(self._on_fault_action)
        self.stats = SimStats()
        self._server: Server | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._conns: set[_Conn] = set()
        # Every accepted socket, handshake done or not: websockets aborts a failed
        # handshake only on Exception, not on cancellation, so stop() sweeps these.
        self._sockets: weakref.WeakSet[ServerConnection] = weakref.WeakSet()
        self._server_closed = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._sweeper: asyncio.Task[None] | None = None
        # api_key -> connections with an orders / sprd-orders subscription
        self._order_subs: dict[str, set[_Conn]] = {}
        self._rate: dict[tuple[str, str], deque[float]] = {}

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
        return self._server is not None

    async def start(self) -> None:
        if self._server is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._rest_release = asyncio.Event()
        self._server = await serve(
            self._handler,
            self.host,
            self.port,
            process_request=self._process_request,
            ping_interval=None,  # OKX keep-alive is the text "ping"
            compression=None,
            close_timeout=1.0,
            max_queue=256,
            create_connection=self._connection_class(),
        )
        self.port = self._server.sockets[0].getsockname()[1]
        if self._sweeper is None:
            self._sweeper = self._loop.create_task(self._sweep())

    def _connection_class(self) -> type[ServerConnection]:
        """A ServerConnection that registers itself in ``self._sockets``.

        One class per listening server: once that server is closed, a socket it
        had already accepted but not yet set up is aborted as soon as it is
        made, instead of lingering unread until the GC finds it.
        """
        registry = self._sockets
        server_closed = self._server_closed = asyncio.Event()

        class TrackedConnection(ServerConnection):
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, **kwargs)
                registry.add(self)

            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                super().connection_made(transport)
                if server_closed.is_set():
                    transport.abort()  # type: ignore[attr-defined]

        return TrackedConnection

    async def _abort_leftovers(self) -> None:
        for connection in list(self._sockets):
            transport = getattr(connection, "transport", None)  # set by connection_made
            if transport is not None and not transport.is_closing():
                transport.abort()
        # abort() closes the socket in a call_soon callback: let it run, or a loop
        # stopped right after this leaves the socket to the GC (ResourceWarning).
        await asyncio.sleep(0)
        await asyncio.sleep(0)

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            await asyncio.gather(self._sweeper, return_exceptions=True)
            self._sweeper = None
        await self._close_server()
        while self._tasks:
            tasks = list(self._tasks)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        await self._abort_leftovers()

    async def _close_server(self) -> None:
        server, self._server = self._server, None
        self._rest_release.set()  # held REST requests end now, or close() waits for them
        if server is not None:
            self._server_closed.set()
            server.close()
            await server.wait_closed()

    async def restart(self, down_for: float = 0.0) -> None:
        """Stop listening (every connection drops, close code 1001) and listen again on
        the same port, after ``down_for`` seconds.  State (orders, balances) is kept."""
        self.stats.faults_injected["restart"] += 1
        await self._close_server()
        await self._abort_leftovers()
        if down_for > 0:
            await asyncio.sleep(down_for)
        await self.start()

    async def __aenter__(self) -> Simulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def reset(self) -> None:
        """Clear faults, counters, orders and balances (back to the initial accounts)."""
        self.faults.reset()
        self.stats = SimStats()
        # ordIds keep growing across resets: a client may still hold old ones
        self.engine = Engine(
            self._initial_accounts, self._instruments, first_ord_id=self.engine.last_ord_id
        )
        self.accounts = {a.api_key: a for a in self._initial_accounts}
        self._rate.clear()
        self.rest_last_headers = {}
        for conn in self._conns:
            if conn.acct is not None:
                conn.acct = self.engine.accounts.get(conn.acct.account.api_key)

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
        return self.engine.balances(api_key or self._initial_accounts[0].api_key)

    def connection_count(self, kind: str | None = None) -> int:
        return sum(1 for c in self._conns if kind is None or c.kind == kind)

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
        return inst

    def remove_instrument(self, inst_id: str) -> Instrument:
        """Delist ``inst_id`` (KeyError if not listed): it leaves the REST listing,
        its code answers 51001, its live orders are canceled (and pushed)."""
        inst, changed = self.engine.remove_instrument(inst_id, time.time_ns() // 1_000_000)
        self._instruments.pop(inst_id, None)
        if changed and self._loop is not None and self._server is not None:
            for acct in self.engine.accounts.values():
                mine = [o for o in changed if o.uid == acct.uid]
                if mine:
                    self._spawn(self._push_orders(acct, mine))
        return inst

    # -- REST ----------------------------------------------------------------------------
    def rest_calls(self, path: str | None = None, inst_type: str | None = None) -> int:
        """REST requests answered by a route (faulted ones excluded) since start or
        ``reset()``: all, or those to ``path``, or with query ``instType=inst_type``."""
        total = 0
        for key, n in self.stats.rest_calls.items():
            key_path, _, key_type = key.partition("?instType=")
            if (path is None or key_path == path) and (inst_type is None or key_type == inst_type):
                total += n
        return total

    async def _answer_rest(
        self, connection: ServerConnection, route: rest.Route, path: str, request: Request
    ) -> Response:
        st = self.stats
        fault = self.faults.take_rest_fault(path) if self.faults.rest_faults else None
        if fault is not None:
            kind, value = fault
            if kind == "fail":
                st.faults_injected["rest_fail"] += 1
                return rest.json_response(int(value), rest.unavailable_body())
            st.faults_injected["rest_hang"] += 1
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._rest_release.wait(), value)
            connection.transport.abort()  # no answer at all; the response below is never sent
            return connection.respond(HTTPStatus.SERVICE_UNAVAILABLE, "")
        query = rest.parse_query(request.path.partition("?")[2])
        headers = {name.lower(): value for name, value in request.headers.raw_items()}
        answer = route(
            rest.RestRequest(
                path, query, headers, self.engine, time.time_ns() // 1_000_000, self.accounts
            )
        )
        st.rest_calls[f"{path}?instType={query.get('instType', '')}"] += 1
        if headers.get("x-simulated-trading") == "1":
            st.rest_simulated_trading += 1
        self.rest_last_headers = headers
        return rest.json_response(answer.http_status, answer.body())

    # -- connections ---------------------------------------------------------------------
    async def _process_request(
        self, connection: ServerConnection, request: Request
    ) -> Response | None:
        path = request.path.partition("?")[0]
        route = rest.ROUTES.get(path)
        if route is not None:
            return await self._answer_rest(connection, route, path, request)
        if path.rstrip("/") not in PATHS:
            self.stats.connections_rejected += 1
            return connection.respond(HTTPStatus.NOT_FOUND, "Not Found\n")
        return None

    async def _handler(self, ws: ServerConnection) -> None:
        kind = PATHS[ws.request.path.partition("?")[0].rstrip("/")] if ws.request else "public"
        assert self._loop is not None
        conn = _Conn(ws, kind, f"{self._rng.getrandbits(32):08x}", self._loop.time())
        self._conns.add(conn)
        st = self.stats
        st.connections_opened += 1
        st.connections_by_path[kind] += 1
        try:
            async for message in ws:
                if not await self._on_frame(conn, message):
                    break
        except ConnectionClosed:
            pass
        finally:
            self._conns.discard(conn)
            self._forget_subs(conn)
            self.stats.connections_closed += 1
            # Cancelled handlers skip websockets' own cleanup; never leave the
            # socket to the GC (a paused reader is not even held by the loop).
            if not ws.transport.is_closing():
                ws.transport.abort()

    def _abort(self, conn: _Conn) -> None:
        conn.closing = True
        conn.ws.transport.abort()

    async def _send(self, conn: _Conn, text: str) -> None:
        try:
            await conn.ws.send(text)
        except ConnectionClosed:
            pass

    def _spawn(self, coro: Any) -> None:
        assert self._loop is not None
        task = self._loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _sweep(self) -> None:
        assert self._loop is not None
        interval = min(max(self.idle_timeout / 5, 0.01), 1.0)
        while True:
            await asyncio.sleep(interval)
            deadline = self._loop.time() - self.idle_timeout
            for conn in list(self._conns):
                if conn.last_rx < deadline and not conn.closing:
                    conn.closing = True
                    self.stats.idle_closes += 1
                    self._spawn(conn.ws.close(IDLE_CLOSE_CODE, "No data received in 30s."))

    # -- frames --------------------------------------------------------------------------
    async def _on_frame(self, conn: _Conn, message: str | bytes) -> bool:
        """Handle one inbound frame; False means the connection was dropped."""
        assert self._loop is not None
        conn.last_rx = self._loop.time()
        st = self.stats
        st.frames_received += 1
        faults = self.faults
        if faults.active and faults.close_after_n is not None:
            if conn.close_epoch != faults.close_epoch:
                conn.close_epoch = faults.close_epoch
                conn.frames_left = faults.close_after_n
            conn.frames_left -= 1
            if conn.frames_left <= 0:
                if not faults.close_each:
                    faults.close_after_n = None
                    faults._refresh()
                st.faults_injected["close_after_frames"] += 1
                self._abort(conn)
                return False
        if isinstance(message, bytes):
            message = message.decode("utf-8", "replace")
        if message == "ping":
            st.pings += 1
            if faults.pongs_swallowed:
                st.faults_injected["swallow_pong"] += 1
                return True
            st.pongs_sent += 1
            await conn.ws.send("pong")
            return True
        try:
            msg = _loads(message)
        except ValueError:
            msg = None
        if not isinstance(msg, dict):
            st.malformed_received += 1
            await self._send_event_error(
                conn, codes.INVALID_REQUEST, f"Invalid request: {message[:200]}"
            )
            return True
        op = msg.get("op")
        if op == "login":
            await self._on_login(conn, msg)
        elif op == "subscribe" or op == "unsubscribe":
            await self._on_subscribe(conn, msg, op)
        elif "id" in msg:
            return await self._on_request(conn, msg, op)
        else:
            await self._send_event_error(
                conn, codes.INVALID_REQUEST, f"Invalid request: {message[:200]}"
            )
        return True

    async def _send_event_error(self, conn: _Conn, code: str, msg: str, rid: Any = None) -> None:
        frame: dict[str, Any] = {"event": "error", "code": code, "msg": msg, "connId": conn.conn_id}
        if rid is not None:
            frame["id"] = rid
        await conn.ws.send(_dumps(frame))

    async def _on_login(self, conn: _Conn, msg: dict[str, Any]) -> None:
        st = self.stats
        rid = msg.get("id")
        if conn.kind == "public":
            st.logins_failed += 1
            st.login_failures_by_code[codes.LOGIN_ON_PUBLIC_CODE] += 1
            await self._send_event_error(
                conn,
                codes.LOGIN_ON_PUBLIC_CODE,
                "Invalid request: login is not supported on /ws/v5/public",
                rid,
            )
            return
        refusal = self.faults.take_refusal() if self.faults.active else None
        try:
            account = verify_login(
                msg.get("args"), self.accounts, time.time(), self.timestamp_window
            )
            if refusal is not None:
                st.faults_injected["refuse_login"] += 1
                raise LoginError(refusal, "Login failed.")
        except LoginError as exc:
            st.logins_failed += 1
            st.login_failures_by_code[exc.code] += 1
            await self._send_event_error(conn, exc.code, exc.msg, rid)
            if codes.CLOSE_ON_LOGIN_FAILURE:
                await conn.ws.close()
            return
        st.logins_ok += 1
        conn.acct = self.engine.accounts[account.api_key]
        reply: dict[str, Any] = {"event": "login", "code": "0", "msg": "", "connId": conn.conn_id}
        if rid is not None:
            reply["id"] = rid
        await conn.ws.send(_dumps(reply))

    async def _on_subscribe(self, conn: _Conn, msg: dict[str, Any], op: str) -> None:
        rid = msg.get("id")
        args = msg.get("args")
        if (
            not isinstance(args, list)
            or not args
            or not all(isinstance(a, dict) and isinstance(a.get("channel"), str) for a in args)
        ):
            await self._send_event_error(
                conn, codes.INVALID_REQUEST, f"Invalid request: {_dumps(msg)[:200]}", rid
            )
            return
        allowed = CHANNELS[conn.kind]
        for arg in args:
            channel = arg["channel"]
            needs_login = allowed.get(channel)
            inst_id = arg.get("instId")
            if needs_login is None or (
                channel == "tickers" and inst_id not in self.engine.instruments
            ):
                await self._send_event_error(
                    conn,
                    codes.CHANNEL_NOT_FOUND,
                    f"Wrong URL or channel:{channel},instId:{inst_id or ''} doesn't exist.",
                    rid,
                )
                continue
            if needs_login and conn.acct is None:
                await self._send_event_error(conn, codes.PLEASE_LOG_IN, "Please log in.", rid)
                continue
            key = (channel, tuple(sorted((k, v) for k, v in arg.items() if k != "channel")))
            ack: dict[str, Any] = {"event": op, "arg": arg, "connId": conn.conn_id}
            if rid is not None:
                ack["id"] = rid
            if op == "subscribe":
                self.stats.subscribes += 1
                push_arg = dict(arg)
                if conn.acct is not None and channel in ORDER_CHANNELS:
                    push_arg["uid"] = conn.acct.uid
                    self._order_subs.setdefault(conn.acct.account.api_key, set()).add(conn)
                conn.subs[key] = push_arg
                await conn.ws.send(_dumps(ack))
                if self.channel_conn_count and needs_login:
                    await conn.ws.send(
                        _dumps(
                            {
                                "event": "channel-conn-count",
                                "channel": channel,
                                "connCount": "1",
                                "connId": conn.conn_id,
                            }
                        )
                    )
                if channel == "tickers":
                    await self._push_ticker(conn, push_arg)
            else:
                self.stats.unsubscribes += 1
                conn.subs.pop(key, None)
                await conn.ws.send(_dumps(ack))

    async def _push_ticker(self, conn: _Conn, arg: dict[str, Any]) -> None:
        inst = self.engine.instruments[arg["instId"]]
        px = fmt(inst.ref_px)
        data = {
            "instType": inst.inst_type,
            "instId": inst.inst_id,
            "last": px,
            "lastSz": "1",
            "askPx": px,
            "askSz": fmt(inst.depth),
            "bidPx": px,
            "bidSz": fmt(inst.depth),
            "ts": str(time.time_ns() // 1_000_000),
        }
        self.stats.pushes_sent += 1
        await conn.ws.send(_dumps({"arg": arg, "data": [data]}))

    def _forget_subs(self, conn: _Conn) -> None:
        if conn.acct is not None:
            subs = self._order_subs.get(conn.acct.account.api_key)
            if subs is not None:
                subs.discard(conn)

    # -- WS API requests -----------------------------------------------------------------
    def _error_reply(self, rid: Any, op: Any, code: str, msg: str, in_us: int) -> str:
        self.stats.request_errors_by_code[code] += 1
        return _dumps(
            {
                "id": rid,
                "op": op,
                "code": code,
                "msg": msg,
                "data": [],
                "inTime": str(in_us),
                "outTime": str(time.time_ns() // 1000),
            }
        )

    async def _on_request(self, conn: _Conn, msg: dict[str, Any], op: Any) -> bool:
        in_us = time.time_ns() // 1000
        st = self.stats
        rid = msg["id"]
        st.requests_total += 1
        st.requests_by_op[str(op)] += 1
        if not _valid_id(rid):
            await conn.ws.send(
                self._error_reply(
                    rid,
                    op,
                    codes.BAD_REQUEST_ID_CODE,
                    "Invalid args: id must be 1-32 alphanumerics",
                    in_us,
                )
            )
            return True
        if self.track_request_ids:
            st.request_ids[rid] += 1
        spec = OPS.get(op) if isinstance(op, str) else None
        if spec is None:
            await conn.ws.send(
                self._error_reply(rid, op, codes.UNKNOWN_OP_CODE, "Invalid args", in_us)
            )
            return True
        if spec[0] != conn.kind:
            await conn.ws.send(
                self._error_reply(
                    rid,
                    op,
                    codes.WRONG_CONNECTION_CODE,
                    f"Invalid args: op {op} is only supported on /ws/v5/{spec[0]}",
                    in_us,
                )
            )
            return True
        acct = conn.acct
        if acct is None:
            await conn.ws.send(
                self._error_reply(rid, op, codes.PLEASE_LOG_IN, "Please log in.", in_us)
            )
            return True
        drop = None
        faults = self.faults
        if faults.active:
            drop = faults.take_drop(op) if faults.drops else None
            if drop == "before":
                st.faults_injected["drop_request"] += 1
                self._abort(conn)
                return False
        now_ms = in_us // 1000
        exp = msg.get("expTime")
        if exp is not None:
            try:
                exp_ms = int(exp)
            except (TypeError, ValueError):
                await conn.ws.send(
                    self._error_reply(rid, op, codes.INVALID_ARGS, "Invalid args: expTime", in_us)
                )
                return True
            if exp_ms < now_ms:
                await conn.ws.send(
                    self._error_reply(
                        rid, op, codes.EXPIRED_REQUEST_CODE, codes.EXPIRED_REQUEST_MSG, in_us
                    )
                )
                return True
        args = msg.get("args")
        if not isinstance(args, list) or not args or len(args) > spec[1]:
            code = (
                codes.TOO_MANY_ITEMS_CODE if isinstance(args, list) and args else codes.INVALID_ARGS
            )
            await conn.ws.send(self._error_reply(rid, op, code, "Invalid args", in_us))
            return True
        if self.rate_limits and self._rate_limited(acct.account.api_key, op, len(args)):
            st.rate_limited += 1
            await conn.ws.send(
                self._error_reply(rid, op, codes.RATE_LIMIT_CODE, codes.RATE_LIMIT_MSG, in_us)
            )
            return True

        changed: list[Order] = []
        text = self._execute(acct, rid, op, args, now_ms, in_us, changed)
        if drop == "after":
            st.faults_injected["drop_reply"] += 1
            self._abort(conn)
            await self._push_orders(acct, changed)
            return False
        if faults.delay or faults.jitter:
            st.faults_injected["delay_reply"] += 1
            delay = faults.delay + (self._rng.uniform(0, faults.jitter) if faults.jitter else 0.0)
            self._spawn(self._send_later(conn, text, delay))
        else:
            await conn.ws.send(text)
        if changed:
            await self._push_orders(acct, changed)
        return True

    def _execute(
        self,
        acct: AccountState,
        rid: str,
        op: str,
        args: list[Any],
        now_ms: int,
        in_us: int,
        changed: list[Order],
    ) -> str:
        handler = Engine.HANDLERS[op]
        validate = validator_for(op, self.legacy_inst_id)
        engine = self.engine
        st = self.stats
        if op in RESULT_OPS:
            item = args[0]
            try:
                if not isinstance(item, dict):
                    raise ItemError(codes.PARAM_ERROR, "Parameter args error")
                bad = validate(item)
                if bad is not None:
                    raise ItemError(*bad)
                result = handler(engine, acct, item, now_ms, changed)
            except ItemError as exc:
                st.item_errors_by_code[exc.code] += 1
                return self._error_reply(rid, op, exc.code, exc.msg, in_us)
            return _dumps(
                {
                    "id": rid,
                    "op": op,
                    "code": "0",
                    "msg": "",
                    "data": [result],
                    "inTime": str(in_us),
                    "outTime": str(time.time_ns() // 1000),
                }
            )
        echo, with_ts = ECHO[op]
        ts = str(now_ms)
        items: list[dict[str, Any]] = []
        failed = 0
        err: tuple[str, str] | None
        for item in args:
            if not isinstance(item, dict):
                item = {}
                err = (codes.PARAM_ERROR, "Parameter args error")
            else:
                err = validate(item)
            out: dict[str, Any] = {k: item.get(k, "") for k in echo}
            if with_ts:
                out["ts"] = ts
            if err is None:
                try:
                    out.update(handler(engine, acct, item, now_ms, changed))
                except ItemError as exc:
                    err = (exc.code, exc.msg)
            if err is not None:
                failed += 1
                st.item_errors_by_code[err[0]] += 1
                out["ordId"] = item.get("ordId", "") if "ordId" in echo else ""
                out["sCode"], out["sMsg"] = err
            items.append(out)
        if failed == 0:
            code, text = "0", ""
        elif failed == len(items):
            code, text = "1", codes.ALL_FAILED_MSG
        else:
            code, text = "2", codes.PARTIAL_MSG
        return _dumps(
            {
                "id": rid,
                "op": op,
                "code": code,
                "msg": text,
                "data": items,
                "inTime": str(in_us),
                "outTime": str(time.time_ns() // 1000),
            }
        )

    async def _send_later(self, conn: _Conn, text: str, delay: float) -> None:
        await asyncio.sleep(delay)
        await self._send(conn, text)

    async def _push_orders(self, acct: AccountState, changed: list[Order]) -> None:
        subs = self._order_subs.get(acct.account.api_key)
        if not subs:
            return
        for order in dict.fromkeys(changed):
            data: dict[str, Any] | None = None
            channel = "sprd-orders" if order.is_spread else "orders"
            for conn in list(subs):
                for (ch, _), arg in conn.subs.items():
                    if ch != channel or not _matches(order, arg):
                        continue
                    if data is None:
                        data = order.to_dict()
                    self.stats.pushes_sent += 1
                    await self._send(conn, _dumps({"arg": arg, "data": [data]}))

    def _rate_limited(self, api_key: str, op: str, n_items: int) -> bool:
        limit, window = RATE_LIMITS[op]
        assert self._loop is not None
        now = self._loop.time()
        q = self._rate.setdefault((api_key, op), deque())
        while q and q[0] <= now - window:
            q.popleft()
        cost = n_items if op.startswith("batch-") else 1
        if len(q) + cost > limit:
            return True
        q.extend([now] * cost)
        return False

    # -- fault actions ----------------------------------------------------------------------
    def _on_fault_action(self, kind: str, params: dict[str, Any]) -> None:
        targets = [c for c in self._conns if c.kind in params["kinds"] and not c.closing]
        if kind == "notice":
            for conn in targets:
                self.stats.faults_injected["notice"] += 1
                self._spawn(self._notice(conn, float(params["close_after"])))
        elif kind == "malformed":
            n = int(params["n"])
            for conn in targets:
                self.stats.faults_injected["malformed"] += n
                self._spawn(self._malformed(conn, n))
        else:  # pragma: no cover - FaultPlan only sends the kinds above
            raise ValueError(kind)

    async def _notice(self, conn: _Conn, close_after: float) -> None:
        await self._send(
            conn,
            _dumps(
                {
                    "event": "notice",
                    "code": codes.NOTICE_RECONNECT,
                    "msg": codes.NOTICE_RECONNECT_MSG,
                    "connId": conn.conn_id,
                }
            ),
        )
        await asyncio.sleep(close_after)
        conn.closing = True
        await conn.ws.close(NOTICE_CLOSE_CODE, "service upgrade")

    async def _malformed(self, conn: _Conn, n: int) -> None:
        for i in range(n):
            await self._send(conn, MALFORMED_FRAMES[i % len(MALFORMED_FRAMES)])


def _matches(order: Order, arg: dict[str, Any]) -> bool:
    if order.is_spread:
        sprd_id = arg.get("sprdId")
        return not sprd_id or sprd_id == order.inst.inst_id
    inst_type = arg.get("instType", "ANY")
    if inst_type != "ANY" and inst_type != order.inst.inst_type:
        return False
    fam = arg.get("instFamily")
    if fam and fam != order.inst.inst_family:
        return False
    inst_id = arg.get("instId")
    return not inst_id or inst_id == order.inst.inst_id


__all__ = ["Simulator"]
