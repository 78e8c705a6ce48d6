"""The soak's judges on made-up evidence: armed vs fired faults, and reports vs the book.

No sockets: ``soak.fault_audit.reconcile`` and ``soak.book.judge`` are pure, so
each rule is shown holding and failing on a few counters / records.
"""

from __future__ import annotations

import gc
import tracemalloc
from collections import Counter
from typing import Any

import pytest

from soak import SoakConfig, run_soak, summary
from soak.book import judge
from soak.checks import client_rss, simulator_rss
from soak.defects import ClientLeaksRss
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
from soak.probes import MemoryProbe, rss_kib, trim_heap
from soak.report import SoakReport
from soak.rss import ORDER_BUDGET, Row, RssAccount, client_account, per_order, simulator_account
from soak.simcost import order_cost


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


# -- RSS ------------------------------------------------------------------------------------


def _mem(rss: int, soak: int, untraced: int = -1, blocks: int = 1000) -> dict[str, Any]:
    return {
        "rss_kib": rss,
        "rss_found_kib": rss,
        "tracemalloc_kib": 0.0,
        "blocks": blocks,
        "groups": {"soak": soak << 20, "client": 0, "other": 0},
        "untraced_rss_kib": untraced,
    }


def test_client_rss_charges_tracemalloc_as_read_untraced_and_the_soaks_records() -> None:
    points = [
        (1000, _mem(50_000, 1, untraced=49_000)),  # tracing costs 1,000 KiB here
        (5000, _mem(70_000, 3, untraced=64_000)),  # ... 6,000 KiB here
        (10_000, _mem(90_000, 11, untraced=79_000)),
    ]
    acc = client_account(points)
    assert acc.tm_measured and not acc.untraced
    last = acc.last
    assert (last.growth, last.tracemalloc, last.by_design) == (40_000, 10_000, 10 * 1024)
    assert last.rest == 40_000 - 10_000 - 10_240
    assert [row.rest for row in acc.rows] == [20_000 - 5000 - 2048, last.rest]


def test_client_rss_counts_tracemalloc_as_the_rest_when_it_was_not_measured() -> None:
    acc = client_account([(1000, _mem(50_000, 0)), (9000, _mem(90_000, 0, untraced=-1))])
    assert not acc.tm_measured and acc.rest == 40_000


def _sim(rss: int, orders: int) -> dict[str, Any]:
    return {"rss_kib": rss, "orders": orders, "mem": {"blocks": 0}}


COST = {"marks": [(2000, 1000, 30_000), (8000, 6000, 35_000), (14_000, 11_000, 40_000)]}


def test_simulator_rss_prices_the_book_at_the_measured_cost_per_order() -> None:
    assert per_order(COST) == 1024  # 10,000 KiB for 10,000 orders
    points = [(1000, _sim(30_000, 500)), (5000, _sim(52_000, 20_500)), (9000, _sim(71_000, 40_500))]
    acc = simulator_account(points, COST)
    assert acc.untraced and acc.orders == 40_000 and acc.per_order == 1024
    assert [row.rest for row in acc.rows] == [22_000 - 20_000, 41_000 - 40_000]


def test_an_unpriced_book_leaves_all_its_growth_to_the_rest() -> None:
    points = [(1000, _sim(30_000, 500)), (9000, _sim(71_000, 40_500))]
    for cost in ({}, {"error": "TimeoutExpired"}):
        assert simulator_account(points, cost).rest == 41_000


def _report(accounts: list[RssAccount]) -> SoakReport:
    report = SoakReport(SoakConfig(rss_limit_mib=20.0))
    report.rss = accounts
    return report


def test_rss_checks_fail_on_the_worst_checkpoint_not_only_the_last() -> None:
    acc = RssAccount("client", (1000, 50_000))
    acc.rows = [Row(5000, 30 * 1024, 0, 0), Row(9000, 10 * 1024, 0, 0)]  # freed at the end
    problems = client_rss(_report([acc]))
    assert problems and "to 5000" in problems[0] and "30.0 MiB (> 20)" in problems[0]
    acc.rows = [Row(5000, 19 * 1024, 0, 0), Row(9000, 60 * 1024, 5 * 1024, 36 * 1024)]
    assert client_rss(_report([acc])) == []
    assert simulator_rss(_report([acc])) == ["no RSS account of the simulator process"]


def test_an_order_costing_the_simulator_more_than_its_budget_fails() -> None:
    points = [(1000, _sim(30_000, 500)), (9000, _sim(71_000, 10_500))]
    dear = {"marks": [(0, 0, 0), (1, 5000, 15_000), (2, 10_000, 30_000)]}  # 3,072 B each
    problems = simulator_rss(_report([simulator_account(points, dear)]))
    assert problems == [
        "one order costs the simulator 3072 B of RSS (> 2048: a leak on the order path"
        " would pass as its book)"
    ]


@pytest.mark.slow
def test_the_forked_copy_reads_what_tracing_costs_without_stopping_it_here() -> None:
    if tracemalloc.is_tracing():
        pytest.skip("tracemalloc already on: its cost is not ours to read")
    probe = MemoryProbe()
    probe.start()
    try:
        kept = [f"{i:09d}" * 2 for i in range(200_000)]  # 200,000 traced blocks
        reading = probe.reading()
        assert tracemalloc.is_tracing()  # it went on here
        here = next(size for (name, _), (size, _) in reading.lines.items() if name == __file__)
        assert here >= 200_000 * 60 and reading.blocks >= 200_000
    finally:
        probe.stop()
    gc.collect()
    trim_heap()
    stopped = rss_kib()  # what stopping it here freed, vs what the copy said it would
    assert reading.rss_kib - reading.untraced_rss_kib > 5 * 1024  # ~40 B per block at least
    assert abs(reading.untraced_rss_kib - stopped) < 3 * 1024
    del kept


@pytest.mark.slow
def test_a_fresh_simulator_prices_an_order_of_the_soaks_mix() -> None:
    cost = order_cost(4000, warmup=1000)
    assert "error" not in cost, cost
    (_, o0, _), (_, o1, _), (_, o2, _) = cost["marks"]
    assert 0 < o0 < o1 < o2  # each half placed orders
    assert 500 < per_order(cost) < ORDER_BUDGET, cost  # ~1.2 KB measured in December 2026


def test_an_untraced_client_charges_the_bytes_of_the_frozen_records() -> None:
    first = {**_mem(50_000, 0, blocks=0), "records_kib": 100.0}
    last = {**_mem(60_000, 0, blocks=0), "records_kib": 2148.0}
    acc = client_account([(1000, first), (9000, last)])
    assert acc.untraced and acc.tm_measured
    assert (acc.last.tracemalloc, acc.last.by_design, acc.rest) == (0.0, 2048.0, 10_000 - 2048)


def test_a_long_run_leaves_the_client_untraced_unless_asked() -> None:
    assert SoakConfig(requests=10_000).traces_client
    assert not SoakConfig(requests=100_000).traces_client
    assert SoakConfig(requests=100_000, trace_client="on").traces_client
    assert not SoakConfig(requests=10_000, trace_client="off").traces_client
    with pytest.raises(ValueError, match="trace-client"):
        SoakConfig(trace_client="maybe").traces_client  # noqa: B018


@pytest.mark.slow
def test_an_untraced_clients_leak_is_caught_by_its_rss_alone() -> None:
    cfg = SoakConfig(requests=100, faults=0, warmup=40, watchdog=1.0, trace_client="off")
    report = run_soak(cfg, ClientLeaksRss())
    assert set(report.failed_checks) == {"client_rss"}, summary(report)
    assert "not traced" in summary(report)
