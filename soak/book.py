"""Every reported outcome judged against the simulator's order book.

For every clOrdId a request placed or targeted, the simulator is asked for
its true fate (``find_order``, one batched call per account): ``Fate`` is
``(ordId, state, sz)`` or None when the book has no such order.

* A *success* or *rejection* the client reported must agree with the book:
  an item reported placed exists with the reported ordId; an item reported
  rejected, or a request failed as a whole, placed nothing; a cancel reported
  done left the order canceled, one reported rejected left it live; an amend
  likewise (its size).  Anything else is a disagreement: the run fails.
* An *unknown* fate (``RequestTimeout(sent=True)``, ``ConnectionLost``) is
  judged, never assumed: "unknown, placed" or "unknown, not placed" (cancel /
  amend: done or not done).  Both are fine — the client did not know — but an
  order that exists although the simulator never saw the request is not.
* A request reported *never sent* (login refused, ``RequestTimeout(sent=False)``)
  must be unknown to the simulator, and must have placed nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .ledger import (
    ANSWERED,
    API_ERROR,
    NEVER_SENT,
    PLACE_OPS,
    SUCCESS,
    UNKNOWN_FATE,
    Record,
)

Fate = tuple[str, str, str] | None  # (ordId, state, sz) on the simulator, None: no order
REST_STATES = frozenset({"live", "canceled"})


@dataclass
class BookAudit:
    duplicates: list[str] = field(default_factory=list)  # ids / clOrdIds the sim saw twice
    phantoms: list[str] = field(default_factory=list)  # what the sim has that nobody issued
    disagreements: list[str] = field(default_factory=list)  # a report the book contradicts
    never_sent_seen: list[str] = field(default_factory=list)  # "never sent", yet it arrived
    unexpected_rejections: list[str] = field(default_factory=list)  # vs. how it was built
    agreed: Counter[str] = field(default_factory=Counter)  # answered reports the book confirms
    unknown: Counter[str] = field(default_factory=Counter)  # unknown fates, as judged
    never_sent_verified: int = 0
    checked: int = 0  # reports judged (one per item of a place op, one per cancel/amend)
    lookups: int = 0  # clOrdIds looked up


def judge(
    records: list[Record],
    fates: Mapping[str, Mapping[str, Fate]],
    request_ids: Mapping[str, int],
    order_ids: Mapping[str, list[str]],
    item_errors: Mapping[str, int],
) -> BookAudit:
    """``fates``: api_key -> clOrdId -> Fate; ``order_ids``: api_key -> clOrdIds of
    every order on the book; ``request_ids``/``item_errors``: the simulator's stats."""
    out = BookAudit(lookups=sum(len(f) for f in fates.values()))
    _duplicates_and_phantoms(records, request_ids, order_ids, item_errors, out)
    for r in records:
        book = fates.get(r.api_key, {})
        seen = request_ids.get(r.request_id, 0) if r.request_id else 0
        if r.outcome in ANSWERED and r.request_id and seen != 1:
            out.disagreements.append(f"{r.tag}: answered, the simulator saw the id {seen} times")
        if r.outcome in NEVER_SENT:
            _never_sent(r, book, seen, out)
        if r.op in PLACE_OPS:
            for cl in r.cl_ord_ids:
                _judge_item(r, cl, book.get(cl), seen, out)
        elif r.op in ("cancel-order", "amend-order"):
            _judge_change(r, book.get(r.cl_ord_ids[0]), out)
    return out


def _duplicates_and_phantoms(
    records: list[Record],
    request_ids: Mapping[str, int],
    order_ids: Mapping[str, list[str]],
    item_errors: Mapping[str, int],
    out: BookAudit,
) -> None:
    for rid, n in request_ids.items():
        if n > 1:
            out.duplicates.append(f"request id {rid} seen {n} times by the simulator")
    if item_errors.get("51016"):
        out.duplicates.append(
            f"the simulator answered 51016 (duplicated clOrdId) {item_errors['51016']} times"
        )
    issued = {r.request_id for r in records if r.request_id}
    out.phantoms += [f"request id {rid}" for rid in request_ids if rid not in issued]
    placed = {(r.api_key, cl) for r in records if r.op in PLACE_OPS for cl in r.cl_ord_ids}
    for key, ids in order_ids.items():
        for cl, n in Counter(ids).items():
            if n > 1:
                out.duplicates.append(f"clOrdId {cl} placed {n} times ({key})")
            if (key, cl) not in placed:
                out.phantoms.append(f"order {cl} ({key}) that no request placed")


EXPIRED_CODE = "50036"  # okx_ws_sim.codes.EXPIRED_REQUEST_CODE: expTime passed


def _never_sent(r: Record, book: Mapping[str, Fate], seen: int, out: BookAudit) -> None:
    placed = r.op in PLACE_OPS and any(book.get(cl) is not None for cl in r.cl_ord_ids)
    if seen:
        out.never_sent_seen.append(f"{r.tag}: reported never sent, the simulator saw it")
    if placed:
        out.never_sent_seen.append(f"{r.tag}: reported never sent, its order exists")
    if not seen and not placed:
        out.never_sent_verified += 1


def _judge_item(r: Record, cl: str, fate: Fate, seen: int, out: BookAudit) -> None:
    """One item of an order / batch-orders request."""
    out.checked += 1
    tag = f"{r.tag}: {cl}"
    if r.outcome in ANSWERED:
        accepted, rejected = r.accepted, r.rejected
        verdict = _answered_item(r, cl, fate, accepted, rejected)
        if verdict.startswith("!"):
            out.disagreements.append(f"{tag} {verdict[1:]}")
        else:
            out.agreed[verdict] += 1
        # 50036: it reached OKX after its expTime, refused however it was built; whether
        # a fault explains the lateness is the late_arrivals check's question.
        if cl in rejected and cl not in r.expect_fail and rejected[cl] != EXPIRED_CODE:
            out.unexpected_rejections.append(f"{tag} rejected unexpectedly: {rejected[cl]}")
        if cl in r.expect_fail and cl in accepted:
            out.unexpected_rejections.append(f"{tag} was built to fail but was accepted")
    elif r.outcome in UNKNOWN_FATE:
        out.unknown["placed" if fate is not None else "not placed"] += 1
        if fate is not None and not seen:
            out.disagreements.append(f"{tag} exists, the simulator never saw the request")
    if (
        fate is not None
        and r.kind in ("rest", "spread", "probe")
        and r.outcome in (*ANSWERED, *UNKNOWN_FATE)
    ):
        if fate[1] not in REST_STATES:
            out.disagreements.append(f"{tag} is a resting order, the book says {fate[1]}")


def _answered_item(
    r: Record, cl: str, fate: Fate, accepted: dict[str, str], rejected: dict[str, str]
) -> str:
    """What the book says to an answered item: a verdict, or "!why" when it disagrees."""
    if cl in accepted:
        if fate is None:
            return f"!reported placed as {accepted[cl]}, the simulator has no such order"
        if fate[0] != accepted[cl]:
            return f"!reported ordId {accepted[cl]}, the simulator has {fate[0]}"
        return "placed"
    if cl in rejected:
        return (
            f"!reported rejected ({rejected[cl]}), the simulator placed it" if fate else "rejected"
        )
    if r.outcome == API_ERROR and not r.items:
        return "!the request failed as a whole, yet the order exists" if fate else "failed whole"
    return "!missing from the reply"


def _judge_change(r: Record, fate: Fate, out: BookAudit) -> None:
    """A cancel or an amend of a resting order the client saw placed."""
    cl = r.cl_ord_ids[0]
    tag = f"{r.tag}: {cl}"
    if fate is None:
        out.disagreements.append(f"{tag} target is not on the simulator")
        return
    out.checked += 1
    what = "cancel" if r.op == "cancel-order" else "amend"
    done = fate[1] == "canceled" if what == "cancel" else fate[2] == r.new_sz
    if r.outcome in UNKNOWN_FATE:
        out.unknown[f"{what} done" if done else f"{what} not done"] += 1
    elif r.outcome == SUCCESS:
        if not done:
            out.disagreements.append(f"{tag} {what} reported done, the book says {fate[1:]}")
        else:
            out.agreed[f"{what} done"] += 1
    elif r.outcome == API_ERROR or r.outcome in NEVER_SENT:
        if done or fate[1] != "live":
            out.disagreements.append(f"{tag} {what} reported not done, the book says {fate[1:]}")
        else:
            out.agreed[f"{what} not done"] += 1


def lookups_needed(records: list[Record]) -> dict[str, list[str]]:
    """api_key -> every clOrdId a request placed or targeted."""
    out: dict[str, set[str]] = {}
    for r in records:
        out.setdefault(r.api_key, set()).update(r.cl_ord_ids)
    return {key: sorted(ids) for key, ids in out.items()}


def as_fates(raw: Mapping[str, Any]) -> dict[str, Fate]:
    return {cl: None if v is None else (str(v[0]), str(v[1]), str(v[2])) for cl, v in raw.items()}
