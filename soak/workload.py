"""The requests: a deterministic mix of orders, batches, cancels and amends per seed.

Orders are spread over :data:`INSTRUMENTS` (22 spot pairs, 20 of them the soak's own,
listed by the simulator process) and, on the business connection, over the two
spreads, so the client's default limiter (``rate_limit="wait"``) rarely has to wait:
OKX allows 60 orders / 2 s per instrument.  At the limits (``hot=True``) three orders
in four go to one hot pair, which the limiter must then pace.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

REST_PX = "100"  # far below BTC-USDT's reference price: rests forever
# An explicit instIdCode is sent as given; the simulator lists no instrument under it,
# as after a delisting: the item is rejected (51001) and nothing is placed.
UNKNOWN_CODE = 999_999_999
ORDERS_CHANNEL = {"channel": "orders", "instType": "ANY"}
# Every client subscribes to these (connection, arg), one call each: every reconnect
# must restore all of them, which each checkpoint reads on the simulator's side.
SUBSCRIPTIONS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("private", ORDERS_CHANNEL),
    ("private", {"channel": "positions", "instType": "ANY"}),
    ("private", {"channel": "balance_and_position"}),
    ("business", {"channel": "sprd-orders"}),
)
BALANCES = {"USDT": "1000000000", "BTC": "1000000", "ETH": "10000000"}

# The soak's own spot pairs (soak.simchild lists them): reference price 100.
SOAK_PAIRS = tuple(f"SK{n:02d}-USDT" for n in range(1, 21))
SOAK_REF_PX = "100"
# instId -> (resting buy price, crossing buy price: fills at once)
PRICES: dict[str, tuple[str, str]] = {
    "BTC-USDT": (REST_PX, "51000"),
    "ETH-USDT": ("10", "3100"),
    **{pair: ("1", "110") for pair in SOAK_PAIRS},
}
INSTRUMENTS = tuple(PRICES)
HOT = SOAK_PAIRS[:1]  # at the limits: three orders in four, past OKX's 60 / 2 s
HOT_SHARE = 0.75
SPREADS = ("BTC-USDT_BTC-USDT-SWAP", "ETH-USDT_ETH-USDT-SWAP")  # the simulator's own
SPREAD_PX = "1"  # far below either spread's reference: rests
SPREAD_SHARE = 0.02  # sprd-order on the business connection (OKX: 20 / 2 s per user)
HOT_SPREAD_SHARE = 0.04


@dataclass(frozen=True)
class Spec:
    op: str  # OKX op: order, batch-orders, cancel-order, amend-order, sprd-order
    kind: str  # rest, fill, batch, bad, cancel, amend, spread, probe
    args: list[dict[str, Any]]
    cl_ord_ids: tuple[str, ...]  # placed ids (place ops) or the target (cancel/amend)
    expect_fail: frozenset[str] = frozenset()  # clOrdIds built to be rejected
    new_sz: str = ""  # amend target size
    inst_id: str = ""  # instId (a batch: its first item's; "" for a spread order)


POOL_MAX = 4096  # targets kept per client: the newest (memory flat over a long run)


class Pool:
    """(clOrdId, instId) of one client's confirmed resting orders, each used once by a
    cancel/amend; the newest POOL_MAX only."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids: list[tuple[str, str]] = []

    def add(self, ids: Sequence[tuple[str, str]]) -> None:
        with self._lock:
            self._ids.extend(ids)
            if len(self._ids) > POOL_MAX:
                del self._ids[: len(self._ids) - POOL_MAX]

    def take(self, rng: random.Random) -> tuple[str, str] | None:
        with self._lock:
            if not self._ids:
                return None
            i = rng.randrange(len(self._ids))
            self._ids[i], self._ids[-1] = self._ids[-1], self._ids[i]
            return self._ids.pop()


def rest_item(cl: str, inst_id: str = "BTC-USDT") -> dict[str, Any]:
    return {
        "instId": inst_id,
        "tdMode": "cash",
        "side": "buy",
        "ordType": "limit",
        "px": PRICES[inst_id][0],
        "sz": "0.01",
        "clOrdId": cl,
    }


def spread_item(cl: str, sprd_id: str) -> dict[str, Any]:
    return {
        "sprdId": sprd_id,
        "side": "buy",
        "ordType": "limit",
        "px": SPREAD_PX,
        "sz": "1",
        "clOrdId": cl,
    }


def pick_instrument(rng: random.Random, hot: bool) -> str:
    if hot and rng.random() < HOT_SHARE:
        return rng.choice(HOT)
    return rng.choice(INSTRUMENTS)


def build_spec(seed: int, index: int, letter: str, pool: Pool, hot: bool = False) -> Spec:
    """Request number ``index`` (deterministic per seed, except for pool targets)."""
    rng = random.Random(f"{seed}:{index}")
    base = f"{letter}{seed}n{index}"
    draw = rng.random()
    inst = pick_instrument(rng, hot)
    if draw >= 0.78:
        target = pool.take(rng)
        if target is not None:
            cl, target_inst = target
            target_args = {"instId": target_inst, "clOrdId": cl}
            if draw < 0.90:
                return Spec("cancel-order", "cancel", [target_args], (cl,), inst_id=target_inst)
            amend = {**target_args, "newSz": "0.02"}
            return Spec("amend-order", "amend", [amend], (cl,), new_sz="0.02", inst_id=target_inst)
    if draw < (HOT_SPREAD_SHARE if hot else SPREAD_SHARE):
        cl = f"{base}s"
        item = spread_item(cl, SPREADS[index % len(SPREADS)])
        return Spec("sprd-order", "spread", [item], (cl,))
    if draw < 0.65 or draw >= 0.78:
        return Spec("order", "rest", [rest_item(f"{base}r", inst)], (f"{base}r",), inst_id=inst)
    if draw < 0.70:
        cl = f"{base}f"  # crosses the pair's reference price: fills at once
        item = {**rest_item(cl, inst), "px": PRICES[inst][1]}
        return Spec("order", "fill", [item], (cl,), inst_id=inst)
    if draw < 0.75:
        ids = [f"{base}b{j}" for j in range(rng.randint(2, 5))]
        items = [rest_item(cl, inst) for cl in ids]
        bad: frozenset[str] = frozenset()
        if rng.random() < 0.3:  # one stale instIdCode: code "2", partially succeeded
            j = rng.randrange(len(ids))
            items[j]["instIdCode"] = UNKNOWN_CODE
            bad = frozenset({ids[j]})
        return Spec("batch-orders", "batch", items, tuple(ids), expect_fail=bad, inst_id=inst)
    cl = f"{base}x"  # a code OKX does not list (51001): code "1", OkxApiError
    item = {**rest_item(cl, inst), "instIdCode": UNKNOWN_CODE}
    return Spec("order", "bad", [item], (cl,), expect_fail=frozenset({cl}), inst_id=inst)


def probe_spec(seed: int, index: int, letter: str) -> Spec:
    """The order each client places after the last reconnect: its push proves the
    subscription survived."""
    cl = f"{letter}{seed}p{index}"
    return Spec("order", "probe", [rest_item(cl)], (cl,), inst_id="BTC-USDT")
