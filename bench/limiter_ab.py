"""What the client-side rate limiter costs an order, A/B in one process.

Clients differing only in ``rate_limit`` (``"off"``, and ``"wait"`` with every
limit widened to a count of 10^9, so the limiter runs its full path and never
binds) send the same sequential orders in alternating rounds, so machine noise
falls on all alike.  A second ``"off"`` client is the A/A control: its distance
from the first is the noise floor of the comparison.  Reports CPU
(``process_time``) and p50 wall per order, medians over rounds.

``--server scripted`` (default) answers in-process (``okx_ws_core.testing``),
so the client's own work dominates; ``--server sim`` runs the simulator in a
child process.  ``--profile PATH`` also writes a cProfile of each mode (calls
per order, and the functions by own time) to PATH.

``python -m bench.limiter_ab [--rounds 8] [--orders 2000] [--server scripted|sim]``
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import dataclasses
import io
import pstats
import statistics
import time
from collections.abc import Sequence
from typing import Any

from bench.workload import API_KEY, API_SECRET, INST_ID, PASSPHRASE, order_args

MODES = ("off", "wait", "off (A/A)")
WARM_ORDERS = 300


def never_binding(op: Any) -> Any:
    """``op`` with each limit's count widened so that it never binds."""

    def widen(limits: Any) -> tuple[Any, ...]:
        return tuple(dataclasses.replace(limit, count=10**9) for limit in limits)

    return dataclasses.replace(
        op, limits=widen(op.limits), batch_of_one_limits=widen(op.batch_of_one_limits)
    )


async def make_clients(server: str, url: str | None) -> dict[str, Any]:
    from okx_ws import AsyncWebsocketAPIClient

    base: dict[str, Any] = {
        "api_key": API_KEY,
        "api_secret": API_SECRET,
        "api_passphrase": PASSPHRASE,
        "attach_event_listeners": False,
        "request_timeout": 30.0,
    }
    clients = {}
    for mode in MODES:
        if server == "sim":
            extra: dict[str, Any] = {"base_url": url, "instrument_types": ("SPOT",)}
        else:
            from okx_ws_core.testing import ScriptedServer

            extra = {"transport": ScriptedServer(), "instruments": {INST_ID: 1}}
        client = AsyncWebsocketAPIClient(**base, **extra, rate_limit=mode.split()[0])
        await client.connect_ws_api()
        clients[mode] = client
    return clients


async def run_orders(client: Any, op: Any, n: int, tag: str) -> list[float]:
    """Send ``n`` sequential orders; return each one's wall time in seconds."""
    ws, latencies = client.get_ws_client(), []
    for i in range(n):
        started = time.perf_counter()
        await ws.call(op, order_args(f"{tag}x{i}"))
        latencies.append(time.perf_counter() - started)
    return latencies


def profile_text(profile: cProfile.Profile, mode: str, orders: int, top: int) -> str:
    stats = pstats.Stats(profile)
    calls = sum(entry[1] for entry in stats.stats.values())  # type: ignore[attr-defined]
    out = io.StringIO()
    out.write(f"== {mode}: {calls / orders:.1f} function calls per order (n={orders})\n")
    pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


async def main(rounds: int, orders: int, server: str, url: str | None, profile: str | None) -> None:
    from okx_ws import operations

    op = never_binding(operations.SUBMIT_NEW_ORDER)
    clients = await make_clients(server, url)
    for mode, client in clients.items():
        await run_orders(client, op, WARM_ORDERS, f"w{MODES.index(mode)}")
    cpu: dict[str, list[float]] = {mode: [] for mode in clients}
    p50: dict[str, list[float]] = {mode: [] for mode in clients}
    for r in range(rounds):
        order = list(clients.items())
        for mode, client in order if r % 2 == 0 else reversed(order):
            started = time.process_time()
            latencies = await run_orders(client, op, orders, f"r{r}m{MODES.index(mode)}")
            cpu[mode].append((time.process_time() - started) / orders * 1e6)
            p50[mode].append(statistics.median(latencies) * 1e6)
    print(
        f"rate limiter A/B ({server} server): {rounds} alternating rounds of {orders} "
        "sequential orders; µs per order, median of rounds"
    )
    for mode in clients:
        print(
            f"  {mode:10} CPU {statistics.median(cpu[mode]):6.1f}  p50 {statistics.median(p50[mode]):6.1f}"
            f"   (CPU per round: {', '.join(f'{x:.0f}' for x in cpu[mode])})"
        )
    off, wait, control = (statistics.median(cpu[mode]) for mode in MODES)
    print(
        f"  limiter CPU per order (wait - off): {wait - off:+.1f} µs; "
        f"A/A control (off - off): {control - off:+.1f} µs"
    )
    if profile:
        texts = []
        for mode, client in clients.items():
            prof = cProfile.Profile()
            prof.enable()
            await run_orders(client, op, orders, f"p{MODES.index(mode)}")
            prof.disable()
            texts.append(profile_text(prof, mode, orders, 30))
        with open(profile, "w", encoding="utf-8") as file:
            file.write("\n".join(texts))
        print(f"  profiles written to {profile}")
    for client in clients.values():
        await client.close()


def cli(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.limiter_ab")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--server", choices=("scripted", "sim"), default="scripted")
    parser.add_argument("--profile", metavar="PATH")
    args = parser.parse_args(argv)
    if args.server == "sim":
        from bench.procs import ServerProcess

        with ServerProcess("sim") as served:
            asyncio.run(main(args.rounds, args.orders, "sim", served.url, args.profile))
    else:
        asyncio.run(main(args.rounds, args.orders, "scripted", None, args.profile))


if __name__ == "__main__":
    cli()
