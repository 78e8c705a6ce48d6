"""``OrderBook`` under OKX's 2026 rules, socket-free: every rule its own test.

Frames are the dicts OKX pushes (``arg``/``action``/``data``, rows
``[px, sz, "0", numOrders]`` as strings); REST replies are the ``data`` of
``GET /api/v5/market/books``.  Time is passed in, so nothing here sleeps.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pytest

from okx_ws_core.book.orderbook import (
    BookFrameError,
    OrderBook,
    StaleBookError,
    check_book_channels,
)
from okx_ws_core.book.resync import (
    BookAction,
    Bridge,
    FetchSnapshot,
    Invalidated,
    Resubscribe,
    Synced,
    bridge,
)
from okx_ws_core.errors import ConfigurationError

INST = "BTC-USDT"
D = Decimal
Rows = Sequence[tuple[str, str]]


def _rows(levels: Rows) -> list[list[str]]:
    return [[px, sz, "0", "1"] for px, sz in levels]


def push(
    prev: int,
    seq: int,
    bids: Rows = (),
    asks: Rows = (),
    *,
    action: str = "update",
    channel: str = "books",
    ts: str = "1700000000000",
) -> dict[str, Any]:
    return {
        "arg": {"channel": channel, "instId": INST},
        "action": action,
        "data": [
            {
                "bids": _rows(bids),
                "asks": _rows(asks),
                "ts": ts,
                "checksum": 0,
                "prevSeqId": prev,
                "seqId": seq,
            }
        ],
    }


def snapshot(seq: int, bids: Rows, asks: Rows, channel: str = "books") -> dict[str, Any]:
    return push(-1, seq, bids, asks, action="snapshot", channel=channel)


def rest(seq: int, bids: Rows, asks: Rows) -> dict[str, Any]:
    return {
        "code": "0",
        "msg": "",
        "data": [{"bids": _rows(bids), "asks": _rows(asks), "ts": "1", "seqId": seq}],
    }


BIDS: Rows = (("100.5", "2"), ("100.4", "3"), ("100.1", "1"))
ASKS: Rows = (("100.6", "4"), ("100.9", "5"))


def live_book(**kw: Any) -> OrderBook:
    book = OrderBook(INST, "books", **kw)
    book.apply(snapshot(10, BIDS, ASKS), now=1.0)
    assert book.valid
    return book


def only(actions: Sequence[BookAction], kind: type) -> Any:
    found = [a for a in actions if isinstance(a, kind)]
    assert len(found) == 1, actions
    return found[0]


# -- snapshot and updates -----------------------------------------------------------


def test_snapshot_makes_the_book_valid_with_okx_seq_and_ts() -> None:
    book = OrderBook(INST, "books")
    assert not book.valid
    actions = book.apply(snapshot(10, BIDS, ASKS), now=5.0)
    assert list(actions) == [Synced("books", INST, 10, "snapshot")]
    assert book.valid and book.seq_id == 10 and book.ts == 1700000000000 and book.updated_at == 5.0
    assert book.best_bid() == (Decimal("100.5"), Decimal("2"))
    assert book.best_ask() == (Decimal("100.6"), Decimal("4"))
    assert book.spread == Decimal("0.1")
    assert book.depth(2).bids == [
        (Decimal("100.5"), Decimal("2")),
        (Decimal("100.4"), Decimal("3")),
    ]
    assert book.depth(5).asks == [
        (Decimal("100.6"), Decimal("4")),
        (Decimal("100.9"), Decimal("5")),
    ]


def test_update_changes_inserts_and_deletes_levels() -> None:
    book = live_book()
    actions = book.apply(
        push(10, 11, bids=[("100.4", "7"), ("100.55", "1"), ("100.1", "0")], asks=[("100.6", "0")]),
        now=2.0,
    )
    assert not actions
    bids, asks = book.levels()
    assert bids == {Decimal("100.55"): 1, Decimal("100.5"): 2, Decimal("100.4"): 7}
    assert asks == {Decimal("100.9"): 5}
    assert book.seq_id == 11 and book.updated_at == 2.0
    change = book.last_change
    assert change is not None and (change.prev_seq_id, change.seq_id) == (10, 11)


def test_deleting_an_unknown_level_is_a_no_op() -> None:
    book = live_book()
    book.apply(push(10, 11, bids=[("99", "0")]), now=2.0)
    assert book.valid and len(book) == 5


def test_zero_size_spelled_with_decimals_deletes() -> None:
    book = live_book()
    book.apply(push(10, 11, bids=[("100.5", "0.000")]), now=2.0)
    assert Decimal("100.5") not in book.levels()[0]


def test_one_price_spelled_two_ways_stays_one_level() -> None:
    book = live_book()
    book.apply(push(10, 11, bids=[("100.40", "9")]), now=2.0)
    assert book.levels()[0][Decimal("100.4")] == 9 and len(book) == 5
    book.apply(push(11, 12, bids=[("100.4", "0")]), now=2.0)
    assert Decimal("100.4") not in book.levels()[0] and len(book) == 4


def test_heartbeat_is_accepted_and_changes_nothing_but_the_time() -> None:
    book = live_book()
    assert not book.apply(push(10, 10), now=61.0)
    assert book.valid and book.seq_id == 10 and book.updated_at == 61.0 and len(book) == 5


def test_maintenance_reset_seq_below_prev_keeps_chaining() -> None:
    book = live_book()
    assert not book.apply(push(10, 3, bids=[("100.5", "8")]), now=2.0)
    assert not book.apply(push(3, 4, asks=[("100.6", "1")]), now=2.0)
    assert book.valid and book.seq_id == 4
    assert book.best_bid() == (Decimal("100.5"), Decimal("8"))


# -- gaps ---------------------------------------------------------------------------------


def test_gap_invalidates_at_once_and_asks_for_one_snapshot() -> None:
    book = live_book()
    actions = book.apply(push(11, 12, bids=[("100.5", "1")]), now=2.0)
    assert "expected prevSeqId 10, got 11" in only(actions, Invalidated).reason
    fetch = only(actions, FetchSnapshot)
    assert (fetch.inst_id, fetch.depth) == (INST, 400)
    assert not book.valid
    with pytest.raises(StaleBookError, match="not valid"):
        book.best_bid()
    with pytest.raises(StaleBookError):
        book.depth(5)
    with pytest.raises(StaleBookError):
        _ = book.spread
    assert book.best_bid(stale_ok=True) == (Decimal("100.5"), Decimal("2"))  # the pre-gap book
    # Further frames are buffered: no second request (no resync storm).
    assert not book.apply(push(12, 13), now=2.1)
    assert book.invalidations == 1 and book.snapshot_requests == 1


def test_gap_resync_by_rest_joins_the_buffered_stream() -> None:
    book = live_book()
    fetch = only(book.apply(push(11, 12, bids=[("100.5", "1")]), now=2.0), FetchSnapshot)
    book.apply(push(12, 13, asks=[("100.7", "2")]), now=2.1)
    # OKX's book at 12 (the skipped update 10->11 and 11->12 are in it).
    actions = book.apply_rest_snapshot(
        rest(12, [("100.5", "1"), ("100.2", "6")], ASKS), 3.0, request=fetch
    )
    # Live from the first buffered event (12), then 12 -> 13 applied.
    assert list(actions) == [Synced("books", INST, 12, "rest")]
    assert book.valid and book.seq_id == 13 and book.updated_at == 3.0
    bids, asks = book.levels()
    assert bids == {Decimal("100.5"): 1, Decimal("100.2"): 6}
    assert asks == {Decimal("100.6"): 4, Decimal("100.7"): 2, Decimal("100.9"): 5}


def test_exact_repeat_of_the_last_update_is_ignored() -> None:
    book = live_book()
    frame = push(10, 11, bids=[("100.5", "1")])
    book.apply(frame, now=2.0)
    assert not book.apply(frame, now=2.1)
    assert book.valid and book.seq_id == 11


def test_repeat_of_an_older_update_is_a_gap() -> None:
    book = live_book()
    first = push(10, 11, bids=[("100.5", "1")])
    book.apply(first, now=2.0)
    book.apply(push(11, 12, bids=[("100.5", "5")]), now=2.0)
    actions = book.apply(first, now=2.1)
    assert isinstance(actions[0], Invalidated) and not book.valid


def test_out_of_order_updates_invalidate() -> None:
    book = live_book()
    actions = book.apply(push(11, 12, bids=[("100.5", "1")]), now=2.0)
    assert not book.valid and only(actions, FetchSnapshot)
    book.apply(push(10, 11), now=2.0)  # the late one is buffered, not applied
    assert not book.valid


def test_crossed_book_is_invalid() -> None:
    book = live_book()
    actions = book.apply(push(10, 11, bids=[("100.7", "1")]), now=2.0)
    assert "crossed book: best bid 100.7 >= best ask 100.6" in only(actions, Invalidated).reason
    assert only(actions, FetchSnapshot) and not book.valid


# -- REST procedure when OKX sends no subscribe snapshot ---------------------------


def test_no_subscribe_snapshot_starts_okx_rest_procedure() -> None:
    book = OrderBook(INST, "books")
    actions = book.apply(push(20, 21, bids=[("100.5", "9")]), now=1.0)
    fetch = only(actions, FetchSnapshot)  # never valid, so nothing to invalidate
    assert not any(isinstance(a, Invalidated) for a in actions)
    book.apply(push(21, 22, asks=[("100.6", "0")]), now=1.1)
    book.apply(push(22, 23, asks=[("100.8", "1")]), now=1.2)
    # Snapshot at 22: events with seqId <= 22 are dropped, 22 -> 23 is the first applied.
    actions = book.apply_rest_snapshot(
        rest(22, [("100.5", "9")], [("100.9", "5")]), 2.0, request=fetch
    )
    assert only(actions, Synced) == Synced("books", INST, 22, "rest")  # 21 -> 22 is the snapshot
    assert book.valid and book.seq_id == 23
    assert book.levels() == ({D("100.5"): D(9)}, {D("100.8"): D(1), D("100.9"): D(5)})


def test_snapshot_older_than_the_buffer_is_fetched_again() -> None:
    book = OrderBook(INST, "books")
    fetch = only(book.apply(push(20, 21, bids=[("100.5", "9")]), now=1.0), FetchSnapshot)
    again = book.apply_rest_snapshot(rest(19, BIDS, ASKS), 2.0, request=fetch)
    refetch = only(again, FetchSnapshot)
    assert "snapshot seqId 19 < first buffered prevSeqId 20" in refetch.reason
    assert not book.valid
    book.apply(push(21, 22), now=2.1)
    actions = book.apply_rest_snapshot(rest(20, BIDS, ASKS), 3.0, request=refetch)
    assert only(actions, Synced).seq_id == 21 and book.valid and book.seq_id == 22
    assert book.best_bid() == (Decimal("100.5"), Decimal("9"))


def test_snapshot_taken_inside_an_update_applies_that_update() -> None:
    """prevSeqId <= snapshot seqId < seqId: OKX's condition for the first applied event."""
    book = OrderBook(INST, "books")
    fetch = only(book.apply(push(20, 25, bids=[("100.5", "9")]), now=1.0), FetchSnapshot)
    book.apply_rest_snapshot(rest(23, BIDS, ASKS), 2.0, request=fetch)
    assert book.valid and book.seq_id == 25 and book.best_bid() == (Decimal("100.5"), Decimal("9"))


def test_event_at_the_snapshot_seq_makes_it_live_without_reapplying() -> None:
    book = live_book()
    fetch = only(book.invalidate("operator asked"), FetchSnapshot)
    book.apply_rest_snapshot(rest(30, BIDS, ASKS), 2.0, request=fetch)
    assert not book.valid  # not yet joined to the stream
    assert only(book.apply(push(29, 30, bids=[("1", "1")]), now=2.1), Synced).seq_id == 30
    assert Decimal("1") not in book.levels()[0]
    book.apply(push(30, 31, bids=[("100.5", "4")]), now=2.2)
    assert book.valid and book.best_bid() == (Decimal("100.5"), Decimal("4"))


def test_stream_ahead_of_an_empty_buffer_snapshot_is_fetched_again() -> None:
    book = live_book()
    fetch = only(book.invalidate("operator asked"), FetchSnapshot)
    book.apply_rest_snapshot(rest(30, BIDS, ASKS), 2.0, request=fetch)
    actions = book.apply(push(35, 36), now=2.1)
    assert "snapshot seqId 30 < prevSeqId 35" in only(actions, FetchSnapshot).reason
    assert not book.valid


def test_reply_to_an_older_episode_is_ignored() -> None:
    book = live_book()
    first = only(book.invalidate("one"), FetchSnapshot)
    book.apply(snapshot(40, BIDS, ASKS), now=2.0)  # resubscribed meanwhile: valid again
    assert not book.apply_rest_snapshot(rest(5, BIDS, ASKS), 3.0, request=first)
    assert book.valid and book.seq_id == 40


def test_maintenance_reset_while_buffering_starts_a_new_episode() -> None:
    book = live_book()
    old = only(book.apply(push(11, 12), now=2.0), FetchSnapshot)
    new = only(book.apply(push(12, 2), now=2.1), FetchSnapshot)  # seqId < prevSeqId
    assert new.generation != old.generation
    book.apply(push(2, 3, bids=[("100.5", "7")]), now=2.2)
    assert not book.apply_rest_snapshot(rest(500, BIDS, ASKS), 3.0, request=old)
    actions = book.apply_rest_snapshot(rest(2, BIDS, ASKS), 3.0, request=new)
    assert only(actions, Synced).seq_id == 3 and book.best_bid() == (Decimal("100.5"), Decimal("7"))


def test_buffer_is_bounded_and_the_procedure_still_holds() -> None:
    book = OrderBook(INST, "books", max_buffer=2)
    fetch = only(book.apply(push(1, 2), now=1.0), FetchSnapshot)
    for seq in range(2, 6):
        book.apply(push(seq, seq + 1), now=1.0)
    # Only 4->5 and 5->6 are kept: a snapshot at 3 is now too old.
    refetch = only(book.apply_rest_snapshot(rest(3, BIDS, ASKS), 2.0, request=fetch), FetchSnapshot)
    assert book.apply_rest_snapshot(rest(5, BIDS, ASKS), 2.0, request=refetch)
    assert book.valid and book.seq_id == 6


def test_rest_snapshot_without_seq_id_is_refused() -> None:
    book = OrderBook(INST, "books")
    fetch = only(book.apply(push(1, 2), now=1.0), FetchSnapshot)
    with pytest.raises(BookFrameError, match="no seqId"):
        book.apply_rest_snapshot(
            {"data": [{"bids": [], "asks": [], "ts": "1"}]}, 2.0, request=fetch
        )


# -- resubscribe mode, reset ------------------------------------------------------------


def test_resubscribe_mode_asks_once_and_ignores_updates_until_the_snapshot() -> None:
    book = live_book(resync="resubscribe")
    actions = book.apply(push(11, 12), now=2.0)
    assert only(actions, Resubscribe) == Resubscribe(
        "books", INST, only(actions, Invalidated).reason
    )
    assert not book.apply(push(12, 13), now=2.1)
    assert not book.valid
    assert list(book.apply(snapshot(50, BIDS, ASKS), now=3.0)) == [
        Synced("books", INST, 50, "snapshot")
    ]
    assert book.valid


def test_resubscribe_mode_falls_back_to_rest_when_okx_sends_no_snapshot() -> None:
    book = OrderBook(INST, "books", resync="resubscribe")
    assert only(book.apply(push(1, 2), now=1.0), FetchSnapshot)


def test_reset_after_a_lost_connection_waits_for_a_fresh_start() -> None:
    book = live_book()
    assert list(book.reset("connection lost")) == [Invalidated("books", INST, "connection lost")]
    assert not book.valid and book.seq_id == 10
    assert list(book.apply(snapshot(70, BIDS, ASKS), now=2.0)) == [
        Synced("books", INST, 70, "snapshot")
    ]


# -- replace channels, depth -------------------------------------------------------------


@pytest.mark.parametrize("channel", ["books5", "bbo-tbt"])
def test_books5_and_bbo_tbt_replace_on_every_push(channel: str) -> None:
    book = OrderBook(INST, channel)
    first = {
        "arg": {"channel": channel, "instId": INST},
        "data": [{"bids": _rows(BIDS[:1]), "asks": _rows(ASKS[:1]), "ts": "5", "seqId": 7}],
    }
    assert only(book.apply(first, now=1.0), Synced).seq_id == 7
    second = {
        "arg": {"channel": channel, "instId": INST},
        "data": [
            {"bids": _rows([("99", "1")]), "asks": _rows([("101", "2")]), "ts": "6", "seqId": 9}
        ],
    }
    assert not book.apply(second, now=2.0)
    assert book.levels() == ({D("99"): D(1)}, {D("101"): D(2)})
    assert book.valid and book.seq_id == 9 and book.ts == 6


def test_levels_beyond_the_channel_depth_are_trimmed() -> None:
    book = OrderBook(INST, "books50-l2-tbt")
    bids = [(str(1000 - i), "1") for i in range(60)]
    asks = [(str(2000 + i), "1") for i in range(60)]
    book.apply(snapshot(1, bids, asks, channel="books50-l2-tbt"), now=1.0)
    assert len(book.levels()[0]) == 50 and min(book.levels()[0]) == Decimal(951)
    book.apply(push(1, 2, bids=[("1001", "1")], channel="books50-l2-tbt"), now=1.0)
    assert len(book.levels()[0]) == 50 and min(book.levels()[0]) == Decimal(952)
    assert book.best_bid() == (Decimal(1001), Decimal(1))


def test_frame_for_another_instrument_is_refused() -> None:
    book = OrderBook(INST, "books")
    other = snapshot(1, BIDS, ASKS)
    other["arg"]["instId"] = "ETH-USDT"
    with pytest.raises(BookFrameError, match="ETH-USDT"):
        book.apply(other, now=1.0)


def test_unparsable_price_is_a_frame_error() -> None:
    book = live_book()
    with pytest.raises(BookFrameError, match="unparsable price 'abc'"):
        book.apply(push(10, 11, bids=[("abc", "1")]), now=1.0)


def test_unknown_channel_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="tickers"):
        OrderBook(INST, "tickers")


# -- channel combination rule ------------------------------------------------------


@pytest.mark.parametrize("other", ["books", "books50-l2-tbt"])
def test_books_l2_tbt_cannot_join_books_or_books50(other: str) -> None:
    with pytest.raises(ConfigurationError) as err:
        check_book_channels({(other, INST)}, ("books-l2-tbt", INST))
    assert "'books-l2-tbt'" in str(err.value) and f"'{other}'" in str(err.value)
    with pytest.raises(ConfigurationError, match=f"'{other}'"):
        check_book_channels({("books-l2-tbt", INST)}, (other, INST))


def test_allowed_book_channel_combinations() -> None:
    check_book_channels({("books", INST), ("books5", INST)}, ("books50-l2-tbt", INST))
    check_book_channels({("books", "ETH-USDT")}, ("books-l2-tbt", INST))
    check_book_channels({("books-l2-tbt", INST)}, ("books-l2-tbt", INST))
    check_book_channels({("books-l2-tbt", INST)}, ("bbo-tbt", INST))


# -- the pure bridging rule ---------------------------------------------------------


@pytest.mark.parametrize(
    ("prev", "seq", "snap", "verdict"),
    [
        (5, 8, 10, Bridge.DROP),
        (9, 10, 10, Bridge.AT_SNAPSHOT),
        (10, 10, 10, Bridge.AT_SNAPSHOT),  # heartbeat at the snapshot
        (10, 12, 10, Bridge.APPLY),
        (8, 12, 10, Bridge.APPLY),
        (11, 12, 10, Bridge.TOO_OLD),
        (12, 3, 10, Bridge.RESET),
    ],
)
def test_bridge_rule(prev: int, seq: int, snap: int, verdict: Bridge) -> None:
    assert bridge(prev, seq, snap) is verdict
