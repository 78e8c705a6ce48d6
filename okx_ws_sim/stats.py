"""Counters the simulator keeps, for tests, the soak and benchmarks."""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import dataclass, field, fields
from typing import Any


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
    faults_injected: Counter[str] = field(default_factory=Counter)

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
        return d
