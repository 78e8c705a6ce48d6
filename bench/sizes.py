"""How much each phase does, for a full run and for ``--quick``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Sizes:
    warmup: int
    sequential: int
    # requests in flight -> total requests sent in that phase
    inflight: tuple[tuple[int, int], ...]
    inflight_timeout_s: float
    memory_clients: int
    import_runs: int
    generate_runs: int
    passes: int  # perf passes per client; the table shows each figure's median
    cold_clients: int  # fresh okx-ws clients per kind for the cold first order


FULL = Sizes(
    warmup=300,
    sequential=2000,
    inflight=((1, 2000), (100, 10_000), (1000, 10_000)),
    inflight_timeout_s=10.0,
    memory_clients=30,
    import_runs=7,
    generate_runs=2,
    # 5, not 3: in one quiet run the floor's own p50 spread 223-316 us across passes
    # (separate processes), so a median of 3 moved rows by +-15% and ranked noise.
    passes=5,
    cold_clients=7,
)
QUICK = Sizes(
    warmup=100,
    sequential=500,
    inflight=((1, 500), (100, 2000), (1000, 3000)),
    inflight_timeout_s=8.0,
    memory_clients=8,
    import_runs=3,
    generate_runs=1,
    passes=1,
    cold_clients=3,
)
