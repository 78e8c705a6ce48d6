"""The simulator process's audit hooks (imported there only: ``soak.simchild``).

Kept apart from ``soak.simchild``, which the client process imports for the
control channel's constants: the client process never loads the simulator.
"""

from __future__ import annotations

import time
from typing import Any

from okx_ws_sim import Refusal, SimHooks
from okx_ws_sim.codes import EXPIRED_REQUEST_CODE as EXPIRED
from okx_ws_sim.policy import RATE_LIMITED


class LateAudit(SimHooks):
    """Notes each request that arrives after its expTime, with the faults of its time,
    and each refused connection upgrade, with the attempts of its second.

    The simulator's public hook (``okx_ws_sim.SimHooks``) tells it each refusal
    (``EXPIRED_REQUEST_CODE`` for a late one: its expTime is in the request) and each upgrade
    decided; ``SimStats.late_arrival`` names the faults that fired since the
    request can have left its client.  Also the planted defects' hooks: a 50011
    the limits did not call for, a request taken as 5 s late.
    """

    def __init__(self, sim: Any, travel_s: float) -> None:
        self.sim = sim
        self.travel_s = travel_s
        self.refuse_next = False
        self.late_next = False
        self.refused_connects: list[list[float]] = []  # per 429: the attempts of its second
        self._connects: list[float] = []
        sim.policy.hooks = self

    def connection(self, ip: str, admitted: bool) -> None:
        now = time.monotonic()
        self._connects = [t for t in self._connects if now - t < 1.0] + [now]
        if not admitted:  # ms before this refused attempt of each attempt in its second
            self.refused_connects.append([round((now - t) * 1000) for t in self._connects])

    def request(self, api_key: str, op: str, msg: dict[str, Any], now_ms: int) -> Refusal | None:
        if self.late_next and op in ("order", "batch-orders") and "expTime" in msg:
            self.late_next = False  # as if it arrived 5 s later: its expTime 5 s earlier
            msg["expTime"] = str(int(msg["expTime"]) - 5000)
        # a cancel: its 50011 holds only that pair's cancel bucket in the client's
        # limiter (an order's would hold the account's, and so the final probe order)
        if self.refuse_next and op == "cancel-order":
            self.refuse_next = False
            self.sim.stats.rate_limited += 1
            return RATE_LIMITED
        return None

    def refused(
        self, api_key: str, op: str, msg: dict[str, Any], refusal: Refusal, now_ms: int
    ) -> None:
        if refusal.code == EXPIRED:
            self.note(msg, now_ms)

    def note(self, msg: dict[str, Any], now_ms: int) -> None:
        try:
            late_s = max(0.0, (now_ms - int(msg["expTime"])) / 1000)
        except (KeyError, TypeError, ValueError):
            return
        faults = self.sim.faults
        on = tuple(
            kind
            for kind, active in (
                ("delay_reply", bool(faults.delay or faults.jitter)),
                ("swallow_pong", faults.pongs_swallowed),
            )
            if active
        )
        self.sim.stats.late_arrival(
            str(msg.get("id")), str(msg.get("op")), late_s, self.travel_s, on
        )
