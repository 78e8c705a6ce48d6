"""Client-side rate limits: OKX's limits from the spec, paced per scope, sans-I/O.

OKX counts each operation per user, or per user and instrument (options: per
instrument family), over a window of seconds; batch items count one each, and
a batch of one counts as the single operation.  :func:`demands` turns one
request into what it costs in which bucket; :class:`RateLimiter` says how long
that request must wait (``0.0``: it may go now, and is counted).  Nothing here
sleeps or reads a clock: the client passes ``now`` and does the waiting, so
the logic is exact in tests and an instrument at its limit never delays another.

Windows are sliding: no ``window`` seconds ever hold more than ``count``, the
safe reading of OKX's "N requests per 2 s" (*uncertain* whether OKX's are fixed).
"""

from __future__ import annotations

import collections
import functools
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from .errors import UnknownInstrumentError
from .instruments import inst_type_of

Scope = Literal["user", "instrument", "connection", "ip"]
BucketKey = tuple[str, str]  # (limit name, scope key: "" for user scope, else the instrument)


@dataclass(frozen=True, slots=True)
class RateLimit:
    """``count`` requests (or items, when ``per_item``) per ``window`` seconds, per scope."""

    name: str
    count: int
    window: float
    scope: Scope = "user"
    per_item: bool = False


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    """The limits on connecting itself: connects per second (OKX counts them per IP:
    every client of a process together) and login + subscribe + unsubscribe per connection."""

    connect: RateLimit | None = None
    session_ops: RateLimit | None = None


def instrument_key(item: dict[str, Any]) -> str:
    """The instrument a request item is counted under: the family for options."""
    inst_id = item.get("instId")
    if isinstance(inst_id, str):
        return _key_of(inst_id)
    code = item.get("instIdCode")
    return f"code:{code}" if code is not None else ""


@functools.lru_cache(maxsize=4096)
def _key_of(inst_id: str) -> str:
    try:
        inst_type, family = inst_type_of(inst_id)
    except UnknownInstrumentError:
        return inst_id
    return f"family:{family}" if inst_type == "OPTION" and family else inst_id


def demands(
    limits: Sequence[RateLimit], args: Sequence[dict[str, Any]]
) -> list[tuple[RateLimit, BucketKey, int]]:
    """What one request costs: ``(limit, bucket, amount)`` for each bucket it touches."""
    if len(args) == 1:  # the common case, on every order's path: no dict, one key
        scoped = any(limit.scope == "instrument" for limit in limits)
        key = instrument_key(args[0]) if scoped else ""
        return [
            (limit, (limit.name, key if limit.scope == "instrument" else ""), 1) for limit in limits
        ]
    cost: dict[BucketKey, tuple[RateLimit, int]] = {}
    for limit in limits:
        if limit.scope != "instrument":
            keys = [""] * (len(args) if limit.per_item else 1)
        else:
            keys = [instrument_key(item) for item in args]
            if not limit.per_item:
                keys = list(dict.fromkeys(keys))
        for key in keys:
            bucket = (limit.name, key)
            previous = cost.get(bucket)
            cost[bucket] = (limit, (previous[1] if previous else 0) + 1)
    return [(limit, bucket, amount) for bucket, (limit, amount) in cost.items()]


class _Window:
    """The amounts spent in the last ``window`` seconds, oldest first."""

    __slots__ = ("spent", "total", "blocked_until")

    def __init__(self) -> None:
        self.spent: collections.deque[tuple[float, int]] = collections.deque()
        self.total = 0
        self.blocked_until = 0.0

    def wait(self, limit: RateLimit, amount: int, now: float, margin: float) -> float:
        """Seconds until ``amount`` more fits (``0.0``: it fits now)."""
        window = limit.window + margin
        spent, horizon = self.spent, now - window
        while spent and spent[0][0] <= horizon:
            self.total -= spent.popleft()[1]
        if now < self.blocked_until:
            return self.blocked_until - now
        excess = self.total + amount - limit.count
        if excess <= 0:
            return 0.0
        if amount > limit.count:  # can never fit: report one window, the caller fails it
            return window
        for at, spent_amount in spent:
            excess -= spent_amount
            if excess <= 0:
                return at + window - now
        return window  # pragma: no cover - excess is bounded by total

    def spend(self, amount: int, now: float) -> None:
        self.spent.append((now, amount))
        self.total += amount


class RateLimiter:
    """Sliding-window buckets, created on first use, keyed by (limit name, scope key).

    ``margin`` seconds are added to every window: the client counts a request
    when it admits it, OKX when it arrives, and a request queued behind a
    burst arrives later than it was counted.
    """

    def __init__(self, margin: float = 0.0) -> None:
        self.margin = margin
        self._windows: dict[BucketKey, _Window] = {}

    def acquire(
        self, wanted: Sequence[tuple[RateLimit, BucketKey, int]], now: float
    ) -> tuple[float, BucketKey | None]:
        """Count the request in every bucket and return ``(0.0, None)``, or, without
        counting anything, the wait and the bucket that needs it longest."""
        windows = self._windows
        wait, blocking = 0.0, None
        for limit, bucket, amount in wanted:
            window = windows.get(bucket)
            if window is None:
                window = windows[bucket] = _Window()
            needed = window.wait(limit, amount, now, self.margin)
            if needed > wait:
                wait, blocking = needed, bucket
        if blocking is not None:
            return wait, blocking
        for _, bucket, amount in wanted:
            windows[bucket].spend(amount, now)
        return 0.0, None

    def penalize(self, wanted: Sequence[tuple[RateLimit, BucketKey, int]], now: float) -> None:
        """OKX said "too many" for these buckets: hold them for a full window from now."""
        for limit, bucket, _ in wanted:
            window = self._windows.setdefault(bucket, _Window())
            window.blocked_until = max(window.blocked_until, now + limit.window + self.margin)

    def prune(self, now: float, max_window: float) -> None:
        """Forget buckets idle for longer than any window (bounds memory over many instruments)."""
        idle = [
            key
            for key, window in self._windows.items()
            if (not window.spent or window.spent[-1][0] <= now - max_window - self.margin)
            and window.blocked_until <= now
        ]
        for key in idle:
            del self._windows[key]

    def __len__(self) -> int:
        return len(self._windows)


class ConnectGate:
    """Turns to connect under one ``count`` per ``window`` limit, for callers on any thread.

    OKX counts connects per IP, so every client of a process (each blocking
    client on its own event loop) takes its turns here.  A caller is *given* a
    turn, ``now`` or later, and counted at it at once; it then sleeps on its own
    loop until then.  Nothing is shared but this lock-guarded deque of turns (no
    asyncio object, which would be bound to one loop), and nobody re-checks after
    waking, so twenty callers at once get twenty distinct turns, never a stampede.
    A turn given to a caller that is cancelled before it is used stays counted:
    the safe side.  Sans-I/O: the caller passes ``now`` (one clock for all callers).
    """

    def __init__(self, margin: float = 0.0) -> None:
        self.margin = margin
        self._turns: collections.deque[float] = collections.deque()  # ascending
        self._lock = threading.Lock()

    def reserve(self, limit: RateLimit, now: float) -> float:
        """Count one connect at the earliest turn that fits; return the seconds until it."""
        window = limit.window + self.margin
        with self._lock:
            turns = self._turns
            while turns and turns[0] <= now - window:
                turns.popleft()
            at = max(now, turns[-1]) if turns else now  # never before a turn already given
            if len(turns) >= limit.count:
                at = max(at, turns[-limit.count] + window)
            turns.append(at)
        return at - now
