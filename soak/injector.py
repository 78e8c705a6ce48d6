"""Arming the scheduled faults on the simulator, and clearing them at a segment's end.

Every arming is one atomic call in the simulator process that returns the
simulator's counters just before and after it (``soak.simproc``); the
:class:`~soak.fault_audit.Armed` records carry them to :func:`reconcile`.
Nothing is cleared without being accounted for: :meth:`FaultInjector.end_segment`
turns windows off, gives slot faults a moment to fire, reads the counters,
clears what is still armed and reconciles.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .fault_audit import Armed, Counters, fired, reconcile
from .faults import Fault
from .simproc import SimProcess

if TYPE_CHECKING:
    from .defects import Defect

Actions = list[tuple[str, dict[str, Any]]]
SCHED_POLL_S = 0.002
SLOT_WAIT_S = 1.0  # before re-arming a slot fault, how long the previous one may take to fire
DRAIN_S = 2.0  # at a segment's end, how long slot faults may take to fire
SWALLOW_MAX_S = 2.0  # a pong-swallowing window waits this long at most for a ping
DELAY_MAX_S = 3.0  # a delay window ends after its span of requests or this, whichever first
SETTLED: Counters = {}  # an armed fault's counters once its segment was reconciled


class FaultInjector:
    def __init__(
        self,
        sim: SimProcess,
        defect: Defect,
        *,
        issued: Callable[[], int],
        pause: Callable[[bool], None],
        pong_wait: float,
    ) -> None:
        self.sim = sim
        self.defect = defect
        self.issued = issued
        self.pause = pause
        self.pong_wait = pong_wait
        self.armed: list[Armed] = []  # every segment's
        self.problems: list[str] = []
        self.sim_pending: list[Any] = []  # what the simulator said was still armed when cleared
        self.segment = 0
        self._segment_start: Counters = {}
        self._last: dict[str, Armed] = {}  # kind -> latest slot/window arming
        self._restarts: list[asyncio.Task[None]] = []
        self._timers: set[asyncio.Task[None]] = set()
        self._delaying: Fault | None = None
        self.started = False

    async def begin(self) -> None:
        self._segment_start = await self.sim.call("counters")
        self.started = True

    # -- scheduling ------------------------------------------------------------------------
    async def run(self, faults: list[Fault]) -> None:
        """Arm each fault once its trigger request was issued.  Every trigger lies inside
        its segment, so the segment's end waits for this to return: each fault is armed."""
        for fault in faults:
            while self.issued() < fault.trigger:
                await asyncio.sleep(SCHED_POLL_S)
            await self.arm(fault)

    async def arm(self, fault: Fault) -> None:
        fault.injected_at = time.monotonic()
        kind, p = fault.kind, fault.params
        if kind == "close_mid_request":
            await self._wait_fired(kind, SLOT_WAIT_S)
            self._replace(kind, await self._arm(fault, [("close_after_frames", {"n": p["n"]})]))
        elif kind == "drop_request":
            await self._arm(fault, [("drop_next_request", {})])
        elif kind == "drop_reply":
            await self._arm(fault, [("drop_after_execute", {})])
        elif kind == "swallow_pongs":
            # Pause the load so the links go idle, ping, get no pong and are declared dead.
            self.pause(True)
            try:
                armed = await self._arm(fault, [("swallow_pongs", {"on": True})])
                await asyncio.sleep(self.pong_wait)
                # Links that were reconnecting (a restart just before) ping later: hold
                # the window until one pong was swallowed, within a bound.
                await self._until_fired(armed, SWALLOW_MAX_S)
                await self._turn_off(armed, "turned off")
            finally:
                self.pause(False)
        elif kind == "delay_jitter":
            delay = {"seconds": p["delay"], "jitter": p["jitter"]}
            self._delaying = fault  # from now on an older window's timer leaves it alone
            armed = await self._arm(fault, [("delay_replies", delay)])
            self._replace(kind, armed)
            self._spawn(self._end_delay(armed, fault.trigger + p["span"]))
        elif kind == "notice":
            await self._arm(fault, [("send_notice", {"close_after": p["close_after"]})])
        elif kind == "malformed":
            await self._arm(fault, [("send_malformed", {"n": p["n"]})])
        elif kind == "refuse_login":
            await self._wait_fired(kind, SLOT_WAIT_S)
            actions: Actions = [
                ("refuse_logins", {"count": p["count"]}),
                ("send_notice", {"close_after": 0.02}),  # every WS API link must log in again
            ]
            self._replace(kind, await self._arm(fault, actions, units=p["count"]))
        elif kind == "restart":
            # Never cancelled half-way (that would leave the server down): the segment's
            # end waits for it.
            task = asyncio.ensure_future(self._restart(fault))
            self._restarts.append(task)
            await asyncio.shield(task)
        else:  # pragma: no cover
            raise ValueError(kind)

    async def _arm(self, fault: Fault, actions: Actions, units: int = 1) -> Armed:
        before, after = await self.sim.call("arm", self.defect.fault_actions(fault, actions))
        armed = Armed(fault, self.segment, before, after, units=units)
        self.armed.append(armed)
        return armed

    async def _restart(self, fault: Fault) -> None:
        before, after = await self.sim.call("restart", fault.params["down_for"])
        self.armed.append(Armed(fault, self.segment, before, after))

    async def _turn_off(self, armed: Armed, why: str) -> None:
        action = "swallow_pongs" if armed.fault.kind == "swallow_pongs" else "delay_replies"
        kwargs: dict[str, Any] = {"on": False} if action == "swallow_pongs" else {"seconds": 0}
        before, _ = await self.sim.call("arm", [(action, kwargs)])
        armed.end, armed.ended_by = before, why

    def _replace(self, kind: str, armed: Armed) -> None:
        """A new slot/window arming of ``kind`` ends the previous one."""
        previous = self._last.get(kind)
        if previous is not None and previous.end is None:
            previous.end, previous.ended_by = armed.before, "re-armed"
        self._last[kind] = armed

    async def _end_delay(self, armed: Armed, until: int) -> None:
        deadline = time.monotonic() + DELAY_MAX_S
        while self.issued() < until and time.monotonic() < deadline:
            await asyncio.sleep(SCHED_POLL_S * 5)
        if self._delaying is armed.fault and armed.end is None:
            await self._turn_off(armed, "turned off")

    async def _wait_fired(self, kind: str, limit: float) -> None:
        """Until the latest slot fault of ``kind`` fired all its units (or ``limit``)."""
        previous = self._last.get(kind)
        if previous is None or previous.end is not None:
            return
        await self._until_fired(previous, limit)

    async def _until_fired(self, armed: Armed, limit: float) -> None:
        """Until ``armed`` fired all its units, per the simulator's counters (or ``limit``)."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            now = await self.sim.call("counters")
            if fired(now, armed.counter) - fired(armed.after, armed.counter) >= armed.units:
                return
            await asyncio.sleep(0.02)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._timers.add(task)
        task.add_done_callback(self._timers.discard)

    # -- the segment's end -------------------------------------------------------------------
    async def end_segment(self) -> None:
        """Stop every fault, account for each one armed in this segment, start the next."""
        for task in self._restarts:
            try:
                await asyncio.wait_for(asyncio.shield(task), 30)
            except Exception as exc:
                self.problems.append(f"simulator restart failed: {exc!r}")
        self._restarts.clear()
        for task in list(self._timers):
            task.cancel()
        await asyncio.gather(*self._timers, return_exceptions=True)
        mine = [a for a in self.armed if a.segment == self.segment]
        for armed in mine:
            if armed.how == "window" and armed.end is None:
                await self._turn_off(armed, "turned off at the segment's end")
        for kind in ("close_mid_request", "refuse_login"):
            await self._wait_fired(kind, DRAIN_S)
        cleared = await self.sim.call("reset_faults")
        end: Counters = cleared["counters"]
        if cleared["pending"]:
            self.sim_pending.append({k: v for k, v in cleared["pending"].items() if v})
        self.problems += reconcile(mine, self._segment_start, end, cleared["pending"])
        for armed in mine:  # judged: the simulator's counters are no longer needed, and
            # over a long run (3 dicts of ~25 counters per fault) they were the soak's
            # largest long-lived small objects in the client process (soak.rss)
            armed.before = armed.after = SETTLED
            if armed.end is not None:
                armed.end = SETTLED
        self.segment += 1
        self._segment_start = end
        self._last.clear()
