"""Figures derived from the ledger and the clients' events (checked in ``soak.checks``)."""

from __future__ import annotations

import bisect
from collections.abc import Sequence

from .config import PUSH_GRACE_S
from .drivers import ClientSide
from .ledger import CONNECTION_LOST, PLACE_OPS, SUCCESS, Record
from .report import SoakReport
from .rss import client_account, simulator_account


def recovery(report: SoakReport) -> None:
    """For each armed fault: time until the next successful order started after it."""
    successes = sorted(
        (r.started, r.ended) for r in report.records if r.outcome == SUCCESS and r.op in PLACE_OPS
    )
    suffix_min = [float("inf")] * (len(successes) + 1)
    for i in range(len(successes) - 1, -1, -1):
        suffix_min[i] = min(successes[i][1], suffix_min[i + 1])
    starts = [s for s, _ in successes]
    for armed in report.armed:
        fault = armed.fault
        end = suffix_min[bisect.bisect_left(starts, fault.injected_at)]
        if end == float("inf"):
            report.unrecovered.append(f"{fault.kind}@{fault.trigger}")
            continue
        dt = end - fault.injected_at
        report.recovery.append(dt)
        report.recovery_by_kind.setdefault(fault.kind, []).append(dt)


def restoration(report: SoakReport, sides: Sequence[ClientSide]) -> None:
    """Subscriptions came back after every private reconnect: a push for an order placed
    over each new link (OKX pushes order state to every subscribed connection)."""
    for side in sides:
        pushes = side.push_times()
        mine = sorted(
            (r for r in report.records if r.client == side.name and r.outcome == SUCCESS),
            key=lambda r: r.started,
        )
        times = sorted(side.reconnects)
        closes = sorted(side.private_closes)
        counts = {
            "reconnects": len(times),
            "restored": 0,
            "no_order_before_next": 0,
            "link_died_after_reply": 0,
            "missing": 0,
        }
        for i, t0 in enumerate(times):
            # Orders issued after this link became usable and answered before the
            # next one existed were carried by this link.
            t1 = times[i + 1] if i + 1 < len(times) else float("inf")
            window = [r for r in mine if t0 <= r.started and r.ended < t1]
            ids = [cl for r in window for cl in (r.accepted or r.cl_ord_ids)]
            # The simulator pushes an order's state just after its reply: only an
            # order answered PUSH_GRACE_S before its link died must have been pushed.
            died = closes[bisect.bisect_left(closes, t0)] if closes and closes[-1] >= t0 else None
            due = [r for r in window if died is None or r.ended < died - PUSH_GRACE_S]
            if not ids:
                counts["no_order_before_next"] += 1
            elif any(t >= t0 for cl in ids for t in pushes.get(cl, ())):
                counts["restored"] += 1
            elif not due:
                counts["link_died_after_reply"] += 1
            else:
                counts["missing"] += 1
                report.restoration_missing.append(
                    f"{side.name}: reconnect #{i + 1}: no push for {len(ids)} orders placed on it"
                )
        report.restoration[side.name] = counts
        report.client_events[side.name] = {
            "reconnected": dict(side.reconnect_events),
            "exceptions": dict(side.exceptions),
            "late_replies": side.late_replies,
        }
        probes = [r for r in report.records if r.client == side.name and r.kind == "probe"]
        for probe in probes:
            if probe.outcome != SUCCESS:
                report.probe_unpushed.append(f"{side.name}: the final probe order {probe.outcome}")
            elif not any(pushes.get(cl) for cl in probe.cl_ord_ids):
                report.probe_unpushed.append(f"{side.name}: no push for the final probe order")


def lost_bounds(report: SoakReport, sides: Sequence[ClientSide], widths: dict[str, int]) -> None:
    """ConnectionLost only for requests in flight when a link died: at most one per
    concurrent caller per private link death (a 64008 notice or a login refusal may
    end a link without a "close" event of the current link: counted too)."""
    link_ends = sum(1 for a in report.armed if a.fault.kind in ("notice", "refuse_login"))
    for side in sides:
        lost = sum(1 for r in report.records if _mine(r, side) and r.outcome == CONNECTION_LOST)
        bound = (side.close_events.get("private", 0) + link_ends + 1) * widths[side.name]
        report.lost_bounds[side.name] = (lost, bound)


def _mine(r: Record, side: ClientSide) -> bool:
    return r.client == side.name


def rss(report: SoakReport) -> None:
    """Attribute both processes' RSS growth after the warm-up (``soak.rss``)."""
    cps = report.checkpoints
    if len(cps) < 2:
        return
    if all(cp.mem for cp in cps):
        report.rss.append(client_account([(cp.at_request, cp.mem) for cp in cps]))
    if all("rss_kib" in cp.sim for cp in cps):
        points = [(cp.at_request, cp.sim) for cp in cps]
        report.rss.append(simulator_account(points, report.sim_cost))
