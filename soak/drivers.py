"""Drivers: one request through the client under test, its outcome reported once.

Every request goes through the typed path the user calls: the generated
client's method (``AsyncWebsocketAPIClient.order(...)``) or the runtime's
``call(operation, params)`` — never the raw ``send_ws_api_request``, which
skips validation and instIdCode resolution.  A driver hands the call's result
(or exception) to ``report`` exactly once; the planted defects in
:mod:`soak.defects` are drivers that break that promise.
"""

from __future__ import annotations

import asyncio
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from okx_ws.operations import BY_OP

from okx_ws_core import (
    AsyncWebsocketClient,
    AuthenticationError,
    ConnectionLost,
    Event,
    InstrumentResolutionError,
    OkxApiError,
    RateLimitExceeded,
    RequestTimeout,
)

from .ledger import (
    API_ERROR,
    AUTH_ERROR,
    CONNECTION_LOST,
    FREEZE_EVERY,
    RATE_LIMITED,
    SUCCESS,
    TIMEOUT_UNKNOWN,
    TIMEOUT_UNSENT,
    UNEXPECTED,
    UNRESOLVED,
    Frozen,
    Ledger,
    Record,
    own,
)
from .workload import Pool, Spec

Items = list[tuple[str, str, str]]  # (clOrdId, ordId, sCode)
Answer = tuple[str, Items]  # (request id, items) of a reply with code "0"
Report = Callable[[Any], None]  # takes an Answer or the exception the call raised


@dataclass
class ClientSide:
    """One client under test, with what the soak observes through its events."""

    name: str  # "async" | "sync"
    letter: str
    api_key: str
    api: Any  # AsyncWebsocketAPIClient / WebsocketAPIClient, or the runtime client
    ws: AsyncWebsocketClient  # the asyncio client underneath (runs on `loop`)
    loop: asyncio.AbstractEventLoop | None  # the blocking client's loop; None: the main loop
    owned: Any = None  # a runtime client the soak gave `api` (ws_client=): closed after it
    pool: Pool = field(default_factory=Pool)
    reconnects: list[float] = field(default_factory=list)  # private "reconnected" times
    reconnect_events: Counter[str] = field(default_factory=Counter)  # by connection
    close_events: Counter[str] = field(default_factory=Counter)  # link deaths, by connection
    private_closes: list[float] = field(default_factory=list)  # private link death times
    # (clOrdId, time) of each order push, frozen in batches (see soak.ledger): push_times()
    pushes: list[tuple[str, float]] = field(default_factory=list)
    frozen_pushes: Frozen = field(default_factory=Frozen)
    exceptions: Counter[str] = field(default_factory=Counter)
    late_replies: int = 0  # "late_reply" events: OKX's answers to calls that timed out
    lock: threading.Lock = field(default_factory=threading.Lock)

    def listen(self) -> None:
        self.ws.on("update", self.on_update)
        self.ws.on("reconnected", self.on_reconnected)
        self.ws.on("exception", self.on_exception)
        self.ws.on("close", self.on_close)
        self.ws.on("late_reply", self.on_late_reply)

    def on_update(self, event: Event) -> None:
        now = time.monotonic()
        data = (event.message or {}).get("data") or []
        with self.lock:
            for item in data:
                cl = item.get("clOrdId")
                if cl:
                    self.pushes.append((own(cl), now))
            if len(self.pushes) >= FREEZE_EVERY:
                self._freeze_pushes()

    def freeze_pushes(self) -> None:
        with self.lock:
            self._freeze_pushes()

    def _freeze_pushes(self) -> None:
        self.frozen_pushes.add(self.pushes)
        self.pushes = []

    def push_times(self) -> dict[str, list[float]]:
        """clOrdId -> the times its pushes came (thaws: for judging, after the run)."""
        with self.lock:
            self.pushes = self.frozen_pushes.thaw() + self.pushes
            out: dict[str, list[float]] = {}
            for cl, at in self.pushes:
                out.setdefault(cl, []).append(at)
            return out

    def on_reconnected(self, event: Event) -> None:
        now = time.monotonic()
        with self.lock:
            self.reconnect_events[own(event.connection)] += 1
            if event.connection == "private":
                self.reconnects.append(now)

    def on_late_reply(self, event: Event) -> None:
        with self.lock:
            self.late_replies += 1

    def on_close(self, event: Event) -> None:
        now = time.monotonic()
        with self.lock:
            self.close_events[own(event.connection)] += 1
            if event.connection == "private":
                self.private_closes.append(now)

    def on_exception(self, event: Event) -> None:
        what = type(event.error).__name__ if event.error is not None else event.detail.split(" ")[0]
        with self.lock:
            self.exceptions[own(what)] += 1


def _answer(reply: Any) -> Answer:
    return reply.id, [
        (item.cl_ord_id or "", getattr(item, "ord_id", None) or "", item.s_code)
        for item in reply.data
    ]


def _params(spec: Spec) -> Any:
    return spec.args if BY_OP[spec.op].batch else spec.args[0]


class Driver:
    """Calls the client once per request and reports what it returned or raised."""

    def __init__(self, generated: bool) -> None:
        self.generated = generated

    async def call_async(self, side: ClientSide, spec: Spec) -> Any:
        """The typed reply of one request on the asyncio client (raises its errors)."""
        operation = BY_OP[spec.op]
        if self.generated:
            return await getattr(side.api, operation.name)(_params(spec))
        return await side.ws.call(operation, _params(spec))

    def call_sync(self, side: ClientSide, spec: Spec) -> Any:
        operation = BY_OP[spec.op]
        if self.generated:
            return getattr(side.api, operation.name)(_params(spec))
        return side.api.call(operation, _params(spec))

    async def run_async(self, side: ClientSide, spec: Spec, index: int, report: Report) -> None:
        try:
            outcome: Any = _answer(await self.call_async(side, spec))
        except Exception as exc:
            outcome = exc
        report(outcome)

    def run_sync(self, side: ClientSide, spec: Spec, index: int, report: Report) -> None:
        try:
            outcome: Any = _answer(self.call_sync(side, spec))
        except Exception as exc:
            outcome = exc
        report(outcome)


def close_record(ledger: Ledger, rec: Record, side: ClientSide, outcome: Any) -> None:
    """Close ``rec`` from the call's result: an :data:`Answer` or the exception raised."""
    if isinstance(outcome, tuple):
        rid, items = outcome
        answered = tuple((own(cl), own(oid), own(code)) for cl, oid, code in items)
        ledger.close(rec, SUCCESS, request_id=own(rid), sent=True, items=answered)
        if rec.kind in ("rest", "batch"):
            side.pool.add([(cl, rec.inst_id) for cl, _, code in answered if code == "0"])
    elif isinstance(outcome, OkxApiError):
        answered = tuple(
            (own(i.get("clOrdId", "")), own(i.get("ordId", "")), own(i.get("sCode", "")))
            for i in outcome.data
        )
        ledger.close(
            rec,
            API_ERROR,
            request_id=own(outcome.id),
            sent=True,
            items=answered,
            detail=own(f"code={outcome.code}"),
        )
        if rec.kind in ("rest", "batch"):
            side.pool.add([(cl, rec.inst_id) for cl, _, code in answered if code == "0"])
    elif isinstance(outcome, RequestTimeout):
        kind = TIMEOUT_UNKNOWN if outcome.sent else TIMEOUT_UNSENT
        ledger.close(rec, kind, request_id=own(outcome.id), sent=outcome.sent)
    elif isinstance(outcome, ConnectionLost):
        ledger.close(
            rec, CONNECTION_LOST, request_id=own(outcome.id), detail=own(outcome.reason)[:80]
        )
    elif isinstance(outcome, AuthenticationError):
        ledger.close(rec, AUTH_ERROR, sent=False, detail=own(f"code={outcome.code}"))
    elif isinstance(outcome, RateLimitExceeded):
        ledger.close(rec, RATE_LIMITED, sent=False, detail=own(outcome.limit))
    elif isinstance(outcome, InstrumentResolutionError):
        ledger.close(rec, UNRESOLVED, sent=False, detail=own(outcome)[:80])
    else:
        where = " <- ".join(
            f"{Path(f.filename).name}:{f.lineno} {f.name}"
            for f in reversed(traceback.extract_tb(outcome.__traceback__)[-6:])
        )
        text = f"{type(outcome).__name__}: {outcome} [{where}]"
        ledger.close(rec, UNEXPECTED, detail=own(text)[:600])
