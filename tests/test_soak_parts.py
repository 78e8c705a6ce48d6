"""The soak's parts that need no run: transports per client, the frozen ledger, the RSS
account, and the simulator's counters the soak reads (late arrivals, refusals, peaks)."""

from __future__ import annotations

import time

import pytest

from okx_ws_sim.limits import Buckets, Limit
from okx_ws_sim.stats import SimStats
from soak.analysis import restoration
from soak.config import LONG_RUN, SoakConfig
from soak.drivers import ClientSide
from soak.ledger import FREEZE_EVERY, SUCCESS, Ledger, Record
from soak.report import SoakReport


def test_transport_is_the_users_default_and_splits_in_a_long_run() -> None:
    assert SoakConfig().transports == {"async": "websockets", "sync": "websockets"}
    assert SoakConfig().rate_limit == "wait"
    assert SoakConfig(requests=LONG_RUN).transports == {"async": "websockets", "sync": "httpx-ws"}
    cfg = SoakConfig(transport="async=httpx-ws,sync=websockets")
    assert cfg.transports == {"async": "httpx-ws", "sync": "websockets"}
    assert cfg.transport_label == "async:httpx-ws,sync:websockets"
    with pytest.raises(ValueError):
        _ = SoakConfig(transport="async=carrier-pigeon").transports


def _record(i: int) -> Record:
    return Record(i, "async", "k", "order", "rest", (f"c{i}",), 1.0, time.monotonic(), inst_id="X")


def test_the_ledger_freezes_closed_records_and_gives_every_one_back() -> None:
    ledger = Ledger()
    records = [ledger.open(_record(i)) for i in range(FREEZE_EVERY + 5)]
    for rec in records[:-1]:  # the last stays open
        ledger.close(rec, SUCCESS, request_id=f"r{rec.index}", items=((f"c{rec.index}", "1", "0"),))
    ledger.close(records[0], SUCCESS)  # a double close after its record was frozen
    ledger.freeze()
    assert ledger.frozen_bytes > 0
    back = ledger.records
    assert [r.index for r in back] == [r.index for r in records]
    assert back[3].request_id == "r3" and back[3].items == (("c3", "1", "0"),)
    assert back[3].inst_id == "X" and back[3].closes == 1
    assert [r.index for r in ledger.open_records()] == [records[-1].index]
    assert len(ledger.double_closes) == 1


def test_a_late_request_is_matched_to_the_faults_that_fired_while_it_travelled() -> None:
    stats = SimStats()
    stats.faults_injected["restart"] += 1
    late = stats.late_arrival("r1", "order", late_s=0.2, travel_s=1.0)
    assert late.faults == ("restart",) and late.late_ms == 200
    clean = SimStats().late_arrival("r2", "order", late_s=0.2, travel_s=1.0, on=())
    assert clean.faults == ()
    stats.request_errors_by_code["50036"] += 1  # a passed expTime (codes.EXPIRED_REQUEST_CODE)
    assert stats.expired_requests == 1
    assert stats.to_dict()["late_arrivals"] == [("r1", "order", 200, ("restart",))]


def test_rate_limit_refusals_are_counted_by_code() -> None:
    stats = SimStats()
    stats.request_errors_by_code["50011"] += 2
    stats.session_ops_throttled += 1
    stats.connections_throttled += 3
    assert stats.rate_limit_refusals == {"50011": 2, "50061": 0, "60014": 1, "429": 3}


def test_buckets_keep_the_peak_use_of_each_limit() -> None:
    buckets = Buckets(sliding=True)
    limit = Limit(60, 2.0)
    for i in range(50):
        assert buckets.admit(i * 0.01, [(("order", "k", "BTC-USDT"), limit, 1)])
    assert buckets.admit(5.0, [(("order", "k", "BTC-USDT"), limit, 1)])  # a fresh window
    assert buckets.peaks == {"order": (50, 60)}


def test_a_link_that_died_right_after_its_only_reply_leaves_its_restoration_unverifiable() -> None:
    """The simulator pushes an order's state just after its reply: a link that dies in
    between loses the push without any fault of the resubscription (seen under load)."""
    report = SoakReport(SoakConfig())
    side = ClientSide("sync", "b", "k", api=None, ws=None, loop=None)  # type: ignore[arg-type]
    side.reconnects = [10.0, 20.0, 30.0]
    side.private_closes = [10.51, 20.9]  # links 1 and 2 died; link 3 lives on

    def order(i: int, started: float, ended: float) -> None:
        rec = report.ledger.open(Record(i, "sync", "k", "order", "rest", (f"c{i}",), 1.0, started))
        report.ledger.close(rec, SUCCESS, ended=ended, items=((f"c{i}", "1", "0"),))

    order(1, 10.1, 10.5)  # answered 10 ms before its link died: its push may be lost
    order(2, 20.1, 20.2)  # answered 0.7 s before its link died, never pushed: missing
    order(3, 30.1, 30.2)  # on a link that lives on, never pushed: missing
    restoration(report, [side])
    counts = report.restoration["sync"]
    assert counts["link_died_after_reply"] == 1
    assert counts["missing"] == 2 and counts["restored"] == 0
    assert [m.split(":")[1] for m in report.restoration_missing] == [
        " reconnect #2",
        " reconnect #3",
    ]
