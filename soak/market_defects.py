"""Planted defects of the market phase (``soak.market``): the check ``market_books`` must
catch them.  Like every planted defect (``soak.defects``), test-only: nothing of the
runtime is changed, one book object of the run is."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .defects import Defect


class BookSkipsSeqCheck(Defect):
    """Every book chains each update onto whatever it holds: an update whose prevSeqId
    is not the book's seqId (after a gap) is applied as if it were, and the book stays
    valid, missing the skipped update's levels (the gocryptotrader #2255 kind)."""

    name, catches = "book_skips_seq_check", frozenset({"market_books"})
    market = True

    def market_book(self, book: Any) -> None:
        # The stream's OrderBook behind a stand-in: a compiled (mypyc) OrderBook's
        # methods cannot be replaced on the object.
        book.book = _Unchecked(book.book)


class _Unchecked:
    """An OrderBook whose apply() chains every update onto whatever it holds."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def apply(self, message: Mapping[str, Any], now: float) -> Sequence[Any]:
        inner = self._inner
        data: Sequence[Any] = message.get("data") or ()
        seq = inner.seq_id
        if inner.valid and message.get("action") != "snapshot" and len(data) == 1:
            d = data[0]
            if d.get("prevSeqId") != seq and d.get("seqId") != seq:  # not a repeat
                message = {**message, "data": [{**d, "prevSeqId": seq}]}
        return inner.apply(message, now)  # type: ignore[no-any-return]


MARKET_DEFECTS: dict[str, type[Defect]] = {cls.name: cls for cls in (BookSkipsSeqCheck,)}
