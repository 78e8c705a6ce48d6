"""The fault schedule: which fault, with which parameters, at which request.

Each soak fault kind maps to FaultPlan actions (``soak.injector``) and to the
simulator counter that says it fired (``soak.fault_audit``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

FAULT_KINDS = (
    "close_mid_request",  # close_after_frames(n): abort a connection on its n-th next frame
    "drop_request",  # drop_next_request(): abort on the request, not executed
    "drop_reply",  # drop_after_execute(): executed, then abort, no reply
    "swallow_pongs",  # no pong while the load pauses: the heartbeat must declare the link dead
    "delay_jitter",  # delayed and reordered replies; some past the request timeout
    "notice",  # 64008 then close: proactive reconnect
    "malformed",  # garbage frames on every connection
    "refuse_login",  # the next logins fail (forced by a notice), later logins succeed
    "restart",  # server down and up again on the same port
)


@dataclass
class Fault:
    trigger: int  # armed once this many workload requests were issued
    kind: str
    params: dict[str, Any] = field(default_factory=dict)
    injected_at: float = 0.0  # monotonic time it was armed


def _params(kind: str, rng: random.Random) -> dict[str, Any]:
    if kind == "close_mid_request":
        return {"n": rng.randint(1, 6)}
    if kind == "delay_jitter":
        if rng.random() < 0.25:  # slow: some replies arrive after the request timeout
            p = {"delay": rng.uniform(0.6, 0.9), "jitter": rng.uniform(0.2, 0.6)}
        else:
            p = {"delay": rng.uniform(0.0, 0.05), "jitter": rng.uniform(0.05, 0.3)}
        return {**p, "span": rng.randint(10, 40)}
    if kind == "notice":
        return {"close_after": rng.uniform(0.02, 0.3)}
    if kind == "malformed":
        return {"n": rng.randint(1, 5)}
    if kind == "refuse_login":
        return {"count": rng.randint(1, 4)}
    if kind == "restart":
        return {"down_for": rng.uniform(0.0, 0.25)}
    return {}


def plan_faults(requests: int, faults: int, seed: int) -> list[Fault]:
    """``faults`` faults over 1%..97% of the requests, kinds in shuffled blocks of nine."""
    if faults <= 0:
        return []
    rng = random.Random(f"faults:{seed}")
    lo, hi = max(1, requests // 100), max(2, int(requests * 0.97))
    if hi - lo < faults:
        raise ValueError(f"--faults {faults} is too many for --requests {requests}")
    triggers = sorted(rng.sample(range(lo, hi), faults))
    kinds: list[str] = []
    while len(kinds) < faults:
        block = list(FAULT_KINDS)
        rng.shuffle(block)
        kinds.extend(block)
    return [
        Fault(trigger, kind, _params(kind, rng))
        for trigger, kind in zip(triggers, kinds[:faults], strict=True)
    ]


def settle_seconds(plan: list[Fault]) -> float:
    """How long delayed replies and notice closes may still arrive after the load stops."""
    delays = [
        float(f.params["delay"] + f.params["jitter"]) for f in plan if f.kind == "delay_jitter"
    ]
    closes = [float(f.params["close_after"]) for f in plan if f.kind == "notice"]
    return max([0.0, *delays, *closes]) + 0.1
