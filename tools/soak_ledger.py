"""The soak's ledger: one record per request the user issued, closed exactly once.

A request is *opened* before the client call and *closed* with one outcome
when the call returns or raises.  Closing twice, or never closing, is an
invariant failure in itself.  After the run, :func:`audit` compares the ledger
with the simulator: request ids it saw (duplicates, phantoms), the orders it
holds (every success present, every rejection absent, every unknown fate
reconciled by clOrdId) and the pushes each client received.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

# Outcome kinds.  "auth_error" = the login was refused, the request never left
# the client; "timeout_unsent" = RequestTimeout(sent=False), likewise never sent.
SUCCESS = "success"
API_ERROR = "api_error"
TIMEOUT_UNKNOWN = "timeout_unknown"
TIMEOUT_UNSENT = "timeout_unsent"
CONNECTION_LOST = "connection_lost"
AUTH_ERROR = "auth_error"
HUNG = "hung"  # the watchdog had to give up on the call
UNEXPECTED = "unexpected"  # any other exception: a bug somewhere
OUTCOMES = (
    SUCCESS,
    API_ERROR,
    TIMEOUT_UNKNOWN,
    TIMEOUT_UNSENT,
    CONNECTION_LOST,
    AUTH_ERROR,
    HUNG,
    UNEXPECTED,
)
UNKNOWN_FATE = frozenset({TIMEOUT_UNKNOWN, CONNECTION_LOST})
NEVER_SENT = frozenset({AUTH_ERROR, TIMEOUT_UNSENT})

PLACE_OPS = frozenset({"order", "batch-orders"})
_EMPTY: Mapping[str, str] = MappingProxyType({})


def own(text: Any) -> str:
    """A private copy of a string taken from a reply, so the ledger keeps no
    object the client allocated alive (that would look like a client leak)."""
    s = str(text)
    return (s + "\0")[:-1]


@dataclass(slots=True)
class Record:
    index: int
    client: str  # "async" | "sync" | "probe-async" ...
    api_key: str
    op: str
    kind: str  # workload kind: rest, fill, batch, bad, cancel, amend, probe
    cl_ord_ids: tuple[str, ...]  # placed ids (place ops) or target ids (cancel/amend)
    timeout: float
    started: float
    new_sz: str = ""  # amend target size
    expect_fail: frozenset[str] = frozenset()  # clOrdIds built to be rejected
    ended: float = 0.0
    outcome: str = ""
    request_id: str = ""
    sent: bool | None = None
    detail: str = ""
    # clOrdId -> ordId for items OKX accepted; clOrdId -> sCode for items it rejected.
    # None until closed, then set by Ledger.close (a default_factory would allocate
    # in dataclass-generated code, which tracemalloc cannot tell from the client's).
    accepted: Mapping[str, str] = None  # type: ignore[assignment]
    rejected: Mapping[str, str] = None  # type: ignore[assignment]
    closes: int = 0

    @property
    def duration(self) -> float:
        return self.ended - self.started


class Ledger:
    """Thread-safe: the async workers and the blocking client's threads share it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.records: list[Record] = []
        self.double_closes: list[str] = []
        self.issued = 0  # workload requests opened (probes excluded)

    def open(self, record: Record) -> Record:
        with self._lock:
            self.records.append(record)
            if not record.kind.startswith("probe"):
                self.issued += 1
        return record

    def close(self, record: Record, outcome: str, **fields: Any) -> None:
        now = time.monotonic()
        with self._lock:
            record.closes += 1
            if record.closes > 1:
                self.double_closes.append(
                    f"#{record.index} closed again as {outcome} (was {record.outcome})"
                )
                return
            record.ended = now
            record.outcome = outcome
            record.accepted = record.rejected = _EMPTY
            for name, value in fields.items():
                setattr(record, name, value)

    def open_records(self) -> list[Record]:
        with self._lock:
            return [r for r in self.records if r.closes == 0]

    def outcomes(self) -> Counter[str]:
        with self._lock:
            return Counter(r.outcome or "OPEN" for r in self.records)


@dataclass
class Audit:
    duplicates: list[str] = field(default_factory=list)  # ids / clOrdIds seen twice
    phantoms: list[str] = field(default_factory=list)  # ids the sim saw, the ledger never issued
    mismatches: list[str] = field(default_factory=list)  # sim state vs. reported outcome
    never_sent_seen: list[str] = field(default_factory=list)  # "never sent" yet the sim has it
    unknown_placed: int = 0  # unknown-fate items found on the sim
    unknown_not_placed: int = 0
    unknown_cancel_done: int = 0
    unknown_cancel_not_done: int = 0
    unknown_amend_done: int = 0
    unknown_amend_not_done: int = 0
    never_sent_verified: int = 0
    orders_checked: int = 0


def audit(
    ledger: Ledger,
    sim_request_ids: Counter[str],
    orders_by_key: dict[str, list[dict[str, Any]]],
    item_error_codes: Counter[str],
) -> Audit:
    """Compare every closed record with what the simulator saw and holds."""
    out = Audit()
    for rid, n in sim_request_ids.items():
        if n > 1:
            out.duplicates.append(f"request id {rid} seen {n} times by the simulator")
    if item_error_codes.get("51016"):
        out.duplicates.append(
            f"simulator answered 51016 (duplicated clOrdId) {item_error_codes['51016']} times"
        )
    by_cl: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for key, orders in orders_by_key.items():
        index: dict[str, list[dict[str, Any]]] = {}
        for order in orders:
            index.setdefault(order["clOrdId"], []).append(order)
        by_cl[key] = index
        for cl, found in index.items():
            if len(found) > 1:
                out.duplicates.append(f"clOrdId {cl} placed {len(found)} times ({key})")

    issued_ids = {r.request_id for r in ledger.records if r.request_id}
    for rid in sim_request_ids:
        if rid not in issued_ids:
            out.phantoms.append(rid)

    for r in ledger.records:
        index = by_cl.get(r.api_key, {})
        seen = sim_request_ids.get(r.request_id, 0) if r.request_id else 0
        tag = f"#{r.index} {r.client} {r.op} {r.outcome} id={r.request_id or '-'}"
        if r.outcome in (SUCCESS, API_ERROR) and r.request_id and seen != 1:
            out.mismatches.append(f"{tag}: answered, yet the simulator saw the id {seen} times")
        if r.outcome in NEVER_SENT:
            if seen:
                out.never_sent_seen.append(f"{tag}: reported never sent, simulator saw it")
            if r.op in PLACE_OPS and any(cl in index for cl in r.cl_ord_ids):
                out.never_sent_seen.append(f"{tag}: reported never sent, order exists")
            else:
                out.never_sent_verified += 1
        if r.op in PLACE_OPS:
            _check_place(r, index, out, tag)
        elif r.op == "cancel-order":
            _check_cancel(r, index, out, tag)
        elif r.op == "amend-order":
            _check_amend(r, index, out, tag)
    return out


def _check_place(r: Record, index: dict[str, list[dict[str, Any]]], out: Audit, tag: str) -> None:
    for cl in r.cl_ord_ids:
        found = index.get(cl, [])
        order = found[0] if found else None
        out.orders_checked += 1
        if r.outcome in (SUCCESS, API_ERROR):
            if cl in r.accepted:
                if order is None:
                    out.mismatches.append(f"{tag}: {cl} reported placed, not on the simulator")
                elif order["ordId"] != r.accepted[cl]:
                    out.mismatches.append(
                        f"{tag}: {cl} ordId {r.accepted[cl]} reported, simulator has {order['ordId']}"
                    )
            elif cl in r.rejected:
                if order is not None:
                    out.mismatches.append(f"{tag}: {cl} reported rejected, simulator placed it")
                if cl not in r.expect_fail:
                    out.mismatches.append(f"{tag}: {cl} rejected unexpectedly: {r.rejected[cl]}")
            elif r.outcome == API_ERROR and not r.accepted and not r.rejected:
                # whole-request failure (code 60013, 50011...): nothing placed
                if order is not None:
                    out.mismatches.append(f"{tag}: request failed as a whole, {cl} exists")
            else:
                out.mismatches.append(f"{tag}: {cl} missing from the reply")
            if cl in r.expect_fail and cl in r.accepted:
                out.mismatches.append(f"{tag}: {cl} was built to fail but was accepted")
        elif r.outcome in UNKNOWN_FATE:
            if order is not None:
                out.unknown_placed += 1
            else:
                out.unknown_not_placed += 1
        if order is not None and r.outcome in (SUCCESS, API_ERROR, *UNKNOWN_FATE):
            if r.kind == "rest" and order["state"] not in ("live", "canceled"):
                out.mismatches.append(f"{tag}: resting order {cl} is {order['state']}")


def _check_cancel(r: Record, index: dict[str, list[dict[str, Any]]], out: Audit, tag: str) -> None:
    cl = r.cl_ord_ids[0]
    found = index.get(cl, [])
    if not found:
        out.mismatches.append(f"{tag}: cancel target {cl} is not on the simulator")
        return
    state = found[0]["state"]
    out.orders_checked += 1
    if r.outcome == SUCCESS and state != "canceled":
        out.mismatches.append(f"{tag}: cancel of {cl} succeeded, order is {state}")
    elif r.outcome == API_ERROR and state != "live":
        out.mismatches.append(f"{tag}: cancel of {cl} rejected, order is {state}")
    elif r.outcome in NEVER_SENT and state != "live":
        out.mismatches.append(f"{tag}: cancel of {cl} never sent, order is {state}")
    elif r.outcome in UNKNOWN_FATE:
        if state == "canceled":
            out.unknown_cancel_done += 1
        else:
            out.unknown_cancel_not_done += 1


def _check_amend(r: Record, index: dict[str, list[dict[str, Any]]], out: Audit, tag: str) -> None:
    cl = r.cl_ord_ids[0]
    found = index.get(cl, [])
    if not found:
        out.mismatches.append(f"{tag}: amend target {cl} is not on the simulator")
        return
    sz = found[0]["sz"]
    out.orders_checked += 1
    if r.outcome == SUCCESS and sz != r.new_sz:
        out.mismatches.append(f"{tag}: amend of {cl} to {r.new_sz} succeeded, sz is {sz}")
    elif (r.outcome == API_ERROR or r.outcome in NEVER_SENT) and sz == r.new_sz:
        out.mismatches.append(f"{tag}: amend of {cl} not applied per the client, sz is {sz}")
    elif r.outcome in UNKNOWN_FATE:
        if sz == r.new_sz:
            out.unknown_amend_done += 1
        else:
            out.unknown_amend_not_done += 1
