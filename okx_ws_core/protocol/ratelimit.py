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

from ..errors import UnknownInstrumentError
from .inst_ids import inst_type_of

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
    """The times of the units spent in the last ``span`` seconds, oldest first.

    One float per unit (a batch of 20 items appends one time 20 times), so the
    count is ``len(spent)`` and nothing the garbage collector tracks is kept per
    request: a surviving tuple per order made gen-2 collections come round
    faster in long runs.  A window never holds more than its limit's count.
    """

    __slots__ = ("spent", "span", "blocked_until")

    def __init__(self, span: float) -> None:
        self.spent: collections.deque[float] = collections.deque()
        self.span = span  # the limit's window plus the margin; the longest if names collide
        self.blocked_until = 0.0

    def wait(self, limit: RateLimit, amount: int, now: float, margin: float) -> float:
        """Seconds until ``amount`` more fits (``0.0``: it fits now)."""
        window = limit.window + margin
        spent, horizon = self.spent, now - window
        while spent and spent[0] <= horizon:
            spent.popleft()
        if now < self.blocked_until:
            return self.blocked_until - now
        excess = len(spent) + amount - limit.count
        if excess <= 0:
            return 0.0
        if amount > limit.count:  # can never fit: report one window, the caller fails it
            return window
        return spent[excess - 1] + window - now  # when the excess-th oldest unit leaves

    def spend(self, amount: int, now: float) -> None:
        if amount == 1:
            self.spent.append(now)
        else:
            self.spent.extend([now] * amount)

    def idle(self, now: float) -> bool:
        """Nothing counted and not held: forgetting the window changes nothing."""
        return (not self.spent or self.spent[-1] <= now - self.span) and self.blocked_until <= now


class _Plan:
    """A one-item request's buckets, resolved once per (operation, instrument):
    ``checks`` holds ``(window, count, span)`` for each, ``wanted`` its demands."""

    __slots__ = ("limits", "wanted", "checks")

    def __init__(
        self,
        limits: Sequence[RateLimit],
        wanted: list[tuple[RateLimit, BucketKey, int]],
        checks: list[tuple[_Window, int, float]],
    ) -> None:
        self.limits = limits
        self.wanted = wanted
        self.checks = checks


class RateLimiter:
    """Sliding-window buckets, created on first use, keyed by (limit name, scope key).

    ``margin`` seconds are added to every window: the client counts a request
    when it admits it, OKX when it arrives, and a request queued behind a
    burst arrives later than it was counted.

    Buckets of instruments gone quiet are forgotten by the limiter itself: when
    the number of buckets reaches twice what it was after the last sweep (at
    least :attr:`PRUNE_FLOOR`), or :attr:`PRUNE_EVERY_S` after the last sweep,
    idle ones are dropped.  So memory follows the live buckets, not every
    instrument ever traded nor up to twice the live ones, and the sweep's cost
    is amortised over the buckets created since the last one.  Sweeps happen
    on the slow path only (a new bucket or a wait), where buckets are made.
    """

    PRUNE_FLOOR = 64
    PRUNE_EVERY_S = 10.0
    _PLANS_MAX = 4096  # one-item plans cached (operations x instruments) before starting over

    def __init__(self, margin: float = 0.0) -> None:
        self.margin = margin
        self._windows: dict[BucketKey, _Window] = {}
        self._prune_at = self.PRUNE_FLOOR
        self._prune_by = self.PRUNE_EVERY_S  # loop time of the next sweep by the clock
        self._plans: dict[str, dict[str, _Plan]] = {}
        self._plan_count = 0

    def _window(self, limit: RateLimit, bucket: BucketKey) -> _Window:
        """The bucket's window, made on first use (callers sweep first: see :meth:`_sweep`)."""
        span = limit.window + self.margin
        window = self._windows.get(bucket)
        if window is None:
            window = self._windows[bucket] = _Window(span)
        elif span > window.span:
            window.span = span
        return window

    def _sweep(self, now: float) -> None:
        """Prune when due; before a request looks up its windows, never in between
        (a window made for it a moment ago is empty, and would look idle)."""
        if len(self._windows) >= self._prune_at or now >= self._prune_by:
            self.prune(now)

    def acquire(
        self, wanted: Sequence[tuple[RateLimit, BucketKey, int]], now: float
    ) -> tuple[float, BucketKey | None]:
        """Count the request in every bucket and return ``(0.0, None)``, or, without
        counting anything, the wait and the bucket that needs it longest."""
        self._sweep(now)
        wait, blocking = 0.0, None
        windows = [self._window(limit, bucket) for limit, bucket, _ in wanted]
        for window, (limit, bucket, amount) in zip(windows, wanted, strict=True):
            needed = window.wait(limit, amount, now, self.margin)
            if needed > wait:
                wait, blocking = needed, bucket
        if blocking is not None:
            return wait, blocking
        for window, (_, _, amount) in zip(windows, wanted, strict=True):
            window.spend(amount, now)
        return 0.0, None

    def try_one(
        self, plan: str, limits: Sequence[RateLimit], item: dict[str, Any], now: float
    ) -> list[tuple[RateLimit, BucketKey, int]] | None:
        """The fast path of a one-item request by ``instId``: count it and return its
        demands if it fits now; else ``None``, counting nothing (ask :meth:`acquire`).

        ``plan`` names the operation (with ``limits`` its limits for one item): the
        buckets are looked up once per operation and instrument, not per request.
        Returns the cached demands list: callers must not change it.
        """
        inst = item.get("instId")
        if inst.__class__ is not str:
            return None
        by_inst = self._plans.get(plan)
        entry = None if by_inst is None else by_inst.get(inst)
        if entry is None or entry.limits is not limits:
            entry = self._plan(plan, inst, limits, item, now)
        checks = entry.checks
        for window, count, span in checks:
            spent, horizon = window.spent, now - span
            while spent and spent[0] <= horizon:
                spent.popleft()
            if len(spent) >= count or now < window.blocked_until:
                return None
        for window, _, _ in checks:
            window.spent.append(now)
        return entry.wanted

    def _plan(
        self, plan: str, inst: str, limits: Sequence[RateLimit], item: dict[str, Any], now: float
    ) -> _Plan:
        self._sweep(now)
        if self._plan_count >= self._PLANS_MAX:
            self._plans.clear()
            self._plan_count = 0
        wanted = demands(limits, [item])
        checks = [
            (self._window(limit, bucket), limit.count, limit.window + self.margin)
            for limit, bucket, _ in wanted
        ]
        entry = self._plans.setdefault(plan, {})[inst] = _Plan(limits, wanted, checks)
        self._plan_count += 1
        return entry

    def penalize(self, wanted: Sequence[tuple[RateLimit, BucketKey, int]], now: float) -> None:
        """OKX said "too many" for these buckets: hold them for a full window from now."""
        self._sweep(now)
        for limit, bucket, _ in wanted:
            window = self._window(limit, bucket)
            window.blocked_until = max(window.blocked_until, now + limit.window + self.margin)

    def prune(self, now: float) -> None:
        """Forget buckets idle for longer than their window (bounds memory over many
        instruments); the cached one-item plans, which point at buckets, go with them."""
        self._windows = {key: w for key, w in self._windows.items() if not w.idle(now)}
        self._prune_at = max(self.PRUNE_FLOOR, 2 * len(self._windows))
        self._prune_by = now + self.PRUNE_EVERY_S
        self._plans.clear()
        self._plan_count = 0

    def __len__(self) -> int:
        return len(self._windows)


class ConnectGate:
    """Turns to connect under one ``count`` per ``window`` limit, for callers on any thread.

    OKX counts connects per IP, so every client of a process (each blocking
    client on its own event loop) takes its turns here.  A caller is *given* a
    turn, ``now`` or later, and counted at it at once; it then sleeps on its own
    loop until then.  Nothing is shared but this lock-guarded deque of turns (no
    asyncio object, which would be bound to one loop), and a caller re-checks on
    waking only if it woke late (:meth:`claim`), so twenty callers at once get
    twenty distinct turns, never a stampede.
    A turn given to a caller that is cancelled before it is used stays counted:
    the safe side.  Sans-I/O: the caller passes ``now`` (one clock for all callers).
    """

    def __init__(self, margin: float = 0.0) -> None:
        self.margin = margin
        self._turns: collections.deque[float] = collections.deque()  # ascending
        self._lock = threading.Lock()

    def reserve(self, limit: RateLimit, now: float) -> float:
        """Count one connect at the earliest turn that fits; return the seconds until it."""
        return self.turn(limit, now) - now

    def turn(self, limit: RateLimit, now: float) -> float:
        """Count one connect at the earliest turn that fits; return that turn (``>= now``)."""
        window = limit.window + self.margin
        with self._lock:
            turns = self._turns
            while turns and turns[0] <= now - window:
                turns.popleft()
            at = max(now, turns[-1]) if turns else now  # never before a turn already given
            if len(turns) >= limit.count:
                at = max(at, turns[-limit.count] + window)
            turns.append(at)
        return at

    def claim(self, limit: RateLimit, turn: float, now: float) -> float:
        """A caller given ``turn`` woke at ``now``: the turn to connect at (``<= now``: go).

        Turns are spaced on the assumption that each is used on time.  A loop
        stalled past its turn would fire its due turns together with the next
        ones (a burst OKX answers with HTTP 429), so a caller later than half
        the margin gives its turn back and takes a new one from ``now``; up to
        that lateness the margin absorbs it.
        """
        if now - turn <= self.margin / 2:
            return now
        with self._lock:
            if turn in self._turns:  # not if pruned: more than a window old
                self._turns.remove(turn)
        return self.turn(limit, now)
