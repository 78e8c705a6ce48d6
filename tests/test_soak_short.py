"""The chaos soak (tools/soak.py), short: 600 orders, 20 faults, fixed seed, < 30 s.

Same runner and invariants as ``make soak``: every request ends exactly once and
in time, nothing is sent twice, the simulator's order book matches what the
clients reported (unknown fates reconciled by clOrdId), subscriptions come
back after every reconnect, resources are flat and close() leaves nothing.
"""

from __future__ import annotations

import time

import pytest

from tools.soak import SoakConfig, run_soak, summary
from tools.soak_ledger import AUTH_ERROR, HUNG, OUTCOMES, UNEXPECTED

pytestmark = pytest.mark.slow


def test_short_chaos_soak_accounts_for_every_request() -> None:
    started = time.monotonic()
    report = run_soak(SoakConfig(requests=600, faults=20, seed=7))
    elapsed = time.monotonic() - started
    text = summary(report)
    print(text)

    records = report.ledger.records
    outcomes = report.outcomes
    # the runner's own verdict first: its summary names every broken invariant
    assert report.ok, text
    # every request ended exactly once, as one of the known outcomes
    assert report.lost == 0, text
    assert not report.ledger.double_closes, text
    assert sum(1 for r in records if r.kind != "probe") == 600
    assert set(outcomes) <= set(OUTCOMES), text
    assert sum(outcomes.values()) == len(records)
    assert outcomes.get(UNEXPECTED, 0) == 0, text
    assert outcomes.get(HUNG, 0) == 0 and not report.hung, text
    # nothing sent twice, nothing the ledger doesn't know
    assert report.duplicates == 0, text
    assert not report.audit.phantoms, text
    # the simulator agrees with every reported outcome; unknown fates reconciled
    assert not report.audit.mismatches, text
    assert not report.audit.never_sent_seen, text
    a = report.audit
    unknown_items = a.unknown_placed + a.unknown_not_placed
    unknown_ops = (
        a.unknown_cancel_done
        + a.unknown_cancel_not_done
        + a.unknown_amend_done
        + a.unknown_amend_not_done
    )
    unknown_place_items = sum(
        len(r.cl_ord_ids)
        for r in records
        if r.outcome in ("timeout_unknown", "connection_lost") and r.op in ("order", "batch-orders")
    )
    assert unknown_items == unknown_place_items
    assert unknown_ops == sum(
        1
        for r in records
        if r.outcome in ("timeout_unknown", "connection_lost")
        and r.op in ("cancel-order", "amend-order")
    )
    assert a.never_sent_verified >= outcomes.get(AUTH_ERROR, 0)
    # faults of every kind were injected and each was recovered from
    assert len(report.faults) == 20 and len({f.kind for f in report.faults}) == 9
    assert not report.unrecovered, text
    assert not report.restoration_missing, text
    # resources flat, close() leaves nothing, no warning / unraisable / loop error
    assert len(report.checkpoints) == 2
    first, end = report.checkpoints
    assert (first.tasks, first.threads, first.fds) == (end.tasks, end.threads, end.fds), text
    assert report.after_close["main_tasks"] == [] and report.after_close["sim_connections"] == 0
    assert report.after_close["fds"] == report.baseline["fds"], text
    assert report.after_close["threads"] == report.baseline["threads"], text
    assert report.hygiene == [], text
    assert elapsed < 30, f"short soak took {elapsed:.1f}s"
