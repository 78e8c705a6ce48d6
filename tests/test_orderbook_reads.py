"""Reads at any point see the plain book, and reading never changes what a book holds.

``Side`` keeps its order beside the size dict and tidies it on reads (stale
entries popped off the top, purges), and trimming to the depth happens after
every frame.  Any cheaper variant (ordering or trimming lazily, at reads) must
keep both properties pinned here:

* whatever is read, whenever, equals a plain dict book trimmed after every
  frame (the reference), best bid and ask, ``depth(n)``, ``levels()``,
  ``len()``, ``spread``, and a crossing is caught on the frame that crosses;
* a book read at random points and a twin never read hold the same levels:
  when a level beyond the depth is dropped does not depend on reads.

Why trimming after every frame is OKX's behaviour, not only ours: OKX shows a
window of ``depth`` levels and sends nothing about levels beyond it; when a
level leaves the window the same push deletes it, and when one enters (a better
level deleted) the same push sends it with its current size (the simulator's
market, ``okx_ws_sim/market.py`` ``_push_update``, an independent witness, does
exactly this).  So a level the book dropped when it fell out of the window comes
back only when OKX sends it; a book that kept it (trimming late) would show it
after a better level's delete even when OKX did not send it back, e.g. because
it was deleted while outside the window: a level OKX's book does not hold.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from conftest import book_frame as frame
from hypothesis import given, settings
from hypothesis import strategies as st

from okx_ws_core.book.orderbook import OrderBook
from okx_ws_core.book.resync import Invalidated

INST = "BTC-USDT"
Model = tuple[dict[Decimal, Decimal], dict[Decimal, Decimal]]


def spell(half_ticks: int, padded: bool) -> str:
    plain = str(Decimal(half_ticks) / 2)
    if not padded:
        return plain
    return plain + "0" if "." in plain else plain + ".0"


def apply_model(model: Model, bids: Any, asks: Any, depth: int) -> None:
    """The reference: a dict per side, ``"0"`` deletes, the worst beyond ``depth`` dropped."""
    for side, rows, best_is_max in ((model[0], bids, True), (model[1], asks, False)):
        for px, sz in rows:
            if Decimal(sz) == 0:
                side.pop(Decimal(px), None)
            else:
                side[Decimal(px)] = Decimal(sz)
        for px in sorted(side, reverse=best_is_max)[depth:]:
            del side[px]


# Bids in 0.5 .. 12, asks in 30.5 .. 42 (never crossing): few prices, so trimmed
# ones come back often; a few spellings; sizes with deletes (also of levels the
# book never held or already trimmed).
size = st.sampled_from(["0", "0", "0.0", "1", "2.5", "0.75", "10"])
bid_row = st.tuples(st.integers(1, 24), st.booleans(), size)
ask_row = st.tuples(st.integers(61, 84), st.booleans(), size)
READS = ["none", "none", "best_bid", "best_ask", "depth", "levels", "len", "spread"]
step = st.tuples(
    st.lists(bid_row, max_size=3),
    st.lists(ask_row, max_size=3),
    st.sampled_from(READS),
    st.integers(1, 12),
)


def rows(levels: list[tuple[int, bool, str]]) -> list[tuple[str, str]]:
    # Mostly the plain spelling: a padded one now and then renames a level.
    return [(spell(t, padded and t % 3 == 0), sz) for t, padded, sz in levels]


def read(book: OrderBook, kind: str, n: int, model: Model) -> None:
    """One read of ``kind``, checked against the reference ``model``."""
    bids = sorted(model[0].items(), reverse=True)
    asks = sorted(model[1].items())
    if kind == "best_bid":
        assert book.best_bid() == (bids[0] if bids else None)
    elif kind == "best_ask":
        assert book.best_ask() == (asks[0] if asks else None)
    elif kind == "depth":
        top = book.depth(n)
        assert (top.bids, top.asks) == (bids[:n], asks[:n])
    elif kind == "levels":
        assert book.levels() == model
    elif kind == "len":
        assert len(book) == len(bids) + len(asks)
    elif kind == "spread":
        assert book.spread == (asks[0][0] - bids[0][0] if bids and asks else None)


@settings(max_examples=200, deadline=None)
@given(
    snap_bids=st.lists(bid_row, max_size=12),
    snap_asks=st.lists(ask_row, max_size=12),
    steps=st.lists(step, min_size=40, max_size=300),
    depth=st.sampled_from([1, 2, 3, 5, 400]),
)
def test_reads_at_random_points_equal_the_plain_book_and_change_nothing(
    snap_bids: Any, snap_asks: Any, steps: Any, depth: int
) -> None:
    read_book = OrderBook(INST, "books", depth=depth)
    unread = OrderBook(INST, "books", depth=depth)
    model: Model = ({}, {})
    snap = frame("snapshot", -1, 1, rows(snap_bids), rows(snap_asks))
    read_book.apply(snap, 0.0)
    unread.apply(snap, 0.0)
    apply_model(model, rows(snap_bids), rows(snap_asks), depth)
    for seq, (bids, asks, kind, n) in enumerate(steps, 1):
        f = frame("update", seq, seq + 1, rows(bids), rows(asks))
        assert not read_book.apply(f, float(seq))
        assert not unread.apply(f, float(seq))
        apply_model(model, rows(bids), rows(asks), depth)
        read(read_book, kind, n, model)
    assert read_book.levels() == unread.levels() == model
    assert len(read_book) == len(unread)
    for n in (1, depth):
        assert read_book.depth(n) == unread.depth(n)


@settings(max_examples=80, deadline=None)
@given(
    steps=st.lists(step, min_size=1, max_size=60),
    cross_at=st.integers(0, 59),
    cross_px=st.integers(1, 60),
)
def test_a_crossing_level_invalidates_on_its_frame_whatever_was_read_before(
    steps: Any, cross_at: int, cross_px: int
) -> None:
    """An ask at or below the best bid turns the book invalid on that very frame."""
    book = OrderBook(INST, "books", depth=5)
    model: Model = ({}, {})
    book.apply(frame("snapshot", -1, 1, [("10", "1")], [("40", "1")]), 0.0)
    apply_model(model, [("10", "1")], [("40", "1")], 5)
    seq = 1
    for bids, asks, kind, n in steps[:cross_at]:
        book.apply(frame("update", seq, seq + 1, rows(bids), rows(asks)), 0.0)
        apply_model(model, rows(bids), rows(asks), 5)
        read(book, kind, n, model)
        seq += 1
    if not model[0]:
        return
    best_bid = max(model[0])
    px = str(Decimal(cross_px) / 2)
    actions = book.apply(frame("update", seq, seq + 1, [], [(px, "1")]), 0.0)
    crossed = Decimal(px) <= best_bid
    assert book.valid is not crossed
    assert any(isinstance(a, Invalidated) for a in actions) is crossed


def test_a_level_trimmed_beyond_the_depth_comes_back_only_when_okx_sends_it() -> None:
    """See the module docstring: trimming happens on the frame that overfills the side."""
    for read_between in (False, True):
        book = OrderBook(INST, "books", depth=3)
        book.apply(frame("snapshot", -1, 1, [("10", "1"), ("9", "1"), ("8", "1")], []), 0.0)
        book.apply(frame("update", 1, 2, [("11", "1")], []), 0.0)  # 8 leaves the window
        if read_between:
            assert book.depth(3).bids[-1][0] == Decimal("9")
        book.apply(frame("update", 2, 3, [("11", "0")], []), 0.0)  # 8 not sent back
        assert book.levels()[0] == {Decimal("10"): Decimal("1"), Decimal("9"): Decimal("1")}
        book.apply(frame("update", 3, 4, [("8", "4")], []), 0.0)  # sent back: its size now
        assert book.depth(3).bids == [
            (Decimal("10"), Decimal("1")),
            (Decimal("9"), Decimal("1")),
            (Decimal("8"), Decimal("4")),
        ]
