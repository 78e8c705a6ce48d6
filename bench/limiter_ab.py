"""What the client-side rate limiter costs a request under OKX's limits, A/B in one run.

Two clients on one simulator (limits off) in one process: ``rate_limit="off"``
and ``rate_limit="wait"`` with every limit widened to a count of 10^9, so the
limiter runs its full path and never binds.  They alternate rounds of
sequential orders, so machine noise falls on both alike; prints the median
latency per round and overall.  ``python -m bench.limiter_ab [rounds] [orders]``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import statistics
import sys
import time
from typing import Any

ORDER = {"instId": "BTC-USDT", "tdMode": "cash", "side": "buy", "ordType": "limit",
         "px": "100", "sz": "0.001"}  # fmt: skip


def never_binding(op: Any) -> Any:
    def widen(limits: Any) -> tuple[Any, ...]:
        return tuple(dataclasses.replace(limit, count=10**9) for limit in limits)

    return dataclasses.replace(
        op, limits=widen(op.limits), batch_of_one_limits=widen(op.batch_of_one_limits)
    )


async def median_us(client: Any, op: Any, n: int) -> float:
    ws, latencies = client.get_ws_client(), []
    for _ in range(n):
        started = time.perf_counter()
        await ws.call(op, ORDER)
        latencies.append(time.perf_counter() - started)
    return statistics.median(latencies) * 1e6


async def main(rounds: int, orders: int) -> None:
    from okx_ws import AsyncWebsocketAPIClient, operations

    from okx_ws_sim import DEFAULT_API_KEY, DEFAULT_API_SECRET, DEFAULT_PASSPHRASE, Simulator

    async with Simulator(rate_limits=False) as sim:
        options = {"api_key": DEFAULT_API_KEY, "api_secret": DEFAULT_API_SECRET,
                   "api_passphrase": DEFAULT_PASSPHRASE, "base_url": sim.base_url,
                   "instrument_types": ("SPOT",), "attach_event_listeners": False}  # fmt: skip
        clients = {
            "off": AsyncWebsocketAPIClient(**options, rate_limit="off"),
            "wait (never binding)": AsyncWebsocketAPIClient(**options, rate_limit="wait"),
        }
        op = never_binding(operations.SUBMIT_NEW_ORDER)
        results: dict[str, list[float]] = {name: [] for name in clients}
        for client in clients.values():
            await client.connect_ws_api()
        for _ in range(rounds):
            for name, client in clients.items():
                results[name].append(await median_us(client, op, orders))
        for client in clients.values():
            await client.close()
    print(f"rate limiter A/B: {rounds} alternating rounds of {orders} sequential orders")
    for name, medians in results.items():
        rounded = ", ".join(f"{m:.0f}" for m in medians)
        print(f"  {name:22} p50 per round µs: {rounded}; median {statistics.median(medians):.0f}")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    asyncio.run(main(*(args + [6, 1500][len(args) :])))
