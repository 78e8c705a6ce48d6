"""Every unknown fate settled by the client's own ``reconcile()``, judged against the book.

After the load, each request that ended unknown (``RequestTimeout(sent=True)``,
``ConnectionLost``) is handed to ``reconcile`` as ``{clOrdId: instId}``; it asks
the simulator's signed REST API, as it would ask OKX.  Its verdicts must agree
with the simulator's order book (``soak.book``'s fates):

* an order item: ``placed`` with the book's ordId exactly when the book has it,
  ``not_placed`` exactly when it does not;
* a cancel or amend target (on the book by construction): ``placed`` with the
  book's state (cancel) or size (amend).

``unknown`` verdicts are counted with their reasons and fail the run too: the
simulator is quiet by then, so nothing should stay unknown.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .book import Fate
from .drivers import ClientSide
from .ledger import PLACE_OPS, UNKNOWN_FATE, Record

CHUNK = 100  # clOrdIds per reconcile() call
TIMEOUT_S = 30.0
OnSide = Callable[[ClientSide, Awaitable[Any]], Awaitable[Any]]


@dataclass
class ReconcileAudit:
    verdicts: Counter[str] = field(default_factory=Counter)  # by kind of request and verdict
    disagreements: list[str] = field(default_factory=list)
    asked: int = 0


def targets(records: list[Record], api_key: str) -> dict[str, str | None]:
    """clOrdId -> instId (None: a spread order) of every order an unknown-fate request
    of ``api_key`` touched."""
    out: dict[str, str | None] = {}
    for r in records:
        if r.api_key == api_key and r.outcome in UNKNOWN_FATE:
            for cl in r.cl_ord_ids:
                out[cl] = r.inst_id or None
    return out


async def reconcile_unknowns(
    sides: list[ClientSide], records: list[Record], on_side: OnSide
) -> dict[str, dict[str, Any]]:
    """api_key -> clOrdId -> Verdict, from each side's own client."""
    verdicts: dict[str, dict[str, Any]] = {}
    for side in sides:
        wanted = targets(records, side.api_key)
        got: dict[str, Any] = {}
        ids = sorted(wanted)
        for i in range(0, len(ids), CHUNK):
            chunk = {cl: wanted[cl] for cl in ids[i : i + CHUNK]}
            got.update(await on_side(side, side.ws.reconcile(chunk, timeout=TIMEOUT_S)))
        verdicts[side.api_key] = got
    return verdicts


def judge(
    records: list[Record],
    verdicts: Mapping[str, Mapping[str, Any]],
    fates: Mapping[str, Mapping[str, Fate]],
) -> ReconcileAudit:
    out = ReconcileAudit(asked=sum(len(v) for v in verdicts.values()))
    for r in records:
        if r.outcome not in UNKNOWN_FATE:
            continue
        what = "order" if r.op in PLACE_OPS else ("cancel" if r.op == "cancel-order" else "amend")
        for cl in r.cl_ord_ids:
            verdict = verdicts.get(r.api_key, {}).get(cl)
            fate = fates.get(r.api_key, {}).get(cl)
            tag = f"{r.tag}: {cl}"
            if verdict is None:
                out.disagreements.append(f"{tag}: reconcile() gave no verdict")
                continue
            out.verdicts[f"{what}: {verdict.status}"] += 1
            problem = _disagreement(what, r, verdict, fate)
            if problem:
                out.disagreements.append(f"{tag}: {problem}")
    return out


def _disagreement(what: str, r: Record, verdict: Any, fate: Fate) -> str:
    if verdict.status == "unknown":
        return f"still unknown after the load: {verdict.reason}"
    if what == "order":
        if verdict.placed and fate is None:
            return "reconcile() says placed, the simulator has no such order"
        if not verdict.placed and fate is not None:
            return f"reconcile() says not placed, the simulator has {fate[0]} ({fate[1]})"
        if verdict.placed and fate is not None and str(verdict.data.get("ordId")) != fate[0]:
            return f"reconcile() says ordId {verdict.data.get('ordId')}, the simulator {fate[0]}"
        return ""
    if fate is None or not verdict.placed:
        return f"reconcile() says {verdict.status}, the book has {fate}"
    if what == "cancel" and (verdict.state == "canceled") != (fate[1] == "canceled"):
        return f"reconcile() says state {verdict.state}, the simulator {fate[1]}"
    if what == "amend" and str(verdict.data.get("sz")) != fate[2]:
        return f"reconcile() says sz {verdict.data.get('sz')}, the simulator {fate[2]}"
    return ""
