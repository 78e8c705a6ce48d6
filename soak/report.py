"""What a run found (:class:`SoakReport`) and its printed summary."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .book import BookAudit
from .config import PUSH_GRACE_S, SoakConfig
from .fault_audit import Armed
from .faults import Fault
from .ledger import (
    API_ERROR,
    AUTH_ERROR,
    CONNECTION_LOST,
    HUNG,
    NEVER_SENT,
    OUTCOMES,
    RATE_LIMITED,
    TIMEOUT_UNKNOWN,
    Ledger,
    Record,
)
from .market_audit import MarketAudit
from .market_audit import summary_lines as _market
from .probes import BENIGN
from .reconciled import ReconcileAudit
from .retained import allowance, describe
from .rss import RssAccount, mib


@dataclass
class Checkpoint:
    """Resources of the client process, and of the simulator process, at one quiet moment."""

    label: str
    at_request: int
    tasks: dict[str, int]  # per event loop of the client process
    threads: list[str]
    fds: int
    fd_kinds: dict[str, int]
    memory: int  # traced bytes, the soak's own files excluded
    rss_kib: int
    objects: dict[str, int]  # live client-stack objects by type
    sim: dict[str, Any] = field(default_factory=dict)  # the simulator process's own figures
    client_growth: int = 0  # traced bytes since the first checkpoint, client-stack files
    other_growth: int = 0  # ... anywhere else in the client process
    mem: dict[str, Any] = field(default_factory=dict)  # MemoryProbe.summary (soak.rss)
    retained: dict[str, tuple[int, int]] = field(default_factory=dict)  # soak.retained.held


@dataclass
class SoakReport:
    config: SoakConfig
    elapsed: float = 0.0
    ledger: Ledger = field(default_factory=Ledger)
    plan: list[Fault] = field(default_factory=list)
    armed: list[Armed] = field(default_factory=list)
    fault_problems: list[str] = field(default_factory=list)
    sim_pending: list[Any] = field(default_factory=list)  # sim's own list of armed faults, cleared
    sim_fired: dict[str, int] = field(default_factory=dict)  # faults_injected at the end
    book: BookAudit = field(default_factory=BookAudit)
    reconciled: ReconcileAudit = field(default_factory=ReconcileAudit)
    checkpoints: list[Checkpoint] = field(default_factory=list)
    retained_per_entry: dict[str, float] = field(default_factory=dict)  # soak.retained.weigh
    object_holders: dict[str, dict[str, int]] = field(default_factory=dict)  # probes.holders
    memory_top: list[str] = field(default_factory=list)
    memory_client_growth: int = 0
    memory_other_growth: int = 0
    memory_client_top: list[str] = field(default_factory=list)
    object_growth: dict[str, int] = field(default_factory=dict)
    baseline: dict[str, Any] = field(default_factory=dict)
    after_close: dict[str, Any] = field(default_factory=dict)
    sim_final: dict[str, Any] = field(default_factory=dict)  # the simulator process's last word
    hygiene: list[str] = field(default_factory=list)  # client process
    hygiene_notes: dict[str, int] = field(default_factory=dict)  # soak.probes.BENIGN
    recovery: list[float] = field(default_factory=list)
    recovery_by_kind: dict[str, list[float]] = field(default_factory=dict)
    unrecovered: list[str] = field(default_factory=list)
    restoration: dict[str, dict[str, int]] = field(default_factory=dict)
    restoration_missing: list[str] = field(default_factory=list)
    probe_unpushed: list[str] = field(default_factory=list)
    # At each checkpoint: (label, client, subscriptions it remembers, private reconnects so
    # far); and every remembered subscription the simulator's link did not hold.
    restore_reads: list[tuple[str, str, int, int]] = field(default_factory=list)
    restore_missing: list[str] = field(default_factory=list)
    client_events: dict[str, dict[str, Any]] = field(default_factory=dict)
    late_replies: int = 0
    max_loop_lag: float = 0.0
    lost_bounds: dict[str, tuple[int, int]] = field(default_factory=dict)  # client -> (lost, bound)
    stuck_blocking: list[str] = field(default_factory=list)
    runner_errors: list[str] = field(default_factory=list)
    sim_info: dict[str, Any] = field(default_factory=dict)
    # The simulator's rate-limit refusals by code, peak use of each limit, late arrivals
    limits: dict[str, Any] = field(default_factory=dict)
    rss: list[RssAccount] = field(default_factory=list)  # client, simulator
    market: MarketAudit = field(default_factory=MarketAudit)  # the market phase (soak.market)
    sim_cost: dict[str, Any] = field(default_factory=dict)  # RSS per order (soak.simcost)
    failures: dict[str, list[str]] = field(default_factory=dict)  # check name -> messages

    # -- derived ----------------------------------------------------------------
    @property
    def records(self) -> list[Record]:
        return self.ledger.records

    @property
    def workload(self) -> list[Record]:
        return [r for r in self.ledger.records if r.kind != "probe"]

    @property
    def outcomes(self) -> Counter[str]:
        return self.ledger.outcomes()

    @property
    def lost(self) -> list[Record]:
        return self.ledger.open_records()

    @property
    def duplicates(self) -> int:
        return len(self.book.duplicates) + len(self.ledger.double_closes)

    @property
    def hung(self) -> list[Record]:
        limit = self.config.hang_margin
        return [
            r
            for r in self.ledger.records
            if r.outcome == HUNG or (r.closes and r.duration > r.timeout + limit)
        ]

    @property
    def sim_hygiene(self) -> list[str]:
        return list(self.sim_final.get("hygiene", []))

    @property
    def fired_faults(self) -> list[Armed]:
        return [a for a in self.armed if a.fired]

    @property
    def ok(self) -> bool:
        return not any(self.failures.values())

    @property
    def failed_checks(self) -> list[str]:
        return [name for name, messages in self.failures.items() if messages]


# -- summary ---------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))]


def _ms(value: float) -> str:
    return "-" if math.isnan(value) else f"{value * 1000:.0f}"


def _counts(counter: dict[str, int] | Counter[str]) -> str:
    return " ".join(f"{k}={n}" for k, n in sorted(counter.items())) or "none"


def _reason(detail: str) -> str:
    """A ConnectionLost reason / OKX code without its variable parts."""
    text = detail.split(" request id=")[0]
    for sep in ("(", "<", " id="):
        text = text.split(sep)[0]
    return text.strip()[:60] or "?"


def _header(r: SoakReport) -> list[str]:
    c = r.config
    return [
        f"okx-ws chaos soak: transport={c.transport_label} rate_limit={c.rate_limit}"
        + (" AT OKX'S LIMITS (simulator limits on, expTime stamped)" if c.at_limits else "")
        + f" seed={c.seed} requests={c.requests} faults={c.faults}"
        f" clients={','.join(c.clients)} api={c.api}"
        f" (async x{c.async_workers}, sync x{c.sync_workers}; timeout {c.request_timeout:g}s,"
        f" ping {c.ping_interval:g}s/{c.pong_timeout:g}s, reconnect"
        f" {c.reconnect_delay * 1000:g}-{c.reconnect_max_delay * 1000:g} ms)"
        + (f" PLANTED DEFECT: {c.plant}" if c.plant else ""),
        f"elapsed        {r.elapsed:.1f} s ({len(r.workload) / max(r.elapsed, 1e-9):.0f} requests/s)",
        f"requests       {len(r.workload)} workload + {len(r.records) - len(r.workload)} probes;"
        f" by op: {dict(Counter(x.op for x in r.workload))};"
        f" by kind: {dict(Counter(x.kind for x in r.workload))}",
    ]


def _faults(r: SoakReport) -> list[str]:
    armed = Counter(a.fault.kind for a in r.armed)
    fired = Counter(a.fault.kind for a in r.armed if a.fired)
    unfired = [a for a in r.armed if a.fired < a.units]
    lines = [
        f"faults         armed {len(r.armed)} (planned {len(r.plan)}), fired per the simulator"
        f" {len(r.fired_faults)}: "
        + ", ".join(f"{k} {fired[k]}/{n}" for k, n in sorted(armed.items())),
        f"  simulator    fired events {_counts(r.sim_fired)}",
    ]
    groups: dict[tuple[str, str, bool], list[Armed]] = {}
    for a in unfired:  # one line per kind and reason, numbers aside
        why = a.problem or a.excuse
        key = (a.fault.kind, re.sub(r"\d+(\.\d+)?", "N", why), bool(a.problem))
        groups.setdefault(key, []).append(a)
    for (kind, why, problem), items in sorted(groups.items()):
        shown = ", ".join(f"@{a.fault.trigger}" for a in items[:4])
        more = f" +{len(items) - 4}" if len(items) > 4 else ""
        mark = "NOT FIRED" if problem else "not fired"
        lines.append(f"  {mark:12} {kind} x{len(items)} ({shown}{more}): {why}")
    if r.sim_pending:
        lines.append(f"  sim armed    still armed when cleared, per the simulator: {r.sim_pending}")
    return lines


def _outcomes(r: SoakReport) -> list[str]:
    out = r.outcomes
    reasons = Counter(
        f"{x.outcome} {_reason(x.detail)}"
        for x in r.records
        if x.outcome in (CONNECTION_LOST, API_ERROR, AUTH_ERROR)
    )
    durations = [x.duration for x in r.records if x.closes]
    over = [x.duration - x.timeout for x in r.records if x.closes]
    c = r.config
    return [
        "outcomes       "
        + " ".join(f"{k}={out.get(k, 0)}" for k in OUTCOMES)
        + (f" OPEN={out['OPEN']}" if out.get("OPEN") else ""),
        "  details      " + ", ".join(f"{k}: {n}" for k, n in reasons.most_common(10)),
        "  lost bound   ConnectionLost vs. what private link deaths allow: "
        + ", ".join(f"{k} {v[0]} <= {v[1]}" for k, v in r.lost_bounds.items())
        + f"; max event-loop lag {r.max_loop_lag * 1000:.0f} ms",
        f"durations      p50 {percentile(durations, 50) * 1000:.1f} ms,"
        f" p99 {percentile(durations, 99) * 1000:.1f} ms,"
        f" max {max(durations, default=0) * 1000:.1f} ms; worst overrun past timeout"
        f" {max(over, default=0) * 1000:+.0f} ms (margin {c.hang_margin * 1000:g} ms)",
    ]


def _book(r: SoakReport) -> list[str]:
    b, out = r.book, r.outcomes
    return [
        f"invariants     lost={len(r.lost)} duplicates={r.duplicates} hung={len(r.hung)}"
        f" unexpected={out.get('unexpected', 0)} disagreements={len(b.disagreements)}"
        f" phantoms={len(b.phantoms)} never_sent_but_seen={len(b.never_sent_seen)}",
        f"book           {b.checked} reports judged against the simulator's book"
        f" ({b.lookups} clOrdIds looked up by find_order): {_counts(b.agreed)}",
        f"unknown fates  {out.get(TIMEOUT_UNKNOWN, 0)} timeouts (sent) +"
        f" {out.get(CONNECTION_LOST, 0)} connection lost, every item judged: {_counts(b.unknown)};"
        f" never sent ({sum(out.get(k, 0) for k in NEVER_SENT)}: auth, unsent timeouts, paced,"
        f" unresolved) verified absent: {b.never_sent_verified}; late replies (events)"
        f" {sum(e.get('late_replies', 0) for e in r.client_events.values())},"
        f" logged={r.late_replies}",
        f"reconcile()    {r.reconciled.asked} clOrdIds of unknown fate asked of the signed REST"
        f" API: {_counts(r.reconciled.verdicts)}; disagreements with the book:"
        f" {len(r.reconciled.disagreements)}",
    ]


def _recovery(r: SoakReport) -> list[str]:
    rec = r.recovery
    lines = [
        f"recovery       fault -> next successful order: p50 {_ms(percentile(rec, 50))} ms,"
        f" p99 {_ms(percentile(rec, 99))} ms, max {_ms(max(rec, default=math.nan))} ms"
        f" (n={len(rec)}, unrecovered={len(r.unrecovered)})",
        "  by kind      "
        + ", ".join(
            f"{k} p50 {_ms(percentile(v, 50))}/p99 {_ms(percentile(v, 99))} ms"
            for k, v in sorted(r.recovery_by_kind.items())
        ),
    ]
    for name, counts in r.restoration.items():
        ev = r.client_events.get(name, {})
        lines.append(
            f"subscriptions  {name}: private reconnects={counts['reconnects']}"
            f" restored(push seen)={counts['restored']} missing={counts['missing']}"
            f" unverifiable(no order before next reconnect)={counts['no_order_before_next']},"
            f" (link died within {PUSH_GRACE_S:g} s of every reply on it)"
            f"={counts.get('link_died_after_reply', 0)};"
            f" reconnected by connection={ev.get('reconnected')}"
        )
    for label, name, subs, reconnects in r.restore_reads:
        lines.append(
            f"  on the sim   {label}: {name}: {subs} subscriptions remembered, every one held"
            f" by its link unless listed in [restored]; private reconnects so far={reconnects}"
        )
    return lines


def _limits(r: SoakReport) -> list[str]:
    lim = r.limits
    if not lim:
        return []
    c = r.config
    paced = Counter(x.detail for x in r.records if x.outcome == RATE_LIMITED)
    refusals = lim.get("refusals", {})
    peaks = lim.get("peaks", {})
    late = lim.get("late", [])
    lines = [
        f"rate limits    simulator {'enforcing' if c.sim_rate_limits else 'not enforcing'}"
        f" OKX's limits; refused by code: {_counts(refusals)}; client refused before sending"
        f" (RateLimitExceeded, verified absent with the never-sent): {sum(paced.values())}"
        f" {dict(paced) if paced else ''}".rstrip()
    ]
    if peaks:
        lines.append(
            "  peak use     per window, as the simulator counted (used/limit): "
            + ", ".join(f"{name} {used}/{count}" for name, (used, count) in sorted(peaks.items()))
        )
    kinds = Counter(k for item in late for k in (item[3] or ("NONE",)))
    lines.append(
        f"  expTime      {lim.get('expired', 0)} requests arrived after their expTime"
        f" (expTime stamped: {c.stamp_exp_time}); faults of their time: {_counts(kinds)}"
        + (f"; latest {max(item[2] for item in late)} ms late" if late else "")
    )
    return lines


def _rss(r: SoakReport) -> list[str]:
    """Each process's RSS growth after the warm-up, attributed (``soak.rss``)."""
    lines, limit = [], r.config.rss_limit_mib
    for acc in r.rss:
        if not acc.rows:
            continue
        row, (at0, rss0) = acc.last, acc.first
        head = (
            f"  RSS {acc.process:9} at {at0} vs {row.at}: {rss0 / 1024:.1f} ->"
            f" {(rss0 + row.growth) / 1024:.1f} MiB ({mib(row.growth)}) ="
        )
        if acc.process == "client":
            how = (
                "none: untraced"
                if acc.untraced
                else "read untraced in a forked copy at each checkpoint"
                if acc.tm_measured
                else "NOT measured at every checkpoint: counted as the rest"
            )
            groups = ", ".join(f"{g} {mib(v)}" for g, v in acc.groups.items())
            records = (
                "the bytes of their frozen batches"
                if acc.untraced
                else f"their traced growth; traced growth by group: {groups}"
            )
            parts = (
                f" tracemalloc {mib(row.tracemalloc)} ({how}) + the soak's records"
                f" {mib(row.by_design)} ({records})"
            )
        else:
            cost = r.sim_cost
            if acc.per_order:
                halves = "/".join(f"{v:.0f}" for v in cost.get("per_order", []))
                priced = (
                    f"{acc.orders} more orders x {acc.per_order:.0f} B, measured untraced in a"
                    f" fresh simulator on the soak's mix: {halves} B per order in two halves"
                )
            else:
                why = cost.get("error") or "a short run: all its growth counts as the rest"
                priced = f"NOT priced ({why})"
            parts = f" the order book {mib(row.by_design)} ({priced})"
        lines.append(f"{head}{parts} + the rest {mib(row.rest)} MiB (limit {limit:g})")
    if any(len(acc.rows) > 1 for acc in r.rss):
        lines.append(
            "  rest by request  "
            + "; ".join(
                f"{acc.process}: " + ", ".join(f"{row.at} {mib(row.rest)}" for row in acc.rows)
                for acc in r.rss
            )
            + " MiB (a leak grows with the load; noise does not)"
        )
    return lines


def _rss_rows(r: SoakReport) -> list[str]:
    """Per checkpoint: the RSS as read, before the trim, untraced; what was traced."""
    if not r.checkpoints or not r.checkpoints[0].mem:
        return []
    cells = []
    for cp in r.checkpoints:
        m = cp.mem
        untraced = m.get("untraced_rss_kib", -1)
        groups = "/".join(f"{v / 2**20:.1f}" for v in m["groups"].values())
        cells.append(
            f"{cp.at_request}: {m['rss_kib'] / 1024:.0f} (found {m['rss_found_kib'] / 1024:.0f},"
            f" untraced {untraced / 1024 if untraced >= 0 else float('nan'):.0f})"
            f" tm {m['tracemalloc_kib'] / 1024:.1f} {groups}{_pymalloc(m)}"
        )
    keys = "/".join(r.checkpoints[0].mem["groups"])
    rows = [
        "  client    MiB  RSS (before trim, untraced), tracemalloc's tables, traced "
        f"{keys}, pymalloc's arenas/blocks: " + "; ".join(cells)
    ]
    sims = [cp for cp in r.checkpoints if "rss_kib" in cp.sim]
    if sims:
        rows.append(
            "  simulator MiB  RSS (before trim), orders, pymalloc's arenas/blocks: "
            + "; ".join(
                f"{cp.at_request}: {cp.sim['rss_kib'] / 1024:.0f}"
                f" (found {cp.sim.get('mem', {}).get('rss_found_kib', 0) / 1024:.0f})"
                f" {cp.sim.get('orders', 0)}{_pymalloc(cp.sim.get('mem', {}))}"
                for cp in sims
            )
        )
    return rows


def _pymalloc(mem: dict[str, Any]) -> str:
    arenas, blocks = mem.get("pymalloc_kib", -1), mem.get("pyblocks_kib", -1)
    return f" py {arenas / 1024:.0f}/{blocks / 1024:.0f}" if arenas >= 0 else ""


def _resources(r: SoakReport) -> list[str]:
    if len(r.checkpoints) < 2:
        return ["resources      checkpoints missing"]
    a, b = r.checkpoints[0], r.checkpoints[-1]
    sa, sb = a.sim, b.sim
    lines = [
        f"client process at request {a.at_request} vs {b.at_request}: tasks {a.tasks} -> {b.tasks};"
        f" threads {len(a.threads)} -> {len(b.threads)}; fds {a.fds} -> {b.fds}"
        f" {a.fd_kinds} -> {b.fd_kinds}; live client-stack objects"
        f" {sum(a.objects.values())} -> {sum(b.objects.values())}"
        f" (max type delta {max(r.object_growth.values(), default=0):+d})",
        f"  memory       traced growth in client-stack files"
        f" {r.memory_client_growth / 1024:+.1f} KiB (limit {r.config.memory_limit_kib:g});"
        f" elsewhere {r.memory_other_growth / 1024:+.1f} KiB; total {a.memory / 1024:.0f} ->"
        f" {b.memory / 1024:.0f} KiB; RSS {a.rss_kib} -> {b.rss_kib} KiB"
        if a.mem.get("blocks")
        else "  memory       not traced (a long run, or --trace-client off: the RSS is"
        f" judged untraced, see soak.rss); RSS {a.rss_kib} -> {b.rss_kib} KiB",
    ]
    if b.retained:
        stores = allowance(a.retained, b.retained, r.retained_per_entry)
        lines.append(
            "  bounded      by design, their growth aside (the rest"
            f" {(r.memory_client_growth - stores) / 1024:+.1f} KiB in client-stack files): "
            + describe(a.retained, b.retained, r.retained_per_entry)
        )
    if len(r.checkpoints) > 2 and a.mem.get("blocks"):
        lines.append(
            "  by request   traced growth since the first, client-stack / elsewhere: "
            + ", ".join(
                f"{c.at_request}: {c.client_growth / 1024:+.0f}/{c.other_growth / 1024:+.0f} KiB"
                for c in r.checkpoints[1:]
            )
        )
    if r.memory_top:
        lines.append("  top growth   " + "; ".join(r.memory_top[:4]))
    grown = {n: d for n, d in r.object_growth.items() if d > 0 and n in r.object_holders}
    for name, delta in sorted(grown.items(), key=lambda kv: -kv[1])[:3]:
        lines.append(f"  held by      {name} {delta:+d}: {r.object_holders[name]}")
    if sa and sb:
        orders = sb.get("orders", 0) - sa.get("orders", 0)
        growth = sb.get("memory", 0) - sa.get("memory", 0)
        lines.append(
            f"simulator pid  tasks {sa.get('tasks')} -> {sb.get('tasks')}; threads"
            f" {len(sa.get('threads', []))} -> {len(sb.get('threads', []))}; fds {sa.get('fds')}"
            f" -> {sb.get('fds')} {sa.get('fd_kinds')} -> {sb.get('fd_kinds')}; connections"
            f" {sa.get('connections')} -> {sb.get('connections')}"
        )
        if sb.get("mem", {}).get("blocks"):  # traced (diagnosis): what grew where
            lines.append(
                f"  memory       traced {sa.get('memory', 0) / 1024:.0f} ->"
                f" {sb.get('memory', 0) / 1024:.0f} KiB ({growth / 1024:+.1f}) for {orders}"
                f" more orders ({growth / max(orders, 1):.0f} B each)"
            )
        if sb.get("memory_top"):
            lines.append("  top growth   " + "; ".join(sb["memory_top"][:3]))
    lines += _rss(r) + _rss_rows(r)
    ac = r.after_close
    if ac:
        lines.append(
            f"after close()  client: tasks={len(ac['main_tasks'])} threads={ac['threads']}"
            f" (before: {r.baseline['threads']}) fds={ac['fds']} (before: {r.baseline['fds']})"
            f" loops closed={ac['client_loops_closed']}; simulator connections={ac['sim_connections']}"
        )
    return lines


def _hygiene(r: SoakReport) -> list[str]:
    sim = r.sim_hygiene
    lines = [
        f"hygiene        client process: {len(r.hygiene)} problems; simulator process:"
        f" {len(sim)} (warnings are errors; unraisable, thread and loop errors recorded)"
    ]
    lines += [f"  ! client: {p}" for p in r.hygiene[:10]]
    lines += [f"  ! simulator: {p}" for p in sim[:5]]
    for name, notes in (("client", r.hygiene_notes), ("simulator", r.sim_final.get("notes", {}))):
        for text, n in notes.items():
            why = BENIGN.get(text, "")
            lines.append(f"  benign       {name}: asyncio logged {text!r} {n} times ({why})")
    lines.append(f"simulator      {r.sim_info}")
    return lines


def _verdict(r: SoakReport) -> list[str]:
    if r.ok:
        return [f"RESULT: PASS ({len(r.failures)} checks)"]
    lines = [f"RESULT: FAIL ({', '.join(r.failed_checks)})"]
    for name in r.failed_checks:
        for message in r.failures[name][:5]:
            lines.append(f"  - [{name}] {message}")
    return lines


SECTIONS: tuple[Callable[[SoakReport], list[str]], ...] = (
    _header,
    _faults,
    _outcomes,
    _book,
    _limits,
    _recovery,
    _market,
    _resources,
    _hygiene,
    _verdict,
)


def summary(report: SoakReport) -> str:
    return "\n".join(line for section in SECTIONS for line in section(report))
