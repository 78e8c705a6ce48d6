"""WS API requests: from a parsed request frame to its reply (and pushes).

A request is refused as a whole (one reply, ``data`` empty) by the first check
it fails, in this order: its id, its op, its endpoint, login, then (after the
policy had its chance to drop it in flight) ``expTime``, the shape of
``args``, and the rate limits.  Otherwise each item is validated against the
simulator's own rules and executed by the engine, and the reply carries one
item per request item (code 0 / 1 / 2), or ``{"result": ...}`` for mass
cancels.  Which check comes first when several fail is *uncertain* (OKX does
not document it); the order above is ours.

Pushes follow the reply, except that a plain order's ``live`` push may overtake
a reply held back by a fault (OKX pushes it on receipt).  Since mid-August 2026
(log_zh "WebSocket 订单频道推送行为调整", last updated 2026-07-28) a new post-only,
mmp_and_post_only or RPI order is pushed ``live`` only once it rests in the book
(~1 ms later), so never before its reply; one that would cross gets a single
``canceled`` push (the engine never shows it live).  Such a held push is never
overtaken by a later push of the same account.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, Final

from . import codes, protocol
from .clock import SimClock
from .engine import AccountState, Engine, ItemError, Order
from .faults import DropKind
from .policy import Policy, Refusal
from .protocol import OPS, Frame, OpSpec
from .session import Connection, Sessions
from .state import SimState
from .validation import validator_for

Spawn = Callable[[Coroutine[Any, Any, None]], None]
Abort = Callable[[Connection], None]
Frames = list[tuple[Connection, str]]

PLACE_OPS: Final = frozenset({"order", "batch-orders"})
LIVE_AFTER_REPLY: Final = frozenset({"post_only", "mmp_and_post_only", "rpi"})


class WsApi:
    def __init__(
        self,
        state: SimState,
        sessions: Sessions,
        policy: Policy,
        clock: SimClock,
        *,
        abort: Abort,
        spawn: Spawn,
        legacy_inst_id: bool,
        track_request_ids: bool,
    ) -> None:
        self.state = state
        self.sessions = sessions
        self.policy = policy
        self.clock = clock
        self._abort = abort
        self._spawn = spawn
        self.legacy_inst_id = legacy_inst_id
        self.track_request_ids = track_request_ids
        # api_key -> done once every push held for that account so far was delivered.
        self._held: dict[str, asyncio.Future[None]] = {}

    async def handle(self, conn: Connection, frame: Frame) -> bool:
        """Answer one request; False when the connection was dropped instead."""
        in_us = self.clock.now_us()
        st, msg, rid = self.state.stats, frame.msg, frame.rid
        op = msg.get("op")
        st.requests_total += 1
        st.requests_by_op[str(op)] += 1
        refusal = self._check_envelope(conn, rid, op)
        acct = conn.acct
        if refusal is not None or acct is None or not isinstance(op, str):
            return await self._refuse(conn, rid, op, refusal, in_us)
        drop = self.policy.drop(op)
        if drop is DropKind.BEFORE_EXECUTE:
            self._abort(conn)
            return False
        key, now_ms, hooks = acct.account.api_key, in_us // 1000, self.policy.hooks
        refusal = hooks.request(key, op, msg, now_ms)  # may reshape msg: read args after
        args = msg["args"] if isinstance(msg.get("args"), list) else []
        refusal = (
            refusal
            or self._check_args(OPS[op], msg, now_ms)
            or self.policy.throttle(key, op, args, self.state.engine.resolve)
        )
        if refusal is not None:
            hooks.refused(key, op, msg, refusal, now_ms)
            return await self._refuse(conn, rid, op, refusal, in_us, args)
        changed: list[Order] = []
        text = self._execute(acct, rid, op, args, in_us, changed)
        # Rendered before anything is sent: the pushes show this request's result,
        # whatever another request does while the reply is on its way.
        resting = [o for o in changed if op in PLACE_OPS and _live_after_reply(o)]
        prompt = [o for o in changed if o not in resting] if resting else changed
        pushes = self.sessions.render(acct, prompt)
        late = self.sessions.render(acct, resting) if resting else []
        if drop is DropKind.AFTER_EXECUTE:
            self._abort(conn)
            await self.sessions.deliver(pushes + late)
            return False
        delay = self.policy.reply_delay()
        if not delay:
            await conn.ws.send(text)
            await self._deliver(key, pushes)
            await self._deliver(key, late)
            return True
        await self._deliver(key, pushes)
        if late:
            prior, mine = self._hold(key)
            self._spawn(self._reply_then_push(conn, text, delay, late, key, prior, mine))
        else:
            self._spawn(self._send_later(conn, text, delay))
        return True

    async def _refuse(
        self,
        conn: Connection,
        rid: Any,
        op: Any,
        refusal: Refusal | None,
        in_us: int,
        args: list[Any] | None = None,
    ) -> bool:
        """The one reply of a refused request: as a whole (data empty), or, for a passed
        expTime, item by item as OKX does (code 1, each item's sCode)."""
        assert refusal is not None
        self.state.stats.request_errors_by_code[refusal.code] += 1
        if refusal.code == codes.EXPIRED_REQUEST_CODE and args:
            spec = OPS[op]
            items = [
                {k: item.get(k, "") if isinstance(item, dict) else "" for k in spec.echo}
                | {"ordId": "", "sCode": refusal.code, "sMsg": refusal.msg}
                for item in args
            ]
            text = self._reply(rid, op, "1", codes.ALL_FAILED_MSG, items, in_us)
            await conn.ws.send(text)
            return True
        await conn.ws.send(self._reply(rid, op, refusal.code, refusal.msg, [], in_us))
        return True

    def _check_envelope(self, conn: Connection, rid: Any, op: Any) -> Refusal | None:
        if not protocol.valid_id(rid):
            return Refusal(codes.BAD_REQUEST_ID_CODE, "Invalid args: id must be 1-32 alphanumerics")
        if self.track_request_ids:
            self.state.stats.request_ids[rid] += 1
        spec = OPS.get(op) if isinstance(op, str) else None
        if spec is None:
            return Refusal(codes.UNKNOWN_OP_CODE, "Invalid args")
        if spec.connection != conn.kind:
            return Refusal(
                codes.WRONG_CONNECTION_CODE,
                f"Invalid args: op {op} is only supported on /ws/v5/{spec.connection}",
            )
        if conn.acct is None:
            return Refusal(codes.PLEASE_LOG_IN, "Please log in.")
        return None

    @staticmethod
    def _check_args(spec: OpSpec, msg: dict[str, Any], now_ms: int) -> Refusal | None:
        exp = msg.get("expTime")
        if exp is not None:
            try:
                exp_ms = int(exp)
            except (TypeError, ValueError):
                return Refusal(codes.INVALID_ARGS, "Invalid args: expTime")
            if exp_ms < now_ms:
                return Refusal(codes.EXPIRED_REQUEST_CODE, codes.EXPIRED_REQUEST_MSG)
        args = msg.get("args")
        if not isinstance(args, list) or not args:
            return Refusal(codes.INVALID_ARGS, "Invalid args")
        if len(args) > spec.max_items:
            return Refusal(codes.TOO_MANY_ITEMS_CODE, "Invalid args")
        return None

    def _reply(self, rid: Any, op: Any, code: str, msg: str, data: list[Any], in_us: int) -> str:
        return protocol.reply(rid, op, code, msg, data, in_us, self.clock.now_us())

    def _execute(
        self,
        acct: AccountState,
        rid: str,
        op: str,
        args: list[Any],
        in_us: int,
        changed: list[Order],
    ) -> str:
        handler = Engine.HANDLERS[op]
        validate = validator_for(op, self.legacy_inst_id)
        engine, st, spec, now_ms = self.state.engine, self.state.stats, OPS[op], in_us // 1000
        if spec.result:
            try:
                item = args[0]
                if not isinstance(item, dict):
                    raise ItemError(codes.PARAM_ERROR, "Parameter args error")
                bad = validate(item)
                if bad is not None:
                    raise ItemError(*bad)
                result = handler(engine, acct, item, now_ms, changed)
            except ItemError as exc:
                st.item_errors_by_code[exc.code] += 1
                st.request_errors_by_code[exc.code] += 1
                return self._reply(rid, op, exc.code, exc.msg, [], in_us)
            return self._reply(rid, op, codes.OK, "", [result], in_us)
        ts = str(now_ms)
        items: list[dict[str, Any]] = []
        failed = 0
        for item in args:
            err: tuple[str, str] | None
            if not isinstance(item, dict):
                item, err = {}, (codes.PARAM_ERROR, "Parameter args error")
            else:
                err = validate(item)
            out: dict[str, Any] = {k: item.get(k, "") for k in spec.echo}
            if spec.has_ts:
                out["ts"] = ts
            if err is None:
                try:
                    out.update(handler(engine, acct, item, now_ms, changed))
                except ItemError as exc:
                    err = (exc.code, exc.msg)
            if err is not None:
                failed += 1
                st.item_errors_by_code[err[0]] += 1
                out["ordId"] = item.get("ordId", "") if "ordId" in spec.echo else ""
                out["sCode"], out["sMsg"] = err
            if op in codes.SUB_CODE_OPS:
                out["subCode"] = codes.NO_SUB_CODE
            items.append(out)
        if failed == 0:
            code, text = codes.OK, ""
        elif failed == len(items):
            code, text = "1", codes.ALL_FAILED_MSG
        else:
            code, text = "2", codes.PARTIAL_MSG
        return self._reply(rid, op, code, text, items, in_us)

    async def _send_later(self, conn: Connection, text: str, delay: float) -> None:
        await asyncio.sleep(delay)
        await self.sessions.send(conn, text)

    # -- pushes held until a reply is out ---------------------------------------------------
    def _hold(self, key: str) -> tuple[asyncio.Future[None] | None, asyncio.Future[None]]:
        """Queue a hold on ``key``'s pushes: (the hold before it or None, the new one)."""
        prior = self._held.get(key)
        mine: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._held[key] = mine
        return (prior if prior is not None and not prior.done() else None), mine

    def _release(self, key: str, mine: asyncio.Future[None]) -> None:
        if not mine.done():
            mine.set_result(None)
        if self._held.get(key) is mine:
            del self._held[key]

    async def _deliver(self, key: str, frames: Frames) -> None:
        """Deliver ``frames`` now, or after the pushes still held for ``key``."""
        if not frames:
            return
        held = self._held.get(key)
        if held is None or held.done():
            await self.sessions.deliver(frames)
            return
        prior, mine = self._hold(key)
        self._spawn(self._push_after(prior, frames, key, mine))

    async def _push_after(
        self,
        prior: asyncio.Future[None] | None,
        frames: Frames,
        key: str,
        mine: asyncio.Future[None],
    ) -> None:
        try:
            if prior is not None:
                await prior
            await self.sessions.deliver(frames)
        finally:
            self._release(key, mine)

    async def _reply_then_push(
        self,
        conn: Connection,
        text: str,
        delay: float,
        late: Frames,
        key: str,
        prior: asyncio.Future[None] | None,
        mine: asyncio.Future[None],
    ) -> None:
        """A held-back reply, then the pushes that must not precede it."""
        try:
            await self._send_later(conn, text, delay)
            if prior is not None:
                await prior
            await self.sessions.deliver(late)
        finally:
            self._release(key, mine)


def _live_after_reply(order: Order) -> bool:
    """A new order whose ``live`` push waits for its reply: a post-only or RPI order
    resting in the book."""
    return order.ord_type in LIVE_AFTER_REPLY and order.state == "live"


__all__ = ["WsApi"]
