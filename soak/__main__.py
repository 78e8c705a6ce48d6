"""``python -m soak``: the chaos soak from the command line (``make soak``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .config import SoakConfig
from .defects import DEFECTS
from .report import summary
from .runner import run_soak


def parse_args(argv: Sequence[str] | None = None) -> SoakConfig:
    p = argparse.ArgumentParser(
        prog="python -m soak",
        description="Chaos soak: thousands of orders under random faults, every request"
        " accounted for once.",
    )
    p.add_argument("--requests", type=int, default=10_000)
    p.add_argument("--faults", type=int, default=300)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--clients", default="async,sync", help="comma-separated: async,sync")
    p.add_argument(
        "--transport",
        default="auto",
        help="auto (websockets; from 50000 requests the blocking client on httpx-ws),"
        " websockets, httpx-ws, or per client: async=websockets,sync=httpx-ws",
    )
    p.add_argument("--api", default="generated", choices=("generated", "core"))
    p.add_argument(
        "--at-limits",
        action="store_true",
        help="the simulator enforces OKX's rate limits, the load presses on them, orders"
        " carry expTime (16 async workers unless --async-workers)",
    )
    p.add_argument("--async-workers", type=int, default=None)
    p.add_argument("--sync-workers", type=int, default=4)
    p.add_argument("--request-timeout", type=float, default=1.0)
    p.add_argument("--rate-limit", default="wait", choices=("off", "wait", "raise"))
    p.add_argument("--hang-margin", type=float, default=0.5)
    p.add_argument("--memory-limit-kib", type=float, default=128.0)
    p.add_argument(
        "--rss-limit-mib",
        type=float,
        default=20.0,
        help="RSS growth after the warm-up that neither tracemalloc nor the soak's"
        " bookkeeping (client) or the order book (simulator) explains",
    )
    p.add_argument(
        "--trace-client",
        default="auto",
        choices=("auto", "on", "off"),
        help="tracemalloc in the client process (auto: on below 50,000 requests); untraced,"
        " its RSS is judged exactly and its traced growth not at all (soak.rss)",
    )
    p.add_argument("--warmup", type=int, default=None, help="requests before the first checkpoint")
    p.add_argument(
        "--checkpoints",
        type=int,
        default=None,
        help="resource checkpoints, the first after the warm-up (default 3 from 5000 requests)",
    )
    p.add_argument(
        "--plant",
        choices=sorted(DEFECTS),
        help="plant a defect to see the soak catch it (testing the soak itself)",
    )
    p.add_argument(
        "--market-rounds",
        type=int,
        default=None,
        help="order-book fault rounds of the market phase (default: one per 100 requests,"
        " 16 to 600, from 500 requests on; 0: no market phase)",
    )
    p.add_argument("--verbose", action="store_true")
    a = p.parse_args(argv)
    return SoakConfig(
        requests=a.requests,
        faults=a.faults,
        seed=a.seed,
        clients=tuple(c.strip() for c in a.clients.split(",") if c.strip()),
        transport=a.transport,
        api=a.api,
        at_limits=a.at_limits,
        async_workers=a.async_workers or (16 if a.at_limits else 8),
        sync_workers=a.sync_workers,
        request_timeout=a.request_timeout,
        rate_limit=a.rate_limit,
        hang_margin=a.hang_margin,
        memory_limit_kib=a.memory_limit_kib,
        rss_limit_mib=a.rss_limit_mib,
        trace_client=a.trace_client,
        warmup=a.warmup,
        checkpoints=a.checkpoints,
        plant=a.plant,
        market_rounds=a.market_rounds,
        verbose=a.verbose,
    )


def main(argv: Sequence[str] | None = None) -> int:
    cfg = parse_args(argv)
    try:
        cfg.transports  # noqa: B018 - validates --transport
        cfg.traces_client  # noqa: B018 - validates --trace-client
        report = run_soak(cfg)
    except ValueError as exc:  # a bad combination of options
        print(f"python -m soak: {exc}", file=sys.stderr)
        return 2
    print(summary(report), flush=True)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
