"""What the client keeps by design, bounded: counted at each checkpoint, then weighed.

The client keeps OKX's late replies (they settle unknown fates), the fates of
calls cancelled after sending, and, per live link, the ids of requests that
timed out (``AsyncWebsocketClient.retained()``: entries held and the cap).  Each
grows with the faults a segment happened to have, up to its cap, so the traced
growth between two checkpoints includes them.  ``client_resources`` subtracts
exactly their growth -- entries gained times the bytes one entry costs, weighed
here by feeding the client's own code the same records under tracemalloc -- and
requires the rest flat, and every store within its cap.  Nothing is exempt by
file or by a larger limit: a leak elsewhere, or an entry grown fatter, still
fails the check.
"""

from __future__ import annotations

import functools
import gc
import json
import logging
import tracemalloc
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from okx_ws_core.errors import RequestCancelled
from okx_ws_core.orders.fates import StampTrackReconciler
from okx_ws_core.protocol.late import Orphan, Recent

from .clients import on_side
from .drivers import ClientSide

Held = dict[str, tuple[int, int]]  # store -> (entries, cap), summed over the clients
SAMPLES = 500
# A reply of the simulator to one order (its field set and sizes: OKX's).
_REPLY = (
    '{"id":"%s","op":"order","code":"0","msg":"","data":[{"clOrdId":"%s","ordId":"%s",'
    '"tag":"","ts":"1695190491421","sCode":"0","sMsg":"","subCode":""}],'
    '"inTime":"1695190491421339","outTime":"1695190491423240"}'
)


async def held(sides: Iterable[ClientSide]) -> Held:
    """Entries and caps of the bounded stores, summed over the clients (read on their loops)."""
    out: Held = {}
    for side in sides:

        async def read(side: ClientSide = side) -> dict[str, Any]:
            return side.ws.retained()

        for name, (entries, cap) in (await on_side(side, read())).items():
            was = out.get(name, (0, 0))
            out[name] = (was[0] + entries, was[1] + cap)
    return out


def _per_entry(fill: Callable[[int], object]) -> float:
    """Traced bytes one entry costs: ``fill(i)`` stores entry ``i`` (its return value is
    kept alive with the store until measured)."""
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start(1)
    try:
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        keep = [fill(i) for i in range(SAMPLES)]
        gc.collect()
        size = tracemalloc.get_traced_memory()[0] - before
        del keep
        return size / SAMPLES
    finally:
        if started:
            tracemalloc.stop()


def _ids(i: int, store: str) -> tuple[str, str, str]:
    """A request id, clOrdId and ordId of the soak's lengths, distinct per store (a
    cancelled fate whose late reply is already kept is not kept again)."""
    return f"{store}{i:011d}", f"a{i:014d}", f"{i:019d}"


async def weigh() -> dict[str, float]:
    """Bytes per entry of each store, by the client's own code on records like the soak's.

    Weighed once per process (its six collections cost 0.35 s: a tenth of a short run)."""
    return dict(_weigh())


@functools.cache  # per process: the code weighed does not change
def _weigh() -> dict[str, float]:
    fates = StampTrackReconciler(
        stamp_exp_time=False,
        okx_now_ms=lambda: 0,
        rest=_no_rest,
        logger=logging.getLogger("soak.retained"),
        codes=lambda: {"BTC-USDT": 1},
    )
    args = [{"clOrdId": "x"}]

    def late(i: int) -> None:
        rid, cl, ord_id = _ids(i, "L")
        reply = json.loads(_REPLY % (rid, cl, ord_id))
        fates.late_reply(reply["id"], "order", args, reply)

    def cancelled(i: int) -> None:
        rid, cl, _ = _ids(i, "C")
        record = RequestCancelled(id=rid, op="order", cl_ord_ids=(cl,))
        fates.cancelled(
            None,
            record,
            connection="private",
            args=[{"clOrdId": cl, "instIdCode": 1}],
            exp_time=None,
        )

    orphans: Recent[str, Orphan] = Recent(SAMPLES + 1)

    def expired(i: int) -> None:
        rid, cl, _ = _ids(i, "E")
        item = {"instIdCode": 1_000_000 + i, "tdMode": "cash", "side": "buy",
                "ordType": "limit", "px": f"{100 + i % 50}.5", "sz": "0.01", "clOrdId": cl}  # fmt: skip
        orphans.put(rid, Orphan("order", [item], "timed out"), 0.0)

    return {
        "late replies": _per_entry(late),
        "cancelled fates": _per_entry(cancelled),
        "expired request ids": _per_entry(expired),
    }


def _no_rest() -> Any:
    raise AssertionError("weighing never asks REST")


# The gc-tracked object each store keeps per entry (the live-object census counts them).
ENTRY_TYPES = {
    "late replies": "okx_ws_core.orders.fates.Settled",
    "cancelled fates": "okx_ws_core.errors.RequestCancelled",
    "expired request ids": "okx_ws_core.protocol.late.Orphan",
}


def entries_gained(first: Held, last: Held) -> dict[str, int]:
    """Per census type: how many more entries its store holds at ``last`` than at ``first``."""
    return {
        kind: max(0, last.get(name, (0, 0))[0] - first.get(name, (0, 0))[0])
        for name, kind in ENTRY_TYPES.items()
    }


def allowance(first: Held, last: Held, per_entry: Mapping[str, float]) -> int:
    """Traced bytes the stores' growth from ``first`` to ``last`` accounts for."""
    return round(
        sum(
            max(0, last.get(name, (0, 0))[0] - first.get(name, (0, 0))[0])
            * per_entry.get(name, 0.0)
            for name in last
        )
    )


def describe(first: Held, last: Held, per_entry: Mapping[str, float]) -> str:
    """One line: each store's entries, cap and bytes per entry, and what it accounts for."""
    parts = []
    for name, (entries, cap) in last.items():
        was = first.get(name, (0, 0))[0]
        each = per_entry.get(name, 0.0)
        grown = max(0, entries - was) * each
        parts.append(
            f"{name} {was} -> {entries} of {cap} ({each:.0f} B each: {grown / 1024:+.1f} KiB;"
            f" {cap * each / 1048576:.1f} MiB at the cap)"
        )
    return "; ".join(parts)
