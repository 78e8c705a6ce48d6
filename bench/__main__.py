"""``python -m bench [--quick] [--server sim|echo] [--clients a,b]``: the whole benchmark.

For each client: fresh server subprocesses (the simulator, and the fast echo
stand-in for the 1,000-in-flight phase, where the simulator is the bottleneck),
then a fresh worker subprocess for latency/throughput/CPU (several passes,
interleaved across clients; the table shows each figure's median), then
another for memory.  The first okx-ws row is the default configuration (what a
user gets); every other row names the knobs it turns.  Once per run, okx-ws's
cold first order (fresh clients, with and without warming the instrument
codes), the paired rows (``python -m bench.paired``: okx-ws and the floor
alternating in one process, so that per-process noise falls on both sides of a
ratio), and the order-book row: ``python -m bench.book`` in its own process
(okx-ws's ``OrderBook`` vs ccxt pro's book vs a plain-dict floor, issue #18).  Import and ``make generate`` times are taken first, while nothing
else runs.  Prints the tables and writes ``bench/results.json`` (``--out`` to
change); a full run also keeps a dated copy, ``bench/results/YYYY-MM-DD.json``,
that the README can point at.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from .drivers import CLIENTS, DEFAULT
from .drivers.okx_ws_clients import default_transport
from .merge import aggregation, merge_passes
from .paired import ROWS as PAIRED_ROWS
from .paired import measure as measure_paired
from .paired import render as render_paired
from .procs import ServerProcess, result_line
from .report import ratios, render, render_book
from .sizes import FULL, QUICK
from .startup import generate_time_s, import_times_ms
from .worker import FAST_SERVER_WINDOW

REPO = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO / "bench" / "results"
WORKER_TIMEOUT_S = 90  # a full perf worker normally needs < 15 s
# The memory worker opens 61 clients one after another; with the default limiter their
# connects keep OKX's 3 per second per IP (2 a second with the client's 0.5 s margin),
# so the default rows need a few minutes where rate_limit="off" needs seconds.
MEMORY_TIMEOUT_S = 360
BOOK_TIMEOUT_S = 1200  # a full bench.book run normally needs 3-6 min
FAST_SERVER = "echo"  # bench/echo_server.py: far cheaper per request than any client
SERVER_NAMES = {"sim": "okx_ws_sim (separate process)", "echo": "bench echo stand-in (fast)"}


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _worker(
    client: str,
    server: ServerProcess,
    mode: str,
    quick: bool,
    fast: ServerProcess | None = None,
    where: tuple[Path, dict[str, str] | None] = (REPO, None),
) -> dict[str, Any]:
    """One worker run; ``where``: its directory and environment (``bench.trees`` runs
    another commit's okx-ws from an overlay directory)."""
    argv = [
        sys.executable,
        "-m",
        "bench.worker",
        "--client",
        client,
        "--url",
        server.url,
        "--server-pid",
        str(server.pid),
        "--server-kind",
        server.kind,
        "--mode",
        mode,
    ]
    if fast is not None:
        argv += ["--fast-url", fast.url, "--fast-pid", str(fast.pid)]
    if quick:
        argv.append("--quick")
    timeout = MEMORY_TIMEOUT_S if mode == "memory" else WORKER_TIMEOUT_S
    try:
        proc = subprocess.run(
            argv, capture_output=True, text=True, timeout=timeout, cwd=where[0], env=where[1]
        )
    except subprocess.TimeoutExpired:
        return {"unavailable": f"{mode} worker timed out after {timeout} s"}
    return result_line(proc, mode)


def measure_book(quick: bool) -> dict[str, Any]:
    """The order-book row: ``python -m bench.book --json`` in a fresh process (no server)."""
    argv = [sys.executable, "-m", "bench.book", "--json"] + (["--quick"] if quick else [])
    try:
        proc = subprocess.run(
            argv, capture_output=True, text=True, timeout=BOOK_TIMEOUT_S, cwd=REPO
        )
    except subprocess.TimeoutExpired:
        return {"unavailable": f"bench.book timed out after {BOOK_TIMEOUT_S} s"}
    return result_line(proc, "bench.book")


def measure_perf(
    key: str,
    server_kind: str,
    quick: bool,
    where: tuple[Path, dict[str, str] | None] = (REPO, None),
) -> dict[str, Any]:
    """One perf pass of ``key``: latency and @1/@100 against ``server_kind``, the phases
    of FAST_SERVER_WINDOW+ in flight against the fast echo server (they are
    server-bound against the simulator, so they would not rank the clients)."""
    with ServerProcess(server_kind) as server:
        if server_kind == FAST_SERVER:
            return _worker(key, server, "perf", quick, server, where)
        with ServerProcess(FAST_SERVER) as fast:
            return _worker(key, server, "perf", quick, fast, where)


def measure_memory(key: str, server_kind: str, quick: bool) -> dict[str, Any]:
    with ServerProcess(server_kind) as server:
        return _worker(key, server, "memory", quick)


def measure_cold(key: str, server_kind: str, quick: bool) -> dict[str, Any]:
    with ServerProcess(server_kind) as server:
        return _worker(key, server, "cold", quick)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller runs (about a minute)")
    parser.add_argument(
        "--server",
        choices=("sim", "echo"),
        default="sim",
        help="okx_ws_sim (default) or the bench's minimal stand-in server, for everything"
        f" but the phases of {FAST_SERVER_WINDOW}+ in flight (always the stand-in)",
    )
    parser.add_argument(
        "--clients",
        default=",".join(CLIENTS),
        help=f"comma-separated subset of: {', '.join(CLIENTS)}",
    )
    parser.add_argument("--no-memory", action="store_true", help="skip memory per client")
    parser.add_argument(
        "--no-cold", action="store_true", help="skip okx-ws's cold first order measurement"
    )
    parser.add_argument(
        "--no-book", action="store_true", help="skip the order-book row (python -m bench.book)"
    )
    parser.add_argument(
        "--no-paired",
        action="store_true",
        help="skip the paired rows (python -m bench.paired: okx-ws and the floor in one process)",
    )
    parser.add_argument(
        "--passes",
        type=int,
        default=None,
        help=f"interleaved passes per client, median shown (default: {FULL.passes} full, "
        f"{QUICK.passes} quick)",
    )
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results.json")
    parser.add_argument(
        "--results-dir",
        type=Path,
        default=RESULTS_DIR,
        help="where a full run keeps its dated copy YYYY-MM-DD.json (quick runs keep none)",
    )
    args = parser.parse_args()
    args.keys = [k.strip() for k in args.clients.split(",") if k.strip()]
    unknown = [k for k in args.keys if k not in CLIENTS]
    if unknown:
        parser.error(f"unknown clients {unknown}; choose from {list(CLIENTS)}")
    args.sizes = QUICK if args.quick else FULL
    args.passes = args.passes or args.sizes.passes
    if args.passes < 1:
        parser.error("--passes must be >= 1")
    return args


def run_passes(
    keys: list[str], server: str, quick: bool, passes: int
) -> dict[str, list[dict[str, Any]]]:
    """``passes`` perf passes per client, interleaved so noise falls on all alike."""
    runs: dict[str, list[dict[str, Any]]] = {key: [] for key in keys}
    for n in range(passes):
        for key in keys:
            if any(r.get("permanent") for r in runs[key]):
                continue  # a peer that cannot be driven offline will not start working
            t0 = time.perf_counter()
            runs[key].append(measure_perf(key, server, quick))
            status = runs[key][-1].get("unavailable") or "ok"
            _log(f"bench: pass {n + 1}/{passes} {key}: {status} ({time.perf_counter() - t0:.1f} s)")
    return runs


def run_cold(keys: list[str], server: str, quick: bool) -> dict[str, Any] | None:
    """okx-ws's cold first order (fresh clients of the default configuration), once."""
    if not any(k.startswith("okx-ws") for k in keys):
        return None
    t0 = time.perf_counter()
    cold = measure_cold(DEFAULT, server, quick)
    status = cold.get("unavailable") or "ok"
    _log(f"bench: cold first order {DEFAULT}: {status} ({time.perf_counter() - t0:.1f} s)")
    return cold


def run_book(quick: bool) -> dict[str, Any]:
    t0 = time.perf_counter()
    book = measure_book(quick)
    _log(f"bench: order book: {book.get('unavailable') or 'ok'} ({time.perf_counter() - t0:.1f} s)")
    return book


def run_paired(keys: list[str], quick: bool) -> dict[str, Any] | None:
    """The paired rows (okx-ws beside the floor in one process), for the rows asked for."""
    rows = [k for k in PAIRED_ROWS if k in keys]
    if not rows or "floor" not in keys:
        return None
    t0 = time.perf_counter()
    paired = measure_paired(rows, quick)
    failed = [p["unavailable"] for p in paired["processes"] if "unavailable" in p]
    _log(f"bench: paired rows: {failed or 'ok'} ({time.perf_counter() - t0:.1f} s)")
    return paired


def collect(
    args: argparse.Namespace,
    runs: dict[str, list[dict[str, Any]]],
    imports: dict[str, float | None],
) -> dict[str, dict[str, Any]]:
    """Each client's merged passes, memory (its own worker) and import time."""
    clients: dict[str, dict[str, Any]] = {}
    for key in args.keys:
        result = merge_passes(runs[key])
        if not args.no_memory and "unavailable" not in result:
            mem = measure_memory(key, args.server, args.quick)
            result["memory"] = None if "unavailable" in mem else mem
            result["memory_error"] = mem.get("unavailable")
            _log(f"bench: memory {key}: {result['memory_error'] or 'ok'}")
        result.setdefault("name", key)
        result["import_module"] = CLIENTS[key].import_module
        result["import_ms"] = imports.get(CLIENTS[key].import_module)
        clients[key] = result
    return clients


def run_meta(args: argparse.Namespace) -> dict[str, Any]:
    main_server = SERVER_NAMES[args.server]
    return {
        "server": main_server,
        "servers": {
            "sequential, @1, @100, memory, cold": main_server,
            f"@{FAST_SERVER_WINDOW} (req/s and CPU)": SERVER_NAMES[FAST_SERVER],
        },
        "quick": args.quick,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "sizes": args.sizes.__dict__,
        "passes": args.passes,
        "aggregation": aggregation(args.passes),
        "versions": {
            d: _version(d)
            for d in ("okx-ws", "websockets", "httpx-ws", "python-okx", "ccxt", "aiohttp", "orjson")
        },
        "runtime_s": None,
    }


def write_results(args: argparse.Namespace, payload: dict[str, Any]) -> list[str]:
    """``--out``, and for a full run a dated copy under ``--results-dir``."""
    text = json.dumps(payload, indent=2, default=str) + "\n"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    written = [str(args.out)]
    if not args.quick:
        dated = args.results_dir / f"{payload['meta']['date'][:10]}.json"
        dated.parent.mkdir(parents=True, exist_ok=True)
        dated.write_text(text)
        written.append(str(dated))
    return written


def main() -> None:
    args = parse_args()
    started = time.perf_counter()
    _log("bench: import times and make generate ...")
    modules = sorted({CLIENTS[k].import_module for k in args.keys})
    imports = import_times_ms(modules, args.sizes.import_runs)
    generate_s = generate_time_s(REPO, args.sizes.generate_runs)
    transport = default_transport()
    runs = run_passes(args.keys, args.server, args.quick, args.passes)
    paired = None if args.no_paired else run_paired(args.keys, args.quick)
    cold = None if args.no_cold else run_cold(args.keys, args.server, args.quick)
    book = None if args.no_book else run_book(args.quick)
    clients = collect(args, runs, imports)
    meta = run_meta(args)
    print(render(clients, generate_s, meta, transport, cold))
    if paired is not None:
        print("\n" + render_paired(paired))
    if book is not None:
        print("\n" + render_book(book))
    meta["runtime_s"] = round(time.perf_counter() - started, 1)
    payload = {
        "meta": meta,
        "default_transport": transport,
        "default_configuration": DEFAULT,
        "generate_s": generate_s,
        "clients": clients,
        "ratios": ratios(clients),
        "cold_first_order": cold,
        "paired": paired,
        "order_book": book,
    }
    written = write_results(args, payload)
    _log(f"bench: wrote {' and '.join(written)} in {meta['runtime_s']} s total")


if __name__ == "__main__":
    main()
