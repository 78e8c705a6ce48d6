"""``python -m bench.serve --kind sim|echo``: the server subprocess of one measurement.

Prints ``URL ws://127.0.0.1:PORT`` once listening, then serves until killed.
A separate process keeps server CPU out of the client's figures; the harness
reads this process's CPU time from /proc to tell when the server, not the
client, was the bottleneck.
"""

from __future__ import annotations

import argparse
import asyncio

from .workload import API_KEY, API_SECRET, PASSPHRASE


async def _run_sim() -> None:
    from okx_ws_sim import DEFAULT_API_KEY, DEFAULT_API_SECRET, DEFAULT_PASSPHRASE, Simulator

    if (API_KEY, API_SECRET, PASSPHRASE) != (
        DEFAULT_API_KEY,
        DEFAULT_API_SECRET,
        DEFAULT_PASSPHRASE,
    ):
        raise SystemExit("bench/workload.py credentials differ from okx_ws_sim's defaults")
    # No rate limits (we measure the client, not OKX's quotas); no per-id ledger
    # (it grows by one entry per request); a long idle timeout for slow phases.
    # Strict as OKX today: order/amend/cancel items need the integer instIdCode.
    sim = Simulator(
        port=0,
        idle_timeout=600,
        rate_limits=False,
        track_request_ids=False,
        legacy_inst_id=False,
    )
    await sim.start()
    print(f"URL {sim.base_url}", flush=True)
    await asyncio.Event().wait()


async def _run_echo() -> None:
    from .echo_server import start_echo_server

    server = await start_echo_server()
    port = server.sockets[0].getsockname()[1]
    print(f"URL ws://127.0.0.1:{port}", flush=True)
    await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.serve")
    parser.add_argument("--kind", choices=("sim", "echo"), default="sim")
    kind = parser.parse_args().kind
    asyncio.run(_run_sim() if kind == "sim" else _run_echo())


if __name__ == "__main__":
    main()
