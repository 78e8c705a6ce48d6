"""The levels of one order-book side, exact and cheap to update: :class:`Side`.

Why this shape.  Most updates of a busy book change the size of a level the
book already holds; the rest insert a price or delete one.  The cheapest
thing Python can do per row is what a plain dict does: store the size string
under the price string OKX sent.  So a side *is* such a dict (``sizes``), and
the order lives beside it:

* ``keys`` -- every price's exact order key (:func:`price_key`, negated on the
  ask side so the best level of both sides is the largest), ascending, the
  best level last; ``pxs[i]`` is the price string of ``keys[i]``.  Only a price
  string the side does not hold touches these lists (one ``bisect``, or none
  for a price below every entry: a level entering OKX's window at the far end).
* A delete, or a trim, only removes the level from ``sizes``: its entry stays
  in the lists, *stale*, until purged in one pass (no list ``memmove`` per
  delete); it revives in place if the price comes back, which near the top of
  a book it usually does, and a new price next to a stale entry takes its
  slot.  An entry is live iff its price string is in ``sizes``.  Every entry
  below ``lo`` is stale (trimming walks up from there).
* ``keyof`` caches price string -> key (bounded); ``gone`` remembers trimmed
  prices, so OKX's delete of a level that left the window costs one lookup.

A price spelled differently for the same value (``"100"`` / ``"100.0"``) has one
key, hence one entry: it is renamed, never duplicated.  Prices and sizes stay
the strings OKX sent and become ``Decimal`` when read: the float keys only
order them, exactly (see :func:`price_key`), and are never read as values.

Compiled.  This module and :mod:`~okx_ws_core.book.orderbook` are compiled with
mypyc when the package is built with a C compiler (``hatch_build.py``;
:data:`okx_ws_core.book.COMPILED`), the same source run natively.  What is
there for mypyc costs the interpreter nothing: typed locals (never evaluated
when interpreted), ``in``/``del`` on ``gone`` instead of a method call (cheaper
for both), and :func:`_bisect`, chosen only when compiled.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from decimal import Context, Decimal, InvalidOperation
from itertools import compress
from types import FunctionType
from typing import Final, NamedTuple, TypeAlias

from ..errors import OkxWsError

__all__ = ["BookFrameError", "Depth", "Level", "Side", "price_key"]

Level: TypeAlias = tuple[Decimal, Decimal]


class Depth(NamedTuple):
    """The best ``n`` levels of each side, best first, as ``(price, size)``."""

    bids: list[Level]
    asks: list[Level]


# A run of stale slots opened below every entry at once: a new worst level --
# a level entering OKX's window at the far end, as common as a delete near the
# top -- then takes a slot instead of shifting the whole list.
_SLACK: Final = 32
_SLACK_KEYS: Final = [float("-inf")] * _SLACK
_SLACK_PXS: Final = [""] * _SLACK  # never a price: never live
_DIGITS: Final = 15  # significant digits a double keeps exactly (DBL_DIG)
_EXACT: Final = Context(prec=1000)  # normalize() rounds to the context: never here


class BookFrameError(OkxWsError, ValueError):
    """A frame or snapshot the book cannot use (wrong instrument, unparsable price, no seqId)."""


def price_key(px: str) -> float:
    """The exact order key of a price string: its value as a float, checked to be exact.

    A decimal of at most 15 significant digits in the normal range converts to
    a distinct double (IEEE 754 guarantees 15 digits survive a round trip) and
    the correctly rounded conversion is monotonic, so these keys order and
    equate prices exactly as their decimal values do; a price with more digits
    is refused rather than rounded.  OKX prices have at most about 10.  The
    fast path takes any spelling of under 16 characters (hence at most 15
    digits) that ``float`` reads as a positive normal number; anything else
    (zero, negatives, NaN, infinities, garbage) goes through ``Decimal``.
    """
    try:
        key = float(px)
    except (TypeError, ValueError):
        return _price_key_slow(px)
    if 1e-300 < key < 1e300 and len(px) < 16:
        return key
    return _price_key_slow(px)


_MIN_NORMAL: Final = Decimal("1e-300")
_MAX_KEY: Final = Decimal("1e300")


def _price_key_slow(px: str) -> float:
    try:
        dec = Decimal(px)
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise BookFrameError(f"unparsable price {px!r} in an order book frame") from exc
    if not dec.is_finite():
        raise BookFrameError(f"non-finite price {px!r} in an order book frame")
    # The range first, compared exactly (copy_abs needs no context): normalize()
    # would overflow past Decimal's exponent range.
    if (dec and not _MIN_NORMAL < dec.copy_abs() < _MAX_KEY) or len(
        dec.normalize(_EXACT).as_tuple().digits
    ) > _DIGITS:
        raise BookFrameError(
            f"price {px!r} in an order book frame has more than {_DIGITS} significant "
            "digits or is out of range: it cannot be ordered exactly"
        )
    return float(dec)


def _bisect(keys: list[float], key: float) -> int:
    """``bisect_left(keys, key)``, for the compiled module (see :data:`_COMPILED`)."""
    lo = 0
    hi = len(keys)
    while lo < hi:
        mid = (lo + hi) >> 1
        if keys[mid] < key:
            lo = mid + 1
        else:
            hi = mid
    return lo


#: True when this module runs compiled (mypyc): its functions are then not
#: Python functions.  Chooses between two equal ways where each build has a
#: faster one (``bisect`` is C code for the interpreter, a call for mypyc).
_COMPILED: Final = not isinstance(_bisect, FunctionType)


class Side:
    """One side of the book; see the module docstring for the representation."""

    __slots__ = ("sizes", "keys", "pxs", "lo", "gone", "keyof", "ask", "depth", "cap")

    def __init__(self, ask: bool, depth: int) -> None:
        self.ask = ask
        self.depth = depth
        self.sizes: dict[str, str] = {}  # the live levels: price string -> size string
        self.keys: list[float] = []  # ascending, stale entries included; the best level last
        self.pxs: list[str] = []  # price string of each key
        self.lo = 0  # every entry below is stale; 0, or the index of an entry
        #: Trimmed price strings whose stale entry is still in the lists: a
        #: delete of one (OKX's, for a level that left its window) is a no-op
        #: without a search.  Popped whenever that entry is reused or dropped.
        self.gone: dict[str, None] = {}
        self.cap = 2 * depth + 16  # purge stale entries beyond this many
        self.keyof: dict[str, float] = {}

    def __len__(self) -> int:
        return len(self.sizes)

    def load(self, rows: Iterable[Sequence[str]]) -> None:
        """Replace the side with a snapshot's rows (any order; read in order, as updates)."""
        self.sizes.clear()
        self.keys.clear()
        self.pxs.clear()
        self.gone.clear()
        self.lo = 0
        self.update(rows)
        self.trim()
        self.purge()

    def update(self, rows: Iterable[Sequence[str]]) -> bool:
        """Apply rows ``[px, sz, ...]`` (size ``"0"`` deletes); True if a level was inserted."""
        sizes = self.sizes
        inserted = False
        for row in rows:
            px = row[0]
            sz = row[1]
            if px not in sizes:
                if (sz != "0" or px not in self.gone) and self.insert(px, sz):
                    inserted = True
            elif sz == "0" or (sz[-1] in "0." and sz[0] == "0" and not sz.strip("0.")):
                del sizes[px]
            else:
                sizes[px] = sz
        return inserted

    def insert(self, px: str, sz: str) -> bool:
        """Set or delete a price no live level holds under this spelling; True if a level was added.

        The price may be live under another spelling (``"100"`` / ``"100.0"``):
        found by its key and renamed, or deleted.  A new price takes the slot
        of a stale neighbour when it has one (no ``memmove``); a price below
        every entry (a level entering OKX's window at the far end, half the new
        prices of a busy book) takes the slot below ``lo`` without a search.
        Trimming to depth is the caller's, after the whole frame.
        """
        zero = sz == "0" or (sz[:1] == "0" and sz[-1] in "0." and not sz.strip("0."))
        key = self.keyof.get(px)
        if key is None:
            try:  # price_key(), inlined: a new price is the costly row of a busy book
                key = float(px)
            except (TypeError, ValueError):
                key = _price_key_slow(px)
            else:
                if not (1e-300 < key < 1e300 and len(px) < 16):
                    key = _price_key_slow(px)
            if self.ask:
                key = -key
            if len(self.keyof) >= self.cap:
                self.keyof.clear()
            self.keyof[px] = key
        keys = self.keys
        pxs = self.pxs
        sizes = self.sizes
        lo = self.lo
        if lo and not zero:  # the free slot below the lowest entry: what bisect would find
            below = keys[lo - 1]
            if below < key < keys[lo]:  # a level entering the window at the far end
                lo -= 1
                old = pxs[lo]
                if old in self.gone:
                    del self.gone[old]
                keys[lo] = key
                pxs[lo] = px
                self.lo = lo
                sizes[px] = sz
                return True
            if below == key and pxs[lo - 1] == px:  # the level trimmed last comes back
                if px in self.gone:
                    del self.gone[px]
                self.lo = lo - 1
                sizes[px] = sz
                return True
        # Trimmed prices are forgotten with `in` and `del`, not gone.pop(p, None):
        # no method call, interpreted or compiled.
        n = len(keys)
        # Compiled, a loop on unboxed floats beats a call into bisect's C code.
        i = _bisect(keys, key) if _COMPILED else bisect_left(keys, key)
        if i < n and keys[i] == key:  # a known price: stale, or another spelling
            old = pxs[i]
            if old in self.gone:
                del self.gone[old]
            if old in sizes:
                del sizes[old]
                if not zero:
                    pxs[i] = px
                    sizes[px] = sz
                return False
            if zero:
                return False
            pxs[i] = px  # a stale entry comes back to life
        elif zero:  # deleting a level we do not hold (e.g. trimmed): nothing to do
            return False
        elif i and pxs[i - 1] not in sizes:  # reuse the stale slot below
            i -= 1
            old = pxs[i]
            if old in self.gone:
                del self.gone[old]
            keys[i] = key
            pxs[i] = px
        elif i < n and pxs[i] not in sizes:  # or the one above
            old = pxs[i]
            if old in self.gone:
                del self.gone[old]
            keys[i] = key
            pxs[i] = px
        elif not i:  # below every entry, all live: open stale slots there
            keys[:0] = _SLACK_KEYS
            pxs[:0] = _SLACK_PXS
            i = _SLACK - 1
            keys[i] = key
            pxs[i] = px
            self.lo = _SLACK
        else:
            if n >= self.cap:
                self.purge()
                i = _bisect(keys, key) if _COMPILED else bisect_left(keys, key)
            keys.insert(i, key)
            pxs.insert(i, px)
        if i < self.lo:
            self.lo = i
        sizes[px] = sz
        return True

    def trim(self) -> None:
        """Drop the worst levels beyond ``depth`` (they are no longer in OKX's window)."""
        sizes = self.sizes
        excess = len(sizes) - self.depth
        if excess <= 0:
            return
        pxs, lo, gone = self.pxs, self.lo, self.gone
        while excess:
            px = pxs[lo]
            lo += 1
            if px in sizes:
                del sizes[px]
                gone[px] = None
                excess -= 1
        self.lo = lo

    def purge(self) -> None:
        """Drop stale entries (three passes in C)."""
        live = list(map(self.sizes.__contains__, self.pxs))
        self.keys[:] = compress(self.keys, live)
        self.pxs[:] = compress(self.pxs, live)
        self.gone.clear()
        self.lo = 0

    def best_key(self) -> float | None:
        """The best live key, dropping stale entries above it."""
        keys, pxs, sizes = self.keys, self.pxs, self.sizes
        while pxs:
            if pxs[-1] in sizes:
                return keys[-1]
            keys.pop()
            self.gone.pop(pxs.pop(), None)
        self.lo = 0
        return None

    def best(self) -> Level | None:
        if self.best_key() is None:
            return None
        px = self.pxs[-1]
        return (Decimal(px), Decimal(self.sizes[px]))

    def top(self, n: int) -> list[Level]:
        out: list[Level] = []
        sizes, pxs = self.sizes, self.pxs
        for i in range(len(pxs) - 1, self.lo - 1, -1):
            if len(out) >= n:
                break
            sz = sizes.get(pxs[i])
            if sz is not None:
                out.append((Decimal(pxs[i]), Decimal(sz)))
        return out

    def snapshot(self) -> dict[Decimal, Decimal]:
        return {Decimal(px): Decimal(sz) for px, sz in self.sizes.items()}
