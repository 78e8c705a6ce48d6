"""``python -m okx_ws_sim --port 8765``: run the OKX-compatible simulator until Ctrl-C.

Point a client at it with ``base_url="ws://127.0.0.1:8765"`` and the api key,
secret and passphrase it prints.  WebSocket and REST share the port.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from .auth import DEFAULT_API_KEY, DEFAULT_API_SECRET, DEFAULT_PASSPHRASE
from .server import Simulator


async def _main(args: argparse.Namespace) -> None:
    sim = Simulator(
        host=args.host,
        port=args.port,
        idle_timeout=args.idle_timeout,
        timestamp_window=args.timestamp_window,
        seed=args.seed,
        rate_limits=args.rate_limits,
        clock_offset_s=args.clock_offset,
        legacy_inst_id=args.legacy_inst_id,
    )
    async with sim:
        print(f"okx_ws_sim listening on {sim.base_url}", flush=True)
        for kind in ("public", "private", "business"):
            print(f"  {sim.url(kind)}")
        print(f"  rest:       {sim.rest_url}/api/v5/public/instruments?instType=SPOT")
        print(f"  time:       {sim.rest_url}/api/v5/public/time")
        print(f"  api key:    {DEFAULT_API_KEY}")
        print(f"  secret:     {DEFAULT_API_SECRET}")
        print(f"  passphrase: {DEFAULT_PASSPHRASE}")
        print(f"  signed:     {sim.rest_url}/api/v5/trade/order?instId=..&clOrdId=..")
        print(f"              {sim.rest_url}/api/v5/trade/orders-pending")
        print(f"              {sim.rest_url}/api/v5/sprd/order?clOrdId=..", flush=True)
        await asyncio.Event().wait()


def parser() -> argparse.ArgumentParser:
    """The command line, every option with its help."""
    p = argparse.ArgumentParser(
        prog="python -m okx_ws_sim",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: %(default)s)"
    )
    p.add_argument(
        "--port", type=int, default=8765, help="port for WebSocket and REST (default: %(default)s)"
    )
    p.add_argument(
        "--idle-timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="close a connection that sent nothing for this long, as OKX does (default: 30)",
    )
    p.add_argument(
        "--timestamp-window",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="refuse a login whose timestamp is further than this from the clock (default: 30)",
    )
    p.add_argument(
        "--seed",
        type=int,
        default=None,
        help="seed of the simulator's random choices (ids, injected faults), for repeatable runs",
    )
    p.add_argument(
        "--rate-limits",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="enforce OKX's rate limits (default); --no-rate-limits turns them off",
    )
    p.add_argument(
        "--clock-offset",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="run the simulator's clock this far ahead of this machine's (negative: behind)",
    )
    p.add_argument(
        "--legacy-inst-id",
        action="store_true",
        help="accept order/amend/cancel items with only instId, as OKX did before 2026",
    )
    return p


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_main(args))


if __name__ == "__main__":
    main()
