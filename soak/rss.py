"""Every MiB of both processes' RSS growth after the warm-up, attributed.

Between the first checkpoint (after the warm-up) and the last, each process's
RSS growth (read after ``malloc_trim``, before its snapshot: see
:class:`~soak.probes.MemoryReading`) is split into:

* **tracemalloc**: its own tables grow with the number of traced blocks.  What
  one block costs is measured, not assumed: at the last checkpoint tracing
  stops and the RSS is read again; the drop over the blocks traced gives the
  cost per block (tracemalloc's own count misses the C heap's overhead on its
  many small tables: about half of it);
* **by design**: the soak's bookkeeping in the client process (its frozen ledger
  and pushes, ``soak.ledger``, and the faults as armed with the simulator's
  counters: traced in the soak's files), the order book and request ids in the
  simulator process (traced in :data:`BOOK_FILES`), reported per order.  Both
  are also weighed at the end (the client swaps its records out to a file, the
  simulator drops its book, each reads its RSS again), for the report only: freed
  Python memory mostly stays with the allocator (a 100,000-request run's book of
  67.7 MiB traced gave back 3.0 MiB of RSS), so the drop prices nothing;
* **the rest**: the client under test's own growth (traced in its files or not:
  a C extension's leak shows only here), or the simulator's besides its book.
  Bounded by ``rss_limit_mib`` (``soak.checks.client_rss`` / ``simulator_rss``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SIM_HARNESS = ("*/soak/*", "*/tracemalloc.py", "<frozen importlib*>")
# What the simulator keeps per order and per request by design: the Order objects and
# their indexes (engine.py), the strings parsed from each request frame that an order
# or the request-id counter keeps (json), the counters themselves.
BOOK_FILES = (
    "*/okx_ws_sim/engine.py",
    "*/json/decoder.py",
    "*/okx_ws_sim/ws_api.py",
    "*/okx_ws_sim/stats.py",
    "*/collections/__init__.py",
)
SIM_GROUPS: dict[str, tuple[str, ...]] = {"harness": SIM_HARNESS, "book": BOOK_FILES}
KIB = 1024.0


@dataclass
class RssAccount:
    """One process's RSS growth between two checkpoints, in KiB."""

    process: str
    at: tuple[int, int]  # requests issued at the two checkpoints
    rss: tuple[int, int]  # RSS (KiB) at both
    growth: float
    tracemalloc: float  # its tables' growth: per_block x the blocks added
    per_block: float  # bytes tracemalloc costs per traced block (measured at the end)
    by_design: float  # the ledger (client) or the book (simulator)
    groups: dict[str, float] = field(default_factory=dict)  # traced growth per group
    rest: float = 0.0  # growth - tracemalloc - by design: the process's own
    measured: bool = False  # per_block measured by stopping tracemalloc
    weighed: float = -1.0  # the RSS drop when the by-design part was dropped (-1: not)
    per_traced: float = 1.0  # that drop per traced byte of it


def per_block_cost(last: dict[str, Any]) -> tuple[float, bool]:
    """Bytes of RSS per traced block, from the RSS drop when tracing stopped at ``last``."""
    untraced, blocks = last.get("untraced_rss_kib", -1), last.get("blocks", 0)
    if untraced < 0 or blocks <= 0:
        return 0.0, False
    return max(0.0, (last["rss_kib"] - untraced) * KIB / blocks), True


def account(
    process: str,
    first: dict[str, Any],
    last: dict[str, Any],
    at: tuple[int, int],
    by_design: str,
    weighed: dict[str, Any] | None = None,
    cost: tuple[float, bool] | None = None,
) -> RssAccount:
    """``weighed``: ``booked_rss_kib`` / ``unbooked_rss_kib``, the RSS before and after
    the by-design part was dropped at the end (reported only)."""
    per_block, measured = cost or per_block_cost(last)
    growth = float(last["rss_kib"] - first["rss_kib"])
    tm = per_block * (last["blocks"] - first["blocks"]) / KIB
    groups = {
        g: (last["groups"].get(g, 0) - first["groups"].get(g, 0)) / KIB for g in last["groups"]
    }
    designed, true_cost, per_traced = groups.get(by_design, 0.0), -1.0, 1.0
    traced_last = last["groups"].get(by_design, 0) / KIB
    if weighed and weighed.get("unbooked_rss_kib", -1) >= 0 and traced_last > 0:
        true_cost = float(weighed["booked_rss_kib"] - weighed["unbooked_rss_kib"])
        per_traced = true_cost / traced_last  # reported, not used: see the module doc
    return RssAccount(
        process,
        at,
        (first["rss_kib"], last["rss_kib"]),
        growth,
        tm,
        per_block,
        designed,
        groups,
        growth - tm - designed,
        measured,
        true_cost,
        per_traced,
    )


def mib(kib: float) -> str:
    return f"{kib / KIB:+.1f}"
