"""``python -m bench [--quick] [--server sim|echo] [--clients a,b]``: the whole benchmark.

For each client: a fresh server subprocess, then a fresh worker subprocess for
latency/throughput/CPU (several passes, interleaved across clients; the table
shows each figure's median), then another for memory.  Once per run, okx-ws's
cold first order (fresh clients, with and without warming the instrument
codes), and the order-book row: ``python -m bench.book`` in its own process
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

from .drivers import CLIENTS, okx_ws_key
from .drivers.okx_ws_clients import default_transport
from .merge import aggregation, merge_passes
from .procs import ServerProcess
from .report import ratios, render, render_book
from .sizes import FULL, QUICK
from .startup import generate_time_s, import_times_ms

REPO = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO / "bench" / "results"
WORKER_TIMEOUT_S = 90  # a full perf worker normally needs < 15 s
BOOK_TIMEOUT_S = 1200  # a full bench.book run normally needs 3-6 min


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _worker(client: str, server: ServerProcess, mode: str, quick: bool) -> dict[str, Any]:
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
        "--mode",
        mode,
    ] + (["--quick"] if quick else [])
    try:
        proc = subprocess.run(
            argv, capture_output=True, text=True, timeout=WORKER_TIMEOUT_S, cwd=REPO
        )
    except subprocess.TimeoutExpired:
        return {"unavailable": f"{mode} worker timed out after {WORKER_TIMEOUT_S} s"}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("RESULT "):
            result: dict[str, Any] = json.loads(line[len("RESULT ") :])
            return result
    tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
    return {"unavailable": f"{mode} worker failed (exit {proc.returncode}): {tail}"}


def measure_book(quick: bool) -> dict[str, Any]:
    """The order-book row: ``python -m bench.book --json`` in a fresh process (no server)."""
    argv = [sys.executable, "-m", "bench.book", "--json"] + (["--quick"] if quick else [])
    try:
        proc = subprocess.run(
            argv, capture_output=True, text=True, timeout=BOOK_TIMEOUT_S, cwd=REPO
        )
    except subprocess.TimeoutExpired:
        return {"unavailable": f"bench.book timed out after {BOOK_TIMEOUT_S} s"}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("RESULT "):
            result: dict[str, Any] = json.loads(line[len("RESULT ") :])
            return result
    tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
    return {"unavailable": f"bench.book failed (exit {proc.returncode}): {tail}"}


def measure_perf(key: str, server_kind: str, quick: bool) -> dict[str, Any]:
    with ServerProcess(server_kind) as server:
        return _worker(key, server, "perf", quick)


def measure_memory(key: str, server_kind: str, quick: bool) -> dict[str, Any]:
    with ServerProcess(server_kind) as server:
        return _worker(key, server, "memory", quick)


def measure_cold(key: str, server_kind: str, quick: bool) -> dict[str, Any]:
    with ServerProcess(server_kind) as server:
        return _worker(key, server, "cold", quick)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller runs (about a minute)")
    parser.add_argument(
        "--server",
        choices=("sim", "echo"),
        default="sim",
        help="okx_ws_sim (default) or the bench's minimal stand-in server",
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
    keys = [k.strip() for k in args.clients.split(",") if k.strip()]
    unknown = [k for k in keys if k not in CLIENTS]
    if unknown:
        parser.error(f"unknown clients {unknown}; choose from {list(CLIENTS)}")
    sizes = QUICK if args.quick else FULL
    started = time.perf_counter()

    _log("bench: import times and make generate ...")
    imports = import_times_ms(sorted({CLIENTS[k].import_module for k in keys}), sizes.import_runs)
    generate_s = generate_time_s(REPO, sizes.generate_runs)

    passes = args.passes or sizes.passes
    if passes < 1:
        parser.error("--passes must be >= 1")
    transport = default_transport()
    runs: dict[str, list[dict[str, Any]]] = {key: [] for key in keys}
    for n in range(passes):
        for key in keys:
            if any(r.get("permanent") for r in runs[key]):
                continue  # a peer that cannot be driven offline will not start working
            t0 = time.perf_counter()
            runs[key].append(measure_perf(key, args.server, args.quick))
            status = runs[key][-1].get("unavailable") or "ok"
            _log(f"bench: pass {n + 1}/{passes} {key}: {status} ({time.perf_counter() - t0:.1f} s)")

    cold: dict[str, Any] | None = None
    cold_key = okx_ws_key("async", transport)
    if not args.no_cold and cold_key is not None and any(k.startswith("okx-ws") for k in keys):
        t0 = time.perf_counter()
        cold = measure_cold(cold_key, args.server, args.quick)
        status = cold.get("unavailable") or "ok"
        _log(f"bench: cold first order {cold_key}: {status} ({time.perf_counter() - t0:.1f} s)")

    book: dict[str, Any] | None = None
    if not args.no_book:
        t0 = time.perf_counter()
        book = measure_book(args.quick)
        status = book.get("unavailable") or "ok"
        _log(f"bench: order book: {status} ({time.perf_counter() - t0:.1f} s)")

    clients: dict[str, dict[str, Any]] = {}
    for key in keys:
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

    meta = {
        "server": "okx_ws_sim (separate process)"
        if args.server == "sim"
        else "bench echo stand-in",
        "quick": args.quick,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "sizes": sizes.__dict__,
        "passes": passes,
        "aggregation": aggregation(passes),
        "versions": {
            d: _version(d)
            for d in ("okx-ws", "websockets", "httpx-ws", "python-okx", "ccxt", "aiohttp")
        },
        "runtime_s": None,
    }
    print(render(clients, generate_s, meta, transport, cold))
    if book is not None:
        print("\n" + render_book(book))
    meta["runtime_s"] = round(time.perf_counter() - started, 1)
    payload = {
        "meta": meta,
        "default_transport": transport,
        "generate_s": generate_s,
        "clients": clients,
        "ratios": ratios(clients),
        "cold_first_order": cold,
        "order_book": book,
    }
    text = json.dumps(payload, indent=2, default=str) + "\n"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    written = [str(args.out)]
    if not args.quick:
        dated = args.results_dir / f"{meta['date'][:10]}.json"
        dated.parent.mkdir(parents=True, exist_ok=True)
        dated.write_text(text)
        written.append(str(dated))
    _log(f"bench: wrote {' and '.join(written)} in {meta['runtime_s']} s total")


if __name__ == "__main__":
    main()
