"""Chaos soak: thousands of orders under random faults, every request accounted for once.

    python tools/soak.py --requests 10000 --faults 300 --seed 1 [--clients async,sync]
                         [--transport httpx-ws|websockets] [--api generated|core]

The asyncio client (``AsyncWebsocketAPIClient``, several coroutines) and the
blocking client (``WebsocketAPIClient``, several threads) trade at the same
time against the simulator, each on its own account, while a seeded fault
scheduler breaks things: connections closed mid-request, requests dropped
before or after execution, swallowed pongs, delayed and reordered replies,
64008 notices, malformed frames, login refusals that later clear and server
restarts on the same port.

Every request goes into a ledger and must end exactly once as success,
``OkxApiError``, ``RequestTimeout``, ``ConnectionLost`` or
``AuthenticationError`` (login refused: never sent), within its timeout plus a
small margin.  Afterwards the ledger is audited against the simulator: no
request id seen twice, no clOrdId placed twice, every reported success and
rejection matches the order book, every unknown fate (timeout, lost) is
reconciled by clOrdId.  Resources (asyncio tasks, threads, file descriptors,
traced memory) must not grow between the first and the last thousand
requests, ``close()`` must leave nothing behind, and any warning, unraisable
exception or "Task exception was never retrieved" fails the run.

Exit status 0 only when every invariant holds.  ``run_soak()`` is the same
runner for tests (``tests/test_soak_short.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import gc
import logging
import random
import re
import sys
import threading
import time
import traceback
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parent.parent
for _path in (str(ROOT / "generated"), str(ROOT)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from okx_ws.operations import BY_OP  # noqa: E402

from okx_ws_core import (  # noqa: E402
    AsyncWebsocketClient,
    AuthenticationError,
    ConnectionLost,
    Event,
    OkxApiError,
    RequestTimeout,
    WebsocketClient,
)
from okx_ws_sim import Account, SimulatorThread  # noqa: E402
from tools.soak_ledger import (  # noqa: E402
    API_ERROR,
    AUTH_ERROR,
    CONNECTION_LOST,
    HUNG,
    OUTCOMES,
    PLACE_OPS,
    SUCCESS,
    TIMEOUT_UNKNOWN,
    TIMEOUT_UNSENT,
    UNEXPECTED,
    Audit,
    Ledger,
    Record,
    audit,
    own,
)
from tools.soak_probe import (  # noqa: E402
    Hygiene,
    MemoryProbe,
    client_objects,
    count_fds,
    fd_kinds,
    own_simulator_json,
    split_growth,
    thread_names,
)

T = TypeVar("T")

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
CLIENT_KINDS = ("async", "sync")
ORDERS_CHANNEL = {"channel": "orders", "instType": "ANY"}
BALANCES = {"USDT": "1000000000", "BTC": "1000000", "ETH": "10000000"}
REST_PX = "100"  # far below BTC-USDT's reference price: rests forever
SCHED_POLL_S = 0.002
SETTLE_S = 1.6  # longest delayed reply (0.9 s + 0.6 s jitter) plus slack
SETUP_TIMEOUT_S = 10.0  # first connect imports and warms up a lot: not a soak measurement


@dataclass
class SoakConfig:
    requests: int = 10_000
    faults: int = 300
    seed: int = 1
    clients: tuple[str, ...] = CLIENT_KINDS
    transport: str = "httpx-ws"
    api: str = "generated"  # generated: AsyncWebsocketAPIClient / WebsocketAPIClient; core: runtime
    async_workers: int = 8
    sync_workers: int = 4
    request_timeout: float = 1.0
    ping_interval: float = 0.2
    pong_timeout: float = 0.2
    reconnect_delay: float = 0.01
    reconnect_max_delay: float = 0.1
    hang_margin: float = 0.5  # a call may overrun its timeout by this much before it "hung"
    watchdog: float = 10.0  # past timeout + watchdog an async call is abandoned (hung)
    warmup: int | None = None  # requests before the first resource checkpoint (default 1000)
    memory_limit_kib: float = 128.0  # traced growth in the client stack's own files
    total_memory_limit_kib: float = 2048.0  # traced growth anywhere but simulator and soak
    object_tolerance: int = 20  # live client-stack objects of one type may differ by this
    verbose: bool = False

    @property
    def warmup_requests(self) -> int:
        if self.warmup is not None:
            return self.warmup
        return min(1000, max(1, self.requests // 5))


# -- workload ----------------------------------------------------------------------


@dataclass
class Spec:
    op: str
    kind: str
    args: list[dict[str, Any]]
    cl_ord_ids: tuple[str, ...]
    expect_fail: frozenset[str] = frozenset()
    new_sz: str = ""


class Pool:
    """clOrdIds of one client's confirmed resting orders, each used once by a cancel/amend."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids: list[str] = []

    def add(self, ids: Sequence[str]) -> None:
        with self._lock:
            self._ids.extend(ids)

    def take(self, rng: random.Random) -> str | None:
        with self._lock:
            if not self._ids:
                return None
            i = rng.randrange(len(self._ids))
            self._ids[i], self._ids[-1] = self._ids[-1], self._ids[i]
            return self._ids.pop()


# An explicit instIdCode is sent as given; the simulator lists no instrument under it.
UNKNOWN_CODE = 999_999_999


def rest_item(cl: str) -> dict[str, Any]:
    return {
        "instId": "BTC-USDT",
        "tdMode": "cash",
        "side": "buy",
        "ordType": "limit",
        "px": REST_PX,
        "sz": "0.01",
        "clOrdId": cl,
    }


def build_spec(seed: int, index: int, letter: str, pool: Pool) -> Spec:
    """The request number ``index`` (deterministic per seed, except for pool targets)."""
    rng = random.Random(f"{seed}:{index}")
    base = f"{letter}{seed}n{index}"
    draw = rng.random()
    if draw >= 0.78:
        target = pool.take(rng)
        if target is not None:
            if draw < 0.90:
                return Spec(
                    "cancel-order", "cancel", [{"instId": "BTC-USDT", "clOrdId": target}], (target,)
                )
            return Spec(
                "amend-order",
                "amend",
                [{"instId": "BTC-USDT", "clOrdId": target, "newSz": "0.02"}],
                (target,),
                new_sz="0.02",
            )
    if draw < 0.65 or draw >= 0.78:
        cl = f"{base}r"
        return Spec("order", "rest", [rest_item(cl)], (cl,))
    if draw < 0.70:
        cl = f"{base}f"  # crosses ETH-USDT's reference price: fills at once
        item = {
            "instId": "ETH-USDT",
            "tdMode": "cash",
            "side": "buy",
            "ordType": "limit",
            "px": "3100",
            "sz": "0.01",
            "clOrdId": cl,
        }
        return Spec("order", "fill", [item], (cl,))
    if draw < 0.75:
        n = rng.randint(2, 5)
        ids = [f"{base}b{j}" for j in range(n)]
        items = [rest_item(cl) for cl in ids]
        bad: frozenset[str] = frozenset()
        if rng.random() < 0.3:  # one stale instIdCode: code "2", partially succeeded
            j = rng.randrange(n)
            items[j]["instIdCode"] = UNKNOWN_CODE
            bad = frozenset({ids[j]})
        return Spec("batch-orders", "batch", items, tuple(ids), expect_fail=bad)
    cl = f"{base}x"  # a code OKX does not list (51001): code "1", OkxApiError
    item = rest_item(cl)
    item["instIdCode"] = UNKNOWN_CODE
    return Spec("order", "bad", [item], (cl,), expect_fail=frozenset({cl}))


# -- drivers: one request through the typed client (or the runtime) ----------------------

Items = list[tuple[str, str, str]]  # (clOrdId, ordId, sCode)


def _items_from_model(reply: Any) -> tuple[str, Items]:
    return reply.id, [
        (item.cl_ord_id or "", getattr(item, "ord_id", None) or "", item.s_code)
        for item in reply.data
    ]


def _params(spec: Spec) -> Any:
    return spec.args if BY_OP[spec.op].batch else spec.args[0]


@dataclass
class ClientSide:
    """One client under test, with what the soak observes through its events."""

    name: str  # "async" | "sync"
    letter: str
    api_key: str
    api: Any  # AsyncWebsocketAPIClient / WebsocketAPIClient, or the runtime client
    ws: AsyncWebsocketClient  # the asyncio client underneath (runs on `loop`)
    loop: asyncio.AbstractEventLoop | None
    pool: Pool = field(default_factory=Pool)
    reconnects: list[float] = field(default_factory=list)  # private "reconnected" times
    reconnect_events: Counter[str] = field(default_factory=Counter)  # by connection
    close_events: Counter[str] = field(default_factory=Counter)  # link deaths, by connection
    pushes: dict[str, list[float]] = field(default_factory=dict)  # clOrdId -> push times
    exceptions: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def on_update(self, event: Event) -> None:
        now = time.monotonic()
        data = (event.message or {}).get("data") or []
        with self.lock:
            for item in data:
                cl = item.get("clOrdId")
                if cl:
                    self.pushes.setdefault(own(cl), []).append(now)

    def on_reconnected(self, event: Event) -> None:
        now = time.monotonic()
        with self.lock:
            self.reconnect_events[own(event.connection)] += 1
            if event.connection == "private":
                self.reconnects.append(now)

    def on_close(self, event: Event) -> None:
        with self.lock:
            self.close_events[own(event.connection)] += 1

    def on_exception(self, event: Event) -> None:
        what = type(event.error).__name__ if event.error is not None else event.detail.split(" ")[0]
        with self.lock:
            self.exceptions[own(what)] += 1


async def call_async(side: ClientSide, spec: Spec, generated: bool) -> tuple[str, Items]:
    """One request through the generated client's method, or the runtime's ``call``."""
    operation = BY_OP[spec.op]
    if generated:
        return _items_from_model(await getattr(side.api, operation.name)(_params(spec)))
    return _items_from_model(await side.ws.call(operation, _params(spec)))


def call_sync(side: ClientSide, spec: Spec, generated: bool) -> tuple[str, Items]:
    operation = BY_OP[spec.op]
    if generated:
        return _items_from_model(getattr(side.api, operation.name)(_params(spec)))
    return _items_from_model(side.api.call(operation, _params(spec)))


def close_record(ledger: Ledger, rec: Record, side: ClientSide, outcome: Any) -> None:
    """Close ``rec`` from the call's result: (id, items) or the exception it raised."""
    if isinstance(outcome, tuple):
        rid, items = outcome
        accepted = {own(cl): own(oid) for cl, oid, code in items if code == "0"}
        rejected = {own(cl): own(code) for cl, oid, code in items if code != "0"}
        ledger.close(
            rec, SUCCESS, request_id=own(rid), sent=True, accepted=accepted, rejected=rejected
        )
        if rec.kind in ("rest", "batch"):
            side.pool.add([cl for cl in accepted])
        return
    exc = outcome
    if isinstance(exc, OkxApiError):
        accepted = {own(i.get("clOrdId", "")): own(i.get("ordId", "")) for i in exc.succeeded}
        rejected = {own(i.get("clOrdId", "")): own(i.get("sCode", "")) for i in exc.failed}
        ledger.close(
            rec,
            API_ERROR,
            request_id=own(exc.id),
            sent=True,
            accepted=accepted,
            rejected=rejected,
            detail=own(f"code={exc.code}"),
        )
        if rec.kind in ("rest", "batch"):
            side.pool.add([cl for cl in accepted])
    elif isinstance(exc, RequestTimeout):
        ledger.close(
            rec,
            TIMEOUT_UNKNOWN if exc.sent else TIMEOUT_UNSENT,
            request_id=own(exc.id),
            sent=exc.sent,
        )
    elif isinstance(exc, ConnectionLost):
        ledger.close(rec, CONNECTION_LOST, request_id=own(exc.id), detail=own(exc.reason)[:80])
    elif isinstance(exc, AuthenticationError):
        ledger.close(rec, AUTH_ERROR, sent=False, detail=own(f"code={exc.code}"))
    else:
        where = " <- ".join(
            f"{Path(f.filename).name}:{f.lineno} {f.name}"
            for f in reversed(traceback.extract_tb(exc.__traceback__)[-6:])
        )
        ledger.close(rec, UNEXPECTED, detail=own(f"{type(exc).__name__}: {exc} [{where}]")[:600])


# -- the run ----------------------------------------------------------------------------


@dataclass
class Fault:
    trigger: int  # fires once this many workload requests were issued
    kind: str
    params: dict[str, Any]
    injected_at: float = 0.0


def plan_faults(cfg: SoakConfig) -> list[Fault]:
    rng = random.Random(f"faults:{cfg.seed}")
    if cfg.faults <= 0:
        return []
    lo, hi = max(1, cfg.requests // 100), max(2, int(cfg.requests * 0.97))
    if hi - lo < cfg.faults:
        raise SystemExit(f"--faults {cfg.faults} is too many for --requests {cfg.requests}")
    triggers = sorted(rng.sample(range(lo, hi), cfg.faults))
    kinds: list[str] = []
    while len(kinds) < cfg.faults:
        block = list(FAULT_KINDS)
        rng.shuffle(block)
        kinds.extend(block)
    faults = []
    for trigger, kind in zip(triggers, kinds[: cfg.faults], strict=True):
        p: dict[str, Any] = {}
        if kind == "close_mid_request":
            p = {"n": rng.randint(1, 6)}
        elif kind == "delay_jitter":
            if rng.random() < 0.25:  # slow: some replies arrive after the request timeout
                p = {"delay": rng.uniform(0.6, 0.9), "jitter": rng.uniform(0.2, 0.6)}
            else:
                p = {"delay": rng.uniform(0.0, 0.05), "jitter": rng.uniform(0.05, 0.3)}
            p["span"] = rng.randint(10, 40)
        elif kind == "notice":
            p = {"close_after": rng.uniform(0.02, 0.3)}
        elif kind == "malformed":
            p = {"n": rng.randint(1, 5)}
        elif kind == "refuse_login":
            p = {"count": rng.randint(1, 4)}
        elif kind == "restart":
            p = {"down_for": rng.uniform(0.0, 0.25)}
        faults.append(Fault(trigger, kind, p))
    return faults


@dataclass
class Checkpoint:
    label: str
    at_request: int
    tasks: dict[str, int]
    threads: list[str]
    fds: int
    fd_kinds: dict[str, int]
    memory: int  # traced bytes, simulator and soak excluded
    objects: dict[str, int]  # live client-stack objects by type


@dataclass
class SoakReport:
    config: SoakConfig
    elapsed: float = 0.0
    ledger: Ledger = field(default_factory=Ledger)
    faults: list[Fault] = field(default_factory=list)
    sim_faults: Counter[str] = field(default_factory=Counter)
    audit: Audit = field(default_factory=Audit)
    checkpoints: list[Checkpoint] = field(default_factory=list)
    memory_top: list[str] = field(default_factory=list)
    memory_client_growth: int = 0
    memory_other_growth: int = 0
    memory_client_top: list[str] = field(default_factory=list)
    object_growth: dict[str, int] = field(default_factory=dict)
    after_close: dict[str, Any] = field(default_factory=dict)
    baseline: dict[str, Any] = field(default_factory=dict)
    hygiene: list[str] = field(default_factory=list)
    # Unclosed sockets whose local port is the simulator's: server side, not the
    # client's. Printed, not part of the client verdict (a known simulator defect).
    simulator_hygiene: list[str] = field(default_factory=list)
    recovery: list[float] = field(default_factory=list)
    recovery_by_kind: dict[str, list[float]] = field(default_factory=dict)
    unrecovered: list[str] = field(default_factory=list)
    restoration: dict[str, dict[str, int]] = field(default_factory=dict)
    restoration_missing: list[str] = field(default_factory=list)
    client_events: dict[str, dict[str, Any]] = field(default_factory=dict)
    late_replies: int = 0
    max_loop_lag: float = 0.0
    lost_bounds: dict[str, tuple[int, int]] = field(default_factory=dict)  # client -> (lost, bound)
    log_warnings: Counter[str] = field(default_factory=Counter)
    sim_info: dict[str, Any] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    # -- derived ----------------------------------------------------------------
    @property
    def outcomes(self) -> Counter[str]:
        return self.ledger.outcomes()

    @property
    def lost(self) -> int:
        return len(self.ledger.open_records())

    @property
    def duplicates(self) -> int:
        return len(self.audit.duplicates) + len(self.ledger.double_closes)

    @property
    def hung(self) -> list[Record]:
        limit = self.config.hang_margin
        return [
            r
            for r in self.ledger.records
            if r.outcome == HUNG or (r.closes and r.duration > r.timeout + limit)
        ]

    @property
    def ok(self) -> bool:
        return not self.failures


class CountingHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.counts: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.WARNING:
            key = str(record.msg).split(":", 1)[-1].strip().split(" ")[0:5]
            self.counts[" ".join(key)] += 1


class Soak:
    def __init__(self, cfg: SoakConfig) -> None:
        for name in cfg.clients:
            if name not in CLIENT_KINDS:
                raise SystemExit(f"unknown client kind {name!r}; expected {CLIENT_KINDS}")
        self.cfg = cfg
        self.report = SoakReport(cfg)
        self.sim_port: int | None = None
        self.ledger = self.report.ledger
        self.hygiene = Hygiene()
        self.memory = MemoryProbe()
        self.sides: list[ClientSide] = []
        self.sim: SimulatorThread | None = None
        self.sim_loop: asyncio.AbstractEventLoop | None = None
        self.log_handler = CountingHandler()
        self.logger = logging.getLogger(f"okx_ws.soak.{id(self)}")
        self.logger.propagate = False
        self.logger.setLevel(logging.WARNING)
        self.logger.addHandler(self.log_handler)
        self._next = 0
        self._end = 0
        self._index_lock = threading.Lock()
        self.pause_async: asyncio.Event | None = None
        self.pause_sync = threading.Event()
        self.pause_sync.set()
        self._delay_gen = 0
        self._in_flight: dict[asyncio.Task[Any], Record] = {}
        self._abandoned: set[int] = set()
        self._sim_ops: list[Any] = []  # concurrent futures of restarts in progress
        self.generated = cfg.api == "generated"

    # -- simulator helpers -------------------------------------------------------
    async def on_sim(self, fn: Callable[[], T]) -> T:
        async def wrapper() -> T:
            return fn()

        return await self.on_sim_coro(wrapper())

    async def on_sim_coro(self, coro: Awaitable[T]) -> T:
        assert self.sim_loop is not None
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self.sim_loop))  # type: ignore[arg-type]

    # -- index allocation --------------------------------------------------------
    def take_index(self) -> int | None:
        with self._index_lock:
            if self._next >= self._end:
                return None
            i = self._next
            self._next += 1
            return i

    def open_record(
        self, side: ClientSide, index: int, spec: Spec, kind: str | None = None
    ) -> Record:
        return self.ledger.open(
            Record(
                index=index,
                client=side.name,
                api_key=side.api_key,
                op=spec.op,
                kind=kind or spec.kind,
                cl_ord_ids=spec.cl_ord_ids,
                timeout=self.cfg.request_timeout,
                started=time.monotonic(),
                new_sz=spec.new_sz,
                expect_fail=spec.expect_fail,
            )
        )

    # -- workers -----------------------------------------------------------------
    async def async_worker(self, side: ClientSide) -> None:
        assert self.pause_async is not None
        limit = self.cfg.request_timeout + self.cfg.watchdog
        while True:
            await self.pause_async.wait()
            index = self.take_index()
            if index is None:
                return
            spec = build_spec(self.cfg.seed, index, side.letter, side.pool)
            await self.one_async(side, index, spec, limit)

    async def one_async(
        self, side: ClientSide, index: int, spec: Spec, limit: float, kind: str | None = None
    ) -> None:
        rec = self.open_record(side, index, spec, kind)
        task = asyncio.current_task()
        assert task is not None
        self._in_flight[task] = rec  # watched by `watchdog` (no timer per request: those
        try:  # would linger, cancelled, in the loop's heap and blur the resource check)
            outcome: Any = await call_async(side, spec, self.generated)
        except asyncio.CancelledError:
            if id(rec) not in self._abandoned:
                raise
            task.uncancel()
            self.ledger.close(rec, HUNG, detail=f"no outcome after {limit:g}s (watchdog)")
            return
        except Exception as exc:
            outcome = exc
        finally:
            del self._in_flight[task]
        close_record(self.ledger, rec, side, outcome)

    async def loop_lag(self) -> None:
        """How late the main loop (the asyncio client's) wakes a 20 ms sleeper."""
        while True:
            start = time.monotonic()
            await asyncio.sleep(0.02)
            lag = time.monotonic() - start - 0.02
            if lag > self.report.max_loop_lag:
                self.report.max_loop_lag = lag

    async def watchdog(self) -> None:
        """Abandon (cancel) an async call still running past timeout + watchdog."""
        limit = self.cfg.request_timeout + self.cfg.watchdog
        while True:
            await asyncio.sleep(0.25)
            now = time.monotonic()
            for task, rec in list(self._in_flight.items()):
                if now - rec.started > limit and id(rec) not in self._abandoned:
                    self._abandoned.add(id(rec))
                    task.cancel()

    def sync_worker(self, side: ClientSide) -> None:
        while True:
            self.pause_sync.wait()
            index = self.take_index()
            if index is None:
                return
            spec = build_spec(self.cfg.seed, index, side.letter, side.pool)
            self.one_sync(side, index, spec)

    def one_sync(self, side: ClientSide, index: int, spec: Spec, kind: str | None = None) -> None:
        rec = self.open_record(side, index, spec, kind)
        try:
            outcome: Any = call_sync(side, spec, self.generated)
        except Exception as exc:
            outcome = exc
        close_record(self.ledger, rec, side, outcome)

    async def run_threads(self, targets: list[Callable[[], None]], name: str) -> bool:
        """Run blocking callables on fresh threads; True when all ended in time."""
        loop = asyncio.get_running_loop()
        done = asyncio.Event()
        left = [len(targets)]

        def finished() -> None:
            left[0] -= 1
            if left[0] == 0:
                done.set()

        def wrap(fn: Callable[[], None]) -> Callable[[], None]:
            def run() -> None:
                try:
                    fn()
                finally:
                    loop.call_soon_threadsafe(finished)

            return run

        threads = [
            threading.Thread(target=wrap(fn), name=f"{name}-{i}", daemon=True)
            for i, fn in enumerate(targets)
        ]
        if not threads:
            return True
        for t in threads:
            t.start()
        limit = self.cfg.request_timeout + self.cfg.watchdog
        while not done.is_set():
            await asyncio.sleep(0.1)
            now = time.monotonic()
            stuck = [
                r
                for r in self.ledger.open_records()
                if r.client == "sync" and now - r.started > limit
            ]
            if stuck:  # a blocking call that never returns: report it, don't wait forever
                self.report.failures.append(
                    f"blocking call hung: {len(stuck)} calls open for more than {limit:g}s,"
                    f" e.g. #{stuck[0].index} {stuck[0].op}"
                )
                return False
        for t in threads:
            t.join()
        return True

    async def segment(self, start: int, end: int, faults: list[Fault]) -> None:
        """Issue requests [start, end) on every client while ``faults`` fire."""
        self._next, self._end = start, end
        jobs: list[Awaitable[Any]] = []
        sync_targets: list[Callable[[], None]] = []
        for side in self.sides:
            if side.name == "async":
                jobs += [self.async_worker(side) for _ in range(self.cfg.async_workers)]
            else:
                sync_targets += [
                    lambda s=side: self.sync_worker(s) for _ in range(self.cfg.sync_workers)
                ]
        workers = asyncio.gather(*jobs, self.run_threads(sync_targets, "soak-sync"))
        scheduler = asyncio.ensure_future(self.schedule(faults))
        watchdog = asyncio.ensure_future(self.watchdog())
        lag = asyncio.ensure_future(self.loop_lag())
        await workers
        lag.cancel()
        for helper in (scheduler, watchdog):
            if helper.done() and not helper.cancelled() and helper.exception() is not None:
                exc = helper.exception()
                self.report.failures.append(f"soak helper crashed: {exc!r}")
            helper.cancel()
        await asyncio.gather(scheduler, watchdog, lag, return_exceptions=True)
        self.set_paused(False)

    # -- faults ------------------------------------------------------------------
    def set_paused(self, paused: bool) -> None:
        assert self.pause_async is not None
        if paused:
            self.pause_async.clear()
            self.pause_sync.clear()
        else:
            self.pause_async.set()
            self.pause_sync.set()

    async def schedule(self, faults: list[Fault]) -> None:
        windows: set[asyncio.Task[None]] = set()
        try:
            for fault in faults:
                while self.ledger.issued < fault.trigger:
                    await asyncio.sleep(SCHED_POLL_S)
                await self.inject(fault, windows)
            await asyncio.Event().wait()  # until the segment ends
        finally:
            for task in windows:
                task.cancel()
            await asyncio.gather(*windows, return_exceptions=True)

    async def inject(self, fault: Fault, windows: set[asyncio.Task[None]]) -> None:
        assert self.sim is not None
        faults = self.sim.simulator.faults
        p = fault.params
        fault.injected_at = time.monotonic()
        self.report.faults.append(fault)
        kind = fault.kind
        if kind == "close_mid_request":
            await self.on_sim(lambda: faults.close_after_frames(p["n"]))
        elif kind == "drop_request":
            await self.on_sim(lambda: faults.drop_next_request())
        elif kind == "drop_reply":
            await self.on_sim(lambda: faults.drop_after_execute())
        elif kind == "swallow_pongs":
            # Pause the load so the links go idle, ping, get no pong and are declared dead.
            self.set_paused(True)
            await self.on_sim(lambda: faults.swallow_pongs(True))
            await asyncio.sleep(self.cfg.ping_interval + self.cfg.pong_timeout + 0.15)
            await self.on_sim(lambda: faults.swallow_pongs(False))
            self.set_paused(False)
        elif kind == "delay_jitter":
            self._delay_gen += 1
            gen = self._delay_gen
            await self.on_sim(lambda: faults.delay_replies(p["delay"], p["jitter"]))
            task = asyncio.ensure_future(self.end_delay(gen, fault.trigger + p["span"]))
            windows.add(task)
            task.add_done_callback(windows.discard)
        elif kind == "notice":
            await self.on_sim(lambda: faults.send_notice(p["close_after"]))
        elif kind == "malformed":
            await self.on_sim(lambda: faults.send_malformed(p["n"]))
        elif kind == "refuse_login":

            def refuse() -> None:
                faults.refuse_logins(p["count"])
                faults.send_notice(0.02)  # every private/business link must log in again

            await self.on_sim(refuse)
        elif kind == "restart":
            # Never cancelled half-way (that would leave the server down): the segment's
            # end waits for it in quiesce().
            assert self.sim_loop is not None
            op = asyncio.run_coroutine_threadsafe(
                self.sim.simulator.restart(p["down_for"]), self.sim_loop
            )
            self._sim_ops.append(op)
            await asyncio.shield(asyncio.wrap_future(op))
        else:  # pragma: no cover
            raise ValueError(kind)

    async def end_delay(self, gen: int, until: int) -> None:
        assert self.sim is not None
        deadline = time.monotonic() + 3.0
        while self.ledger.issued < until and time.monotonic() < deadline:
            await asyncio.sleep(SCHED_POLL_S * 5)
        if gen == self._delay_gen:
            faults = self.sim.simulator.faults
            await self.on_sim(lambda: faults.delay_replies(0))

    # -- checkpoints -------------------------------------------------------------
    async def count_tasks(self) -> dict[str, int]:
        async def count() -> int:
            return len(asyncio.all_tasks())

        out = {"main": len(asyncio.all_tasks()) - 1}
        for side in self.sides:
            if side.loop is not None:
                fut = asyncio.run_coroutine_threadsafe(count(), side.loop)
                out[f"{side.name}-loop"] = await asyncio.wrap_future(fut)
        out["sim"] = await self.on_sim_coro(count())
        return out

    async def quiesce(self) -> None:
        """Faults off, every client connected (private + business), nothing in flight."""
        assert self.sim is not None
        sim = self.sim.simulator
        for op in self._sim_ops:
            try:
                await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(op)), 30)
            except Exception as exc:
                self.report.failures.append(f"simulator restart failed: {exc!r}")
        self._sim_ops.clear()
        await self.on_sim(sim.faults.reset)
        for side in self.sides:
            await self.ensure_connected(side)
        want = 2 * len(self.sides)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            conns = await self.on_sim(sim.connection_count)
            if conns == want and all(not s.ws.in_flight for s in self.sides):
                break
            await asyncio.sleep(0.02)
        else:
            self.report.failures.append(
                f"could not quiesce: simulator has {await self.on_sim(sim.connection_count)}"
                f" connections, expected {want}"
            )

    async def ensure_connected(self, side: ClientSide) -> None:
        deadline = time.monotonic() + 10
        last: BaseException | None = None
        while time.monotonic() < deadline:
            try:
                if side.loop is None:
                    await side.ws.connect_ws_api(timeout=2.0)
                else:
                    fut = asyncio.run_coroutine_threadsafe(
                        side.ws.connect_ws_api(timeout=2.0), side.loop
                    )
                    await asyncio.wrap_future(fut)
                return
            except Exception as exc:  # refused login still pending, restart...
                last = exc
                await asyncio.sleep(0.05)
        self.report.failures.append(f"{side.name}: could not reconnect at a checkpoint: {last!r}")

    async def probe_orders(self) -> None:
        """One order per client after the last reconnect, to prove its subscription works."""
        limit = self.cfg.request_timeout + self.cfg.watchdog
        targets = []
        for n, side in enumerate(self.sides):
            index = self.cfg.requests + n
            spec = Spec(
                "order",
                "rest",
                [rest_item(f"{side.letter}{self.cfg.seed}p{index}")],
                (f"{side.letter}{self.cfg.seed}p{index}",),
            )
            if side.name == "async":
                await self.one_async(side, index, spec, limit, kind="probe")
            else:
                targets.append(
                    lambda s=side, i=index, sp=spec: self.one_sync(s, i, sp, kind="probe")
                )
        await self.run_threads(targets, "soak-probe")
        await asyncio.sleep(0.2)  # pushes follow replies

    async def checkpoint(self, label: str) -> tuple[Checkpoint, Any]:
        await self.quiesce()
        if label == "end":
            await self.probe_orders()
        # Settle: the simulator may still hold delayed replies and notice closes
        # (at most delay + jitter < 1.6 s); then take two equal readings in a row.
        await asyncio.sleep(SETTLE_S)
        previous: tuple[Any, ...] | None = None
        deadline = time.monotonic() + 5
        while True:
            await asyncio.sleep(0.1)
            reading = (await self.count_tasks(), thread_names(), count_fds())
            if reading == previous or time.monotonic() > deadline:
                break
            previous = reading
        tasks, threads, fds = reading
        objects = client_objects()
        snap = self.memory.snapshot()
        cp = Checkpoint(
            label,
            self.ledger.issued,
            tasks,
            threads,
            fds,
            fd_kinds(),
            MemoryProbe.total(snap),
            objects,
        )
        self.report.checkpoints.append(cp)
        if self.cfg.verbose:
            print(f"  checkpoint {label}: {cp}", flush=True)
        return cp, snap

    # -- clients -----------------------------------------------------------------
    def make_clients(self, base_url: str) -> None:
        from okx_ws import AsyncWebsocketAPIClient, WebsocketAPIClient

        cfg = self.cfg
        for n, name in enumerate(cfg.clients):
            key = f"soak-{name}-key"
            options: dict[str, Any] = {
                "api_key": key,
                "api_secret": f"soak-{name}-secret",
                "api_passphrase": f"soak-{name}-pass",
                "base_url": base_url,
                "request_timeout": cfg.request_timeout,
                "ping_interval": cfg.ping_interval,
                "pong_timeout": cfg.pong_timeout,
                "reconnect_delay": cfg.reconnect_delay,
                "reconnect_max_delay": cfg.reconnect_max_delay,
                "transport": cfg.transport,
                "attach_event_listeners": False,
                "logger": self.logger,
            }
            letter = "abcdefgh"[n]
            if name == "async":
                if self.generated:
                    api: Any = AsyncWebsocketAPIClient(**options)
                    ws = api.get_ws_client()
                else:
                    api = ws = AsyncWebsocketClient(**options)
                side = ClientSide(name, letter, key, api, ws, None)
            else:
                if self.generated:
                    api = WebsocketAPIClient(**options)
                    blocking = api.get_ws_client()
                else:
                    api = blocking = WebsocketClient(**options)
                assert isinstance(blocking, WebsocketClient)
                side = ClientSide(name, letter, key, api, blocking.async_client, blocking.loop)
                self.hygiene.watch_loop(blocking.loop, f"{name}-client")
            side.ws.on("update", side.on_update)
            side.ws.on("reconnected", side.on_reconnected)
            side.ws.on("exception", side.on_exception)
            side.ws.on("close", side.on_close)
            self.sides.append(side)

    async def subscribe_all(self) -> None:
        for side in self.sides:
            if side.loop is None:
                await side.ws.connect_ws_api(timeout=SETUP_TIMEOUT_S)
                await side.ws.subscribe(ORDERS_CHANNEL, "private", timeout=SETUP_TIMEOUT_S)
            else:

                def blocking(s: ClientSide = side) -> None:
                    client = s.api.get_ws_client() if self.generated else s.api
                    client.connect_ws_api(timeout=SETUP_TIMEOUT_S)
                    client.subscribe(ORDERS_CHANNEL, "private", timeout=SETUP_TIMEOUT_S)

                await self.run_threads([blocking], "soak-setup")

    async def close_clients(self) -> None:
        targets = []
        for side in self.sides:
            if side.loop is None:
                await side.api.close()
            else:
                targets.append(side.api.close)
        await self.run_threads(targets, "soak-close")

    # -- main --------------------------------------------------------------------
    async def main(self) -> None:
        cfg = self.cfg
        self.hygiene.watch_loop(asyncio.get_running_loop(), "main")
        self.pause_async = asyncio.Event()
        self.pause_async.set()
        accounts = [
            Account(
                f"soak-{name}-key",
                f"soak-{name}-secret",
                f"soak-{name}-pass",
                balances=dict(BALANCES),
                uid=str(900000001 + n),
            )
            for n, name in enumerate(cfg.clients)
        ]
        self.sim = SimulatorThread(accounts=accounts, idle_timeout=5.0, seed=cfg.seed)
        self.sim.start()
        try:
            self.sim_loop = self.sim.call(asyncio.get_running_loop)
            self.hygiene.watch_loop(self.sim_loop, "simulator")
            self.report.baseline = {"threads": thread_names(), "fds": count_fds()}
            await self.run_clients()
        finally:
            sim, self.sim = self.sim, None
            self.report.sim_faults = Counter(sim.stats.faults_injected)
            sim.stop()

    async def run_clients(self) -> None:
        cfg = self.cfg
        assert self.sim is not None
        faults = plan_faults(cfg)
        warm = min(cfg.warmup_requests, cfg.requests)
        started = time.monotonic()
        self.sim_port = int(self.sim.base_url.rsplit(":", 1)[1])
        self.make_clients(self.sim.base_url)
        try:
            await self.subscribe_all()
            await self.segment(0, warm, [f for f in faults if f.trigger < warm])
            _, snap_a = await self.checkpoint("first")
            await self.segment(warm, cfg.requests, [f for f in faults if f.trigger >= warm])
            _, snap_b = await self.checkpoint("end")
            rep = self.report
            rep.memory_top = MemoryProbe.top_growth(snap_a, snap_b)
            rep.memory_client_growth, rep.memory_other_growth, rep.memory_client_top = split_growth(
                snap_a, snap_b
            )
            del snap_a, snap_b
            self.report.elapsed = time.monotonic() - started
            await self.collect_sim_state()
        finally:
            await self.close_clients()
        await self.after_close()

    async def collect_sim_state(self) -> None:
        assert self.sim is not None
        sim = self.sim.simulator
        stats = await self.on_sim(sim.stats.snapshot)
        orders = {
            s.api_key: await self.on_sim(lambda k=s.api_key: sim.orders(k)) for s in self.sides
        }
        self.report.audit = audit(self.ledger, stats.request_ids, orders, stats.item_errors_by_code)
        self.report.sim_info = {
            "requests_total": stats.requests_total,
            "connections_opened": stats.connections_opened,
            "logins_ok": stats.logins_ok,
            "logins_failed": stats.logins_failed,
            "pushes_sent": stats.pushes_sent,
            "pings": stats.pings,
            "idle_closes": stats.idle_closes,
        }

    async def after_close(self) -> None:
        assert self.sim is not None
        sim = self.sim.simulator
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            conns = await self.on_sim(sim.connection_count)
            leftover = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            if conns == 0 and not leftover and count_fds() == self.report.baseline["fds"]:
                break
            await asyncio.sleep(0.02)
        gc.collect()
        self.report.after_close = {
            "sim_connections": await self.on_sim(sim.connection_count),
            "main_tasks": [
                repr(t)[:160] for t in asyncio.all_tasks() if t is not asyncio.current_task()
            ],
            "threads": thread_names(),
            "fds": count_fds(),
            "client_loops_closed": all(s.loop is None or s.loop.is_closed() for s in self.sides),
        }


def split_simulator_sockets(
    problems: list[str], sim_port: int | None
) -> tuple[list[str], list[str]]:
    """Separate unclosed-socket warnings of the simulator's accepted sockets.

    A socket whose *local* address is the simulator's listening port was
    accepted by the simulator; its transport's warning names only its fd.
    """
    if sim_port is None:
        return problems, []
    marker = f"laddr=('127.0.0.1', {sim_port})"
    server_fds = {
        m.group(1) for p in problems if marker in p for m in [re.search(r"fd=(\d+)", p)] if m
    }
    simulator, client = [], []
    for problem in problems:
        fd = re.search(r"_SelectorSocketTransport fd=(\d+)", problem)
        if marker in problem or (fd is not None and fd.group(1) in server_fds):
            simulator.append(problem)
        else:
            client.append(problem)
    return client, simulator


def run_soak(cfg: SoakConfig) -> SoakReport:
    """Run the soak and return its report (``report.ok``, ``report.failures``)."""
    soak = Soak(cfg)
    soak.memory.start()
    try:
        with soak.hygiene.installed(), own_simulator_json():
            asyncio.run(soak.main())
            gc.collect()
    finally:
        soak.memory.stop()
        soak.report.hygiene, soak.report.simulator_hygiene = split_simulator_sockets(
            list(soak.hygiene.problems), soak.sim_port
        )
        soak.report.late_replies = sum(
            n for k, n in soak.log_handler.counts.items() if "reply to unknown" in k
        )
        soak.report.log_warnings = soak.log_handler.counts
    analyse(soak)
    return soak.report


# -- analysis --------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def analyse(soak: Soak) -> None:
    report, cfg, ledger = soak.report, soak.cfg, soak.ledger
    records = ledger.records
    fail = report.failures

    # exactly once
    if report.lost:
        fail.append(f"lost: {report.lost} requests never got an outcome")
    if ledger.double_closes:
        fail.append(f"closed twice: {ledger.double_closes[:5]}")
    issued = sum(1 for r in records if r.kind != "probe")
    if issued != cfg.requests:
        fail.append(f"issued {issued} workload requests, expected {cfg.requests}")
    unexpected = [r for r in records if r.outcome == UNEXPECTED]
    if unexpected:
        fail.append(f"unexpected exceptions: {len(unexpected)}, e.g. {unexpected[0].detail}")
    hung = report.hung
    if hung:
        worst = max(hung, key=lambda r: r.duration)
        fail.append(
            f"hung: {len(hung)} calls overran timeout + {cfg.hang_margin:g}s"
            f" (worst #{worst.index} {worst.client} {worst.outcome} {worst.duration:.3f}s)"
        )

    # simulator agreement
    a = report.audit
    if a.duplicates:
        fail.append(f"duplicates: {len(a.duplicates)}, e.g. {a.duplicates[:3]}")
    if a.phantoms:
        fail.append(f"simulator saw {len(a.phantoms)} request ids nobody issued: {a.phantoms[:3]}")
    if a.never_sent_seen:
        fail.append(f"'never sent' requests reached the simulator: {a.never_sent_seen[:3]}")
    if a.mismatches:
        fail.append(f"state mismatches: {len(a.mismatches)}, e.g. {a.mismatches[:3]}")

    # recovery: fault -> next successful order started after it
    successes = sorted(
        (r.started, r.ended) for r in records if r.outcome == SUCCESS and r.op in PLACE_OPS
    )
    suffix_min = [0.0] * (len(successes) + 1)
    suffix_min[-1] = float("inf")
    for i in range(len(successes) - 1, -1, -1):
        suffix_min[i] = min(successes[i][1], suffix_min[i + 1])
    starts = [s for s, _ in successes]
    for fault in report.faults:
        i = bisect.bisect_left(starts, fault.injected_at)
        end = suffix_min[i]
        if end == float("inf"):
            report.unrecovered.append(f"{fault.kind}@{fault.trigger}")
            continue
        dt = end - fault.injected_at
        report.recovery.append(dt)
        report.recovery_by_kind.setdefault(fault.kind, []).append(dt)
    if report.unrecovered:
        fail.append(f"no successful order after faults {report.unrecovered[:5]}")

    # subscriptions restored after every private reconnect
    for side in soak.sides:
        mine = sorted(
            (r for r in records if r.client == side.name and r.outcome == SUCCESS),
            key=lambda r: r.started,
        )
        times = sorted(side.reconnects)
        counts = {"reconnects": len(times), "restored": 0, "no_order_before_next": 0, "missing": 0}
        for i, t0 in enumerate(times):
            # Orders issued after this link became usable and answered before the
            # next one existed were carried by this link: OKX pushes their state
            # to every subscribed connection, so at least one push must arrive.
            t1 = times[i + 1] if i + 1 < len(times) else float("inf")
            window = [r for r in mine if t0 <= r.started and r.ended < t1]
            ids = [cl for r in window for cl in (r.accepted or dict.fromkeys(r.cl_ord_ids))]
            if not ids:
                counts["no_order_before_next"] += 1
                continue
            if any(t >= t0 for cl in ids for t in side.pushes.get(cl, ())):
                counts["restored"] += 1
            else:
                counts["missing"] += 1
                report.restoration_missing.append(
                    f"{side.name}: reconnect #{i + 1}: no push for {len(ids)} orders placed on it"
                )
        report.restoration[side.name] = counts
        report.client_events[side.name] = {
            "reconnected": dict(side.reconnect_events),
            "exceptions": dict(side.exceptions),
        }
        last_probe = [r for r in records if r.client == side.name and r.kind == "probe"]
        if (
            last_probe
            and last_probe[0].outcome == SUCCESS
            and not any(side.pushes.get(cl) for cl in last_probe[0].cl_ord_ids)
        ):
            fail.append(f"{side.name}: no push for the final probe order: subscription lost")
    # ConnectionLost only for requests in flight when a link died: at most one per
    # concurrent caller per private link death (a 64008 notice or a login refusal
    # may end a link without a "close" event of the current link: counted too).
    link_ends = sum(1 for f in report.faults if f.kind in ("notice", "refuse_login"))
    for side in soak.sides:
        lost = sum(1 for r in records if r.client == side.name and r.outcome == CONNECTION_LOST)
        width = cfg.async_workers if side.name == "async" else cfg.sync_workers
        bound = (side.close_events.get("private", 0) + link_ends + 1) * width
        report.lost_bounds[side.name] = (lost, bound)
        if lost > bound:
            fail.append(
                f"{side.name}: {lost} ConnectionLost for {side.close_events.get('private', 0)}"
                f" private link deaths (at most {bound} can have been in flight): requests"
                f" fail on a link that is already dead"
            )
    if report.max_loop_lag > cfg.hang_margin:
        fail.append(
            f"the asyncio client's event loop stalled for {report.max_loop_lag:.3f}s"
            f" (> {cfg.hang_margin:g}s)"
        )
    if report.restoration_missing:
        fail.append(f"subscriptions not restored: {report.restoration_missing[:3]}")

    # resources
    if len(report.checkpoints) == 2:
        first, end = report.checkpoints
        if first.tasks != end.tasks:
            fail.append(f"asyncio tasks grew: {first.tasks} -> {end.tasks}")
        if first.threads != end.threads:
            fail.append(f"threads changed: {first.threads} -> {end.threads}")
        if first.fds != end.fds:
            fail.append(
                f"file descriptors {first.fds} -> {end.fds} ({first.fd_kinds} -> {end.fd_kinds})"
            )
        client_kib = report.memory_client_growth / 1024
        if client_kib > cfg.memory_limit_kib:
            fail.append(
                f"client-stack memory grew {client_kib:.1f} KiB (> {cfg.memory_limit_kib:g}):"
                f" {report.memory_client_top[:4]}"
            )
        total_kib = (end.memory - first.memory) / 1024
        if total_kib > cfg.total_memory_limit_kib:
            fail.append(
                f"traced memory grew {total_kib:.1f} KiB (> {cfg.total_memory_limit_kib:g}):"
                f" {report.memory_top[:4]}"
            )
        names = set(first.objects) | set(end.objects)
        report.object_growth = {
            n: end.objects.get(n, 0) - first.objects.get(n, 0)
            for n in sorted(names)
            if end.objects.get(n, 0) != first.objects.get(n, 0)
        }
        grown = {n: d for n, d in report.object_growth.items() if d > cfg.object_tolerance}
        if grown:
            fail.append(f"client-stack objects grew: {grown}")
    else:
        fail.append("resource checkpoints missing")
    ac = report.after_close
    if ac:
        if ac["sim_connections"]:
            fail.append(f"after close(): simulator still has {ac['sim_connections']} connections")
        if ac["main_tasks"]:
            fail.append(f"after close(): tasks still running: {ac['main_tasks'][:3]}")
        if not ac["client_loops_closed"]:
            fail.append("after close(): the blocking client's loop is not closed")
        if ac["threads"] != report.baseline["threads"]:
            fail.append(f"after close(): threads {report.baseline['threads']} -> {ac['threads']}")
        if ac["fds"] != report.baseline["fds"]:
            fail.append(f"after close(): fds {report.baseline['fds']} -> {ac['fds']}")
    if report.hygiene:
        fail.append(f"hygiene: {len(report.hygiene)} problems, e.g. {report.hygiene[:3]}")


def _reason(detail: str) -> str:
    """A ConnectionLost reason / OKX code without its variable parts."""
    text = detail.split(" request id=")[0]
    for sep in ("(", "<", " id="):
        text = text.split(sep)[0]
    return text.strip()[:60] or "?"


def summary(report: SoakReport) -> str:
    cfg = report.config
    records = report.ledger.records
    out = report.outcomes
    lines = []
    add = lines.append
    add(
        f"okx-ws chaos soak: seed={cfg.seed} requests={cfg.requests} faults={cfg.faults}"
        f" clients={','.join(cfg.clients)} transport={cfg.transport} api={cfg.api}"
        f" (async x{cfg.async_workers}, sync x{cfg.sync_workers}; timeout {cfg.request_timeout:g}s,"
        f" ping {cfg.ping_interval:g}s/{cfg.pong_timeout:g}s, reconnect"
        f" {cfg.reconnect_delay * 1000:g}-{cfg.reconnect_max_delay * 1000:g} ms)"
    )
    workload = [r for r in records if r.kind != "probe"]
    add(
        f"elapsed        {report.elapsed:.1f} s ({len(workload) / max(report.elapsed, 1e-9):.0f} requests/s)"
    )
    by_op = Counter(r.op for r in workload)
    add(
        f"requests       {len(workload)} workload + {len(records) - len(workload)} probes;"
        f" by op: {dict(by_op)}; by kind: {dict(Counter(r.kind for r in workload))}"
    )
    add(
        f"faults         {len(report.faults)} injected: "
        + " ".join(f"{k}={n}" for k, n in sorted(Counter(f.kind for f in report.faults).items()))
    )
    add("  simulator    " + " ".join(f"{k}={n}" for k, n in sorted(report.sim_faults.items())))
    add(
        "outcomes       "
        + " ".join(f"{k}={out.get(k, 0)}" for k in OUTCOMES)
        + (f" OPEN={out['OPEN']}" if out.get("OPEN") else "")
    )
    reasons = Counter(
        f"{r.outcome} {_reason(r.detail)}"
        for r in records
        if r.outcome in (CONNECTION_LOST, API_ERROR, AUTH_ERROR)
    )
    add("  details      " + ", ".join(f"{k}: {n}" for k, n in reasons.most_common(12)))
    durations = [r.duration for r in records if r.closes]
    over = [r.duration - r.timeout for r in records if r.closes]
    add(
        "  lost bound   ConnectionLost vs. what private link deaths allow: "
        + ", ".join(f"{k} {v[0]} <= {v[1]}" for k, v in report.lost_bounds.items())
        + f"; max event-loop lag {report.max_loop_lag * 1000:.0f} ms"
    )
    add(
        f"durations      p50 {percentile(durations, 50) * 1000:.1f} ms, p99"
        f" {percentile(durations, 99) * 1000:.1f} ms, max {max(durations, default=0) * 1000:.1f} ms;"
        f" worst overrun past timeout {max(over, default=0) * 1000:+.0f} ms (margin {cfg.hang_margin * 1000:g} ms)"
    )
    a = report.audit
    add(
        f"invariants     lost={report.lost} duplicates={report.duplicates} hung={len(report.hung)}"
        f" unexpected={out.get(UNEXPECTED, 0)} phantoms={len(a.phantoms)}"
        f" mismatches={len(a.mismatches)} never_sent_but_seen={len(a.never_sent_seen)}"
    )
    add(
        f"reconciled     {a.orders_checked} order checks against the simulator; unknown fates"
        f" ({out.get(TIMEOUT_UNKNOWN, 0)} timeouts + {out.get(CONNECTION_LOST, 0)} lost):"
        f" orders placed={a.unknown_placed} not placed={a.unknown_not_placed},"
        f" cancels done={a.unknown_cancel_done} not done={a.unknown_cancel_not_done},"
        f" amends done={a.unknown_amend_done} not done={a.unknown_amend_not_done};"
        f" never sent verified absent={a.never_sent_verified}"
        f" ({out.get(AUTH_ERROR, 0)} auth + {out.get(TIMEOUT_UNSENT, 0)} unsent timeouts);"
        f" late replies logged={report.late_replies}"
    )
    rec = report.recovery
    add(
        f"recovery       fault -> next successful order: p50 {percentile(rec, 50) * 1000:.0f} ms,"
        f" p99 {percentile(rec, 99) * 1000:.0f} ms, max {max(rec, default=0) * 1000:.0f} ms"
        f" (n={len(rec)}, unrecovered={len(report.unrecovered)})"
    )
    add(
        "  by kind      "
        + ", ".join(
            f"{k} p50 {percentile(v, 50) * 1000:.0f}/p99 {percentile(v, 99) * 1000:.0f} ms"
            for k, v in sorted(report.recovery_by_kind.items())
        )
    )
    for name, counts in report.restoration.items():
        ev = report.client_events.get(name, {})
        add(
            f"subscriptions  {name}: private reconnects={counts['reconnects']}"
            f" restored(push seen)={counts['restored']} missing={counts['missing']}"
            f" unverifiable(no order before next reconnect)={counts['no_order_before_next']};"
            f" reconnected by connection={ev.get('reconnected')}"
        )
    if len(report.checkpoints) == 2:
        first, end = report.checkpoints
        add(
            f"resources      at request {first.at_request} vs {end.at_request}: tasks {first.tasks} -> {end.tasks};"
            f" threads {len(first.threads)} -> {len(end.threads)}; fds {first.fds} -> {end.fds};"
            f" live client-stack objects {sum(first.objects.values())} -> {sum(end.objects.values())}"
            f" (max type delta {max(report.object_growth.values(), default=0):+d},"
            f" tolerance {cfg.object_tolerance})"
        )
        add(
            f"  memory       traced growth in client-stack files {report.memory_client_growth / 1024:+.1f} KiB"
            f" (limit {cfg.memory_limit_kib:g}); elsewhere (stdlib, shared) {report.memory_other_growth / 1024:+.1f} KiB;"
            f" total {first.memory / 1024:.0f} -> {end.memory / 1024:.0f} KiB"
            f" ({(end.memory - first.memory) / 1024:+.1f}, limit {cfg.total_memory_limit_kib:g})"
        )
        if report.memory_top:
            add("  top growth   " + "; ".join(report.memory_top[:4]))
    ac = report.after_close
    if ac:
        add(
            f"after close()  tasks={len(ac['main_tasks'])} sim connections={ac['sim_connections']}"
            f" threads={ac['threads']} (before: {report.baseline['threads']})"
            f" fds={ac['fds']} (before: {report.baseline['fds']}) client loops closed={ac['client_loops_closed']}"
        )
    add(f"simulator      {report.sim_info}")
    add(
        f"hygiene        {len(report.hygiene)} problems (warnings are errors; unraisable, thread and loop errors recorded)"
    )
    for problem in report.hygiene[:10]:
        add(f"  ! {problem}")
    if report.simulator_hygiene:
        add(
            f"simulator side {len(report.simulator_hygiene)} unclosed-socket warnings for sockets the"
            " simulator accepted (not the client's; open simulator defect, see README)"
        )
    if report.ok:
        add("RESULT: PASS")
    else:
        add(f"RESULT: FAIL ({len(report.failures)})")
        for failure in report.failures:
            add(f"  - {failure}")
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None = None) -> SoakConfig:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--requests", type=int, default=10_000)
    p.add_argument("--faults", type=int, default=300)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--clients", default="async,sync", help="comma-separated: async,sync")
    p.add_argument("--transport", default="httpx-ws", choices=("httpx-ws", "websockets"))
    p.add_argument("--api", default="generated", choices=("generated", "core"))
    p.add_argument("--async-workers", type=int, default=8)
    p.add_argument("--sync-workers", type=int, default=4)
    p.add_argument("--request-timeout", type=float, default=1.0)
    p.add_argument("--hang-margin", type=float, default=0.5)
    p.add_argument("--memory-limit-kib", type=float, default=128.0)
    p.add_argument("--verbose", action="store_true")
    a = p.parse_args(argv)
    return SoakConfig(
        requests=a.requests,
        faults=a.faults,
        seed=a.seed,
        clients=tuple(c.strip() for c in a.clients.split(",") if c.strip()),
        transport=a.transport,
        api=a.api,
        async_workers=a.async_workers,
        sync_workers=a.sync_workers,
        request_timeout=a.request_timeout,
        hang_margin=a.hang_margin,
        memory_limit_kib=a.memory_limit_kib,
        verbose=a.verbose,
    )


def main(argv: Sequence[str] | None = None) -> int:
    report = run_soak(parse_args(argv))
    print(summary(report), flush=True)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
