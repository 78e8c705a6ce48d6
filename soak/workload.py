"""The requests: a deterministic mix of orders, batches, cancels and amends per seed."""

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


@dataclass(frozen=True)
class Spec:
    op: str  # OKX op: order, batch-orders, cancel-order, amend-order
    kind: str  # rest, fill, batch, bad, cancel, amend, probe
    args: list[dict[str, Any]]
    cl_ord_ids: tuple[str, ...]  # placed ids (place ops) or the target (cancel/amend)
    expect_fail: frozenset[str] = frozenset()  # clOrdIds built to be rejected
    new_sz: str = ""  # amend target size


class Pool:
    """clOrdIds of one client's confirmed resting orders, each used once by a cancel/amend."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids: list[str] = []

    def add(self, ids: Sequence[str]) -> None:
        with self._lock:
            self._ids.extend(ids)

    def take(self, rng: random.Random) -> str | None:
        with self._lock:
            if not self._ids:
                return None
            i = rng.randrange(len(self._ids))
            self._ids[i], self._ids[-1] = self._ids[-1], self._ids[i]
            return self._ids.pop()


def inst_id_of(kind: str) -> str:
    """The instrument a request of this kind names (fills trade ETH-USDT, the rest BTC-USDT)."""
    return "ETH-USDT" if kind == "fill" else "BTC-USDT"


def rest_item(cl: str) -> dict[str, Any]:
    return {
        "instId": "BTC-USDT",
        "tdMode": "cash",
        "side": "buy",
        "ordType": "limit",
        "px": REST_PX,
        "sz": "0.01",
        "clOrdId": cl,
    }


def build_spec(seed: int, index: int, letter: str, pool: Pool) -> Spec:
    """Request number ``index`` (deterministic per seed, except for pool targets)."""
    rng = random.Random(f"{seed}:{index}")
    base = f"{letter}{seed}n{index}"
    draw = rng.random()
    if draw >= 0.78:
        target = pool.take(rng)
        if target is not None:
            target_args = {"instId": "BTC-USDT", "clOrdId": target}
            if draw < 0.90:
                return Spec("cancel-order", "cancel", [target_args], (target,))
            amend = {**target_args, "newSz": "0.02"}
            return Spec("amend-order", "amend", [amend], (target,), new_sz="0.02")
    if draw < 0.65 or draw >= 0.78:
        return Spec("order", "rest", [rest_item(f"{base}r")], (f"{base}r",))
    if draw < 0.70:
        cl = f"{base}f"  # crosses ETH-USDT's reference price: fills at once
        item = {**rest_item(cl), "instId": "ETH-USDT", "px": "3100"}
        return Spec("order", "fill", [item], (cl,))
    if draw < 0.75:
        ids = [f"{base}b{j}" for j in range(rng.randint(2, 5))]
        items = [rest_item(cl) for cl in ids]
        bad: frozenset[str] = frozenset()
        if rng.random() < 0.3:  # one stale instIdCode: code "2", partially succeeded
            j = rng.randrange(len(ids))
            items[j]["instIdCode"] = UNKNOWN_CODE
            bad = frozenset({ids[j]})
        return Spec("batch-orders", "batch", items, tuple(ids), expect_fail=bad)
    cl = f"{base}x"  # a code OKX does not list (51001): code "1", OkxApiError
    item = {**rest_item(cl), "instIdCode": UNKNOWN_CODE}
    return Spec("order", "bad", [item], (cl,), expect_fail=frozenset({cl}))


def probe_spec(seed: int, index: int, letter: str) -> Spec:
    """The order each client places after the last reconnect: its push proves the
    subscription survived."""
    cl = f"{letter}{seed}p{index}"
    return Spec("order", "probe", [rest_item(cl)], (cl,))
