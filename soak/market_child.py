"""The simulator process's side of the soak's market phase (``soak.market``).

One command, ``market``, answered by :func:`command` on the simulator's loop
(between two frames it handles, as every command of ``soak.simchild``): set the
market's pace, arm the order-book faults, say which are still armed, read the
simulator's book at a seqId, and its figures.  Imports nothing of the client
stack (the simulator process must not load it).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from okx_ws_sim.faults import BOOK_DUPLICATE, BOOK_GAP, BOOK_RESET, BOOKS_PATH

# The market's fault kinds as the simulator tallies them (faults_injected).
GAP, DUPLICATE, RESET, DELAY = BOOK_GAP, BOOK_DUPLICATE, BOOK_RESET, "rest_delay"
KINDS = (GAP, DUPLICATE, RESET, DELAY)
Rows = list[tuple[str, str]]


def command(sim: Any, op: str, *args: Any) -> Any:
    """Run one market-phase operation on ``sim`` (an ``okx_ws_sim.Simulator``)."""
    return _OPS[op](sim, *args)


def _rates(sim: Any, seconds: dict[str, float]) -> dict[str, float]:
    """Set some ``MarketRates`` (seconds); the rates before, to restore them."""
    before: dict[str, float] = asdict(sim.market.rates)
    sim.market.set_rates(**seconds)
    return before


def _arm(sim: Any, kind: str, inst_id: str, channel: str, seconds: float = 0.0) -> None:
    """Arm one fault on one book: a gap or a duplicate on (channel, instrument), a
    maintenance reset of the instrument, or a delayed REST snapshot (any book's next)."""
    faults = sim.faults
    if kind == GAP:
        faults.skip_book_update(inst_id, channel)
    elif kind == DUPLICATE:
        faults.duplicate_book_update(inst_id, channel)
    elif kind == RESET:
        faults.reset_book_sequence(inst_id)
    elif kind == DELAY:
        faults.delay_book_snapshot(seconds)
    else:
        raise ValueError(f"not a market fault: {kind}")


def _pending(sim: Any, inst_id: str) -> list[str]:
    """The book faults still armed on ``inst_id`` (delayed snapshots: any book's)."""
    out = [kind for kind, inst, _ in sim.faults.book_faults if inst in (None, inst_id)]
    return out + [DELAY for kind, path, _ in sim.faults.rest_faults if kind == "delay"]


def _book_at(sim: Any, inst_id: str, seq_id: int, depth: int) -> tuple[Rows, Rows] | None:
    """The simulator's book right after ``seq_id`` (its best ``depth`` levels a side), as
    (px, sz) strings; None when the history kept no longer reaches that far back."""
    try:
        at = sim.market.book_at(inst_id, seq_id, depth)
    except LookupError:
        return None
    return (
        [(str(px), str(sz)) for px, sz, _ in at["bids"]],
        [(str(px), str(sz)) for px, sz, _ in at["asks"]],
    )


def _figures(sim: Any) -> dict[str, int]:
    """The market faults fired so far, and the REST snapshots answered."""
    fired = sim.stats.faults_injected
    out = {kind: int(fired.get(kind, 0)) for kind in KINDS}
    out["rest_snapshots"] = sim.rest_calls(BOOKS_PATH)
    return out


_OPS: dict[str, Any] = {
    "rates": _rates,
    "arm": _arm,
    "pending": _pending,
    "book_at": _book_at,
    "figures": _figures,
}
