"""One instrument's synthetic order book: a seeded random walk plus the sim's own orders.

Why synthetic: a client's order book must be tested against a book that moves,
deletes levels, and carries the client's own resting orders, without a real
exchange.  Why seeded: the same seed and the same orders give the same book and
the same seqIds, so a failing soak can be replayed.

The model (pure: no I/O, no clock; times are passed in):

- A mid price walks one tick at a time (``step``), reflected within a band around
  the instrument's reference price.  Synthetic levels sit on every tick from
  mid +- 1 to mid +- ``levels``; a move deletes the level the mid crosses and the
  farthest one on the other side, and adds two; each step also resizes a few
  levels near the top.
- The simulator's own resting orders (the engine's live orders) are added at
  their prices: their remaining sizes and counts add to the synthetic level
  there.  Synthetic levels that would cross an own order (asks at or below the
  best own bid, bids at or above the best own ask) are hidden, so the book
  never crosses the orders a client placed.
- Every change that alters a visible level is one *event*: the book's ``seq_id``
  advances by 1 to 3 (OKX's seqIds grow by irregular steps), and the event
  (which levels, from what, to what) is kept in a bounded history, so the book
  at an earlier seqId can be rebuilt (``at``) and a channel can push exactly
  the levels touched since its last push.
- ``reset_sequence`` is OKX's maintenance: the seqId drops to a smaller value
  without any level changing.

Prices and sizes are Decimals; a level is ``(size, order count)``.
"""

from __future__ import annotations

import heapq
import random
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from .instruments import Instrument

BIDS: Final = "bids"
ASKS: Final = "asks"
SIDES: Final = (BIDS, ASKS)

Level = tuple[Decimal, int]  # (size, number of orders)
Side = dict[Decimal, Level]
Change = tuple[str, Decimal, Level | None, Level | None]  # side, px, before, after

# Defaults: 400 synthetic levels per side (OKX's deepest channel); 1,000 events of
# history (20 s at one step per 20 ms); seqIds start in the millions like OKX's.
DEFAULT_LEVELS: Final = 400
DEFAULT_HISTORY: Final = 1000
_FIRST_SEQ: Final = 1_000_000
_SIZE_UNITS: Final = (1, 500)  # a synthetic level holds 10x this many minimum sizes
_RESIZES: Final = (1, 3)  # levels resized per step


@dataclass(frozen=True, slots=True)
class Event:
    version: int  # 1, 2, 3... per book: what a feed has pushed up to
    seq_id: int
    prev_seq_id: int
    changes: tuple[Change, ...]
    ts: int  # ms


class SyntheticBook:
    def __init__(
        self,
        inst: Instrument,
        seed: int | str,
        *,
        levels: int = DEFAULT_LEVELS,
        history: int = DEFAULT_HISTORY,
    ) -> None:
        self.inst = inst
        self.tick = Decimal(inst.tick_sz)
        self._unit = Decimal(inst.min_sz) * 10
        self._levels_n = levels
        self._rng = random.Random(f"{seed}:{inst.inst_id}")
        ref = max(int(inst.ref_px / self.tick), 2)
        self.mid = ref  # in ticks
        self._low = max(2, ref - max(levels, ref // 100))
        self._high = ref + max(levels, ref // 100)
        self._syn: dict[str, dict[int, tuple[int, int]]] = {BIDS: {}, ASKS: {}}
        for k in range(1, levels + 1):
            if ref - k >= 1:
                self._syn[BIDS][ref - k] = self._random_level()
            self._syn[ASKS][ref + k] = self._random_level()
        self._own: dict[str, Side] = {BIDS: {}, ASKS: {}}
        self.levels: dict[str, Side] = {BIDS: {}, ASKS: {}}
        for side in SIDES:
            for ticks in self._syn[side]:
                px = ticks * self.tick
                level = self._visible(side, px)
                if level is not None:
                    self.levels[side][px] = level
        self.seq_id = _FIRST_SEQ + self._rng.randrange(1000)
        self.version = 0
        self.ts = 0
        self.history: deque[Event] = deque(maxlen=history)
        self.last_trade_px: Decimal = inst.ref_px

    # -- the model ------------------------------------------------------------------
    def _random_level(self) -> tuple[int, int]:
        return self._rng.randint(*_SIZE_UNITS), self._rng.randint(1, 20)

    def _syn_level(self, side: str, px: Decimal) -> tuple[int, int] | None:
        ticks = px / self.tick
        if ticks != ticks.to_integral_value():
            return None
        return self._syn[side].get(int(ticks))

    def _hidden(self, side: str, px: Decimal) -> bool:
        """A synthetic level that would cross an own order on the other side."""
        if side == ASKS:
            own = self._own[BIDS]
            return bool(own) and px <= max(own)
        own = self._own[ASKS]
        return bool(own) and px >= min(own)

    def _visible(self, side: str, px: Decimal) -> Level | None:
        syn = self._syn_level(side, px)
        own = self._own[side].get(px)
        size, count = Decimal(0), 0
        if syn is not None and not self._hidden(side, px):
            size, count = syn[0] * self._unit, syn[1]
        if own is not None:
            size, count = size + own[0], count + own[1]
        return (size, count) if size > 0 else None

    def _walk(self, touched: set[tuple[str, Decimal]]) -> None:
        """One step: maybe move the mid a tick, then resize a few levels."""
        rng, syn, n = self._rng, self._syn, self._levels_n
        move = rng.choice((-1, 0, 1))
        if self.mid + move < self._low or self.mid + move > self._high:
            move = -move
        old, new = self.mid, self.mid + move
        if move == 1:  # best ask is crossed; the deepest bid falls off; two are added
            self._set(ASKS, old + 1, None, touched)
            self._set(ASKS, new + n, self._random_level(), touched)
            self._set(BIDS, old, self._random_level(), touched)
            self._set(BIDS, old - n, None, touched)
        elif move == -1:
            self._set(BIDS, old - 1, None, touched)
            self._set(BIDS, new - n, self._random_level(), touched)
            self._set(ASKS, old, self._random_level(), touched)
            self._set(ASKS, old + n, None, touched)
        self.mid = new
        for _ in range(rng.randint(*_RESIZES)):
            side = rng.choice(SIDES)
            k = min(1 + int(rng.expovariate(0.2)), n)
            ticks = new - k if side == BIDS else new + k
            if ticks in syn[side]:
                self._set(side, ticks, self._random_level(), touched)

    def _set(
        self,
        side: str,
        ticks: int,
        level: tuple[int, int] | None,
        touched: set[tuple[str, Decimal]],
    ) -> None:
        if ticks < 1:
            return
        if level is None:
            self._syn[side].pop(ticks, None)
        else:
            self._syn[side][ticks] = level
        touched.add((side, ticks * self.tick))

    # -- changes ----------------------------------------------------------------------
    def advance(self, own: Mapping[str, Side], *, walk: bool, now_ms: int) -> Event | None:
        """Take the own orders' levels now (``own[side][px] = (size, count)``) and, if
        ``walk``, one random step; record one event if any visible level changed."""
        touched: set[tuple[str, Decimal]] = set()
        if walk:
            self._walk(touched)
        old_bid = max(self._own[BIDS]) if self._own[BIDS] else None
        old_ask = min(self._own[ASKS]) if self._own[ASKS] else None
        for side in SIDES:
            before, after = self._own[side], own.get(side, {})
            if before != after:
                touched.update(
                    (side, px)
                    for px in before.keys() | after.keys()
                    if before.get(px) != after.get(px)
                )
                self._own[side] = dict(after)
        new_bid = max(self._own[BIDS]) if self._own[BIDS] else None
        new_ask = min(self._own[ASKS]) if self._own[ASKS] else None
        if new_bid != old_bid:  # synthetic asks between the two thresholds show / hide
            touched.update(
                (ASKS, t * self.tick)
                for t in self._syn[ASKS]
                if _between(t * self.tick, old_bid, new_bid)
            )
        if new_ask != old_ask:
            touched.update(
                (BIDS, t * self.tick)
                for t in self._syn[BIDS]
                if _between(t * self.tick, old_ask, new_ask)
            )
        changes: list[Change] = []
        for side, px in touched:
            after_level = self._visible(side, px)
            before_level = self.levels[side].get(px)
            if after_level == before_level:
                continue
            if after_level is None:
                del self.levels[side][px]
            else:
                self.levels[side][px] = after_level
            changes.append((side, px, before_level, after_level))
        if not changes:
            return None
        return self._record(self.seq_id + self._rng.randint(1, 3), tuple(changes), now_ms)

    def reset_sequence(self, now_ms: int) -> Event:
        """OKX's maintenance: the seqId drops below the last one; no level changes.

        The new chain starts far enough below every seqId the history holds that it
        cannot climb back to one of them (an event adds at most 3) before that one is
        forgotten: a seqId names one state (``at``) and a skipped update always breaks
        the chain.  (Halving the seqId fell to single digits after a few resets, and
        seqIds repeated.)  Only after some hundred resets in one history's time does
        it fall back to halving."""
        span = 3 * ((self.history.maxlen or 0) + 1)
        top = min([self.seq_id, *(e.prev_seq_id for e in self.history)]) - span
        if top > 1:
            low = self._rng.randint(max(1, top - span), top)
        else:
            low = self._rng.randint(1, max(1, self.seq_id // 2))
        return self._record(low, (), now_ms)

    def _record(self, seq_id: int, changes: tuple[Change, ...], now_ms: int) -> Event:
        self.version += 1
        event = Event(self.version, seq_id, self.seq_id, changes, now_ms)
        self.seq_id, self.ts = seq_id, now_ms
        self.history.append(event)
        return event

    def since(self, version: int) -> list[Event] | None:
        """Events after ``version`` (oldest first); None when history no longer has them."""
        if version >= self.version:
            return []
        if not self.history or self.history[0].version > version + 1:
            return None
        skip = version + 1 - self.history[0].version
        return list(self.history)[skip:]

    # -- reading ----------------------------------------------------------------------
    def top(self, depth: int) -> dict[str, list[tuple[Decimal, Level]]]:
        """The best ``depth`` levels per side: bids high to low, asks low to high."""
        return {side: _best(side, self.levels[side], depth) for side in SIDES}

    def at(self, seq_id: int, depth: int) -> dict[str, list[tuple[Decimal, Level]]]:
        """The book right after the event that gave it ``seq_id`` (the latest such, if
        a maintenance reset reused the number).  LookupError when it is older than the
        history kept."""
        if seq_id == self.seq_id:
            return self.top(depth)
        sides = {side: dict(self.levels[side]) for side in SIDES}
        for event in reversed(self.history):
            for side, px, before, _ in event.changes:
                if before is None:
                    sides[side].pop(px, None)
                else:
                    sides[side][px] = before
            if event.prev_seq_id == seq_id:
                return {side: _best(side, sides[side], depth) for side in SIDES}
        raise LookupError(f"seqId {seq_id} of {self.inst.inst_id} is not in the history kept")

    def best(self, side: str) -> tuple[Decimal, Level] | None:
        levels = self.levels[side]
        if not levels:
            return None
        px = max(levels) if side == BIDS else min(levels)
        return px, levels[px]

    @property
    def mid_px(self) -> Decimal:
        """The walk's mid price (what mark and index prices follow)."""
        return self.mid * self.tick


def _between(px: Decimal, a: Decimal | None, b: Decimal | None) -> bool:
    """``px`` lies between two thresholds (None: no threshold, i.e. all prices)."""
    if a is None or b is None:
        return True
    return min(a, b) <= px <= max(a, b)


def _best(side: str, levels: Side, depth: int) -> list[tuple[Decimal, Level]]:
    if len(levels) <= depth:
        keys: Iterable[Decimal] = sorted(levels, reverse=side == BIDS)
    elif side == BIDS:
        keys = heapq.nlargest(depth, levels)
    else:
        keys = heapq.nsmallest(depth, levels)
    return [(px, levels[px]) for px in keys]


__all__ = ["ASKS", "BIDS", "SIDES", "Event", "Level", "Side", "SyntheticBook"]
