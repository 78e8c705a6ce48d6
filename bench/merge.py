"""Combine repeated passes of one client into the figures the report shows.

The machine is shared and noisy, so every client is measured in several
passes, interleaved with the other clients (noise hits all of them alike).
Per phase the best pass is kept (lowest p50 for the sequential phase,
highest req/s for in-flight phases): the least disturbed run is the best
estimate of what the code costs.  Failures are never averaged away: each
phase reports the worst lost/errors/mismatched count seen in any pass.
"""

from __future__ import annotations

from typing import Any

BAD_FIELDS = ("lost", "not_sent", "errors", "mismatched")


def _better(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Is phase ``a`` a less disturbed run than ``b``?"""
    if a["phase"] == "sequential":
        return bool(a["p50_us"] < b["p50_us"])
    return bool(a["req_per_s"] > b["req_per_s"])


def merge_passes(passes: list[dict[str, Any]]) -> dict[str, Any]:
    ok = [p for p in passes if "unavailable" not in p]
    if not ok:
        return dict(passes[0])
    merged = {k: v for k, v in ok[0].items() if k != "phases"}
    best: dict[str, dict[str, Any]] = {}
    worst: dict[str, dict[str, int]] = {}
    for result in ok:
        for phase in result["phases"]:
            name = phase["phase"]
            if name not in best or _better(phase, best[name]):
                best[name] = phase
            counts = worst.setdefault(name, dict.fromkeys(BAD_FIELDS, 0))
            for field in BAD_FIELDS:
                counts[field] = max(counts[field], phase.get(field, 0))
    phases = []
    for name, phase in best.items():
        chosen = dict(phase)
        chosen.update(worst[name])
        if not chosen.get("first_error"):
            chosen["first_error"] = next(
                (
                    p["first_error"]
                    for r in ok
                    for p in r["phases"]
                    if p["phase"] == name and p["first_error"]
                ),
                "",
            )
        phases.append(chosen)
    merged["phases"] = phases
    merged["passes"] = len(ok)
    merged["failed_passes"] = [p["unavailable"] for p in passes if "unavailable" in p]
    merged["all_passes"] = [r["phases"] for r in ok]
    return merged
