"""Planted defects: the soak must fail, in the right check, when one is present.

Test-only hook (``run_soak(cfg, defect=...)``, or ``python -m soak --plant NAME``
to watch the soak fail).  A defect wraps the driver (what a request reports),
the fault arming (what reaches the simulator), or acts at the first
checkpoint; nothing of the runtime or the simulator is touched.  Each names
the checks (``soak.checks``) that must catch it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import threading
from collections.abc import Awaitable, Callable
from typing import Any

from okx_ws_core import AuthenticationError, OkxApiError

from .drivers import ClientSide, Driver, Report, _answer
from .faults import Fault
from .probes import free_native, native_leak
from .workload import ORDERS_CHANNEL, Spec

Actions = list[tuple[str, dict[str, Any]]]
OnSide = Callable[[ClientSide, Awaitable[Any]], Awaitable[Any]]
SimCall = Callable[..., Awaitable[Any]]  # SimProcess.call
FIRST = 10  # planted on the first matching request from this index on
LEAK_MIB = 30


class Defect:
    """No defect: the base every planted one overrides a part of."""

    name = "none"
    catches: frozenset[str] = frozenset()  # checks that must fail
    at_limits = False  # shows only at OKX's limits (soak --at-limits)
    market = False  # shows only in the market phase (which then runs, however short the run)

    def driver(self, base: Driver) -> Driver:
        return base

    def fault_actions(self, fault: Fault, actions: Actions) -> Actions:
        return actions

    async def at_checkpoint(self, sides: list[ClientSide], on_side: OnSide, sim: SimCall) -> None:
        pass

    def verdicts(self, got: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """What ``reconcile()`` answered, api_key -> clOrdId -> Verdict."""
        return got

    def release(self) -> None:
        """After the run: let go of whatever it leaked on purpose."""

    def market_book(self, book: Any) -> None:
        """Each order book (a ``BookStream``) the market phase opens (``soak.market``)."""


class _Once:
    """Fires for the first request (from index FIRST) that ``wanted`` accepts."""

    def __init__(self, wanted: Callable[[ClientSide, Spec, int], bool]) -> None:
        self.wanted = wanted
        self.lock = threading.Lock()
        self.done = False

    def __call__(self, side: ClientSide, spec: Spec, index: int) -> bool:
        if index < FIRST or not self.wanted(side, spec, index):
            return False
        with self.lock:
            hit, self.done = not self.done, True
        return hit


Pick = Callable[[ClientSide, Spec, int], bool]


def every(side: ClientSide, spec: Spec, index: int) -> bool:
    return True


class _Wrapped(Driver):
    """A driver whose defect replaces the honest run for the requests it picks."""

    def __init__(self, base: Driver, defect: DriverDefect) -> None:
        super().__init__(base.generated)
        self.defect = defect

    async def run_async(self, side: ClientSide, spec: Spec, index: int, report: Report) -> None:
        if not self.defect.pick(side, spec, index):
            return await super().run_async(side, spec, index, report)
        await self.defect.plant_async(self, side, spec, report)

    def run_sync(self, side: ClientSide, spec: Spec, index: int, report: Report) -> None:
        if not self.defect.pick(side, spec, index):
            return super().run_sync(side, spec, index, report)
        self.defect.plant_sync(self, side, spec, report)


class DriverDefect(Defect):
    """Misbehaves on the requests ``pick`` accepts; override ``outcome`` or the plants."""

    def __init__(self) -> None:
        self.pick: Pick = self.picker()

    def picker(self) -> Pick:
        raise NotImplementedError

    def driver(self, base: Driver) -> Driver:
        return _Wrapped(base, self)

    def outcome(self, real: Any, spec: Spec, report: Report) -> None:
        report(real)

    async def plant_async(self, d: Driver, side: ClientSide, spec: Spec, report: Report) -> None:
        try:
            real: Any = _answer(await d.call_async(side, spec))
        except Exception as exc:
            real = exc
        self.outcome(real, spec, report)

    def plant_sync(self, d: Driver, side: ClientSide, spec: Spec, report: Report) -> None:
        try:
            real: Any = _answer(d.call_sync(side, spec))
        except Exception as exc:
            real = exc
        self.outcome(real, spec, report)


class DropRequest(DriverDefect):
    """Never calls the client and reports nothing: the request vanishes."""

    name, catches = "drop", frozenset({"lost"})

    def picker(self) -> Pick:
        return _Once(lambda side, spec, i: True)

    async def plant_async(self, d: Driver, side: ClientSide, spec: Spec, report: Report) -> None:
        return None

    def plant_sync(self, d: Driver, side: ClientSide, spec: Spec, report: Report) -> None:
        return None


class ReportTwice(DriverDefect):
    """Reports one request's outcome twice."""

    name, catches = "report_twice", frozenset({"duplicates"})

    def picker(self) -> Pick:
        return _Once(lambda side, spec, i: True)

    def outcome(self, real: Any, spec: Spec, report: Report) -> None:
        report(real)
        report(real)


class SendTwice(DriverDefect):
    """Sends the same order (same clOrdId) twice, reports the first answer."""

    # the second request is a phantom too: the simulator saw an id no record holds
    name, catches = "send_twice", frozenset({"duplicates", "phantoms"})

    def picker(self) -> Pick:
        return _Once(lambda side, spec, i: spec.kind == "rest")

    async def plant_async(self, d: Driver, side: ClientSide, spec: Spec, report: Report) -> None:
        await super().plant_async(d, side, spec, report)
        await super().plant_async(d, side, spec, lambda outcome: None)

    def plant_sync(self, d: Driver, side: ClientSide, spec: Spec, report: Report) -> None:
        super().plant_sync(d, side, spec, report)
        super().plant_sync(d, side, spec, lambda outcome: None)


class LeavePending(DriverDefect):
    """Awaits a future nobody completes: the call never returns (asyncio client)."""

    name, catches = "hang", frozenset({"hung"})

    def picker(self) -> Pick:
        return _Once(lambda side, spec, i: side.loop is None)

    async def plant_async(self, d: Driver, side: ClientSide, spec: Spec, report: Report) -> None:
        report(await asyncio.get_running_loop().create_future())


class FakeSuccess(DriverDefect):
    """Reports success, with a made-up ordId, for an order OKX rejected."""

    name, catches = "fake_success", frozenset({"book", "workload"})

    def picker(self) -> Pick:
        return _Once(lambda side, spec, i: spec.kind == "bad")

    def outcome(self, real: Any, spec: Spec, report: Report) -> None:
        rid = real.id if isinstance(real, OkxApiError) else "0"
        report((rid, [(spec.cl_ord_ids[0], "700000000000999999", "0")]))


class FakeRejection(DriverDefect):
    """Reports a rejection for an order OKX placed."""

    name, catches = "fake_rejection", frozenset({"book", "workload"})

    def picker(self) -> Pick:
        return _Once(lambda side, spec, i: spec.kind == "rest")

    def outcome(self, real: Any, spec: Spec, report: Report) -> None:
        if not isinstance(real, tuple):
            return report(real)  # not answered: nothing to lie about
        item = {"clOrdId": spec.cl_ord_ids[0], "ordId": "", "sCode": "51008", "sMsg": "no"}
        report(OkxApiError({"id": real[0], "op": spec.op, "code": "1", "data": [item]}))


class FakeNeverSent(DriverDefect):
    """Reports "login refused, never sent" for an order that was sent and answered."""

    # and its request id, kept from the ledger, is one the simulator saw: a phantom
    name, catches = "fake_never_sent", frozenset({"never_sent", "phantoms"})

    def picker(self) -> Pick:
        return _Once(lambda side, spec, i: spec.kind == "rest")

    def outcome(self, real: Any, spec: Spec, report: Report) -> None:
        report(AuthenticationError("60009", "Login failed.", connection="private"))


class LeakTasks(DriverDefect):
    """Every request leaves a task behind on the client's loop."""

    name, catches = "leak_tasks", frozenset({"client_resources", "after_close"})  # still running

    def picker(self) -> Pick:
        return lambda side, spec, index: side.loop is None

    def __init__(self) -> None:
        super().__init__()
        self.tasks: list[asyncio.Future[None]] = []

    async def plant_async(self, d: Driver, side: ClientSide, spec: Spec, report: Report) -> None:
        self.tasks.append(asyncio.ensure_future(asyncio.sleep(3600)))
        await super().plant_async(d, side, spec, report)

    def release(self) -> None:
        self.tasks.clear()  # cancelled when the soak's loop closed


class LeakSockets(DriverDefect):
    """Every tenth request opens a socket in the client process and keeps it."""

    name, catches = "leak_sockets", frozenset({"client_resources", "after_close"})  # still open

    def __init__(self) -> None:
        super().__init__()
        self.sockets: list[socket.socket] = []

    def picker(self) -> Pick:
        return lambda side, spec, index: index % 10 == 0

    def outcome(self, real: Any, spec: Spec, report: Report) -> None:
        self.sockets.append(socket.socket())
        report(real)

    def release(self) -> None:
        for sock in self.sockets:
            sock.close()
        self.sockets.clear()


class RetainReplies(DriverDefect):
    """Keeps every typed reply alive (a cache that never forgets)."""

    name, catches = "retain_replies", frozenset({"client_resources"})

    def __init__(self) -> None:
        super().__init__()
        self.replies: list[Any] = []

    def picker(self) -> Pick:
        return every

    async def plant_async(self, d: Driver, side: ClientSide, spec: Spec, report: Report) -> None:
        try:
            reply = await d.call_async(side, spec)
        except Exception as exc:
            return report(exc)
        self.replies.append(reply)
        report(_answer(reply))

    def release(self) -> None:
        self.replies.clear()

    def plant_sync(self, d: Driver, side: ClientSide, spec: Spec, report: Report) -> None:
        try:
            reply = d.call_sync(side, spec)
        except Exception as exc:
            return report(exc)
        self.replies.append(reply)
        report(_answer(reply))


class Unsubscribe(Defect):
    """Drops the orders subscription at the first checkpoint: pushes stop."""

    name, catches = "unsubscribe", frozenset({"subscriptions"})

    async def at_checkpoint(self, sides: list[ClientSide], on_side: OnSide, sim: SimCall) -> None:
        for side in sides:
            await on_side(side, side.ws.unsubscribe(ORDERS_CHANNEL, "private"))


class RestoreFirstOnly(Defect):
    """At the first checkpoint the simulator forgets every subscription but the first of
    each link: what a client restoring only its first subscription leaves behind."""

    name, catches = "restore_first_only", frozenset({"restored"})

    async def at_checkpoint(self, sides: list[ClientSide], on_side: OnSide, sim: SimCall) -> None:
        await sim("plant", "forget_subscriptions")


class ClientUnclosedSocket(Defect):
    """The client process drops a socket unclosed at the first checkpoint."""

    name, catches = "client_unclosed_socket", frozenset({"client_hygiene"})

    async def at_checkpoint(self, sides: list[ClientSide], on_side: OnSide, sim: SimCall) -> None:
        socket.socket()  # the point: never closed


class SimulatorLeaksSockets(Defect):
    """The simulator process keeps one socket open and drops another unclosed: charged
    to the simulator alone, whatever fd numbers the two processes reuse."""

    name, catches = (
        "simulator_leaks_sockets",
        frozenset({"simulator_resources", "simulator_hygiene"}),
    )

    async def at_checkpoint(self, sides: list[ClientSide], on_side: OnSide, sim: SimCall) -> None:
        await sim("plant", "kept_socket")
        await sim("plant", "unclosed_socket")


class ClientLeaksRss(Defect):
    """The client process leaks 30 MiB at the first checkpoint, outside Python's heap (as
    a C extension would): tracemalloc never sees it, only the RSS account does."""

    name, catches = "client_leaks_rss", frozenset({"client_rss"})

    def __init__(self) -> None:
        self.leaked: list[Any] = []

    async def at_checkpoint(self, sides: list[ClientSide], on_side: OnSide, sim: SimCall) -> None:
        self.leaked.append(native_leak(LEAK_MIB))

    def release(self) -> None:
        for address in self.leaked:
            free_native(address)
        self.leaked.clear()


class SimulatorLeaksRss(Defect):
    """The simulator process leaks 30 MiB at the first checkpoint, outside Python's heap."""

    name, catches = "simulator_leaks_rss", frozenset({"simulator_rss"})

    async def at_checkpoint(self, sides: list[ClientSide], on_side: OnSide, sim: SimCall) -> None:
        await sim("plant", "leak_native")


class RateLimitedOnce(Defect):
    """The simulator answers the next cancel 50011 (rate limit) although no limit was
    reached: what a client pacing below OKX's count would meet."""

    name, catches = "rate_limited_once", frozenset({"rate_limits"})

    async def at_checkpoint(self, sides: list[ClientSide], on_side: OnSide, sim: SimCall) -> None:
        await sim("plant", "refuse_next")


class LateUnexplained(Defect):
    """The simulator takes the next order as arrived 5 s after its expTime, with no fault
    to delay it (at the limits: orders carry expTime)."""

    name, catches = "late_unexplained", frozenset({"late_arrivals"})
    at_limits = True

    async def at_checkpoint(self, sides: list[ClientSide], on_side: OnSide, sim: SimCall) -> None:
        await sim("plant", "late_next")


class FaultNotArmed(Defect):
    """Records the first drop_request as armed but never sends it to the simulator."""

    name, catches = "fault_not_armed", frozenset({"faults"})

    def __init__(self) -> None:
        self.done = False

    def fault_actions(self, fault: Fault, actions: Actions) -> Actions:
        if fault.kind != "drop_request" or self.done:
            return actions
        self.done = True
        return []


class FaultUnrecorded(Defect):
    """Arms one drop_request more on the simulator than the soak records."""

    name, catches = "fault_unrecorded", frozenset({"faults"})

    def __init__(self) -> None:
        self.done = False

    def fault_actions(self, fault: Fault, actions: Actions) -> Actions:
        if fault.kind != "drop_request" or self.done:
            return actions
        self.done = True
        return [*actions, ("drop_next_request", {})]


class FakeVerdict(Defect):
    """Turns one reconcile() verdict around: placed <-> not placed."""

    name, catches = "fake_verdict", frozenset({"reconcile"})

    def verdicts(self, got: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        for by_cl in got.values():
            for cl, verdict in by_cl.items():
                if verdict.status in ("placed", "not_placed"):
                    flipped = "not_placed" if verdict.placed else "placed"
                    by_cl[cl] = dataclasses.replace(verdict, status=flipped)
                    return got
        return got


DEFECTS: dict[str, type[Defect]] = {
    cls.name: cls
    for cls in (
        DropRequest,
        ReportTwice,
        SendTwice,
        LeavePending,
        FakeSuccess,
        FakeRejection,
        FakeNeverSent,
        LeakTasks,
        LeakSockets,
        RetainReplies,
        Unsubscribe,
        RestoreFirstOnly,
        ClientUnclosedSocket,
        SimulatorLeaksSockets,
        FaultNotArmed,
        FaultUnrecorded,
        FakeVerdict,
        ClientLeaksRss,
        SimulatorLeaksRss,
        RateLimitedOnce,
        LateUnexplained,
    )
}

from .market_defects import MARKET_DEFECTS  # noqa: E402 - they subclass Defect

DEFECTS.update(MARKET_DEFECTS)


def planted(name: str | None) -> Defect:
    if not name:
        return Defect()
    try:
        return DEFECTS[name]()
    except KeyError:
        raise ValueError(f"unknown defect {name!r}; known: {', '.join(DEFECTS)}") from None
