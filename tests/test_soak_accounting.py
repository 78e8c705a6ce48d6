"""The soak's judges on made-up evidence: armed vs fired faults, and reports vs the book.

No sockets: ``soak.fault_audit.reconcile`` and ``soak.book.judge`` are pure, so
each rule is shown holding and failing on a few counters / records.
"""

from __future__ import annotations

from collections import Counter

from soak.book import judge
from soak.fault_audit import Armed, reconcile
from soak.faults import Fault
from soak.ledger import (
    AUTH_ERROR,
    CONNECTION_LOST,
    SUCCESS,
    TIMEOUT_UNKNOWN,
    Ledger,
    Record,
)


def counters(**values: int) -> dict[str, int]:
    out = {"tallies": 1}
    for name, n in values.items():
        out[name.replace("__", ":")] = n
    return out


def armed(kind: str, before: dict[str, int], after: dict[str, int], **params: object) -> Armed:
    return Armed(
        Fault(trigger=before.get("requests", 0), kind=kind, params=dict(params)), 0, before, after
    )


# -- faults ------------------------------------------------------------------------------------


def test_drop_armed_right_before_the_end_is_excused() -> None:
    start = counters(requests=0, seq=0)
    a = armed(
        "drop_request",
        counters(requests=10, seq=1),
        counters(requests=10, seq=2, armed__drop_request=1),
    )
    end = counters(requests=10, seq=3, armed__drop_request=1)
    assert reconcile([a], start, end, {"drop_request": 1}) == []
    assert a.fired == 0 and "no request reached the simulator after it" in a.excuse


def test_drop_with_a_request_after_it_must_have_fired() -> None:
    start = counters(requests=0, seq=0)
    a = armed(
        "drop_request",
        counters(requests=10, seq=1),
        counters(requests=10, seq=2, armed__drop_request=1),
    )
    end = counters(requests=12, seq=3, armed__drop_request=1)  # two requests came, none dropped
    problems = reconcile([a], start, end, {"drop_request": 1})
    assert any("did not fire" in p for p in problems), problems


def test_drops_queue_across_kinds_oldest_first() -> None:
    start = counters(requests=0, seq=0)
    first = armed("drop_reply", counters(requests=5, seq=1), counters(requests=5, seq=2))
    second = armed("drop_request", counters(requests=5, seq=3), counters(requests=5, seq=4))
    end = counters(
        requests=6, seq=5, fired__drop_reply=1, armed__drop_reply=1, armed__drop_request=1
    )
    assert reconcile([first, second], start, end, {"drop_request": 1}) == []
    assert (first.fired, second.fired) == (1, 0)


def test_a_fault_fired_that_the_soak_never_armed_fails() -> None:
    start = counters(requests=0, seq=0)
    end = counters(requests=8, seq=1, fired__drop_request=1, armed__drop_request=1)
    problems = reconcile([], start, end, {})
    assert any("fired drop_request 1 times" in p for p in problems), problems
    assert any("tallied 1 drop_request armings, the soak armed 0" in p for p in problems)


def test_close_after_frames_excused_only_when_too_few_frames_arrived() -> None:
    start = counters(frames=0, opened=0, open=4, seq=0)
    before = counters(frames=0, opened=0, open=4, seq=1)
    after = counters(frames=0, opened=0, open=4, seq=2, armed__close_after_frames=1)
    quiet = armed("close_mid_request", before, after, n=3)
    assert (
        reconcile(
            [quiet],
            start,
            counters(frames=8, open=4, seq=3, armed__close_after_frames=1),
            {"close_after_frames": 1},
        )
        == []
    )
    assert "only 8 frames on 4 connections" in quiet.excuse  # 8 <= (3-1)*4: no connection got 3
    busy = armed("close_mid_request", before, after, n=3)
    problems = reconcile(
        [busy],
        start,
        counters(frames=9, open=4, seq=3, armed__close_after_frames=1),
        {"close_after_frames": 1},
    )
    assert any("never fired though 9 frames" in p for p in problems), problems


def test_a_delay_window_that_delayed_nothing_while_requests_were_answered_fails() -> None:
    start = counters(requests=0, seq=0)
    a = armed(
        "delay_jitter",
        counters(requests=3, seq=1),
        counters(requests=3, seq=2, armed__delay_reply=1),
        delay=0.1,
        jitter=0.1,
    )
    a.end = counters(requests=9, seq=3, armed__delay_reply=1)
    problems = reconcile([a], start, counters(requests=9, seq=4, armed__delay_reply=1), {})
    assert any("6 requests answered while on, none delayed" in p for p in problems), problems


def test_a_restart_counts_once() -> None:
    start = counters(seq=0)
    a = armed("restart", counters(seq=1), counters(seq=2, fired__restart=1, armed__restart=1))
    assert reconcile([a], start, counters(seq=3, fired__restart=1, armed__restart=1), {}) == []
    assert a.fired == 1


# -- the book ------------------------------------------------------------------------------------


def record(index: int, op: str, outcome: str, cls: tuple[str, ...], **fields: object) -> Record:
    r = Record(index, "async", "k", op, "rest", cls, 1.0, 0.0)
    Ledger().close(r, outcome, **fields)
    return r


def test_success_the_book_does_not_hold_is_a_disagreement() -> None:
    r = record(1, "order", SUCCESS, ("c1",), request_id="r1", items=(("c1", "7001", "0"),))
    audit = judge([r], {"k": {"c1": None}}, {"r1": 1}, {"k": []}, {})
    assert audit.disagreements and "no such order" in audit.disagreements[0]
    placed = judge([r], {"k": {"c1": ("7001", "live", "0.01")}}, {"r1": 1}, {"k": ["c1"]}, {})
    assert not placed.disagreements and placed.agreed["placed"] == 1


def test_unknown_fates_are_judged_from_the_book() -> None:
    lost = record(1, "order", CONNECTION_LOST, ("c1",), request_id="r1")
    timed_out = record(2, "order", TIMEOUT_UNKNOWN, ("c2",), request_id="r2")
    fates = {"k": {"c1": ("7001", "live", "0.01"), "c2": None}}
    audit = judge([lost, timed_out], fates, {"r1": 1, "r2": 1}, {"k": ["c1"]}, {})
    assert audit.unknown == Counter({"placed": 1, "not placed": 1})
    assert not audit.disagreements


def test_an_order_that_exists_although_its_request_never_arrived_fails() -> None:
    lost = record(1, "order", CONNECTION_LOST, ("c1",), request_id="r1")
    audit = judge([lost], {"k": {"c1": ("7001", "live", "0.01")}}, {}, {"k": ["c1"]}, {})
    assert audit.disagreements and "never saw the request" in audit.disagreements[0]


def test_never_sent_but_seen_is_not_verified() -> None:
    # The old ledger counted this record as "verified absent" (its else bound to the
    # wrong if): a cancel reported never sent, whose request id the simulator saw.
    r = record(1, "cancel-order", AUTH_ERROR, ("c1",), request_id="r1")
    audit = judge([r], {"k": {"c1": ("7001", "live", "0.01")}}, {"r1": 1}, {"k": []}, {})
    assert audit.never_sent_seen and audit.never_sent_verified == 0
    clean = record(2, "cancel-order", AUTH_ERROR, ("c2",))
    audit = judge([clean], {"k": {"c2": ("7002", "live", "0.01")}}, {}, {"k": []}, {})
    assert not audit.never_sent_seen and audit.never_sent_verified == 1
