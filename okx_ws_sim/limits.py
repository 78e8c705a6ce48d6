"""OKX's rate limits as the simulator enforces them: its own table and counters.

Transcribed from okx-protocol.md "Rate limits" (itself from OKX's docs-v5
"Rate Limits", "Sub-account rate limit", "WS / Place multiple orders" and
"WebSocket / Connect"), never from the client's spec: the simulator is an
independent witness, so a number mistyped on the client side shows up as a
50011 here instead of being agreed on by both sides.  Pure (the caller passes
``now``, a monotonic time in seconds), so every window is testable without
waiting.  Numbers or rules OKX does not pin down are marked *uncertain*; the
answers (codes, HTTP status, window kind) are constants in ``codes.py``.
"""

from __future__ import annotations

import enum
import math
from collections import deque
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final, NamedTuple

from . import codes


@dataclass(frozen=True, slots=True)
class Limit:
    """At most ``count`` per ``window_s`` seconds."""

    count: int
    window_s: float


class Scope(enum.Enum):
    USER = "user"  # per user ID (sub-accounts have their own)
    INSTRUMENT = "instrument"  # per user ID + instId; options: + instrument family


@dataclass(frozen=True, slots=True)
class OpLimit:
    limit: Limit
    scope: Scope = Scope.USER
    per_item: bool = False  # every item of the request counts (batch ops)
    single: str | None = None  # a request of ONE item counts against this op instead
    sub_account: bool = False  # new / amended orders: count toward the sub-account ceiling


_2S: Final = 2.0
OKX_OP_LIMITS: Final[Mapping[str, OpLimit]] = MappingProxyType(
    {
        # 60 requests / 2 s per user + instrument (options: + family).
        "order": OpLimit(Limit(60, _2S), Scope.INSTRUMENT, sub_account=True),
        # 300 orders / 2 s, each item counted; a batch of one counts as `order`.
        "batch-orders": OpLimit(
            Limit(300, _2S), Scope.INSTRUMENT, per_item=True, single="order", sub_account=True
        ),
        # cancel / amend "likewise": *uncertain* for each (the doc's wording).
        "cancel-order": OpLimit(Limit(60, _2S), Scope.INSTRUMENT),
        "batch-cancel-orders": OpLimit(
            Limit(300, _2S), Scope.INSTRUMENT, per_item=True, single="cancel-order"
        ),
        "amend-order": OpLimit(Limit(60, _2S), Scope.INSTRUMENT, sub_account=True),
        "batch-amend-orders": OpLimit(
            Limit(300, _2S), Scope.INSTRUMENT, per_item=True, single="amend-order", sub_account=True
        ),
        "mass-cancel": OpLimit(Limit(5, _2S)),
        "sprd-order": OpLimit(Limit(20, _2S)),
        "sprd-amend-order": OpLimit(Limit(20, _2S)),
        "sprd-cancel-order": OpLimit(Limit(20, _2S)),
        "sprd-mass-cancel": OpLimit(Limit(5, _2S)),
    }
)


def _okx_op_limits() -> Mapping[str, OpLimit]:
    return OKX_OP_LIMITS


@dataclass(frozen=True)
class RateLimits:
    """Every limit the simulator enforces; the defaults are OKX's numbers."""

    ops: Mapping[str, OpLimit] = field(default_factory=_okx_op_limits)
    # New + amended orders of one sub-account in all, each batch item counted -> 50061.
    sub_account: Limit = Limit(1000, _2S)
    # WebSocket connection requests per IP -> the upgrade is refused (codes.CONNECT_LIMIT_STATUS).
    connect: Limit = Limit(3, 1.0)
    # login + subscribe + unsubscribe requests per connection -> codes.SESSION_OPS_LIMIT_CODE.
    session_ops: Limit = Limit(480, 3600.0)
    sliding: bool = codes.SLIDING_WINDOWS


def connect_refusal_text(limit: Limit) -> str:
    """The body of the HTTP 429 refusing a connection past ``limit``.

    OKX's own 429 says only "Too Many Requests"; the simulator also says whose
    limit it is and how to lift it, since the usual cause is scripts run back
    to back against it, not a misbehaving client.
    """
    return (
        f"Too Many Requests: okx_ws_sim allows {limit.count} WebSocket connection requests"
        f" per {limit.window_s:g} s per IP (OKX's limit: 3 per second). Turn it off with"
        " Simulator(rate_limits=False) or `python -m okx_ws_sim --no-rate-limits`, or change"
        " it with Simulator(rate_limits=RateLimits(connect=Limit(count, window_s))).\n"
    )


Demands = list[tuple[Hashable, Limit, int]]


class Window:
    """What one bucket (one scope's counter for one limit) has used.

    Sliding: no ``window_s`` seconds ever hold more than ``count``.  Fixed: the
    count restarts at each multiple of ``window_s``.  Which one OKX uses is
    *uncertain* (``codes.SLIDING_WINDOWS``); sliding is the stricter witness.
    """

    __slots__ = ("count", "span", "sliding", "_events", "_used", "_start")

    def __init__(self, limit: Limit, sliding: bool) -> None:
        self.count = limit.count
        self.span = limit.window_s
        self.sliding = sliding
        self._events: deque[tuple[float, int]] = deque()
        self._used = 0
        self._start = -math.inf

    def room(self, now: float) -> int:
        """How many more may be counted at ``now``."""
        self._expire(now)
        return self.count - self._used

    def take(self, now: float, n: int = 1) -> None:
        """Count ``n`` at ``now`` (ask ``room`` first: this never refuses)."""
        self._expire(now)
        self._used += n
        if self.sliding:
            self._events.append((now, n))

    def _expire(self, now: float) -> None:
        if self.sliding:
            events, horizon = self._events, now - self.span
            while events and events[0][0] <= horizon:
                self._used -= events.popleft()[1]
        else:
            start = math.floor(now / self.span) * self.span
            if start != self._start:
                self._start, self._used = start, 0

    def idle(self, now: float) -> bool:
        return self.room(now) == self.count


class Buckets:
    """Windows by key, made on first use; ``admit`` counts all or nothing."""

    PRUNE_AT: Final = 4096  # keys are users x instruments, connections, IPs: bounded, but prune

    def __init__(self, sliding: bool) -> None:
        self.sliding = sliding
        self._windows: dict[Hashable, Window] = {}
        # limit name (a key's first part: an op, "sub-account", "connect", "session")
        # -> (the most any one of its windows held, its count): how near the load came
        self.peaks: dict[str, tuple[int, int]] = {}

    def admit(self, now: float, demands: Demands) -> bool:
        """Count every (key, limit, n) if each has room; otherwise count nothing."""
        if self.full(now, demands):
            return False
        self.take(now, demands)
        return True

    def full(self, now: float, demands: Demands) -> bool:
        """Does some demand lack room at ``now``?"""
        return any(self._window(now, key, limit).room(now) < n for key, limit, n in demands)

    def take(self, now: float, demands: Demands) -> None:
        for key, limit, n in demands:
            window = self._window(now, key, limit)
            window.take(now, n)
            name = str(key[0]) if isinstance(key, tuple) and key else str(key)
            used = window.count - window.room(now)
            if used > self.peaks.get(name, (0, 0))[0]:
                self.peaks[name] = (used, window.count)

    def _window(self, now: float, key: Hashable, limit: Limit) -> Window:
        window = self._windows.get(key)
        if window is None:
            if len(self._windows) >= self.PRUNE_AT:
                self._windows = {k: w for k, w in self._windows.items() if not w.idle(now)}
            window = self._windows[key] = Window(limit, self.sliding)
        return window

    def discard(self, key: Hashable) -> None:
        self._windows.pop(key, None)

    def clear(self) -> None:
        self._windows.clear()
        self.peaks.clear()


class ItemKey(NamedTuple):
    """How one request item is counted."""

    scope: Hashable  # its instrument (options: instrument family), for instrument-scoped ops
    sub_account: bool = True  # False: exempt from the sub-account ceiling


def op_demands(
    limits: RateLimits, api_key: str, op: str, items: list[ItemKey]
) -> tuple[Demands, Demands]:
    """What one request of ``op`` costs: (per-op demands -> 50011, sub-account ones -> 50061)."""
    spec = limits.ops.get(op)
    if spec is None or not items:
        return [], []
    if len(items) == 1 and spec.single is not None:
        op, spec = spec.single, limits.ops[spec.single]
    per_scope: dict[Hashable, int] = {}
    if spec.scope is Scope.INSTRUMENT:
        for item in items if spec.per_item else items[:1]:
            per_scope[item.scope] = per_scope.get(item.scope, 0) + 1
    else:
        per_scope[None] = len(items) if spec.per_item else 1
    demands: Demands = [((op, api_key, scope), spec.limit, n) for scope, n in per_scope.items()]
    sub: Demands = []
    counted = sum(item.sub_account for item in items) if spec.sub_account else 0
    if counted:
        sub.append((("sub-account", api_key), limits.sub_account, counted))
    return demands, sub


__all__ = [
    "OKX_OP_LIMITS",
    "Buckets",
    "ItemKey",
    "Limit",
    "OpLimit",
    "RateLimits",
    "Scope",
    "Window",
    "connect_refusal_text",
    "op_demands",
]
