"""The blocking client's cost over the floor, A/B of two hops in one run (issue #20).

``LoopThread`` (the blocking client's hop to its loop thread and back) as it
is in this tree ("branch") against its version at a git ref ("base",
``--base main`` by default), loaded from ``git show`` into this process.

- Default: one simulator process (``bench.serve --kind sim``); in this process,
  in rounds of sequential orders whose order rotates so that machine noise
  falls on all alike: the floor (raw websockets, asyncio), okx-ws async,
  okx-ws blocking on the base hop and on the branch hop, two clients each,
  taken in turn (two identical blocking clients measured 10-35 us apart,
  the first made the faster: hence base, branch, branch, base, so that with
  ``--base HEAD`` the two rows agree within the noise).  Prints per variant
  the median over rounds of the p50 latency and of the process CPU per order
  (all threads), both also as ratios to the floor and as the median of each
  round's difference to the floor's, and context switches per order.
- ``--hop``: no server, the bare hop: ``LoopThread.run`` of a coroutine that
  returns at once, and ``LoopThread.call``, base against branch.

``REF`` may also be ``file:PATH``, a ``loop_thread.py`` outside git (a variant
under test).  Its ``from .lent_loop import ...`` gets this tree's module, and a
base older than the lent first step (no ``inline`` keyword) is called without
it: its rows then show the two-crossing hop.

``python -m bench.blocking_ab [--hop] [--base REF] [rounds] [orders]``.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import itertools
import resource
import statistics
import subprocess
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .drivers.floor import FloorDriver
from .drivers.okx_ws_clients import OkxWsAsyncDriver, OkxWsBlockingDriver
from .procs import ServerProcess

ROUNDS, ORDERS, HOPS = 9, 400, 5000
LOOP_THREAD = "okx_ws_core/client/loop_thread.py"
Sample = tuple[float, float, float]  # one round: p50 us, CPU us and context switches per call
Round = Callable[[int, str], Sample]


def base_loop_thread(ref: str) -> type[Any]:
    """``LoopThread`` as it is at git ``ref`` or in ``file:PATH`` (see the module's doc)."""
    root = Path(__file__).resolve().parent.parent
    if ref.startswith("file:"):
        source = Path(ref[5:]).read_text()
    else:
        source = subprocess.run(
            ["git", "show", f"{ref}:{LOOP_THREAD}"], cwd=root, check=True, capture_output=True
        ).stdout.decode()
    module = types.ModuleType("_base_loop_thread")
    module.__package__ = "okx_ws_core.client"  # its relative imports: this tree's modules
    exec(compile(source, f"{ref}:{LOOP_THREAD}", "exec"), module.__dict__)
    cls: type[Any] = module.LoopThread
    if "inline" not in inspect.signature(cls.run).parameters:  # older than the lent first step

        class Base(cls):  # type: ignore[misc,valid-type]
            def run(self, coro: Any, timeout: float | None = None, *, inline: bool = False) -> Any:
                return super().run(coro, timeout)

        return Base
    return cls


def blocking_driver(url: str, loop_thread: type[Any] | None) -> OkxWsBlockingDriver:
    """An opened blocking driver whose client runs on ``loop_thread`` (None: this tree's)."""
    from okx_ws_core.client import sync_client

    driver = OkxWsBlockingDriver("websockets")
    branch = sync_client.LoopThread
    sync_client.LoopThread = loop_thread or branch  # type: ignore[misc]
    try:
        driver.open(url)
    finally:
        sync_client.LoopThread = branch  # type: ignore[misc]
    return driver


def _switches() -> int:
    """Context switches of this process so far (all threads; voluntary or not)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_nvcsw + usage.ru_nivcsw


def _timed(step: Callable[[int], Any], n: int) -> Sample:
    lat = []
    cpu0, cs0 = time.process_time(), _switches()
    for i in range(n):
        t0 = time.perf_counter_ns()
        step(i)
        lat.append(time.perf_counter_ns() - t0)
    cpu, cs = time.process_time() - cpu0, _switches() - cs0
    return statistics.median(lat) / 1e3, cpu / n * 1e6, cs / n


def _round_async(loop: asyncio.AbstractEventLoop, driver: Any, n: int, tag: str) -> Sample:
    async def run() -> Sample:
        lat = []
        cpu0, cs0 = time.process_time(), _switches()
        for i in range(n):
            t0 = time.perf_counter_ns()
            await driver.order(f"{tag}{i}")
            lat.append(time.perf_counter_ns() - t0)
        cpu, cs = time.process_time() - cpu0, _switches() - cs0
        return statistics.median(lat) / 1e3, cpu / n * 1e6, cs / n

    return loop.run_until_complete(run())


def _interleave(variants: dict[str, Round], rounds: int, n: int) -> dict[str, list[Sample]]:
    results: dict[str, list[Sample]] = {name: [] for name in variants}
    items = list(variants.items())
    for k, (_, run) in enumerate(items * 2):  # warm-up (twice: a hop's two clients)
        run(min(n, 50), f"w{k}n")
    for r in range(rounds):
        for k in range(len(items)):
            name, run = items[(k + r) % len(items)]  # rotated: no variant always first
            results[name].append(run(n, f"r{r}v{k}n"))
    return results


def _print(results: dict[str, list[Sample]], ref: str, what: str) -> None:
    """Medians over rounds, and the median of each round's difference to ``ref`` in
    that same round (paired: machine noise that hits a whole round cancels out)."""
    print(what)
    print(
        f"{'variant':<22} {'p50 us':>7} {'x ' + ref:>9} {'d p50':>7}"
        f" {'CPU us':>7} {'x':>5} {'d CPU':>7} {'cs/call':>7}"
    )
    base = results[ref]
    for name, rows in results.items():
        p50, cpu, cs = (statistics.median(r[k] for r in rows) for k in range(3))
        p50_ref, cpu_ref = (statistics.median(r[k] for r in base) for k in range(2))
        d_p50 = statistics.median(r[0] - b[0] for r, b in zip(rows, base, strict=True))
        d_cpu = statistics.median(r[1] - b[1] for r, b in zip(rows, base, strict=True))
        print(
            f"{name:<22} {p50:7.1f} {p50 / p50_ref:9.2f} {d_p50:+7.1f}"
            f" {cpu:7.1f} {cpu / cpu_ref:5.2f} {d_cpu:+7.1f} {cs:7.2f}"
        )


def orders(base: type[Any], rounds: int, n: int) -> None:
    with ServerProcess("sim") as server:
        loop = asyncio.new_event_loop()
        floor, aio = FloorDriver(), OkxWsAsyncDriver("websockets")
        loop.run_until_complete(floor.open(server.url))
        loop.run_until_complete(aio.open(server.url))
        # Two clients per hop, made in the order base, branch, branch, base: of two
        # identical clients in one process the one made first measured faster.
        old = [blocking_driver(server.url, base)]
        new = [blocking_driver(server.url, None), blocking_driver(server.url, None)]
        old.append(blocking_driver(server.url, base))

        def blocking(drivers: list[OkxWsBlockingDriver]) -> Round:
            turn = itertools.count()

            def one_round(n: int, tag: str) -> Sample:
                driver = drivers[next(turn) % 2]  # the two in turn, round after round
                return _timed(lambda i: driver.order(f"{tag}{i}"), n)

            return one_round

        variants: dict[str, Round] = {
            "floor": lambda n, tag: _round_async(loop, floor, n, tag),
            "okx-ws async": lambda n, tag: _round_async(loop, aio, n, tag),
            "blocking, base hop": blocking(old),
            "blocking, branch hop": blocking(new),
        }
        results = _interleave(variants, rounds, n)
        for driver in old + new:
            driver.close()
        loop.run_until_complete(aio.close())
        loop.run_until_complete(floor.close())
        loop.close()
    _print(results, "floor", f"{rounds} rounds x {n} sequential orders, medians over rounds")


def hops(base: type[Any], rounds: int, n: int) -> None:
    from okx_ws_core.client.loop_thread import LoopThread

    async def nothing() -> None:
        return None

    old, new = base("base"), LoopThread("branch")
    variants: dict[str, Round] = {
        "run, base": lambda n, _: _timed(lambda _: old.run(nothing()), n),
        "run, branch": lambda n, _: _timed(lambda _: new.run(nothing()), n),
        "call, base": lambda n, _: _timed(lambda _: old.call(int), n),
        "call, branch": lambda n, _: _timed(lambda _: new.call(int), n),
    }
    results = _interleave(variants, rounds, n)
    old.stop()
    new.stop()
    _print(results, "run, base", f"{rounds} rounds x {n} bare hops, medians over rounds")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.blocking_ab")
    parser.add_argument("--hop", action="store_true", help="the bare hop, no server")
    parser.add_argument("--base", default="main", help="git ref of the base LoopThread")
    parser.add_argument("rounds", type=int, nargs="?", default=ROUNDS)
    parser.add_argument("n", type=int, nargs="?", help=f"orders ({ORDERS}) or hops ({HOPS})")
    args = parser.parse_args()
    base = base_loop_thread(args.base)
    if args.hop:
        hops(base, args.rounds, args.n or HOPS)
    else:
        orders(base, args.rounds, args.n or ORDERS)


if __name__ == "__main__":
    main()
