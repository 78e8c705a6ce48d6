"""What one order costs the simulator process in RSS, measured in a fresh simulator.

The simulator's book grows by design: every order it ever accepted stays
findable (the soak judges each report against it), and so does every request
id it saw.  To say how much of the simulator's RSS growth that is,
``soak.rss`` needs the RSS one order costs.  Measured, not assumed: a fresh
process (``python -m soak.simcost REQUESTS``) runs the soak's simulator
(``soak.simchild``'s instruments, accounts and options), untraced, and sends it
the soak's own request mix (``soak.workload``) over one private and one
business WebSocket, pipelined.  It reads its RSS (after a collection and
``malloc_trim``) after a warm-up and after each of two equal halves: the RSS
added over the orders added is what one order costs, its share of the
cancels, amends and request ids included; the two halves agreeing shows the
cost is linear.
"""

from __future__ import annotations

import asyncio
import gc
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from .probes import rss_kib, trim_heap
from .workload import BALANCES, Pool, Spec, build_spec

WINDOW = 100  # requests in flight per round trip
# Requests before the first reading: the pool of cancel / amend targets (soak.workload,
# at most POOL_MAX) is full by then, so only the book grows between the readings.
WARMUP = 6000
ACCOUNT = ("cost-key", "cost-secret", "cost-pass", "900000099")


async def measure(requests: int, warmup: int, seed: int = 1) -> dict[str, Any]:
    """RSS (KiB) and orders after the warm-up and after each half of ``requests``."""
    from okx_ws_sim import Account, Simulator
    from okx_ws_sim.testing import RawClient

    from .simchild import instruments

    key, secret, passphrase, uid = ACCOUNT
    account = Account(key, secret, passphrase, balances=dict(BALANCES), uid=uid)
    sim = Simulator(
        accounts=[account],
        idle_timeout=60.0,
        seed=seed,
        instruments=instruments(),
        rate_limits=False,
    )
    await sim.start()
    links = {kind: await RawClient.open(sim.url(kind)) for kind in ("private", "business")}
    pool = Pool()
    marks: list[tuple[int, int, int]] = []  # (requests, orders, rss_kib)
    try:
        for kind, link in links.items():
            login = await link.login(account)
            if login.get("code") != "0":
                raise RuntimeError(f"the {kind} login failed: {login}")
        bounds = [0, warmup, warmup + requests // 2, warmup + requests]
        for lo, hi in zip(bounds, bounds[1:], strict=False):
            for start in range(lo, hi, WINDOW):
                specs = [
                    build_spec(seed, i, "c", pool) for i in range(start, min(hi, start + WINDOW))
                ]
                await _round_trip(sim, links, specs, pool)
            orders = len(sim.engine.accounts[key].orders)  # counted, not rendered
            gc.collect()
            trim_heap()
            marks.append((hi, orders, rss_kib()))
    finally:
        for link in links.values():
            await link.close()
        await sim.stop()
    return {"marks": marks}


async def _round_trip(sim: Any, links: dict[str, Any], specs: list[Spec], pool: Pool) -> None:
    """Send every spec (on the connection its op needs), then read every reply; the
    resting orders placed become targets of later cancels and amends."""
    sent: dict[str, tuple[Any, Spec]] = {}
    for n, spec in enumerate(specs):
        link = links["business" if spec.op == "sprd-order" else "private"]
        rid = f"c{id(specs)}n{n}"
        await link.send({"id": rid, "op": spec.op, "args": [_wire(sim, a) for a in spec.args]})
        sent[rid] = (link, spec)
    for rid, (link, spec) in sent.items():
        reply = await link.reply(rid, timeout=30.0)
        if spec.kind in ("rest", "batch"):
            ok = {d.get("clOrdId") for d in reply.get("data", []) if d.get("sCode") == "0"}
            pool.add([(a["clOrdId"], a["instId"]) for a in spec.args if a["clOrdId"] in ok])
        link.pushes.clear()


def _wire(sim: Any, item: dict[str, Any]) -> dict[str, Any]:
    """An item as the client sends it: instId resolved to its instIdCode."""
    out = {k: v for k, v in item.items() if k != "instId"}
    if "instId" in item and "instIdCode" not in item:
        out["instIdCode"] = sim.inst_id_code(item["instId"])
    return out


def order_cost(requests: int, warmup: int = WARMUP, timeout: float = 300.0) -> dict[str, Any]:
    """Run :func:`measure` in a fresh interpreter; ``marks`` and ``per_order`` (bytes of
    RSS per order of each half), or ``error``."""
    root = str(Path(__file__).resolve().parent.parent)
    cmd = [sys.executable, "-m", "soak.simcost", str(requests), str(warmup)]
    try:
        done = subprocess.run(cmd, cwd=root, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"no answer within {timeout:g}s"}
    try:
        out: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        why = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
        return {"error": why[-300:]}
    marks = out["marks"]
    pairs = zip(marks, marks[1:], strict=False)
    out["per_order"] = [(b[2] - a[2]) * 1024 / max(b[1] - a[1], 1) for a, b in pairs]
    return out


CALIBRATE_FROM = 5000  # requests: below, the book's growth is within the RSS's noise
CALIBRATION = 12_000  # requests sent to the fresh simulator (a few seconds)


def order_cost_for(requests: int) -> dict[str, Any]:
    """The cost for a run of ``requests`` (none below :data:`CALIBRATE_FROM`: the
    simulator's RSS growth is then all "the rest", which can only fail more often)."""
    if requests < CALIBRATE_FROM:
        return {}
    return order_cost(CALIBRATION)


def main(argv: list[str]) -> None:
    requests, warmup = int(argv[0]), int(argv[1])
    print(json.dumps(asyncio.run(measure(requests, warmup))), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
