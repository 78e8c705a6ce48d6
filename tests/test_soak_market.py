"""The soak's market-data phase (``soak.market``), in parts, without sockets.

The phase end to end runs in the short soak (``tests/test_soak_short.py``) and,
with its planted defect, in ``tests/test_soak_defects.py``; here: what it plans,
how it judges a book, and that its defect breaks a book the way it claims.
"""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from okx_ws_core.book.orderbook import BookChange, OrderBook
from soak import SoakConfig, SoakReport
from soak.__main__ import parse_args
from soak.defects import DEFECTS, Defect
from soak.market import BOOKS, CYCLES, MAX_ROUNDS, MIN_ROUNDS, market_rounds, plan
from soak.market_audit import Chain, MarketAudit, differences, market_books, summary_lines
from soak.market_child import DELAY, DUPLICATE, GAP, RESET
from soak.market_defects import BookSkipsSeqCheck

SESSION_OPS = 480  # OKX: login + subscribe + unsubscribe per connection and hour


def test_every_book_meets_every_fault_kind_at_the_fewest_rounds() -> None:
    rounds = plan(MIN_ROUNDS)
    assert sum(map(len, rounds)) == MIN_ROUNDS
    for spec, mine in zip(BOOKS, rounds, strict=True):
        assert mine[0] == (GAP,)  # what a book that skips the seq check meets first
        assert set(mine) == set(CYCLES[spec.resync]), spec  # each book's whole cycle
        alone = {faults[0] for faults in mine if len(faults) == 1}
        assert alone == {GAP, DUPLICATE, RESET}, spec
        assert (GAP, DUPLICATE) in mine  # a duplicate across a resync
    rest = [mine for spec, mine in zip(BOOKS, rounds, strict=True) if spec.resync == "rest"]
    assert rest and all((DELAY, GAP) in mine and (DELAY, GAP, RESET) in mine for mine in rest)
    shapes = {(spec.channel, spec.resync) for spec in BOOKS}
    assert len({spec.inst_id for spec in BOOKS}) == len(BOOKS) >= 4
    assert {"books", "books-l2-tbt"} == {c for c, _ in shapes} and len(shapes) == 4


def test_the_resubscribes_stay_within_the_public_connections_hourly_operations() -> None:
    resubscribes = sum(
        sum(GAP in faults for faults in mine)
        for spec, mine in zip(BOOKS, plan(MAX_ROUNDS), strict=True)
        if spec.resync == "resubscribe"
    )
    assert 1 + len(BOOKS) + 2 * resubscribes < SESSION_OPS  # login, subscribes, unsub + sub


@pytest.mark.parametrize(
    ("requests", "rounds", "defect", "expected"),
    [
        (10_000, None, "none", 100),
        (100_000, None, "none", MAX_ROUNDS),
        (600, None, "none", MIN_ROUNDS),
        (100, None, "none", 0),  # the soak's own tests: no market phase...
        (100, None, "book_skips_seq_check", MIN_ROUNDS),  # ...unless its defect is planted
        (10_000, 0, "none", 0),
        (100, 5, "none", 5),
    ],
)
def test_rounds_scale_with_requests(
    requests: int, rounds: int | None, defect: str, expected: int
) -> None:
    planted = Defect() if defect == "none" else DEFECTS[defect]()
    assert market_rounds(SoakConfig(requests=requests, market_rounds=rounds), planted) == expected


def test_the_command_line_sets_the_rounds() -> None:
    assert parse_args(["--market-rounds", "0"]).market_rounds == 0
    assert parse_args([]).market_rounds is None


def test_differences_compare_every_level_by_value() -> None:
    ours = ({Decimal("100.1"): Decimal("0.10")}, {Decimal("100.2"): Decimal("3")})
    assert differences(ours, ([("100.10", "0.1")], [("100.2", "3.000")])) == ""
    size = differences(ours, ([("100.1", "0.2")], [("100.2", "3")]))
    assert size.startswith("bids 1 vs 1 levels") and "asks" not in size
    missing = differences(ours, ([("100.1", "0.1")], [("100.2", "3"), ("100.3", "1")]))
    assert missing.startswith("asks 1 vs 2 levels")


def change(seq: int, prev: int, snapshot: bool = False) -> BookChange:
    return BookChange(seq, prev, "0", (), (), snapshot)


def test_each_reported_change_must_chain_onto_the_last() -> None:
    chain = Chain()
    assert chain.see(change(10, -1, snapshot=True)) is None
    assert chain.see(change(12, 10)) is None
    assert chain.see(change(12, 12)) is None  # a heartbeat
    assert chain.see(change(5, 12)) is None and chain.resets == 1  # a maintenance reset
    assert chain.see(change(9, 7)) == "applied an update with prevSeqId 7 onto seqId 5"
    assert chain.see(change(30, -1, snapshot=True)) is None  # a resync starts a new chain
    assert chain.see(change(31, 30)) is None
    chain.lost()  # changes dropped unread: nothing to judge the next one by
    assert chain.see(change(40, 35)) is None


def audited(**figures: Any) -> SoakReport:
    report = SoakReport(SoakConfig())
    report.market = MarketAudit(rounds=16, books=["a", "b"], **figures)
    return report


def test_the_check_holds_on_a_clean_phase_and_when_none_ran() -> None:
    clean = audited(armed={GAP: 2}, fired={GAP: 2}, resyncs=2, compared_after_resync=4)
    assert market_books(clean) == []
    assert "mismatches=0 invalid_reported_valid=0" in "\n".join(summary_lines(clean))
    assert market_books(SoakReport(SoakConfig())) == []  # rounds 0: not run
    assert "not run" in summary_lines(SoakReport(SoakConfig()))[0]


@pytest.mark.parametrize(
    ("figures", "says"),
    [
        ({"mismatches": ["books X at seqId 5: bids ..."]}, "mismatch: books X"),
        ({"invalid_valid": ["5 updates applied past a gap"]}, "invalid book reported valid"),
        ({"problems": ["a book_gap armed never fired"]}, "never fired"),
        ({"armed": {GAP: 3}, "fired": {GAP: 2}}, "fired/armed"),
        ({"resyncs": 3}, "for 2 first snapshots and 3 resyncs"),
    ],
)
def test_the_check_fails_on_what_broke(figures: dict[str, Any], says: str) -> None:
    base: dict[str, Any] = {"resyncs": 0, "compared_after_resync": 2}
    failures = market_books(audited(**{**base, **figures}))
    assert any(says in f for f in failures), failures


def snapshot(seq: int) -> dict[str, Any]:
    data = {"bids": [["100", "1", "0", "1"]], "asks": [["101", "1", "0", "1"]]}
    return {"action": "snapshot", "data": [{**data, "seqId": seq, "prevSeqId": -1, "ts": "1"}]}


def update(seq: int, prev: int, bid_sz: str) -> dict[str, Any]:
    item = {"bids": [["100", bid_sz, "0", "1"]], "asks": [], "ts": "2"}
    return {"action": "update", "data": [{**item, "seqId": seq, "prevSeqId": prev}]}


@pytest.mark.parametrize("planted", [False, True])
def test_the_planted_defect_applies_updates_past_a_gap(planted: bool) -> None:
    stream = SimpleNamespace(book=OrderBook("BTC-USDT", "books", resync="resubscribe"))
    if planted:
        BookSkipsSeqCheck().market_book(stream)
    book = stream.book
    book.apply(snapshot(10), 0.0)
    book.apply(update(11, 10, "2"), 0.0)
    book.apply(update(11, 10, "2"), 0.0)  # a duplicate: a no-op either way
    assert book.valid and book.seq_id == 11
    book.apply(update(13, 12, "3"), 0.0)  # the update 12 never came
    assert book.valid is planted
    if planted:  # valid at 13 although update 12 never came
        assert book.seq_id == 13 and book.best_bid() == (Decimal("100"), Decimal("3"))
    assert BookSkipsSeqCheck.catches == {"market_books"} and BookSkipsSeqCheck.market


def test_the_simulators_seq_ids_never_repeat_within_its_history_across_resets() -> None:
    """The soak's truth: after many maintenance resets a seqId must still name one state
    of the book (``book_at``), and a skipped update must still break the chain.  The
    resets used to halve the seqId each time, so after a few it fell to single digits
    and seqIds repeated: a push could carry prevSeqId == seqId == the client's seqId,
    and skipping it went unnoticed (seen in the market phase with a gap and a reset)."""
    from okx_ws_sim.instruments import default_instruments
    from okx_ws_sim.market_book import SyntheticBook

    book = SyntheticBook(default_instruments()["BTC-USDT-SWAP"], 1, levels=20, history=200)
    now = 0
    for _ in range(60):
        for _ in range(10):
            now += 1
            book.advance({}, walk=True, now_ms=now)
        book.reset_sequence(now)
        kept = [e.seq_id for e in book.history]
        assert len(kept) == len(set(kept)), sorted(kept)[:10]
        assert all(e.seq_id != e.prev_seq_id for e in book.history)
        assert book.history[-1].seq_id < book.history[-1].prev_seq_id  # still a reset
