"""Each soak check fails on a planted defect, and only the checks that should.

A defect is planted through the soak's test hook (``soak.defects``: a driver
that lies about a request, a fault arming that goes astray, a leak, a dropped
subscription); neither the runtime nor the simulator is touched.  Small runs
(100-160 requests) keep each under a few seconds.
"""

from __future__ import annotations

import pytest

from soak import SoakConfig, run_soak, summary
from soak.defects import DEFECTS
from soak.market import BOOKS

pytestmark = pytest.mark.slow

NEEDS_FAULTS = {"fault_not_armed", "fault_unrecorded", "fake_verdict"}  # unknown fates


@pytest.mark.parametrize("name", sorted(DEFECTS))
def test_planted_defect_fails_its_check(name: str) -> None:
    defect = DEFECTS[name]()
    # 30 connects/s, not OKX's 3 (not at the limits): these runs prove checks fail, and at
    # 3/s the first connects and each fault's reconnects queued them for seconds.
    if name in NEEDS_FAULTS:  # one fault of each kind, a drop_request among them
        cfg = SoakConfig(requests=160, faults=9, warmup=60, watchdog=1.0, connects_per_s=30)
    else:
        cfg = SoakConfig(requests=100, faults=0, warmup=40, watchdog=1.0, connects_per_s=30)
    cfg.at_limits = defect.at_limits
    if defect.market:  # one round per book, a gap first: what a book without seq checks fails
        cfg.market_rounds = len(BOOKS)
    report = run_soak(cfg, defect)
    text = summary(report)
    assert set(report.failed_checks) == defect.catches, text
