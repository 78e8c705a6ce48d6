"""What the market phase found (:class:`MarketAudit`), its check and its summary lines.

Kept apart from ``soak.market`` (which drives the books) so that the report and
the checks can hold it without importing the client stack.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from .report import SoakReport

Levels = dict[Decimal, Decimal]
Rows = list[tuple[str, str]]
_SHOWN = 5  # messages of each list printed / checked in full


@dataclass
class MarketAudit:
    """Figures of the market phase, and everything that broke.

    ``mismatches``: comparisons of a valid book with the simulator's at the same
    seqId (all levels) that differed.  ``invalid_valid``: times a book was reported
    valid while it was not -- each mismatch, an applied update that does not chain
    onto the one before with no snapshot between, a gap the book applied updates
    past.  ``problems``: the phase could not do what it claims (a fault that never
    fired, a book that never resynced, a duplicate or a reset that made a book
    resync although OKX's rules chain both).
    """

    rounds: int = 0  # fault rounds planned (0: the phase did not run)
    books: list[str] = field(default_factory=list)  # "channel inst (resync)"
    armed: Counter[str] = field(default_factory=Counter)  # fault kind -> armed
    fired: dict[str, int] = field(default_factory=dict)  # kind -> fired, per the simulator
    rest_snapshots: int = 0  # GET /api/v5/market/books answered
    updates: int = 0  # applied changes the books reported (each checked to chain)
    compared: int = 0  # level-by-level comparisons with the simulator's book
    compared_after_resync: int = 0
    levels_compared: int = 0
    invalidations: int = 0
    resyncs: int = 0  # times a book became valid again (BookStream.resyncs)
    inexact_bridges: int = 0  # REST snapshots refused: inside an aggregated push
    seq_drops: int = 0  # maintenance resets seen in the stream (seqId < prevSeqId)
    invalid_reasons: Counter[str] = field(default_factory=Counter)  # why books went invalid
    warnings: Counter[str] = field(default_factory=Counter)  # the books' warnings, by kind
    mismatches: list[str] = field(default_factory=list)
    invalid_valid: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    elapsed: float = 0.0


class Change(Protocol):
    """What the chain check reads of an ``okx_ws_core.book.orderbook.BookChange``."""

    @property
    def seq_id(self) -> int: ...
    @property
    def prev_seq_id(self) -> int: ...
    @property
    def snapshot(self) -> bool: ...


class Chain:
    """The changes one book reports, checked to chain: each update's prevSeqId is the
    seqId of the change before it; a snapshot starts a new chain.  A book reports a
    change only while valid, so a break is an invalid book reported valid (a
    maintenance reset, seqId < prevSeqId, chains like any update)."""

    def __init__(self) -> None:
        self.head: int | None = None  # seqId of the last change (None: not known)
        self.resets = 0

    def see(self, change: Change) -> str | None:
        """Take the next change; what is wrong with it, or None."""
        head, self.head = self.head, change.seq_id
        if change.snapshot:
            return None
        if change.seq_id < change.prev_seq_id:
            self.resets += 1
        if head is not None and change.prev_seq_id != head:
            return f"applied an update with prevSeqId {change.prev_seq_id} onto seqId {head}"
        return None

    def lost(self) -> None:
        """Changes were dropped unread (a full buffer): the next one starts over."""
        self.head = None


def differences(ours: tuple[Levels, Levels], theirs: tuple[Rows, Rows]) -> str:
    """'' if both sides hold the same levels, else what differs (a few levels)."""
    out = []
    for name, mine, rows in zip(("bids", "asks"), ours, theirs, strict=True):
        expected = {Decimal(px): Decimal(sz) for px, sz in rows}
        if mine != expected:
            wrong = sorted(set(mine.items()) ^ set(expected.items()))[:3]
            out.append(f"{name} {len(mine)} vs {len(expected)} levels, e.g. {wrong}")
    return "; ".join(out)


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{k} x{n}" for k, n in sorted(counter.items())) or "none"


def market_books(r: SoakReport) -> list[str]:
    """After every resync each book equalled the simulator's at the same seqId (all
    levels), no book was ever reported valid while it was not, and every market
    fault armed fired per the simulator."""
    m = r.market
    if not m.rounds:
        return []
    out = [f"mismatch: {x}" for x in m.mismatches[:_SHOWN]]
    out += [f"invalid book reported valid: {x}" for x in m.invalid_valid[:_SHOWN]]
    out += m.problems[:_SHOWN]
    unfired = {k: (m.fired.get(k, 0), n) for k, n in m.armed.items() if m.fired.get(k, 0) != n}
    if unfired:
        out.append(f"market faults fired/armed per the simulator: {unfired}")
    if m.compared_after_resync < m.resyncs + len(m.books):
        out.append(
            f"{m.compared_after_resync} comparisons right after a snapshot or resync, for"
            f" {len(m.books)} first snapshots and {m.resyncs} resyncs"
        )
    return out


def summary_lines(r: SoakReport) -> list[str]:
    m = r.market
    if not m.rounds:
        return ["market data    not run (--market-rounds 0, or a run under 500 requests)"]
    fired = ", ".join(f"{k} {m.fired.get(k, 0)}/{n}" for k, n in sorted(m.armed.items()))
    lines = [
        f"market data    {len(m.books)} books ({', '.join(m.books)}), {m.rounds} fault rounds"
        f" in {m.elapsed:.1f} s; faults fired/armed per the simulator: {fired};"
        f" REST snapshots {m.rest_snapshots}",
        f"  books        {m.compared} compared level by level with the simulator's at the same"
        f" seqId ({m.compared_after_resync} right after a resync, {m.levels_compared} levels);"
        f" {m.updates} updates applied, each checked to chain; invalidations {m.invalidations},"
        f" resyncs {m.resyncs}, resets chained {m.seq_drops}, REST snapshots refused as"
        f" inexact {m.inexact_bridges}",
        f"  invalid      by reason: {_counts(m.invalid_reasons)}; warnings: {_counts(m.warnings)}",
        f"  verdict      mismatches={len(m.mismatches)}"
        f" invalid_reported_valid={len(m.invalid_valid)} problems={len(m.problems)}",
    ]
    lines += [f"  ! {x}" for x in (m.mismatches + m.invalid_valid + m.problems)[:_SHOWN]]
    return lines
