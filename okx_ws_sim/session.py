"""Sessions: who is logged in on which connection, what it subscribed to, what it is pushed.

One ``Connection`` per WebSocket; ``Sessions`` keeps them all and does the
per-connection protocol work that is not a WS API request: login, subscribe /
unsubscribe, channel pushes, and the frames a fault sends (notice, malformed).
The policy is asked whether a login must be refused; everything else here is
OKX's behaviour.

Pushes are rendered (``render``: synchronous, every frame built from one state)
and then delivered (``deliver``), so a push never mixes the state before and
after another request.  What each login channel pushes, per OKX's docs:

- ``orders`` / ``sprd-orders``: each changed order (nothing on subscribing);
- ``fills`` / ``sprd-trades``: each fill (nothing on subscribing);
- ``account``: a snapshot on subscribing (eventType ``snapshot``, currencies
  with a balance), then the currencies that moved (``event_update``) on every
  order placed, amended, canceled or filled;
- ``positions``: a snapshot of the open positions, then the positions a fill
  changed (a closed one with pos "0");
- ``balance_and_position``: a snapshot, then the cash balances and positions a
  fill changed (eventType ``filled``).

OKX also re-sends account and position snapshots regularly; the simulator sends
them on subscribing only (as OKX does with ``updateInterval`` "0").
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from . import codes, market_channels, protocol, rules, views
from .auth import LoginError, verify_login
from .clock import SimClock
from .engine import AccountState, Order, Pending, Position
from .faults import FrameCounter
from .instruments import Instrument
from .market import Market
from .policy import Policy
from .protocol import CHANNELS, Frame, FrameKind
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
        market: Market | None = None,
    ) -> None:
        self.state = state
        self.market = market  # serves the market channels (market_channels.py)
        self.policy = policy
        self.clock = clock
        self.timestamp_window = timestamp_window
        self.channel_conn_count = channel_conn_count
        self.conns: set[Connection] = set()
        # api_key -> connections holding a login channel's subscription
        self._subscribed: dict[str, set[Connection]] = {}

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
        if self.market is not None:
            self.market.forget(conn)
        if conn.acct is not None:
            self._subscribed.get(conn.acct.account.api_key, set()).discard(conn)
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
            # Login is accepted on /ws/v5/public too: books-l2-tbt and books50-l2-tbt
            # need it there (market_channels.py).
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
            len(frame.text) > protocol.MAX_SUBSCRIBE_BYTES
            or not isinstance(args, list)
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
            market_rule = market_channels.lookup(conn.kind, channel)
            if market_rule is not None and self.market is not None:
                await self._market_op(conn, frame, market_rule, arg)
                continue
            needs_login = allowed.get(channel)
            if needs_login is None:
                channel_arg = {"channel": channel, "instId": inst_id or ""}
                await self.send_error(conn, codes.CHANNEL_NOT_FOUND, _not_found(channel_arg), rid)
                continue
            if needs_login and conn.acct is None:
                await self.send_error(conn, codes.PLEASE_LOG_IN, "Please log in.", rid)
                continue
            refusal = self._check_arg(arg, frame)
            if refusal is not None:
                await self.send_error(conn, *refusal, rid)
            elif frame.kind is FrameKind.SUBSCRIBE:
                await self._subscribe(conn, arg, rid, needs_login)
            else:
                self.state.stats.unsubscribes += 1
                conn.subs.pop(_sub_key(arg), None)
                await conn.ws.send(protocol.event(op, conn.conn_id, rid, arg=arg))

    async def _market_op(
        self,
        conn: Connection,
        frame: Frame,
        rule: market_channels.MarketChannel,
        arg: dict[str, Any],
    ) -> None:
        """(Un)subscribe a market channel: refusals at once, acks and pushes through the
        market's queue (so no update overtakes a snapshot)."""
        assert self.market is not None
        rid, op = frame.rid, frame.kind.value
        if frame.kind is FrameKind.SUBSCRIBE:
            refusal = self.market.check(conn, rule, arg)
            if refusal is not None:
                await self.send_error(conn, *refusal, rid)
                return
            self.state.stats.subscribes += 1
            ack = protocol.event(op, conn.conn_id, rid, arg=arg)
            self.market.subscribe(conn, rule, arg, ack)
        else:
            if not market_channels.check_keys(rule, arg):
                msg = f"Invalid request: {protocol.excerpt(frame.text)}"
                await self.send_error(conn, codes.SUB_BAD_ARG_CODE, msg, rid)
                return
            self.state.stats.unsubscribes += 1
            self.market.unsubscribe(conn, arg, protocol.event(op, conn.conn_id, rid, arg=arg))
        await self.market.drain()

    def _check_arg(self, arg: dict[str, Any], frame: Frame) -> tuple[str, str] | None:
        """Refuse a login channel's arg that OKX would: keys the channel does not
        document, a required key missing (60012), values it does not know (60018)."""
        channel = arg["channel"]
        rule = rules.CHANNEL_RULES.get(channel)
        if rule is None:
            return None
        invalid = codes.SUB_BAD_ARG_CODE, f"Invalid request: {protocol.excerpt(frame.text)}"
        for key, value in arg.items():
            if key != "channel" and (
                key not in rule.fields or not isinstance(value, str) or not value
            ):
                return invalid
        if any(key not in arg for key in rule.required):
            return invalid
        if not self._known(arg, rule):
            return codes.SUB_BAD_VALUE_CODE, _not_found(arg)
        if channel == "fills" and not codes.SERVE_FILLS_TO_ALL:
            return codes.FILLS_TIER_CODE, codes.FILLS_TIER_MSG
        return None

    def _known(self, arg: dict[str, Any], rule: rules.ChannelRule) -> bool:
        """Every value of ``arg`` names something OKX (the simulator) has."""
        for key, value in arg.items():
            spec = rule.fields.get(key)
            if spec is not None and spec.kind == rules.ENUM and value not in spec.choices:
                return False
        instruments = self.state.engine.instruments
        inst_type = arg.get("instType", "ANY")
        inst_id = arg.get("instId")
        if inst_id is not None:
            inst = instruments.get(inst_id)
            return inst is not None and inst.inst_type != "SPREAD" and _of_type(inst, inst_type)
        family = arg.get("instFamily")
        if family is not None and not any(
            i.inst_family == family and _of_type(i, inst_type) for i in instruments.values()
        ):
            return False
        sprd_id = arg.get("sprdId")
        if sprd_id is not None:
            inst = instruments.get(sprd_id)
            return inst is not None and inst.inst_type == "SPREAD"
        return True

    async def _subscribe(
        self, conn: Connection, arg: dict[str, Any], rid: Any, needs_login: bool
    ) -> None:
        self.state.stats.subscribes += 1
        channel, push_arg = arg["channel"], dict(arg)
        if conn.acct is not None and needs_login:
            push_arg["uid"] = conn.acct.uid
            self._subscribed.setdefault(conn.acct.account.api_key, set()).add(conn)
        conn.subs[_sub_key(arg)] = push_arg
        await conn.ws.send(protocol.event("subscribe", conn.conn_id, rid, arg=arg))
        if self.channel_conn_count and needs_login:
            await conn.ws.send(
                protocol.event("channel-conn-count", conn.conn_id, channel=channel, connCount="1")
            )
        if conn.acct is not None:
            snapshot = self._snapshot(conn.acct, channel, push_arg)
            if snapshot is not None:
                self.state.stats.pushes_sent += 1
                await conn.ws.send(snapshot)

    # -- pushes ---------------------------------------------------------------------------
    def _snapshot(self, acct: AccountState, channel: str, arg: dict[str, Any]) -> str | None:
        """The frame OKX pushes on subscribing to ``channel`` (None: it pushes none)."""
        now = self.clock.now_ms()
        instruments = self.state.engine.instruments
        if channel == "account":
            ccy = arg.get("ccy")
            ccys = [c for c in views.nonzero_ccys(acct) if ccy is None or c == ccy]
            item = views.account_item(acct, ccys, instruments, now)
            return protocol.push(arg, [item], eventType="snapshot", curPage=1, lastPage=True)
        if channel == "positions":
            items = [
                views.position_item(p, instruments, now)
                for p in _open(acct.positions.values())
                if _position_matches(p, arg)
            ]
            return protocol.push(arg, items, eventType="snapshot", curPage=1, lastPage=True)
        if channel == "balance_and_position":
            positions = list(_open(acct.positions.values()))
            item = views.bal_pos_item(
                acct, "snapshot", views.nonzero_ccys(acct), positions, [], now
            )
            return protocol.push(arg, [item])
        return None

    def render(self, acct: AccountState, changed: list[Order]) -> list[tuple[Connection, str]]:
        """Every push the last changes of ``acct`` make: ``changed`` orders and what
        the account noted (fills, balances, positions), taken now even if nobody
        listens.  Synchronous: all frames show one state."""
        if not changed and not acct.pending:
            return []
        now = self.clock.now_ms()
        subs = self._subscribed.get(acct.account.api_key)
        if not subs:
            acct.discard(now)
            return []
        pending = acct.take(now)
        frames: list[tuple[Connection, str]] = []
        orders = list(dict.fromkeys(changed))
        cache: dict[int, dict[str, Any]] = {}  # id(order) -> its push item
        for conn in list(subs):
            for (channel, _), arg in conn.subs.items():
                if channel == "orders" or channel == "sprd-orders":
                    spread = channel == "sprd-orders"
                    for order in orders:
                        if order.is_spread == spread and _matches(order, arg):
                            item = cache.get(id(order))
                            if item is None:
                                item = cache[id(order)] = views.order_push(order)
                            frames.append((conn, protocol.push(arg, [item])))
                elif pending is not None:
                    frames.extend(
                        (conn, text) for text in self._changes(acct, channel, arg, pending, now)
                    )
        self.state.stats.pushes_sent += len(frames)
        return frames

    def _changes(
        self, acct: AccountState, channel: str, arg: dict[str, Any], pending: Pending, now: int
    ) -> Iterable[str]:
        """Pushes of one non-order channel subscription for ``pending``."""
        instruments = self.state.engine.instruments
        if channel == "fills":
            inst_id = arg.get("instId")
            for fill in pending.fills:
                inst = fill.order.inst
                if inst.inst_type != "SPREAD" and (inst_id is None or inst.inst_id == inst_id):
                    yield protocol.push(arg, [views.fill_item(fill)])
        elif channel == "sprd-trades":
            sprd_id = arg.get("sprdId")
            for fill in pending.fills:
                inst = fill.order.inst
                if inst.inst_type == "SPREAD" and (sprd_id is None or inst.inst_id == sprd_id):
                    yield protocol.push(arg, [views.sprd_trade_item(fill, instruments)])
        elif channel == "account":
            ccy = arg.get("ccy")
            ccys = [c for c in sorted(pending.ccys) if ccy is None or c == ccy]
            if ccys:
                item = views.account_item(acct, ccys, instruments, now)
                yield protocol.push(arg, [item], eventType="event_update")
        elif channel == "positions":
            items = [
                views.position_item(p, instruments, now)
                for p in pending.positions.values()
                if _position_matches(p, arg)
            ]
            if items:
                yield protocol.push(arg, items, eventType="event_update")
        elif channel == "balance_and_position" and (pending.cash or pending.positions):
            fills = [f for f in pending.fills if f.order.inst.inst_type != "SPREAD"]
            item = views.bal_pos_item(
                acct,
                codes.BAL_POS_FILLED,
                sorted(pending.cash),
                pending.positions.values(),
                fills,
                now,
            )
            yield protocol.push(arg, [item])

    async def deliver(self, frames: list[tuple[Connection, str]]) -> None:
        """Send rendered pushes, skipping connections that are gone."""
        for conn, text in frames:
            await self.send(conn, text)

    async def push(self, acct: AccountState, changed: list[Order]) -> None:
        """Render and deliver: the pushes of what just changed on ``acct``."""
        frames = self.render(acct, changed)
        if frames:
            await self.deliver(frames)

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


def _not_found(arg: dict[str, Any]) -> str:
    """OKX's 60018 message for a channel arg it does not know."""
    what = ",".join(f"{k}:{v}" for k, v in arg.items())
    return (
        f"Wrong URL or {what} doesn't exist. Please use the correct URL, channel and"
        " parameters referring to API document."
    )


def _of_type(inst: Instrument, inst_type: str) -> bool:
    """Is ``inst`` listed under ``inst_type`` (ANY; MARGIN: a margin-enabled pair)?"""
    return (
        inst_type == "ANY"
        or inst.inst_type == inst_type
        or (inst_type == "MARGIN" and inst.margin_enabled)
    )


def _matches(order: Order, arg: dict[str, Any]) -> bool:
    if order.is_spread:
        sprd_id = arg.get("sprdId")
        return not sprd_id or sprd_id == order.inst.inst_id
    inst_type = arg.get("instType", "ANY")
    if inst_type != "ANY" and inst_type != order.inst_type:
        return False
    fam = arg.get("instFamily")
    if fam and fam != order.inst.inst_family:
        return False
    inst_id = arg.get("instId")
    return not inst_id or inst_id == order.inst.inst_id


def _position_matches(position: Position, arg: dict[str, Any]) -> bool:
    """OKX: instId wins over instFamily when both are given."""
    inst = position.inst
    inst_type = arg.get("instType", "ANY")
    if inst_type != "ANY" and inst_type != inst.inst_type:
        return False
    inst_id = arg.get("instId")
    if inst_id:
        return bool(inst_id == inst.inst_id)
    family = arg.get("instFamily")
    return not family or family == inst.inst_family


def _open(positions: Iterable[Position]) -> Iterable[Position]:
    """Positions with a non-zero quantity (OKX's snapshots hold only those)."""
    return (p for p in positions if p.exposure != 0)


__all__ = ["Connection", "Sessions"]
