"""The chaos soak (``python -m soak``), short: 600 orders, 20 faults, fixed seed.

Same runner and checks as ``make soak``; ``tests/test_soak_defects.py`` shows
that each check fails when its invariant is broken.  Here: the run passes,
and it did what it claims (faults bit, unknown fates arose and were judged,
the simulator ran in its own process).
"""

from __future__ import annotations

import os
import time

import pytest

from soak import SoakConfig, SoakReport, run_soak, summary
from soak.fault_audit import FIRES
from soak.faults import FAULT_KINDS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def soak_run() -> tuple[SoakReport, float]:
    started = time.monotonic()
    report = run_soak(SoakConfig(requests=600, faults=20, seed=7))
    elapsed = time.monotonic() - started
    print(summary(report))
    return report, elapsed


def test_every_check_passes(soak_run: tuple[SoakReport, float]) -> None:
    report, _ = soak_run
    # No wall-clock bound (a timed test): the soak's own checks catch a hung
    # request, and its elapsed time is in the summary.
    assert report.ok, summary(report)


def test_faults_of_every_kind_fired_per_the_simulator(soak_run: tuple[SoakReport, float]) -> None:
    report, _ = soak_run
    assert {a.fault.kind for a in report.armed} == set(FAULT_KINDS)
    assert sorted(k for k, n in report.sim_fired.items() if n) == sorted(
        c for _, c in FIRES.values()
    ), report.sim_fired
    unfired = [a for a in report.armed if a.fired < a.units]
    assert all(a.excuse and not a.problem for a in unfired), [(a.label, a.problem) for a in unfired]
    assert len(report.fired_faults) >= len(report.armed) - 5


def test_unknown_fates_arose_and_were_judged_both_ways(soak_run: tuple[SoakReport, float]) -> None:
    report, _ = soak_run
    unknown = report.book.unknown
    # ConnectionLost / timeouts after the request went out: some placed, some not
    assert unknown["placed"] + unknown["cancel done"] + unknown["amend done"] > 0, unknown
    assert unknown["not placed"] > 0, unknown
    assert report.book.agreed["placed"] > 0 and report.book.agreed["rejected"] > 0


def test_reconcile_settled_every_unknown_fate_as_the_book_has_it(
    soak_run: tuple[SoakReport, float],
) -> None:
    report, _ = soak_run
    verdicts = report.reconciled.verdicts
    unknown_items = sum(report.book.unknown.values())
    assert report.reconciled.asked > 0 and sum(verdicts.values()) == unknown_items
    assert verdicts["order: placed"] > 0 and verdicts["order: not_placed"] > 0, verdicts
    assert not [k for k in verdicts if k.endswith("unknown")], verdicts
    assert report.reconciled.disagreements == []


def test_the_simulator_ran_in_its_own_process(soak_run: tuple[SoakReport, float]) -> None:
    report, _ = soak_run
    assert report.sim_info["pid"] not in (-1, os.getpid())
    first, end = report.checkpoints[0], report.checkpoints[-1]
    assert first.sim and end.sim  # its own tasks, threads, fds, memory
    assert first.threads == end.threads and all("sim" not in t for t in end.threads)
    assert report.sim_final["fds"] > 0 and report.sim_final["error"] == ""


def test_the_market_phase_held_its_books_to_the_simulators(
    soak_run: tuple[SoakReport, float],
) -> None:
    market = soak_run[0].market  # soak.market: every fault kind, every resync compared
    assert market.rounds and len(market.books) >= 4 and market.resyncs > 0
    assert set(market.armed) == {"book_gap", "book_duplicate", "book_reset", "rest_delay"}
    assert market.fired == dict(market.armed) and market.compared_after_resync > market.resyncs
    assert market.mismatches == market.invalid_valid == market.problems == []
