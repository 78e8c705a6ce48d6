"""``python -m bench.worker``: measure ONE client in this fresh process; print JSON.

One process per client keeps ``process_time()`` and RSS this client's alone
and lets no client warm another's imports or caches.  Modes: ``perf`` (the
timed loops), ``memory`` (per open client) and ``cold`` (okx-ws's first order
on fresh clients, with and without warming the instrument codes).

Every step is bounded: opening a client (OPEN_TIMEOUT_S), the untimed probe
(PROBE_TIMEOUT_S), each timed phase (its own deadline), closing; and the
harness kills a worker that still overruns.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import sys
import tracemalloc
from dataclasses import dataclass
from typing import Any

from . import measure
from .drivers import CLIENTS, ClientSpec, DriverUnavailable
from .procs import rss_bytes
from .sizes import FULL, QUICK, Sizes
from .workload import cl_ord_id

OPEN_TIMEOUT_S = 30.0
PROBE_TIMEOUT_S = 10.0
# Phases with this many requests in flight run against the fast echo server (when
# given): against the simulator they are server-bound, and would not rank clients.
FAST_SERVER_WINDOW = 1000


@dataclass(frozen=True)
class Server:
    """A server process of this measurement: its kind (``sim``/``echo``), URL and pid."""

    kind: str
    url: str
    pid: int


def _check_round_trip(sent: str, echoed: tuple[str, str], cancelled: str | Exception) -> str:
    """A one-off, untimed probe that the client can both place and cancel the right order."""
    got_cl, ord_id = echoed
    if isinstance(cancelled, Exception):
        return f"order ok, cancel failed: {type(cancelled).__name__}: {cancelled}"[:400]
    if got_cl != sent or cancelled != ord_id:
        return f"mismatch: sent {sent}, got {got_cl}, ordId {ord_id}, cancel {cancelled}"
    return "ok"


async def _probe_async(d: Any) -> str:
    sent = cl_ord_id("probe", 0)
    echoed = await asyncio.wait_for(d.order(sent), PROBE_TIMEOUT_S)
    try:
        cancelled: str | Exception = await asyncio.wait_for(d.cancel(echoed[1]), PROBE_TIMEOUT_S)
    except Exception as exc:  # noqa: BLE001 - reported, measurement continues
        cancelled = exc
    return _check_round_trip(sent, echoed, cancelled)


async def _open_async(d: Any, url: str) -> None:
    try:
        await asyncio.wait_for(d.open(url), OPEN_TIMEOUT_S)
    except BaseException:
        await _close_async(d)
        raise


def _probe_sync(d: Any) -> str:
    sent = cl_ord_id("probe", 0)
    echoed = d.order(sent)
    try:
        cancelled: str | Exception = d.cancel(echoed[1])
    except Exception as exc:  # noqa: BLE001
        cancelled = exc
    return _check_round_trip(sent, echoed, cancelled)


async def _close_async(d: Any) -> None:
    """Close, but never let a peer's hanging close stall the whole benchmark."""
    try:
        await asyncio.wait_for(d.close(), 5)
    except (asyncio.TimeoutError, Exception) as exc:  # noqa: BLE001
        print(f"close of {d.name} failed: {type(exc).__name__}: {exc}", file=sys.stderr)


async def _throughput_on(
    spec: ClientSpec, server: Server, window: int, total: int, sizes: Sizes
) -> dict[str, Any]:
    """One in-flight phase on a client of its own, opened on ``server`` (the fast echo)."""
    d = spec.make()
    await _open_async(d, server.url)
    try:
        for i in range(sizes.warmup):
            await d.order(cl_ord_id("e", i))
        phase = await measure.throughput_async(
            d, window, total, sizes.inflight_timeout_s, server.pid
        )
    finally:
        await _close_async(d)
    return {**phase, "server": server.kind}


async def _perf_async(
    spec: ClientSpec, main: Server, fast: Server | None, sizes: Sizes
) -> dict[str, Any]:
    d = spec.make()
    await _open_async(d, main.url)
    pid = main.pid
    try:
        probe = await _probe_async(d)
        phases = [
            await measure.latency_async(
                d, sizes.sequential, sizes.warmup, pid, sizes.inflight_timeout_s
            )
        ]
        for window, total in sizes.inflight:
            if fast is not None and window >= FAST_SERVER_WINDOW:
                continue  # measured below, against the fast server
            phase = await measure.throughput_async(d, window, total, sizes.inflight_timeout_s, pid)
            phases.append({**phase, "server": main.kind})
        # Untimed facts about a peer's default behaviour (e.g. ccxt's rate limiter).
        side_note = getattr(d, "side_note", None)
        notes = [getattr(d, "note", "")]
        if side_note is not None:
            try:
                notes.append(await asyncio.wait_for(side_note(), 20))
            except (asyncio.TimeoutError, Exception) as exc:  # noqa: BLE001
                notes.append(f"side note failed: {type(exc).__name__}: {exc}")
    finally:
        await _close_async(d)
    for window, total in sizes.inflight:
        if fast is not None and window >= FAST_SERVER_WINDOW:
            phases.append(await _throughput_on(spec, fast, window, total, sizes))
    return {
        "name": d.name,
        "probe": probe,
        "note": "; ".join(n for n in notes if n),
        "phases": phases,
    }


def _perf_sync(spec: ClientSpec, main: Server, sizes: Sizes) -> dict[str, Any]:
    d = spec.make()
    d.open(main.url)
    try:
        probe = _probe_sync(d)
        phases = [measure.latency_sync(d, sizes.sequential, sizes.warmup, main.pid)]
        phase = measure.throughput_sync(d, sizes.inflight[0][1], main.pid)
        phases.append({**phase, "server": main.kind})
    finally:
        d.close()
    return {
        "name": d.name,
        "probe": probe,
        "note": "blocking API: one call in flight per thread; 100/1,000 in flight not applicable",
        "phases": phases,
    }


async def _open_many_async(spec: ClientSpec, url: str, n: int) -> list[Any]:
    drivers = [spec.make() for _ in range(n)]
    for d in drivers:  # one at a time, like an application starting clients
        await _open_async(d, url)
    return drivers


async def _memory_async(spec: ClientSpec, url: str, n: int) -> dict[str, Any]:
    first = await _open_many_async(spec, url, 1)  # lazy imports and caches paid here
    gc.collect()
    rss0 = rss_bytes()
    many = await _open_many_async(spec, url, n)
    gc.collect()
    rss_per = (rss_bytes() - rss0) / n
    for d in many:
        await _close_async(d)
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    more = await _open_many_async(spec, url, n)
    gc.collect()
    traced_per = (tracemalloc.get_traced_memory()[0] - base) / n
    tracemalloc.stop()
    for d in more + first:
        await _close_async(d)
    return {"clients": n, "rss_bytes_per_client": rss_per, "traced_bytes_per_client": traced_per}


def _memory_sync(spec: ClientSpec, url: str, n: int) -> dict[str, Any]:
    def open_many(k: int) -> list[Any]:
        drivers = [spec.make() for _ in range(k)]
        for d in drivers:
            d.open(url)
        return drivers

    first = open_many(1)
    gc.collect()
    rss0 = rss_bytes()
    many = open_many(n)
    gc.collect()
    rss_per = (rss_bytes() - rss0) / n
    for d in many:
        d.close()
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    more = open_many(n)
    gc.collect()
    traced_per = (tracemalloc.get_traced_memory()[0] - base) / n
    tracemalloc.stop()
    for d in more + first:
        d.close()
    return {"clients": n, "rss_bytes_per_client": rss_per, "traced_bytes_per_client": traced_per}


def run(client: str, main: Server, fast: Server | None, quick: bool, mode: str) -> dict[str, Any]:
    spec = CLIENTS[client]
    sizes = QUICK if quick else FULL
    try:
        if mode == "cold":
            from .drivers.okx_ws_clients import cold_first_order

            return asyncio.run(cold_first_order(main.url, sizes.cold_clients))
        if mode == "memory":
            if spec.blocking:
                return _memory_sync(spec, main.url, sizes.memory_clients)
            return asyncio.run(_memory_async(spec, main.url, sizes.memory_clients))
        if spec.blocking:
            return _perf_sync(spec, main, sizes)
        return asyncio.run(_perf_async(spec, main, fast, sizes))
    except DriverUnavailable as exc:
        return {"unavailable": str(exc), "permanent": True}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.worker")
    parser.add_argument("--client", required=True, choices=sorted(CLIENTS))
    parser.add_argument("--url", required=True)
    parser.add_argument("--server-pid", type=int, required=True)
    parser.add_argument("--server-kind", default="sim")
    parser.add_argument(
        "--fast-url", help=f"the fast server for the phases of {FAST_SERVER_WINDOW}+ in flight"
    )
    parser.add_argument("--fast-pid", type=int, default=0)
    parser.add_argument("--mode", choices=("perf", "memory", "cold"), default="perf")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    # Peers log at ERROR on expected events (e.g. python-okx's refused ssl connect);
    # keep the run's output to the report.
    logging.basicConfig(level=logging.CRITICAL)
    served = Server(args.server_kind, args.url, args.server_pid)
    fast = Server("echo", args.fast_url, args.fast_pid) if args.fast_url else None
    result = run(args.client, served, fast, args.quick, args.mode)
    sys.stdout.write("RESULT " + json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
