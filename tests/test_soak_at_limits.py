"""The soak at OKX's limits, short: the simulator enforces them, the load presses on them.

``python -m soak --at-limits``: the simulator's rate limits on, the clients on their
defaults (``rate_limit="wait"``) with ``stamp_exp_time=True``, orders over 22 spot
pairs (one hot) and two spreads on the business connection.  What must hold at any
machine load is asserted here; the full run's verdict (0 refusals of any kind,
every late arrival explained) is in its summary.
"""

from __future__ import annotations

import pytest

from soak import SoakConfig, SoakReport, run_soak, summary
from soak.checks import CHECKS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def at_limits() -> SoakReport:
    report = run_soak(
        SoakConfig(requests=500, faults=12, seed=3, at_limits=True, async_workers=16, warmup=100)
    )
    print(summary(report))
    return report


def test_the_clients_run_the_users_defaults_against_okx_limits(at_limits: SoakReport) -> None:
    cfg = at_limits.config
    assert cfg.transports == {"async": "websockets", "sync": "websockets"}
    assert cfg.rate_limit == "wait" and cfg.stamp_exp_time and cfg.sim_rate_limits
    assert (
        summary(at_limits)
        .splitlines()[0]
        .startswith("okx-ws chaos soak: transport=websockets rate_limit=wait AT OKX'S LIMITS")
    )


def test_the_load_spreads_over_twenty_pairs_and_both_connections(at_limits: SoakReport) -> None:
    pairs = {r.inst_id for r in at_limits.workload if r.inst_id}
    assert len(pairs) >= 20, pairs
    assert {r.op for r in at_limits.workload} >= {"order", "sprd-order"}
    peaks = at_limits.limits["peaks"]  # the simulator counted on every limit it enforces
    assert {"order", "sub-account", "connect", "sprd-order"} <= set(peaks), peaks


def test_no_request_was_refused_for_its_rate(at_limits: SoakReport) -> None:
    refusals = at_limits.limits["refusals"]
    assert refusals["50011"] == refusals["50061"] == refusals["60014"] == 0, summary(at_limits)


def test_every_call_the_limiter_refused_never_left_the_client(at_limits: SoakReport) -> None:
    assert at_limits.failures["never_sent"] == [], summary(at_limits)
    assert at_limits.book.never_sent_verified >= at_limits.outcomes.get("rate_limited", 0)


def test_the_same_checks_ran_as_in_the_normal_soak(at_limits: SoakReport) -> None:
    assert set(at_limits.failures) == set(CHECKS)
    for name in ("lost", "duplicates", "book", "reconcile", "phantoms", "workload"):
        assert at_limits.failures[name] == [], summary(at_limits)
