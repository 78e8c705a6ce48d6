"""Sessions: who is logged in on which connection, what it subscribed to, what it is pushed.

One ``Connection`` per WebSocket; ``Sessions`` keeps them all and does the
per-connection protocol work that is not a WS API request: login, subscribe /
unsubscribe, order and ticker pushes, and the frames a fault sends (notice,
malformed).  The policy is asked whether a login must be refused; everything
else here is OKX's behaviour.
"""

from __future__ import annotations

import asyncio
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from . import codes, protocol
from .auth import LoginError, verify_login
from .clock import SimClock
from .engine import AccountState, Order, fmt
from .faults import FrameCounter
from .policy import Policy
from .protocol import CHANNELS, ORDER_CHANNELS, Frame, FrameKind
from .state import SimState

SubKey = tuple[str, tuple[tuple[str, Any], ...]]  # (channel, sorted filter items)


class Connection:
    __slots__ = ("ws", "kind", "conn_id", "acct", "last_rx", "frames", "closing", "subs")

    def __init__(self, ws: ServerConnection, kind: str, conn_id: str, now: float) -> None:
        self.ws = ws
        self.kind = kind  # public / private / business
        self.conn_id = conn_id
        self.acct: AccountState | None = None  # set by a successful login
        self.last_rx = now  # loop time of the last inbound frame (idle timeout)
        self.frames = FrameCounter()  # close_after_frames count-down
        self.closing = False
        self.subs: dict[SubKey, dict[str, Any]] = {}  # -> the arg its pushes carry


class Sessions:
    def __init__(
        self,
        state: SimState,
        policy: Policy,
        clock: SimClock,
        *,
        timestamp_window: float,
        channel_conn_count: bool,
    ) -> None:
        self.state = state
        self.policy = policy
        self.clock = clock
        self.timestamp_window = timestamp_window
        self.channel_conn_count = channel_conn_count
        self.conns: set[Connection] = set()
        self._order_subs: dict[str, set[Connection]] = {}  # api_key -> subscribed connections

    def relog(self) -> None:
        """After Simulator.reset(): logged-in connections stay logged in, on the new engine."""
        for conn in self.conns:
            if conn.acct is not None:
                conn.acct = self.state.engine.accounts.get(conn.acct.account.api_key)

    def open(self, ws: ServerConnection, kind: str, conn_id: str, now: float) -> Connection:
        conn = Connection(ws, kind, conn_id, now)
        self.conns.add(conn)
        self.state.stats.connections_opened += 1
        self.state.stats.connections_by_path[kind] += 1
        return conn

    def close(self, conn: Connection) -> None:
        self.conns.discard(conn)
        if conn.acct is not None:
            self._order_subs.get(conn.acct.account.api_key, set()).discard(conn)
        self.policy.forget(conn)
        self.state.stats.connections_closed += 1

    def count(self, kind: str | None = None) -> int:
        return sum(1 for c in self.conns if kind is None or c.kind == kind)

    def idle(self, deadline: float) -> list[Connection]:
        """Connections that received nothing since ``deadline`` (loop time), now marked
        closing: OKX closes them after 30 s (code 4004)."""
        quiet = [c for c in self.conns if c.last_rx < deadline and not c.closing]
        for conn in quiet:
            conn.closing = True
        self.state.stats.idle_closes += len(quiet)
        return quiet

    async def send(self, conn: Connection, text: str) -> bool:
        """Send unless the connection is gone; True when sent."""
        try:
            await conn.ws.send(text)
        except ConnectionClosed:
            return False
        return True

    async def send_error(self, conn: Connection, code: str, msg: str, rid: Any = None) -> None:
        await conn.ws.send(protocol.error(conn.conn_id, code, msg, rid))

    # -- login --------------------------------------------------------------------------
    async def login(self, conn: Connection, frame: Frame) -> None:
        st, rid = self.state.stats, frame.rid
        try:
            if conn.kind == "public":
                raise LoginError(
                    codes.LOGIN_ON_PUBLIC_CODE,
                    "Invalid request: login is not supported on /ws/v5/public",
                )
            refusal = self.policy.login_refusal()
            account = verify_login(
                frame.msg.get("args"),
                self.state.accounts,
                self.clock.now_s(),
                self.timestamp_window,
            )
            if refusal is not None:
                raise LoginError(refusal, "Login failed.")
        except LoginError as exc:
            st.logins_failed += 1
            st.login_failures_by_code[exc.code] += 1
            await self.send_error(conn, exc.code, exc.msg, rid)
            if codes.CLOSE_ON_LOGIN_FAILURE and conn.kind != "public":
                await conn.ws.close()
            return
        st.logins_ok += 1
        conn.acct = self.state.engine.accounts[account.api_key]
        await conn.ws.send(protocol.event("login", conn.conn_id, rid, code="0", msg=""))

    # -- subscriptions ----------------------------------------------------------------------
    async def subscribe(self, conn: Connection, frame: Frame) -> None:
        """subscribe / unsubscribe: one ack or error per arg, in order."""
        op, rid, args = frame.kind.value, frame.rid, frame.msg.get("args")
        if (
            not isinstance(args, list)
            or not args
            or not all(isinstance(a, dict) and isinstance(a.get("channel"), str) for a in args)
        ):
            await self.send_error(
                conn, codes.INVALID_REQUEST, f"Invalid request: {protocol.excerpt(frame.text)}", rid
            )
            return
        allowed = CHANNELS[conn.kind]
        for arg in args:
            channel, inst_id = arg["channel"], arg.get("instId")
            needs_login = allowed.get(channel)
            if needs_login is None or (
                channel == "tickers" and inst_id not in self.state.engine.instruments
            ):
                msg = f"Wrong URL or channel:{channel},instId:{inst_id or ''} doesn't exist."
                await self.send_error(conn, codes.CHANNEL_NOT_FOUND, msg, rid)
            elif needs_login and conn.acct is None:
                await self.send_error(conn, codes.PLEASE_LOG_IN, "Please log in.", rid)
            elif frame.kind is FrameKind.SUBSCRIBE:
                await self._subscribe(conn, arg, rid, needs_login)
            else:
                self.state.stats.unsubscribes += 1
                conn.subs.pop(_sub_key(arg), None)
                await conn.ws.send(protocol.event(op, conn.conn_id, rid, arg=arg))

    async def _subscribe(
        self, conn: Connection, arg: dict[str, Any], rid: Any, needs_login: bool
    ) -> None:
        self.state.stats.subscribes += 1
        channel, push_arg = arg["channel"], dict(arg)
        if conn.acct is not None and channel in ORDER_CHANNELS:
            push_arg["uid"] = conn.acct.uid
            self._order_subs.setdefault(conn.acct.account.api_key, set()).add(conn)
        conn.subs[_sub_key(arg)] = push_arg
        await conn.ws.send(protocol.event("subscribe", conn.conn_id, rid, arg=arg))
        if self.channel_conn_count and needs_login:
            await conn.ws.send(
                protocol.event("channel-conn-count", conn.conn_id, channel=channel, connCount="1")
            )
        if channel == "tickers":
            await self._push_ticker(conn, push_arg)

    # -- pushes ---------------------------------------------------------------------------
    async def _push_ticker(self, conn: Connection, arg: dict[str, Any]) -> None:
        inst = self.state.engine.instruments[arg["instId"]]
        px, depth = fmt(inst.ref_px), fmt(inst.depth)
        data = {
            "instType": inst.inst_type,
            "instId": inst.inst_id,
            "last": px,
            "lastSz": "1",
            "askPx": px,
            "askSz": depth,
            "bidPx": px,
            "bidSz": depth,
            "ts": str(self.clock.now_ms()),
        }
        self.state.stats.pushes_sent += 1
        await conn.ws.send(protocol.push(arg, [data]))

    async def push_orders(self, acct: AccountState, changed: list[Order]) -> None:
        """Push each changed order once to every matching orders / sprd-orders subscription."""
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
                    self.state.stats.pushes_sent += 1
                    await self.send(conn, protocol.push(arg, [data]))

    # -- frames a fault sends -----------------------------------------------------------
    async def notice(self, conn: Connection, close_after: float) -> None:
        """64008, then a close (1012) ``close_after`` seconds later."""
        frame = protocol.event(
            "notice", conn.conn_id, code=codes.NOTICE_RECONNECT, msg=codes.NOTICE_RECONNECT_MSG
        )
        if await self.send(conn, frame):
            self.state.stats.faults_injected["notice"] += 1
        await asyncio.sleep(close_after)
        conn.closing = True
        await conn.ws.close(protocol.NOTICE_CLOSE_CODE, "service upgrade")

    async def malformed(self, conn: Connection, n: int) -> None:
        for i in range(n):
            if await self.send(conn, protocol.MALFORMED_FRAMES[i % len(protocol.MALFORMED_FRAMES)]):
                self.state.stats.faults_injected["malformed"] += 1


def _sub_key(arg: dict[str, Any]) -> SubKey:
    return arg["channel"], tuple(sorted((k, v) for k, v in arg.items() if k != "channel"))


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


__all__ = ["Connection", "Sessions"]
