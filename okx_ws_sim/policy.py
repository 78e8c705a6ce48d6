"""Policy: what happens to a connection, frame or request before the simulator serves it.

The server asks one question per step (``admit_connection``, ``close_on_frame``,
``swallow_pong``, ``login_refusal``, ``admit_session_op``, ``drop``,
``throttle``, ``reply_delay``, ``rest_fault``) and acts on the answer; the
answer comes from OKX's rate limits (``limits.py``) or from the armed faults
(``faults.py``).  Every fault that fires is counted here, once, in
``stats.faults_injected`` under the same kind name the fault plan tallies as
armed.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Hashable
from typing import Any, NamedTuple

from . import codes
from .clock import SimClock
from .engine import ItemError
from .faults import DropKind, FaultPlan, FrameCounter, RestFault
from .hooks import SimHooks
from .instruments import Instrument
from .limits import Buckets, ItemKey, RateLimits, Scope, op_demands
from .state import SimState

Resolve = Callable[[dict[str, Any]], Instrument]


class Refusal(NamedTuple):
    """A whole request refused: the reply's code and msg (data empty)."""

    code: str
    msg: str


RATE_LIMITED = Refusal(codes.RATE_LIMIT_CODE, codes.RATE_LIMIT_MSG)
SUB_ACCOUNT_LIMITED = Refusal(codes.SUB_ACCOUNT_LIMIT_CODE, codes.SUB_ACCOUNT_LIMIT_MSG)


class Policy:
    def __init__(
        self,
        faults: FaultPlan,
        state: SimState,
        clock: SimClock,
        limits: RateLimits | None,
        rng: random.Random,
    ) -> None:
        self.faults = faults
        self.state = state
        self.clock = clock
        self.limits = limits
        self._rng = rng
        sliding = limits.sliding if limits is not None else codes.SLIDING_WINDOWS
        self._buckets = Buckets(sliding)
        self.hooks = SimHooks()  # told each decision (okx_ws_sim.hooks)

    @property
    def peaks(self) -> dict[str, tuple[int, int]]:
        """Per limit, its highest use of one window so far and the window's count."""
        return dict(self._buckets.peaks)

    def reset(self) -> None:
        """Forget every rate-limit count (``Simulator.reset()``)."""
        self._buckets.clear()

    # -- connections ------------------------------------------------------------------
    def admit_connection(self, ip: str) -> bool:
        """May this WebSocket connection request from ``ip`` be accepted (3 / s per IP)?"""
        admitted = self.limits is None or self._buckets.admit(
            self.clock.monotonic(), [(("connect", ip), self.limits.connect, 1)]
        )
        self.hooks.connection(ip, admitted)
        return admitted

    def admit_session_op(self, connection: Hashable) -> bool:
        """May one more login / subscribe / unsubscribe run on ``connection`` (480 / hour)?"""
        if self.limits is None:
            return True
        demand = (("session", connection), self.limits.session_ops, 1)
        return self._buckets.admit(self.clock.monotonic(), [demand])

    def forget(self, connection: Hashable) -> None:
        """``connection`` closed: drop its counters."""
        self._buckets.discard(("session", connection))

    # -- frames -----------------------------------------------------------------------
    def close_on_frame(self, counter: FrameCounter) -> bool:
        """Must the connection owning ``counter`` be aborted on this frame?"""
        if not (self.faults.active and self.faults.take_close(counter)):
            return False
        self.state.stats.faults_injected["close_after_frames"] += 1
        return True

    def swallow_pong(self) -> bool:
        if not self.faults.pongs_swallowed:
            return False
        self.state.stats.faults_injected["swallow_pong"] += 1
        return True

    def login_refusal(self) -> str | None:
        """The code a login must fail with although its credentials are good, or None."""
        code = self.faults.take_refusal() if self.faults.active else None
        if code is not None:
            self.state.stats.faults_injected["refuse_login"] += 1
        return code

    # -- WS API requests ----------------------------------------------------------------
    def drop(self, op: str) -> DropKind | None:
        """Is this request lost in flight, and where?"""
        faults = self.faults
        kind = faults.take_drop(op) if faults.active and faults.drops else None
        if kind is not None:
            self.state.stats.faults_injected[kind.value] += 1
        return kind

    def throttle(self, api_key: str, op: str, args: list[Any], resolve: Resolve) -> Refusal | None:
        """Refuse the request if it exceeds its op's limit (50011) or the sub-account
        ceiling (50061); otherwise count it.  A refused request counts toward nothing."""
        limits = self.limits
        if limits is None:
            return None
        spec = limits.ops.get(op)
        if spec is None:
            return None
        if spec.scope is Scope.INSTRUMENT or spec.sub_account:
            items = [_item_key(item, resolve) for item in args]
        else:
            items = [ItemKey(None)] * len(args)
        per_op, sub_account = op_demands(limits, api_key, op, items)
        now, buckets = self.clock.monotonic(), self._buckets
        if buckets.full(now, per_op):
            refusal = RATE_LIMITED
        elif buckets.full(now, sub_account):
            refusal = SUB_ACCOUNT_LIMITED
        else:
            buckets.take(now, per_op + sub_account)
            return None
        self.state.stats.rate_limited += 1
        return refusal

    def reply_delay(self) -> float:
        """Seconds to hold this reply back (delay_replies), 0.0 for none."""
        faults = self.faults
        if not (faults.delay or faults.jitter):
            return 0.0
        self.state.stats.faults_injected["delay_reply"] += 1
        return faults.delay + (self._rng.uniform(0, faults.jitter) if faults.jitter else 0.0)

    # -- REST ------------------------------------------------------------------------
    def rest_fault(self, path: str) -> RestFault | None:
        fault = self.faults.take_rest_fault(path) if self.faults.rest_faults else None
        if fault is not None:
            self.state.stats.faults_injected[f"rest_{fault.kind}"] += 1
        return fault


def _item_key(item: Any, resolve: Resolve) -> ItemKey:
    """The instrument (options: family) an item counts against; an item that names
    no known instrument counts against what it names (it fails later anyway)."""
    if not isinstance(item, dict):
        return ItemKey(None)
    try:
        inst = resolve(item)
    except ItemError:
        return ItemKey(("unknown", repr(item.get("instIdCode", item.get("instId")))))
    scope = inst.inst_family if inst.inst_type == "OPTION" else inst.inst_id
    return ItemKey(
        (inst.inst_type, scope), inst.inst_type not in codes.SUB_ACCOUNT_EXEMPT_INST_TYPES
    )


__all__ = ["RATE_LIMITED", "SUB_ACCOUNT_LIMITED", "Policy", "Refusal"]
