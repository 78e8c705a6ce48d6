"""One soak run: the clients under test against the simulator process, under faults.

The asyncio client (several coroutines on the main loop) and the blocking
client (several threads) trade at the same time (``soak.load``), each on its
own account, while :class:`~soak.injector.FaultInjector` arms the scheduled
faults.  The run is cut into segments (the warm-up, then evenly spaced); each
ends quiet — faults accounted for and cleared, every client reconnected,
nothing in flight, delayed replies drained — with a resource checkpoint of
both processes.  Then every reported outcome is judged against the
simulator's book (``soak.book``) and every invariant checked (``soak.checks``).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections import Counter
from collections.abc import Callable
from functools import partial

from . import analysis, retained
from .book import Fate, as_fates, judge, lookups_needed
from .checks import KEYED, run_checks
from .clients import (
    close_clients,
    connect_and_subscribe,
    ensure_connected,
    make_clients,
    on_side,
    remembered,
)
from .config import CLIENT_KINDS, SoakConfig
from .defects import Defect, planted
from .drivers import ClientSide, Driver
from .faults import Fault, plan_faults, settle_seconds
from .injector import FaultInjector
from .load import Load
from .market import run_market
from .probes import (
    SOAK_FRAMES,
    Hygiene,
    MemoryProbe,
    MemoryReading,
    count_fds,
    fd_kinds,
    holders,
    live_objects,
    split_growth,
    thread_names,
    top_growth,
)
from .reconciled import judge as judge_verdicts
from .reconciled import reconcile_unknowns
from .report import Checkpoint, SoakReport
from .resources import CENSUS_MODULES, CLIENT_FILES, CLIENT_GROUPS, steady_reading
from .simcost import order_cost_for
from .simproc import SimProcess
from .workload import BALANCES, probe_spec

LOOKUP_CHUNK = 5000  # clOrdIds per find_orders call
SIM_INFO = (
    "requests_total",
    "connections_opened",
    "logins_ok",
    "logins_failed",
    "pushes_sent",
    "pings",
    "idle_closes",
)


class CountingHandler(logging.Handler):
    """Counts the clients' warnings (late replies to expired requests among them)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.counts: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.WARNING:
            key = str(record.msg).split(":", 1)[-1].strip().split(" ")[0:5]
            self.counts[" ".join(key)] += 1


class Soak:
    def __init__(self, cfg: SoakConfig, defect: Defect | None = None) -> None:
        for name in cfg.clients:
            if name not in CLIENT_KINDS:
                raise ValueError(f"unknown client kind {name!r}; expected {CLIENT_KINDS}")
        self.cfg = cfg
        self.report = SoakReport(cfg)
        self.ledger = self.report.ledger
        self.defect = defect or planted(cfg.plant)
        self.load = Load(cfg, self.defect.driver(Driver(cfg.api == "generated")), self.report)
        self.hygiene = Hygiene()
        self.memory = MemoryProbe()
        self.sides: list[ClientSide] = []
        accounts = [
            (
                f"soak-{n}-key",
                f"soak-{n}-secret",
                f"soak-{n}-pass",
                dict(BALANCES),
                str(900000001 + i),
            )
            for i, n in enumerate(cfg.clients)
        ]
        options = {"rate_limits": cfg.sim_rate_limits, "travel_s": cfg.request_timeout}
        self.sim = SimProcess(accounts, cfg.seed, options)
        self.injector = FaultInjector(
            self.sim,
            self.defect,
            issued=lambda: self.ledger.issued,
            pause=self.load.set_paused,
            pong_wait=cfg.ping_interval + cfg.pong_timeout + 0.15,
        )
        self.report.armed = self.injector.armed
        self.log_handler = CountingHandler()
        self.logger = logging.getLogger(f"okx_ws.soak.{id(self)}")
        self.logger.propagate = False
        self.logger.setLevel(logging.WARNING)
        self.logger.addHandler(self.log_handler)

    # -- segments ------------------------------------------------------------------------
    async def segment(self, start: int, end: int, faults: list[Fault]) -> None:
        """Issue requests [start, end) on every client while ``faults`` are armed."""
        scheduler = asyncio.ensure_future(self.injector.run(faults))
        helpers = [
            asyncio.ensure_future(self.load.watchdog()),
            asyncio.ensure_future(self.load.loop_lag()),
        ]
        await self.load.run(self.sides, start, end)
        try:  # every trigger lies in this segment: the last faults are armed now
            await asyncio.wait_for(asyncio.shield(scheduler), 30)
        except Exception as exc:
            self.report.runner_errors.append(f"fault scheduler: {exc!r}")
            scheduler.cancel()
        for helper in helpers:
            helper.cancel()
        await asyncio.gather(scheduler, *helpers, return_exceptions=True)
        self.load.set_paused(False)

    async def quiesce(self) -> None:
        """Faults accounted for and off, every client connected, nothing in flight."""
        await self.injector.end_segment()
        for side in self.sides:
            error = await ensure_connected(side)
            if error is not None:
                self.report.runner_errors.append(f"{side.name}: could not reconnect: {error!r}")
        # private and business, plus public while a client follows the instruments channel
        # (connect_ws_api() subscribes to it when instrument_types is set).
        want = sum(2 + side.ws.options.follows_instruments for side in self.sides)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            conns = await self.sim.call("connections")
            if conns == want and all(not s.ws.in_flight for s in self.sides):
                return
            await asyncio.sleep(0.02)
        self.report.runner_errors.append(
            f"could not quiesce: the simulator has {conns} connections, expected {want}"
        )

    async def probe_orders(self) -> None:
        """One order per client after the last reconnect, to prove its subscription works."""
        targets: list[Callable[[], None]] = []
        for n, side in enumerate(self.sides):
            index = self.cfg.requests + n
            spec = probe_spec(self.cfg.seed, index, side.letter)
            if side.loop is None:
                await self.load.one_async(side, index, spec)
            else:
                targets.append(partial(self.load.one_sync, side, index, spec))
        await self.load.run_threads(targets, "soak-probe")
        await asyncio.sleep(0.2)  # pushes follow replies

    async def checkpoint(self, label: str) -> MemoryReading:
        """Quiet both processes, read their resources; the client's memory reading."""
        await self.quiesce()
        if label == "end":
            await self.probe_orders()
        # delayed replies and notice closes may still be on their way
        await asyncio.sleep(settle_seconds(self.report.plan))
        # Read both processes only once every client is connected again, and the
        # simulator before the client's memory snapshot: on a 100k-request run that
        # snapshot holds this loop for seconds, no ping goes out, and the simulator's
        # 5 s idle timeout closed the async client's links before it was read.
        await self.quiesce()
        await self.check_restored(label)
        tasks, threads, fds = await steady_reading(self.sides)
        last = label == "end"  # then each process stops tracing
        sim = await self.sim.call("resources", label, last)
        # The soak's own records, frozen: a few blocks, not millions (soak.ledger)
        self.ledger.freeze()
        for side in self.sides:
            side.freeze_pushes()
        held = await retained.held(self.sides)
        objects = live_objects(CENSUS_MODULES)
        if last and self.report.checkpoints:  # where the types that grew are held
            first = self.report.checkpoints[0].objects
            grew = [n for n, c in objects.items() if c > first.get(n, 0) and n not in KEYED]
            self.report.object_holders = holders(grew)
        reading = self.memory.reading(last)
        mem = self.memory.summary(reading, CLIENT_GROUPS)
        # the soak's records, frozen into compressed batches: their bytes, traced or not
        mem["records_kib"] = (
            self.ledger.frozen_bytes + sum(s.frozen_pushes.nbytes for s in self.sides)
        ) / 1024
        cp = Checkpoint(
            label,
            self.ledger.issued,
            tasks,
            threads,
            fds,
            fd_kinds(),
            reading.total(SOAK_FRAMES),
            reading.rss_kib,
            objects,
            sim=sim,
            mem=mem,
            retained=held,
        )
        self.report.checkpoints.append(cp)
        if self.cfg.verbose:
            print(f"  checkpoint {label}: {cp.label} rss {cp.rss_kib} {cp.mem}", flush=True)
        return reading

    async def check_restored(self, label: str) -> None:
        """Each client's links on the simulator hold every subscription the client
        remembers: the reconnects of the segment just ended restored all of them."""
        held = await self.sim.call("subscriptions")
        for side in self.sides:
            want = await remembered(side)
            links = held.get(side.api_key, [])
            for key, args in want.items():
                mine = [subs for kind, subs in links if kind == key]
                if not mine:
                    self.report.restore_missing.append(
                        f"{label}: {side.name} {key}: no logged-in link on the simulator"
                    )
                for subs in mine:
                    lacking = [arg["channel"] for arg in args if arg not in subs]
                    if lacking:
                        self.report.restore_missing.append(
                            f"{label}: {side.name} {key}: the simulator's link lacks"
                            f" {lacking} of {len(args)} subscriptions"
                            f" (private reconnects so far: {len(side.reconnects)})"
                        )
            count = sum(len(args) for args in want.values())
            self.report.restore_reads.append((label, side.name, count, len(side.reconnects)))

    # -- the run ------------------------------------------------------------------------------
    async def main(self) -> None:
        loop = asyncio.get_running_loop()
        self.hygiene.watch_loop(loop, "main")
        self.load.start()
        self.sim.start()
        try:
            self.sim.attach(loop)
            self.report.baseline = {"threads": thread_names(), "fds": count_fds()}
            await self.run_clients()
        finally:
            try:
                self.report.sim_final = await self.sim.stop()
            except Exception as exc:
                self.report.runner_errors.append(f"stopping the simulator process: {exc!r}")
                self.sim.kill()

    async def run_clients(self) -> None:
        cfg = self.cfg
        plan = self.report.plan = plan_faults(cfg.requests, cfg.faults, cfg.seed)
        started = time.monotonic()
        self.sides = make_clients(cfg, self.sim.base_url, self.logger, self.hygiene)
        try:
            await connect_and_subscribe(self.sides)
            # Traced from here: the imports and first connections above would only make
            # every snapshot slower (growth is measured between two later checkpoints).
            if self.cfg.traces_client:  # else the RSS is judged untraced (soak.rss)
                self.memory.start()
            await self.injector.begin()
            bounds = cfg.checkpoint_bounds
            first: MemoryReading | None = None
            for lo, hi in zip(bounds, bounds[1:], strict=False):
                await self.segment(lo, hi, [f for f in plan if lo <= f.trigger < hi])
                snap = await self.checkpoint("end" if hi == cfg.requests else f"at {hi}")
                if first is None:
                    first = snap
                    await self.defect.at_checkpoint(self.sides, on_side, self.sim.call)
                    continue
                cp = self.report.checkpoints[-1]
                cp.client_growth, cp.other_growth, _ = split_growth(first, snap, CLIENT_FILES)
            assert first is not None
            self.measure_growth(first, snap)
            del first, snap
            self.report.elapsed = time.monotonic() - started
            self.report.fault_problems = self.injector.problems
            self.report.sim_pending = self.injector.sim_pending
            await self.collect_sim_state()
            # Order books under the market's faults, the trading judged (soak.market)
            self.report.market = await run_market(cfg, self.sim, self.defect, self.logger)
        finally:
            await close_clients(self.sides, self.load.run_threads)
        await self.after_close()
        self.report.retained_per_entry = await retained.weigh()

    def measure_growth(self, first: MemoryReading, last: MemoryReading) -> None:
        rep = self.report
        rep.memory_top = top_growth(first, last, excluded=SOAK_FRAMES)
        rep.memory_client_growth, rep.memory_other_growth, rep.memory_client_top = split_growth(
            first, last, CLIENT_FILES
        )
        a, b = rep.checkpoints[0], rep.checkpoints[-1]
        rep.object_growth = {
            n: b.objects.get(n, 0) - a.objects.get(n, 0)
            for n in sorted(set(a.objects) | set(b.objects))
            if b.objects.get(n, 0) != a.objects.get(n, 0)
        }

    async def collect_sim_state(self) -> None:
        """Ask the simulator for the true fate of every clOrdId, and judge the ledger."""
        stats = await self.sim.call("stats")
        fates: dict[str, dict[str, Fate]] = {}
        for key, ids in lookups_needed(self.ledger.records).items():
            fates[key] = {}
            for i in range(0, len(ids), LOOKUP_CHUNK):
                found = await self.sim.call("find_orders", key, ids[i : i + LOOKUP_CHUNK])
                fates[key].update(as_fates(found))
        order_ids = {s.api_key: await self.sim.call("order_ids", s.api_key) for s in self.sides}
        self.report.book = judge(
            self.ledger.records,
            fates,
            stats["request_ids"],
            order_ids,
            stats["item_errors_by_code"],
        )
        verdicts = await reconcile_unknowns(self.sides, self.ledger.records, on_side)
        verdicts = self.defect.verdicts(verdicts)
        self.report.reconciled = judge_verdicts(self.ledger.records, verdicts, fates)
        self.report.sim_fired = dict(stats["faults_injected"])
        self.report.limits = await self.sim.call("limits")
        self.report.sim_info = {"pid": self.sim.pid, **{k: stats[k] for k in SIM_INFO}}

    async def after_close(self) -> None:
        deadline = time.monotonic() + 1
        while time.monotonic() < deadline:
            conns = await self.sim.call("connections")
            leftover = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            if conns == 0 and not leftover and count_fds() == self.report.baseline["fds"]:
                break
            await asyncio.sleep(0.02)
        gc.collect()
        self.report.after_close = {
            "sim_connections": await self.sim.call("connections"),
            "main_tasks": [
                repr(t)[:160] for t in asyncio.all_tasks() if t is not asyncio.current_task()
            ],
            "threads": thread_names(),
            "fds": count_fds(),
            "client_loops_closed": all(s.loop is None or s.loop.is_closed() for s in self.sides),
        }


def run_soak(cfg: SoakConfig, defect: Defect | None = None) -> SoakReport:
    """Run the soak and return its report (``report.ok``, ``report.failures``).

    ``defect`` (or ``cfg.plant``) plants a defect from ``soak.defects``: for tests of
    the soak itself, which must then fail.
    """
    soak = Soak(cfg, defect)
    report = soak.report
    soak.hygiene.install()
    try:
        asyncio.run(soak.main())
        gc.collect()
    finally:
        soak.defect.release()
        gc.collect()
        soak.hygiene.uninstall()
        soak.memory.stop()
        report.hygiene = list(soak.hygiene.problems)
        report.hygiene_notes = dict(soak.hygiene.notes)
        counts = soak.log_handler.counts
        report.late_replies = sum(n for k, n in counts.items() if "reply to unknown" in k)
        soak.logger.removeHandler(soak.log_handler)
    analysis.recovery(report)
    analysis.restoration(report, soak.sides)
    analysis.lost_bounds(report, soak.sides, {"async": cfg.async_workers, "sync": cfg.sync_workers})
    report.sim_cost = order_cost_for(cfg.requests)  # what one order costs (soak.simcost)
    analysis.rss(report)
    run_checks(report)
    return report
