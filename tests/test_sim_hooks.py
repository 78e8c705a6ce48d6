"""The simulator's public hook (``okx_ws_sim.SimHooks``): what a harness sees and may do.

The soak audits late arrivals and refused upgrades through it (``soak.late_audit``)
instead of wrapping the simulator's private methods; these pin what it relies on.
"""

from __future__ import annotations

import time
from typing import Any

from okx_ws_sim import RateLimits, Refusal, SimHooks, Simulator
from okx_ws_sim.codes import EXPIRED_REQUEST_CODE as EXPIRED
from okx_ws_sim.policy import RATE_LIMITED
from okx_ws_sim.testing import SAMPLE_ORDER, RawClient


class Recorder(SimHooks):
    def __init__(self) -> None:
        self.upgrades: list[bool] = []
        self.refusals: list[tuple[str, str, int]] = []  # op, code, ms late
        self.refuse_cancel = False
        self.age_next_ms = 0

    def connection(self, ip: str, admitted: bool) -> None:
        self.upgrades.append(admitted)

    def request(self, api_key: str, op: str, msg: dict[str, Any], now_ms: int) -> Refusal | None:
        if self.age_next_ms and "expTime" in msg:
            msg["expTime"] = str(int(msg["expTime"]) - self.age_next_ms)
            self.age_next_ms = 0
        return RATE_LIMITED if self.refuse_cancel and op == "cancel-order" else None

    def refused(
        self, api_key: str, op: str, msg: dict[str, Any], refusal: Refusal, now_ms: int
    ) -> None:
        late = now_ms - int(msg["expTime"]) if "expTime" in msg else 0
        self.refusals.append((op, refusal.code, late))


async def test_hook_sees_refusals_and_may_refuse_or_reshape() -> None:
    async with Simulator(idle_timeout=5.0, seed=1) as sim:
        hooks = sim.policy.hooks = Recorder()
        async with await RawClient.open(sim.url("private")) as priv:
            await priv.login()
            soon = str(int(time.time() * 1000) + 10_000)
            assert (await priv.request("order", SAMPLE_ORDER, expTime=soon))["code"] == "0"
            hooks.age_next_ms = 20_000  # its expTime now 10 s past: refused as late
            late = await priv.request("order", SAMPLE_ORDER, expTime=soon)
            assert late["code"] != "0"  # refused (how OKX words it: ws_api's docstring)
            hooks.refuse_cancel = True
            cancel = {"instIdCode": SAMPLE_ORDER["instIdCode"], "clOrdId": "nope"}
            assert (await priv.request("cancel-order", cancel))["code"] == "50011"
        assert hooks.upgrades == [True]
        (op, code, ms), (op2, code2, _) = hooks.refusals
        assert (op, code, op2, code2) == ("order", EXPIRED, "cancel-order", "50011")
        assert 9_000 < ms < 11_000
        assert len(sim.orders()) == 1


async def test_hook_told_of_refused_upgrades_and_peaks_public() -> None:
    limits = RateLimits()
    async with Simulator(idle_timeout=5.0, seed=1, rate_limits=limits) as sim:
        hooks = sim.policy.hooks = Recorder()
        for _ in range(limits.connect.count + 1):
            try:
                async with await RawClient.open(sim.url("public")):
                    pass
            except Exception:  # the upgrade refused with 429
                pass
        assert hooks.upgrades == [True] * limits.connect.count + [False]
        assert sim.policy.peaks["connect"] == (limits.connect.count, limits.connect.count)
