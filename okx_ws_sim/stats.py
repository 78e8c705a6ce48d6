"""Counters the simulator keeps, for tests, the soak and benchmarks."""

from __future__ import annotations

import copy
import time
from collections import Counter
from dataclasses import dataclass, field, fields
from typing import Any, NamedTuple

from . import codes

# Every code with which OKX refuses a request for its rate (HTTP 429: a connection).
RATE_LIMIT_CODES = (codes.RATE_LIMIT_CODE, codes.SUB_ACCOUNT_LIMIT_CODE, codes.TOO_FREQUENT)


class FaultCounter(Counter[str]):
    """``faults_injected``: a Counter that also notes when each kind last fired
    (monotonic seconds), so a late request can be matched to the faults of its time."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.last_fired: dict[str, float] = {}
        super().__init__(*args, **kwargs)

    def __setitem__(self, key: str, value: int) -> None:
        super().__setitem__(key, value)
        self.last_fired[key] = time.monotonic()

    def fired_since(self, since: float) -> list[str]:
        return sorted(kind for kind, at in self.last_fired.items() if at >= since)


class LateArrival(NamedTuple):
    """A request that arrived after its expTime (refused with codes.EXPIRED_REQUEST_CODE, 50036)."""

    request_id: str
    op: str
    late_ms: int  # how long after its expTime
    faults: tuple[str, ...]  # fault kinds that fired, or were on, while it travelled


@dataclass
class SimStats:
    connections_opened: int = 0
    connections_closed: int = 0
    connections_by_path: Counter[str] = field(default_factory=Counter)  # public/private/business
    connections_rejected: int = 0  # bad path
    connections_throttled: int = 0  # upgrade refused: over the per-IP connection rate (429)
    logins_ok: int = 0
    logins_failed: int = 0
    login_failures_by_code: Counter[str] = field(default_factory=Counter)
    frames_received: int = 0
    pings: int = 0  # text "ping" frames received
    pongs_sent: int = 0
    malformed_received: int = 0  # frames that were not JSON objects
    requests_total: int = 0  # WS API requests (frames with id + op)
    requests_by_op: Counter[str] = field(default_factory=Counter)
    request_errors_by_code: Counter[str] = field(default_factory=Counter)  # whole-request failures
    item_errors_by_code: Counter[str] = field(default_factory=Counter)  # sCode != "0"
    request_ids: Counter[str] = field(default_factory=Counter)  # id -> times seen
    subscribes: int = 0
    unsubscribes: int = 0
    pushes_sent: int = 0  # every channel push (market ones included)
    market_pushes: Counter[str] = field(default_factory=Counter)  # per market channel
    idle_closes: int = 0
    rate_limited: int = 0  # WS API requests refused by a rate limit (50011 / 50061)
    session_ops_throttled: int = 0  # login / subscribe / unsubscribe past 480 per hour (60014)
    # REST requests answered by a route (faults excluded), keyed "path?instType=X"
    # ("" when the query had none): see Simulator.rest_calls().
    rest_calls: Counter[str] = field(default_factory=Counter)
    rest_simulated_trading: int = 0  # of those, how many carried x-simulated-trading: 1
    # Faults that FIRED, per kind: close_after_frames, drop_request, drop_reply,
    # swallow_pong (per pong), delay_reply (per reply), notice (per connection),
    # malformed (per frame), refuse_login, restart, rest_fail, rest_hang, rest_delay,
    # book_gap, book_duplicate (per update), book_reset (per reset).  What was
    # armed: Simulator.faults.armed() / pending() / discarded(), same kind names.
    faults_injected: FaultCounter = field(default_factory=FaultCounter)
    late_arrivals: list[LateArrival] = field(default_factory=list)  # see late_arrival()

    def late_arrival(
        self, request_id: str, op: str, late_s: float, travel_s: float, on: tuple[str, ...] = ()
    ) -> LateArrival:
        """Note a request that arrived ``late_s`` after its expTime, having left its client
        at most ``travel_s`` before that: with the faults that fired since it left, and
        ``on`` (the modes switched on now)."""
        since = time.monotonic() - late_s - travel_s
        faults = tuple(sorted({*self.faults_injected.fired_since(since), *on}))
        late = LateArrival(request_id, op, round(late_s * 1000), faults)
        self.late_arrivals.append(late)
        return late

    @property
    def expired_requests(self) -> int:
        """Requests refused because they arrived after their expTime."""
        return self.request_errors_by_code.get(codes.EXPIRED_REQUEST_CODE, 0)

    @property
    def rate_limit_refusals(self) -> dict[str, int]:
        """Refusals for rate, by code: 50011, 50061, 60014 (session ops too) and "429"
        (a connection upgrade refused)."""
        out = {code: self.request_errors_by_code.get(code, 0) for code in RATE_LIMIT_CODES}
        out[codes.TOO_FREQUENT] += self.session_ops_throttled
        out[str(codes.CONNECT_LIMIT_STATUS)] = self.connections_throttled
        return out

    @property
    def duplicate_request_ids(self) -> list[str]:
        """Request ids the server saw more than once (a client re-sent an id)."""
        return [rid for rid, n in self.request_ids.items() if n > 1]

    def snapshot(self) -> SimStats:
        return copy.deepcopy(self)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            d[f.name] = dict(value) if isinstance(value, Counter) else value
        d["duplicate_request_ids"] = self.duplicate_request_ids
        d["late_arrivals"] = [tuple(late) for late in self.late_arrivals]
        d["expired_requests"] = self.expired_requests
        d["rate_limit_refusals"] = self.rate_limit_refusals
        return d
