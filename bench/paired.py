"""``python -m bench.paired [--quick] [--json]``: okx-ws against the floor, in one process.

Why.  The main table runs each client in its own worker process, one after
another.  On this VM the floor's own p50 moves by up to 40% from one process
to the next (wake-up latency differs per process), so a 1.15× target read
from two separate processes ranks noise as often as code.  Here one worker
opens every client under test against one simulator and alternates them in
short blocks of sequential orders, rotating the order every round; each
block is compared with the floor's block of the same round.  What differs
between process runs then falls on both sides of a ratio alike.

What is shared, and how it is kept fair:

* one event loop drives the async drivers (only the one being measured has
  a request in flight; the others sit idle on their sockets); the blocking
  driver is called from the main thread, as a user calls it, while that
  loop is not running;
* ``gc.freeze()`` after every client is open and warm, so a collection
  during one client's block does not walk the others' long-lived objects;
* an A/A control: a second floor, measured exactly like the rows, shows
  how far a ratio of 1.00 spreads here.

Each process prints per client the median over rounds of (block p50 /
same-round floor p50) and of (block CPU per request / floor's), and the
pooled p50s.  Several processes (``--processes``) show what still varies
between them.  Reported, never asserted (issue #20).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .drivers import CLIENTS
from .measure import percentile
from .procs import ServerProcess, result_line

FLOOR = "floor"
CONTROL = "floor-control"  # a second floor: the A/A control
ROWS = (
    "okx-ws-default",
    "okx-ws-async-nolimit",
    "okx-ws-blocking-websockets",
    "okx-ws-core-websockets",  # the runtime alone: splits the typed layer from the core
)
# row -> p50 limit of issue #20
TARGETS = {"okx-ws-default": 1.15, "okx-ws-blocking-websockets": 1.35}
CPU_TARGET = 1.25
WORKER_TIMEOUT_S = 180


@dataclass(frozen=True)
class Plan:
    rounds: int
    block: int  # sequential orders per client per round
    warmup: int
    processes: int


FULL_PLAN = Plan(rounds=24, block=200, warmup=300, processes=3)
QUICK_PLAN = Plan(rounds=6, block=100, warmup=100, processes=1)


@dataclass
class Block:
    lat_ns: list[int]
    cpu_s: float
    errors: int


def _spec(key: str) -> Any:
    return CLIENTS[FLOOR if key == CONTROL else key]


class _Runner:
    """Opens every client on one server and runs blocks of sequential orders."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.loop = asyncio.new_event_loop()
        self.drivers: dict[str, Any] = {}

    def open(self, keys: list[str], warmup: int) -> None:
        for key in keys:
            spec = _spec(key)
            d = spec.make()
            if spec.blocking:
                d.open(self.url)
            else:
                self.loop.run_until_complete(d.open(self.url))
            self.drivers[key] = d
            self.block(key, f"w{len(self.drivers)}x", warmup)

    def block(self, key: str, prefix: str, n: int) -> Block:
        d = self.drivers[key]
        if _spec(key).blocking:
            return _sync_block(d.order, prefix, n)
        return self.loop.run_until_complete(self._block_async(d, prefix, n))

    async def _block_async(self, d: Any, prefix: str, n: int) -> Block:
        lat, errors = [0] * n, 0
        now, cpu = time.perf_counter_ns, time.process_time
        c0 = cpu()
        for i in range(n):
            t0 = now()
            try:
                await d.order(f"{prefix}{i}")
            except Exception:  # noqa: BLE001 - counted and reported
                errors += 1
                continue
            lat[i] = now() - t0
        return Block(lat, cpu() - c0, errors)

    def close(self) -> None:
        for key, d in self.drivers.items():
            try:
                if _spec(key).blocking:
                    d.close()
                else:
                    self.loop.run_until_complete(asyncio.wait_for(d.close(), 5))
            except Exception as exc:  # noqa: BLE001 - a close failure does not void the figures
                print(f"close of {key} failed: {exc!r}", file=sys.stderr)
        self.loop.close()


def _sync_block(order: Callable[[str], Any], prefix: str, n: int) -> Block:
    """The blocking client's block: called from this thread, as its users call it."""
    lat, errors = [0] * n, 0
    now, cpu = time.perf_counter_ns, time.process_time
    c0 = cpu()
    for i in range(n):
        t0 = now()
        try:
            order(f"{prefix}{i}")
        except Exception:  # noqa: BLE001 - counted and reported
            errors += 1
            continue
        lat[i] = now() - t0
    return Block(lat, cpu() - c0, errors)


def _p50_us(lat_ns: list[int]) -> float:
    return percentile(sorted(x for x in lat_ns if x), 50) / 1e3


def run_process(keys: list[str], plan: Plan) -> dict[str, Any]:
    """One worker: every client on one fresh simulator, ``plan.rounds`` rotated rounds."""
    order = [FLOOR, CONTROL, *keys]
    blocks: dict[str, list[Block]] = {k: [] for k in order}
    with ServerProcess("sim") as server:
        runner = _Runner(server.url)
        try:
            runner.open(order, plan.warmup)
            gc.collect()
            gc.freeze()
            for r in range(plan.rounds):
                shift = r % len(order)
                for k in order[shift:] + order[:shift]:
                    blocks[k].append(runner.block(k, f"r{r}x{order.index(k)}x", plan.block))
        finally:
            runner.close()
            gc.unfreeze()
    return summarize(blocks)


def summarize(blocks: dict[str, list[Block]]) -> dict[str, Any]:
    """Per client: per-round ratios to the floor (median, range) and pooled figures."""
    floor = blocks[FLOOR]
    out: dict[str, Any] = {}
    for key, mine in blocks.items():
        p50 = [_p50_us(b.lat_ns) for b in mine]
        cpu = [b.cpu_s / max(1, len(b.lat_ns) - b.errors) * 1e6 for b in mine]
        floor_p50 = [_p50_us(b.lat_ns) for b in floor]
        floor_cpu = [b.cpu_s / max(1, len(b.lat_ns) - b.errors) * 1e6 for b in floor]
        p50_ratios = sorted(a / b for a, b in zip(p50, floor_p50, strict=True))
        cpu_ratios = sorted(a / b for a, b in zip(cpu, floor_cpu, strict=True))
        pooled = [x for b in mine for x in b.lat_ns]
        out[key] = {
            "rounds": len(mine),
            "errors": sum(b.errors for b in mine),
            "p50_us": _p50_us(pooled),
            "p99_us": percentile(sorted(x for x in pooled if x), 99) / 1e3,
            "cpu_us_per_req": statistics.median(cpu),
            "p50_ratio": statistics.median(p50_ratios),
            "p50_ratio_range": [p50_ratios[0], p50_ratios[-1]],
            "cpu_ratio": statistics.median(cpu_ratios),
            "cpu_ratio_range": [cpu_ratios[0], cpu_ratios[-1]],
        }
    return out


def _child(keys: list[str], quick: bool) -> dict[str, Any]:
    argv = [sys.executable, "-m", "bench.paired", "--one", "--clients", ",".join(keys)]
    if quick:
        argv.append("--quick")
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=WORKER_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return {"unavailable": f"paired worker timed out after {WORKER_TIMEOUT_S} s"}
    return result_line(proc, "paired worker")


def measure(keys: list[str], quick: bool) -> dict[str, Any]:
    """``plan.processes`` fresh worker processes, one after another."""
    plan = QUICK_PLAN if quick else FULL_PLAN
    runs = [_child(keys, quick) for _ in range(plan.processes)]
    return {"plan": plan.__dict__, "keys": keys, "processes": runs}


def render(paired: dict[str, Any]) -> str:
    plan = paired["plan"]
    lines = [
        f"Paired in one process (python -m bench.paired): {plan['rounds']} rounds of "
        f"{plan['block']} sequential orders per client, order rotated each round, one "
        f"simulator; ratio = a client's block / the floor's block of the same round, "
        f"median over rounds [range]; {len(paired['processes'])} processes:",
    ]
    ok = [run for run in paired["processes"] if "unavailable" not in run]
    header = f"{'client':<30}{'p50 µs':>8}{'CPU µs':>8}" + "".join(
        f"{'p50 ratio':>20}{'CPU ratio':>20}" for _ in paired["processes"]
    )
    lines.append(header)
    for key in [FLOOR, CONTROL, *paired["keys"]]:
        mine = [run[key] for run in ok if key in run]
        if not mine:
            continue
        p50 = statistics.median(r["p50_us"] for r in mine)
        cpu = statistics.median(r["cpu_us_per_req"] for r in mine)
        cells = []
        for r in mine:
            (lo, hi), (clo, chi) = r["p50_ratio_range"], r["cpu_ratio_range"]
            cells.append(
                f"{r['p50_ratio']:.2f} [{lo:.2f}-{hi:.2f}]".rjust(20)
                + f"{r['cpu_ratio']:.2f} [{clo:.2f}-{chi:.2f}]".rjust(20)
            )
        name = {FLOOR: "floor (raw websockets)", CONTROL: "floor again (A/A control)"}.get(key, key)
        lines.append(f"{name:<30}{p50:>8.0f}{cpu:>8.0f}" + "".join(cells))
    for run in paired["processes"]:
        if "unavailable" in run:
            lines.append(f"- a process failed: {run['unavailable']}")
        else:
            bad = {k: v["errors"] for k, v in run.items() if v["errors"]}
            if bad:
                lines.append(f"- errors in a process: {bad}")
    lines.append("Targets, paired (median over the processes of their medians; reported only):")
    for key in paired["keys"]:
        if not ok or key not in ok[0]:
            continue
        p50 = statistics.median(run[key]["p50_ratio"] for run in ok)
        cpu = statistics.median(run[key]["cpu_ratio"] for run in ok)
        limit = TARGETS.get(key)
        verdict = "" if limit is None else f" (target ≤ {limit}×: {_verdict(p50, limit)})"
        cpu_note = ""
        if key == "okx-ws-default":
            cpu_note = f" (target ≤ {CPU_TARGET}×: {_verdict(cpu, CPU_TARGET)})"
        lines.append(f"- {key}: p50 {p50:.3f}×{verdict}; CPU/req {cpu:.3f}×{cpu_note}")
    if ok and "okx-ws-default" in ok[0] and "okx-ws-async-nolimit" in ok[0]:
        for what in ("p50_ratio", "cpu_ratio"):
            on_off = statistics.median(
                run["okx-ws-default"][what] / run["okx-ws-async-nolimit"][what] for run in ok
            )
            verdict = "meets" if abs(on_off - 1) <= 0.05 else "MISSES"
            lines.append(
                f"- limiter on/off {what[:-6]}: {on_off:.3f} (target within 5%): {verdict}"
            )
    return "\n".join(lines)


def _verdict(ratio: float, limit: float) -> str:
    return "meets" if ratio <= limit else "MISSES"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.paired", description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--clients", default=",".join(ROWS))
    parser.add_argument("--json", action="store_true", help="print one RESULT <json> line")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)  # a worker
    args = parser.parse_args()
    keys = [k for k in args.clients.split(",") if k]
    unknown = [k for k in keys if k not in CLIENTS]
    if unknown:
        parser.error(f"unknown clients {unknown}; choose from {list(CLIENTS)}")
    if args.one:
        import logging

        logging.basicConfig(level=logging.CRITICAL)
        result = run_process(keys, QUICK_PLAN if args.quick else FULL_PLAN)
        sys.stdout.write("RESULT " + json.dumps(result) + "\n")
        return
    paired = measure(keys, args.quick)
    if args.json:
        sys.stdout.write("RESULT " + json.dumps(paired) + "\n")
    else:
        print(render(paired))


if __name__ == "__main__":
    main()
