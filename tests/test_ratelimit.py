"""The sans-I/O rate limiter and what each spec operation costs (no clock, no socket)."""

from __future__ import annotations

import pytest
from okx_ws import operations

from okx_ws_core.protocol.ratelimit import RateLimit, RateLimiter, demands, instrument_key

ORDER = RateLimit("order", 60, 2.0, "instrument")
BATCH = RateLimit("batch-orders", 300, 2.0, "instrument", per_item=True)
ACCOUNT = RateLimit("sub_account", 1000, 2.0, "user", per_item=True)


def item(inst_id: str) -> dict[str, object]:
    return {"instId": inst_id, "side": "buy"}


def fill(
    limiter: RateLimiter, limits: tuple[RateLimit, ...], inst: str, n: int, now: float
) -> None:
    for _ in range(n):
        assert limiter.acquire(demands(limits, [item(inst)]), now) == (0.0, None)


def test_sliding_window_lets_count_through_then_waits_for_the_oldest() -> None:
    limiter = RateLimiter()
    fill(limiter, (ORDER,), "BTC-USDT", 30, now=0.0)
    fill(limiter, (ORDER,), "BTC-USDT", 30, now=1.5)
    wait, bucket = limiter.acquire(demands((ORDER,), [item("BTC-USDT")]), 1.9)
    assert bucket == ("order", "BTC-USDT") and wait == pytest.approx(0.1)
    fill(limiter, (ORDER,), "BTC-USDT", 30, now=2.0)  # the 30 of t=0 have left the window
    wait, _ = limiter.acquire(demands((ORDER,), [item("BTC-USDT")]), 2.0)
    assert wait == pytest.approx(1.5)  # until the 30 of t=1.5 leave it


def test_an_instrument_at_its_limit_never_delays_another() -> None:
    limiter = RateLimiter()
    fill(limiter, (ORDER,), "BTC-USDT", 60, now=0.0)
    assert limiter.acquire(demands((ORDER,), [item("BTC-USDT")]), 0.0)[0] == pytest.approx(2.0)
    assert limiter.acquire(demands((ORDER,), [item("ETH-USDT")]), 0.0) == (0.0, None)


def test_batch_items_count_one_each_per_instrument() -> None:
    wanted = demands((BATCH, ACCOUNT), [item("BTC-USDT")] * 15 + [item("ETH-USDT")] * 5)
    assert sorted((bucket, amount) for _, bucket, amount in wanted) == [
        (("batch-orders", "BTC-USDT"), 15),
        (("batch-orders", "ETH-USDT"), 5),
        (("sub_account", ""), 20),
    ]


def test_options_count_per_instrument_family() -> None:
    calls = demands((ORDER,), [item("BTC-USD-251226-60000-C")])
    puts = demands((ORDER,), [item("BTC-USD-251226-40000-P")])
    assert calls[0][1] == puts[0][1] == ("order", "family:BTC-USD")
    assert instrument_key({"instIdCode": 7}) == "code:7"


def test_a_batch_of_one_counts_as_the_single_operation() -> None:
    batch = operations.SUBMIT_MULTIPLE_ORDERS
    one = batch.rate_demands([item("BTC-USDT")])
    two = batch.rate_demands([item("BTC-USDT"), item("BTC-USDT")])
    assert {b for _, b, _ in one} == {("order", "BTC-USDT"), ("sub_account", "")}
    assert {b for _, b, _ in two} == {("batch-orders", "BTC-USDT"), ("sub_account", "")}


def test_the_sub_account_ceiling_spans_new_and_amended_orders_not_cancels() -> None:
    names = {
        name: {limit.name for limit in op.limits} for name, op in operations.OPERATIONS.items()
    }
    for name in (
        "submit_new_order",
        "submit_multiple_orders",
        "amend_order",
        "amend_multiple_orders",
    ):
        assert "sub_account" in names[name], name
    for name in ("cancel_order", "cancel_multiple_orders", "mass_cancel_orders"):
        assert "sub_account" not in names[name], name
    assert operations.SUB_ACCOUNT_LIMIT.count == 1000 and operations.SUB_ACCOUNT_LIMIT.per_item


def test_the_spec_limits_match_the_protocol_notes() -> None:
    expected = {
        "submit_new_order": (60, 2.0, "instrument", False),
        "submit_multiple_orders": (300, 2.0, "instrument", True),
        "mass_cancel_orders": (5, 2.0, "user", False),
        "submit_spread_order": (20, 2.0, "user", False),
        "amend_spread_order": (20, 2.0, "user", False),
        "cancel_spread_order": (20, 2.0, "user", False),
        "mass_cancel_spread_orders": (5, 2.0, "user", False),
    }
    for name, (count, window, scope, per_item) in expected.items():
        own = operations.OPERATIONS[name].limits[0]
        assert (own.count, own.window, own.scope, own.per_item) == (count, window, scope, per_item)
    limits = operations.CONNECTION_LIMITS
    assert limits.connect is not None and (limits.connect.count, limits.connect.window) == (3, 1.0)
    assert limits.session_ops is not None and limits.session_ops.count == 480
    assert limits.session_ops.window == 3600.0


def test_a_request_waits_for_its_slowest_bucket_and_counts_nowhere_until_it_fits() -> None:
    limiter = RateLimiter()
    fill(limiter, (ACCOUNT,), "BTC-USDT", 1000, now=0.0)
    wanted = demands((ORDER, ACCOUNT), [item("ETH-USDT")])
    wait, bucket = limiter.acquire(wanted, 1.0)
    assert bucket == ("sub_account", "") and wait == pytest.approx(1.0)
    fill(limiter, (ORDER,), "ETH-USDT", 60, now=1.0)  # the order bucket was not charged above


def test_penalize_holds_a_bucket_for_a_window_and_prune_forgets_idle_ones() -> None:
    limiter = RateLimiter()
    wanted = demands((ORDER,), [item("BTC-USDT")])
    limiter.penalize(wanted, 5.0)
    assert limiter.acquire(wanted, 6.0)[0] == pytest.approx(1.0)
    assert limiter.acquire(wanted, 7.0) == (0.0, None)
    fill(limiter, (ORDER,), "ETH-USDT", 1, now=7.0)
    assert len(limiter) == 2
    limiter.prune(100.0)
    assert len(limiter) == 0


def test_windows_of_instruments_gone_quiet_are_forgotten_without_anyone_pruning() -> None:
    limiter = RateLimiter()
    for second in range(5000):  # a new instrument every second: at most 3 are live at once
        wanted = demands((ORDER,), [item(f"COIN{second}-USDT")])
        assert limiter.acquire(wanted, float(second)) == (0.0, None)
    assert len(limiter) <= 100  # bounded by the live buckets, not by all ever seen


def test_forgetting_quiet_buckets_keeps_a_long_window_that_is_still_counting() -> None:
    hourly = RateLimit("hourly", 2, 3600.0)
    limiter = RateLimiter()
    assert limiter.acquire(demands((hourly,), [item("BTC-USDT")]), 0.0) == (0.0, None)
    assert limiter.acquire(demands((hourly,), [item("BTC-USDT")]), 1.0) == (0.0, None)
    for second in range(2, 3000):  # many short-window buckets come and go meanwhile
        limiter.acquire(demands((ORDER,), [item(f"COIN{second}-USDT")]), float(second))
    wait, bucket = limiter.acquire(demands((hourly,), [item("BTC-USDT")]), 3000.0)
    assert bucket == ("hourly", "") and wait == pytest.approx(600.0)


def test_the_one_item_fast_path_counts_in_the_same_windows_as_acquire() -> None:
    limiter = RateLimiter()
    for n in range(30):
        assert limiter.try_one("order", (ORDER, ACCOUNT), item("BTC-USDT"), 0.0) is not None, n
    fill(limiter, (ORDER,), "BTC-USDT", 30, now=0.5)
    assert limiter.try_one("order", (ORDER, ACCOUNT), item("BTC-USDT"), 1.0) is None  # full
    wait, bucket = limiter.acquire(demands((ORDER, ACCOUNT), [item("BTC-USDT")]), 1.0)
    assert bucket == ("order", "BTC-USDT") and wait == pytest.approx(1.0)
    assert limiter.try_one("order", (ORDER, ACCOUNT), item("ETH-USDT"), 1.0) is not None
    wanted = limiter.try_one("order", (ORDER, ACCOUNT), item("BTC-USDT"), 2.0)
    assert wanted == demands((ORDER, ACCOUNT), [item("BTC-USDT")])  # the 30 of t=0 left


def test_the_fast_path_follows_a_bucket_forgotten_and_made_again() -> None:
    limiter = RateLimiter()
    assert limiter.try_one("order", (ORDER,), item("BTC-USDT"), 0.0) is not None
    for second in range(10, 5000):  # BTC-USDT's bucket goes quiet and is forgotten
        limiter.acquire(demands((ORDER,), [item(f"COIN{second}-USDT")]), float(second))
    fill(limiter, (ORDER,), "BTC-USDT", 60, now=5000.0)
    assert limiter.try_one("order", (ORDER,), item("BTC-USDT"), 5000.0) is None


def test_the_fast_path_leaves_penalized_and_unusual_items_to_acquire() -> None:
    limiter = RateLimiter()
    wanted = demands((ORDER,), [item("BTC-USDT")])
    limiter.penalize(wanted, 0.0)
    assert limiter.try_one("order", (ORDER,), item("BTC-USDT"), 1.0) is None
    assert limiter.try_one("order", (ORDER,), {"instIdCode": 7}, 1.0) is None
    assert limiter.try_one("order", (ORDER,), item("BTC-USDT"), 2.0) == wanted


def test_quiet_buckets_are_forgotten_on_a_clock_too_not_only_when_their_number_doubles() -> None:
    """Below the count that triggers a sweep, idle buckets still go within PRUNE_EVERY_S:
    memory follows the buckets in use (the soak saw 100 idle windows kept for minutes)."""
    limiter = RateLimiter()
    for n in range(40):  # 40 buckets: fewer than PRUNE_FLOOR, so no count-driven sweep
        fill(limiter, (ORDER,), f"COIN{n}-USDT", 1, now=0.0)
    assert len(limiter) == 40
    t = RateLimiter.PRUNE_EVERY_S + 3.0  # every one idle for longer than its window
    fill(limiter, (ORDER,), "BTC-USDT", 1, now=t)  # any slow-path call sweeps when due
    assert len(limiter) == 1
