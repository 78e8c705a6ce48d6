"""The invariants, one small named check each: a check returns what broke (empty: held).

``run_checks`` fills ``report.failures`` (check name -> messages); the run
passes when every list is empty.  ``tests/test_soak_defects.py`` plants a
defect for each check and shows that it fails.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import retained
from .ledger import UNEXPECTED
from .market_audit import market_books
from .report import SoakReport
from .rss import ORDER_BUDGET
from .workload import INSTRUMENTS, SPREADS

# Objects the client keeps one of per key the load touched, dropped once idle: their
# number follows which keys the recent load used, so it is bounded, not compared.
# The limiter: a window per (limit, instrument) -- order, batch-orders, cancel-order,
# amend-order -- plus a few per account and per connection; and its one-item plans, one per
# (operation, instrument) the load sent a single item of.
KEYED = {
    "okx_ws_core.protocol.ratelimit._Window": 4 * (len(INSTRUMENTS) + len(SPREADS)) + 16,
    "okx_ws_core.protocol.ratelimit._Plan": 8 * len(INSTRUMENTS) + 16,
}


def keyed_bounds(clients: int) -> dict[str, int]:
    return {name: bound * clients for name, bound in KEYED.items()}


Check = Callable[[SoakReport], list[str]]


def _some(items: list[str], n: int = 5) -> str:
    return "; ".join(items[:n]) + (f" (+{len(items) - n} more)" if len(items) > n else "")


def issued(r: SoakReport) -> list[str]:
    n = len(r.workload)
    return [] if n == r.config.requests else [f"issued {n} requests, expected {r.config.requests}"]


def lost(r: SoakReport) -> list[str]:
    """Every request got an outcome."""
    return [f"{x.tag} {x.kind}: never got an outcome" for x in r.lost]


def duplicates(r: SoakReport) -> list[str]:
    """No outcome reported twice; nothing sent or placed twice."""
    return [f"outcome reported twice: {d}" for d in r.ledger.double_closes] + r.book.duplicates


def hung(r: SoakReport) -> list[str]:
    """Every call ended within its timeout plus the margin."""
    margin = r.config.hang_margin
    out = [
        f"{x.tag}: {x.outcome} after {x.duration:.3f}s (timeout {x.timeout:g}s + {margin:g}s)"
        for x in r.hung
    ]
    return out + r.stuck_blocking


def unexpected(r: SoakReport) -> list[str]:
    return [f"{x.tag}: {x.detail}" for x in r.records if x.outcome == UNEXPECTED]


def book(r: SoakReport) -> list[str]:
    """Every reported success and rejection agrees with the simulator's book."""
    return r.book.disagreements


def reconcile(r: SoakReport) -> list[str]:
    """reconcile() settles every unknown fate as the simulator's book has it."""
    return r.reconciled.disagreements


def never_sent(r: SoakReport) -> list[str]:
    """A request reported never sent did not reach the simulator."""
    return r.book.never_sent_seen


def workload(r: SoakReport) -> list[str]:
    """Items built to succeed succeeded when answered; items built to fail failed."""
    return r.book.unexpected_rejections


def phantoms(r: SoakReport) -> list[str]:
    """The simulator saw no request and holds no order that no request accounts for."""
    return r.book.phantoms


def faults(r: SoakReport) -> list[str]:
    """Each armed fault fired as the simulator reports, or could not fire (reason given)."""
    out = list(r.fault_problems)
    if len(r.armed) != len(r.plan):
        out.append(f"armed {len(r.armed)} of {len(r.plan)} planned faults")
    return out


def recovery(r: SoakReport) -> list[str]:
    return [f"no successful order after the fault {f}" for f in r.unrecovered]


def subscriptions(r: SoakReport) -> list[str]:
    """Order pushes came back after every reconnect, and for the final probe order."""
    return r.restoration_missing + r.probe_unpushed


def restored(r: SoakReport) -> list[str]:
    """At every checkpoint the simulator's links held every subscription each client
    remembers: all of them restored after every reconnect, not only the first."""
    out = list(r.restore_missing)
    if len(r.restore_reads) < len(r.checkpoints) * len(r.config.clients):
        out.append(f"read the subscriptions {len(r.restore_reads)} times, expected one per"
                   " client at each checkpoint")  # fmt: skip
    return out


def lost_bound(r: SoakReport) -> list[str]:
    """ConnectionLost only for requests in flight when a link died."""
    return [
        f"{name}: {n} ConnectionLost, at most {bound} can have been in flight when links died"
        for name, (n, bound) in r.lost_bounds.items()
        if n > bound
    ]


def loop_lag(r: SoakReport) -> list[str]:
    lag, margin = r.max_loop_lag, r.config.hang_margin
    return [f"the event loop stalled {lag:.3f}s (> {margin:g}s)"] if lag > margin else []


def client_resources(r: SoakReport) -> list[str]:
    """Nothing of the client process grew between the two quiet checkpoints but its
    bounded-by-design stores (``soak.retained``: their growth, entries times bytes per
    entry as weighed, is subtracted; each must stay within its cap)."""
    if len(r.checkpoints) < 2:
        return ["resource checkpoints missing"]
    a, b = r.checkpoints[0], r.checkpoints[-1]
    cfg = r.config
    out = []
    if a.tasks != b.tasks:
        out.append(f"asyncio tasks {a.tasks} -> {b.tasks}")
    if a.threads != b.threads:
        out.append(f"threads {a.threads} -> {b.threads}")
    if a.fds != b.fds:
        out.append(f"file descriptors {a.fds} -> {b.fds} ({a.fd_kinds} -> {b.fd_kinds})")
    stores = retained.allowance(a.retained, b.retained, r.retained_per_entry)
    over_cap = [f"{n}: {e} > {cap}" for n, (e, cap) in b.retained.items() if e > cap]
    if over_cap:
        out.append(f"bounded stores past their cap: {over_cap}")
    kept = f"; the bounded stores' growth ({stores / 1024:.1f} KiB) aside"
    client_kib = (r.memory_client_growth - stores) / 1024
    traced = bool(a.mem.get("blocks"))  # untraced (a long run): client_rss judges the RSS
    if traced and client_kib > cfg.memory_limit_kib:
        out.append(
            f"client-stack memory grew {client_kib:.1f} KiB (> {cfg.memory_limit_kib:g}{kept}):"
            f" {_some(r.memory_client_top, 4)}"
        )
    total_kib = (b.memory - a.memory - stores) / 1024
    if traced and total_kib > cfg.total_memory_limit_kib:
        out.append(
            f"traced memory grew {total_kib:.1f} KiB (> {cfg.total_memory_limit_kib:g}{kept}):"
            f" {_some(r.memory_top, 4)}"
        )
    keyed = keyed_bounds(len(cfg.clients))
    gained = retained.entries_gained(a.retained, b.retained)  # a store's entries, one each
    grown = {
        n: d - gained.get(n, 0)
        for n, d in r.object_growth.items()
        if d - gained.get(n, 0) > cfg.object_tolerance and n not in keyed
    }
    if grown:
        out.append(f"client-stack objects grew: {grown}")
    over = {n: b.objects.get(n, 0) for n, bound in keyed.items() if b.objects.get(n, 0) > bound}
    if over:
        out.append(f"more client-stack objects than keys they are kept for: {over} ({keyed})")
    return out


def simulator_resources(r: SoakReport) -> list[str]:
    """Nothing of the simulator process grew but its book (tasks, threads, fds)."""
    if len(r.checkpoints) < 2 or not r.checkpoints[-1].sim:
        return ["simulator checkpoints missing"]
    a, b = r.checkpoints[0].sim, r.checkpoints[-1].sim
    return [
        f"simulator {what} {a[what]} -> {b[what]}"
        for what in ("tasks", "threads", "fds", "connections")
        if a[what] != b[what]
    ]


def client_rss(r: SoakReport) -> list[str]:
    """The client process's RSS grew no more after the warm-up, at any checkpoint,
    than tracemalloc's cost and the soak's own records explain, give or take
    ``rss_limit_mib`` (``soak.rss``): what the client under test grew, traced or not."""
    return _rss(r, "client")


def simulator_rss(r: SoakReport) -> list[str]:
    """Likewise the simulator process, its order book (orders x the RSS one order
    costs, measured) aside."""
    return _rss(r, "simulator")


def _rss(r: SoakReport, process: str) -> list[str]:
    mine = [a for a in r.rss if a.process == process and a.rows]
    if not mine:
        return [f"no RSS account of the {process} process"]
    acc, limit = mine[0], r.config.rss_limit_mib
    out = []
    if acc.per_order > ORDER_BUDGET:
        out.append(
            f"one order costs the simulator {acc.per_order:.0f} B of RSS"
            f" (> {ORDER_BUDGET}: a leak on the order path would pass as its book)"
        )
    worst = max(acc.rows, key=lambda row: row.rest)
    if worst.rest / 1024 <= limit:
        return out
    explained = (
        f"tracemalloc {worst.tracemalloc / 1024:.1f} and the soak"
        if process == "client"
        else "the book"
    )
    return [
        *out,
        f"{process} RSS grew {worst.growth / 1024:.1f} MiB from request {acc.first[0]} to"
        f" {worst.at}; {explained} {worst.by_design / 1024:.1f} explain all but"
        f" {worst.rest / 1024:.1f} MiB (> {limit:g})",
    ]


# Codes (and the upgrade's HTTP status) with which OKX refuses a request for its rate.
RATE_CODES = ("50011", "50061", "60014", "429")
NEAR = 0.8  # at the limits, the busiest instrument used this much of its order limit
PRESS_FROM = 1000  # requests: a shorter run may end before the load reached the limits


def rate_limits(r: SoakReport) -> list[str]:
    """The simulator refused nothing for its rate (50011, 50061, 60014, HTTP 429): the
    client's limiter kept every request inside OKX's limits; at the limits, near them."""
    lim = r.limits
    if not lim:
        return ["the simulator's rate-limit figures are missing"]
    refused = lim.get("refusals", {})
    out = [
        f"the simulator answered {code} {refused[code]} times"
        for code in RATE_CODES
        if refused.get(code)
    ]
    if refused.get("429"):
        out.append(
            "each refused upgrade and the attempts in its second (ms before it):"
            f" {lim.get('refused_connects')}"
        )
    peak = lim.get("peaks", {}).get("order")
    pressed = r.config.at_limits and r.config.requests >= PRESS_FROM
    if pressed and (peak is None or peak[0] < NEAR * peak[1]):
        out.append(f"not at the limits: the busiest instrument took {peak} orders per window")
    return out


def late_arrivals(r: SoakReport) -> list[str]:
    """Every request the simulator received after its expTime was held up by a fault
    it injected (it names which), and it noted every one it refused as such."""
    lim = r.limits
    if not lim:
        return ["the simulator's expTime figures are missing"]
    late = lim.get("late", [])
    calls = {x.request_id: x for x in r.records if x.request_id}
    out = [
        f"request {rid} ({op}) arrived {ms} ms after its expTime, with no fault to delay it"
        + _call(calls.get(rid))
        for rid, op, ms, faults in late
        if not faults
    ]
    if lim.get("expired", 0) != len(late):
        out.append(f"the simulator refused {lim.get('expired')} as expired, noted {len(late)}")
    return out


def _call(rec: Any) -> str:
    if rec is None:
        return ""
    return f" (the call: {rec.outcome} {rec.detail} after {rec.duration * 1000:.0f} ms)"


def after_close(r: SoakReport) -> list[str]:
    """close() left nothing behind in the client process, nor a connection on the simulator."""
    ac, base = r.after_close, r.baseline
    if not ac:
        return ["the clients were not closed"]
    out = []
    if ac["sim_connections"]:
        out.append(f"the simulator still has {ac['sim_connections']} connections")
    if ac["main_tasks"]:
        out.append(f"tasks still running: {_some(ac['main_tasks'], 3)}")
    if not ac["client_loops_closed"]:
        out.append("the blocking client's loop is not closed")
    if ac["threads"] != base["threads"]:
        out.append(f"threads {base['threads']} -> {ac['threads']}")
    if ac["fds"] != base["fds"]:
        out.append(f"fds {base['fds']} -> {ac['fds']}")
    return out


def client_hygiene(r: SoakReport) -> list[str]:
    """No warning, unraisable exception or loop error in the client process."""
    return r.hygiene


def simulator_hygiene(r: SoakReport) -> list[str]:
    """Likewise in the simulator process (its own unclosed sockets included)."""
    return r.sim_hygiene


def runner(r: SoakReport) -> list[str]:
    """The soak itself could do what it had to (reconnect, quiesce, stop the simulator)."""
    return r.runner_errors


CHECKS: dict[str, Check] = {
    check.__name__: check
    for check in (
        issued,
        lost,
        duplicates,
        hung,
        unexpected,
        book,
        reconcile,
        never_sent,
        workload,
        phantoms,
        faults,
        recovery,
        subscriptions,
        restored,
        lost_bound,
        loop_lag,
        client_resources,
        simulator_resources,
        client_rss,
        simulator_rss,
        rate_limits,
        late_arrivals,
        market_books,
        after_close,
        client_hygiene,
        simulator_hygiene,
        runner,
    )
}


def run_checks(report: SoakReport) -> None:
    report.failures = {name: check(report) for name, check in CHECKS.items()}
