"""Every MiB of both processes' RSS growth after the warm-up, attributed.

Between the first checkpoint (after the warm-up) and each later one, each
process's RSS growth (read after a collection and ``malloc_trim``: see
:class:`~soak.probes.MemoryReading`) is split into what the measurement
costs, what grows by design, and *the rest*, which is judged.

**The simulator process** runs untraced (no check needs tracemalloc there, and
its tables and snapshots were most of what it added besides its book).  Its
book grows by design: every order it ever accepted stays findable (the soak
judges every report against it), with the request ids it saw.  What one order
costs in RSS is measured, not assumed (``soak.simcost``: the soak's own
request mix sent to a fresh simulator, untraced), so the book is the orders
added times that cost, and the rest is the simulator's own growth.

**The client process** is traced in short runs (``soak.checks.client_resources``
judges the traced growth in the client's files), but it never takes a
snapshot: at each checkpoint a forked copy of it does, then stops tracing and
reads the drop in its RSS (``soak.untraced``), which is what tracing's tables
cost there and then.  Tracing costs more than its tables, though: a
20,000-request run, same seed, same load, traced and untraced side by side,
left 10.7 vs 5.5 MiB to the rest (the traced process runs at half speed, and
its heap is laid out around two small C allocations per traced block), and the
gap grows with the run.  So a long run (``SoakConfig.traces_client``) leaves
the client untraced and its RSS is judged as it is.  The soak's own records
(its ledger and the clients' pushes, frozen into compressed batches, and the
faults as armed) grow by design: traced, all the soak's files hold; untraced,
the bytes of the frozen batches (the faults armed then count as the rest).
The rest is the client under test's growth, traced or not (a C extension's
leak shows only here).

Each rest is bounded by ``rss_limit_mib`` (``soak.checks.client_rss`` /
``simulator_rss``); the per-checkpoint rows show whether it is flat.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SIM_HARNESS = ("*/soak/*", "*/tracemalloc.py", "<frozen importlib*>")
KIB = 1024.0
# What one order may cost the simulator (soak.simcost measures ~1.2 KB: the Order, its
# Decimals and strings, its index entries, the request ids): a leak on the order path
# would be priced as the book, so its price is bounded too (soak.checks.simulator_rss).
ORDER_BUDGET = 2048


@dataclass(frozen=True)
class Row:
    """One checkpoint against the first, in KiB."""

    at: int  # requests issued
    growth: float
    tracemalloc: float
    by_design: float

    @property
    def rest(self) -> float:
        return self.growth - self.tracemalloc - self.by_design


@dataclass
class RssAccount:
    """One process's RSS growth after the warm-up, in KiB; ``rows[-1]`` is the last."""

    process: str
    first: tuple[int, int]  # (requests, RSS KiB) at the first checkpoint
    rows: list[Row] = field(default_factory=list)
    tm_measured: bool = False  # tracemalloc's cost read untraced at every checkpoint
    per_order: float = 0.0  # simulator: bytes of RSS per order (soak.simcost), 0: unknown
    orders: int = 0  # simulator: orders added since the first checkpoint
    groups: dict[str, float] = field(default_factory=dict)  # client: traced growth per group
    untraced: bool = False  # the process ran untraced

    @property
    def last(self) -> Row:
        return self.rows[-1]

    @property
    def rest(self) -> float:
        return self.last.rest

    @property
    def peak_rest(self) -> float:
        return max(row.rest for row in self.rows)


def _tracing_cost(mem: dict[str, Any]) -> float:
    """KiB the RSS fell when read untraced (0 when the process ran untraced)."""
    untraced = mem.get("untraced_rss_kib", -1)
    return float(mem["rss_kib"] - untraced) if untraced >= 0 else 0.0


def client_account(points: list[tuple[int, dict[str, Any]]]) -> RssAccount:
    """``points``: (requests issued, the client's ``MemoryProbe.summary``) per checkpoint."""
    (at0, first), later = points[0], points[1:]
    acc = RssAccount("client", (at0, first["rss_kib"]))
    acc.untraced = not first.get("blocks")
    acc.tm_measured = acc.untraced or all(m.get("untraced_rss_kib", -1) >= 0 for _, m in points)
    tm0 = _tracing_cost(first)
    for at, mem in later:
        if acc.untraced:  # the bytes of the frozen batches (the faults armed: the rest)
            soak = float(mem.get("records_kib", 0.0) - first.get("records_kib", 0.0))
        else:  # everything the soak's files hold
            soak = (mem["groups"].get("soak", 0) - first["groups"].get("soak", 0)) / KIB
        growth = float(mem["rss_kib"] - first["rss_kib"])
        acc.rows.append(Row(at, growth, _tracing_cost(mem) - tm0, soak))
    if later:
        last = later[-1][1]
        acc.groups = {
            g: (last["groups"].get(g, 0) - first["groups"].get(g, 0)) / KIB for g in last["groups"]
        }
    return acc


def simulator_account(points: list[tuple[int, dict[str, Any]]], cost: dict[str, Any]) -> RssAccount:
    """``points``: (requests issued, the simulator's ``resources``) per checkpoint;
    ``cost``: ``soak.simcost.order_cost`` (empty or failed: the book is not priced, so
    all its growth counts as the rest)."""
    (at0, first), later = points[0], points[1:]
    acc = RssAccount("simulator", (at0, first["rss_kib"]))
    acc.per_order = per_order(cost)
    acc.untraced = not first.get("mem", {}).get("blocks")
    acc.tm_measured = acc.untraced
    for at, sim in later:
        orders = sim["orders"] - first["orders"]
        growth = float(sim["rss_kib"] - first["rss_kib"])
        acc.rows.append(Row(at, growth, 0.0, orders * acc.per_order / KIB))
        acc.orders = orders
    return acc


def per_order(cost: dict[str, Any]) -> float:
    """Bytes of RSS per order over both measured halves (0.0: not measured)."""
    marks = cost.get("marks")
    if not marks or len(marks) < 3:
        return 0.0
    (_, o0, r0), (_, o1, r1) = marks[0], marks[-1]
    return max(0.0, float(r1 - r0) * KIB / max(int(o1 - o0), 1))


def mib(kib: float) -> str:
    return f"{kib / KIB:+.1f}"
