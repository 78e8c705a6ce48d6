"""The side structure under ``OrderBook`` (:mod:`okx_ws_core.book.levels`): exact order, long streams.

The float order keys must order and equate prices exactly as ``Decimal``
does; the stale-entry machinery (slot reuse, the ``gone`` set, purges) only
shows on streams longer than the side's purge threshold, so the model
comparison here runs long streams on shallow books.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from conftest import book_frame as frame
from hypothesis import given, settings
from hypothesis import strategies as st

from okx_ws_core.book.levels import BookFrameError, price_key
from okx_ws_core.book.orderbook import OrderBook

INST = "BTC-USDT"


# Decimals of 1 to 15 significant digits at scales from 1e-12 to 1e12.
decimals = st.builds(
    lambda digits, exp: Decimal(digits).scaleb(exp),
    st.integers(1, 10**15 - 1),
    st.integers(-12, 12),
).filter(lambda d: len(d.normalize().as_tuple().digits) <= 15)


def spell(d: Decimal, how: int) -> str:
    """One value, several spellings OKX could send (plain, trailing zeros, exponent)."""
    plain = format(d, "f")
    if how == 0:
        return plain
    if how == 1:
        return plain + ("0" if "." in plain else ".0")
    return f"{d:E}"


@settings(max_examples=300, deadline=None)
@given(a=decimals, b=decimals, how_a=st.integers(0, 2), how_b=st.integers(0, 2))
def test_price_keys_order_and_equate_exactly_like_decimals(
    a: Decimal, b: Decimal, how_a: int, how_b: int
) -> None:
    ka, kb = price_key(spell(a, how_a)), price_key(spell(b, how_b))
    assert (ka < kb, ka == kb, ka > kb) == (a < b, a == b, a > b)


@settings(max_examples=500, deadline=None)
@given(px=st.text(alphabet="0123456789.eE+-_ \u0661\u00b2", min_size=1, max_size=17))
def test_a_price_the_key_accepts_reads_back_as_the_same_decimal(px: str) -> None:
    """The key's fast path (``float`` first) accepts nothing ``Decimal`` reads differently."""
    try:
        key = price_key(px)
    except BookFrameError:
        return
    value = Decimal(px)  # what a read returns: it must parse, to the value the key orders
    assert value.is_finite() and float(value) == key


def test_neighbouring_prices_at_fifteen_digits_stay_apart() -> None:
    assert price_key("99999999999999.9") < price_key("999999999999999")
    assert price_key("0.00000000000001") < price_key("0.00000000000002")
    assert price_key("123456789.012345") < price_key("123456789.012346")


@pytest.mark.parametrize(
    "px", ["1234567890.1234567", "0.10000000000000000555", "abc", "nan", "inf", "1e999", "10²"]
)
def test_prices_that_cannot_be_ordered_exactly_are_frame_errors(px: str) -> None:
    with pytest.raises(BookFrameError):
        price_key(px)


def test_unicode_digit_price_is_a_frame_error_not_a_bare_value_error() -> None:
    book = OrderBook(INST, "books")
    book.apply(frame("snapshot", -1, 10, [("100.5", "1")], [("101", "1")]), now=0.0)
    with pytest.raises(BookFrameError, match="unparsable price"):
        book.apply(frame("update", 10, 11, [("10²", "1")], []), now=0.0)


# Long streams on shallow books: many trims, deletes of trimmed levels, prices
# coming back, several spellings of one value, purges of stale entries.
size = st.sampled_from(["0", "0", "1", "2.5", "7"])
bid_row = st.tuples(st.integers(1, 59).map(lambda t: Decimal(t) / 2), size)  # below 30
ask_row = st.tuples(st.integers(61, 119).map(lambda t: Decimal(t) / 2), size)  # above 30
spelling = st.sampled_from([0, 0, 0, 1])


def rows(levels: list[tuple[Decimal, str]], how: list[int]) -> list[tuple[str, str]]:
    return [(spell(px, h), sz) for (px, sz), h in zip(levels, how, strict=False)]


@settings(max_examples=60, deadline=None)
@given(
    events=st.lists(
        st.tuples(
            st.lists(bid_row, max_size=3),
            st.lists(ask_row, max_size=3),
            st.lists(spelling, min_size=3, max_size=3),
        ),
        min_size=50,
        max_size=400,
    ),
    depth=st.sampled_from([1, 3, 8]),
)
def test_long_streams_on_shallow_books_equal_the_naive_model(events: Any, depth: int) -> None:
    book = OrderBook(INST, "books", depth=depth)
    book.apply(frame("snapshot", -1, 1, [], []), now=0.0)
    model: tuple[dict[Decimal, Decimal], dict[Decimal, Decimal]] = ({}, {})
    for seq, (bids, asks, how) in enumerate(events, 1):
        assert not book.apply(frame("update", seq, seq + 1, rows(bids, how), rows(asks, how)), 0.0)
        for side, levels, best_is_max in ((model[0], bids, True), (model[1], asks, False)):
            for px, sz in levels:
                if Decimal(sz) == 0:
                    side.pop(px, None)
                else:
                    side[px] = Decimal(sz)
            for px in sorted(side, reverse=best_is_max)[depth:]:
                del side[px]
        assert book.levels() == model
        top = book.depth(depth)
        assert top.bids == sorted(model[0].items(), reverse=True)
        assert top.asks == sorted(model[1].items())


@pytest.mark.parametrize("zero", ["0", "0.0", "0.000", "00", "0."])
@pytest.mark.parametrize("known", [True, False])
def test_every_zero_spelling_deletes_a_level(zero: str, known: bool) -> None:
    """A known level (hot path) and one under another spelling (the search path) alike."""
    book = OrderBook(INST, "books")
    book.apply(frame("snapshot", -1, 10, [("100.5", "1"), ("100", "2")], [("101", "1")]), 0.0)
    book.apply(frame("update", 10, 11, [("100.5" if known else "100.50", zero)], []), now=0.0)
    assert book.levels()[0] == {Decimal("100"): Decimal("2")}


@pytest.mark.parametrize("px", ["1E1000000", "-1E1000000", "1E-1000000"])
def test_a_price_beyond_decimals_exponent_range_is_refused_not_overflowed(px: str) -> None:
    """Found by the property test above: the exactness check normalized before the range
    check, and ``Decimal.normalize`` overflowed (``decimal.Overflow``) past 1e999999."""
    with pytest.raises(BookFrameError, match="out of range"):
        price_key(px)
