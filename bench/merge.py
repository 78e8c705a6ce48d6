"""Combine repeated passes of one client into the figures the report shows.

The machine is shared and noisy, so every client is measured in several
passes, interleaved with the other clients (noise hits all of them alike).
Per phase, each figure (latency percentiles, req/s, CPU per request, server
load) is the **median** over the passes: one disturbed pass, fast or slow,
moves it least.  Failures are never averaged away: each phase reports the
worst lost/errors/mismatched count seen in any pass, and every pass's own
figures stay in ``all_passes``.
"""

from __future__ import annotations

import statistics
from typing import Any

BAD_FIELDS = ("lost", "not_sent", "errors", "mismatched")
# Per-phase fields that describe the phase rather than measure it.
_FIXED_FIELDS = ("phase", "sent", "window", "first_error", "timed_out")


def _median(values: list[Any]) -> Any:
    numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    return statistics.median(numbers) if numbers else None


def aggregation(passes: int) -> str:
    """How the table's figures were combined, as the table header and results.json say it."""
    return f"median of {passes} pass{'es' if passes != 1 else ''}"


def merge_passes(passes: list[dict[str, Any]]) -> dict[str, Any]:
    ok = [p for p in passes if "unavailable" not in p]
    if not ok:
        return dict(passes[0])
    merged = {k: v for k, v in ok[0].items() if k != "phases"}
    by_name: dict[str, list[dict[str, Any]]] = {}
    for result in ok:
        for phase in result["phases"]:
            by_name.setdefault(phase["phase"], []).append(phase)
    phases = []
    for name, runs in by_name.items():
        chosen: dict[str, Any] = {"phase": name}
        for field in runs[0]:
            if field in _FIXED_FIELDS or field in BAD_FIELDS:
                continue
            chosen[field] = _median([r.get(field) for r in runs])
        for field in BAD_FIELDS:
            chosen[field] = max(r.get(field, 0) for r in runs)
        chosen["sent"] = runs[0].get("sent")
        if "window" in runs[0]:
            chosen["window"] = runs[0]["window"]
        if "timed_out" in runs[0]:
            chosen["timed_out"] = any(r.get("timed_out") for r in runs)
        chosen["first_error"] = next((r["first_error"] for r in runs if r.get("first_error")), "")
        chosen["passes"] = len(runs)
        phases.append(chosen)
    merged["phases"] = phases
    merged["passes"] = len(ok)
    merged["aggregation"] = aggregation(len(ok))
    merged["failed_passes"] = [p["unavailable"] for p in passes if "unavailable" in p]
    merged["all_passes"] = [r["phases"] for r in ok]
    return merged
