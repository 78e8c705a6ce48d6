"""``python -m bench.trees --base REF``: okx-ws at an older commit against this tree, side by side.

Why: a refactor (issue #23's restructure, for one) must not make a request
slower, and two ``make bench`` runs taken at different times differ by more
than such a change from machine noise alone.  So this runs the *same* perf
worker rows for both trees in one run, interleaved pass by pass (base, this
tree, base, ...), against the *same* servers (this tree's ``bench.serve``:
only the client differs), and prints each figure's median per tree and the
ratio this/base.  The floor row runs the same code in both columns: its ratio
is an A/A control, the noise to read the other rows against.

The base is checked out with ``git worktree add --detach`` into a temporary
directory (removed afterwards).  Each worker runs in an *overlay* directory
holding this tree's ``bench`` package and one tree's ``okx_ws_core`` and
generated ``okx_ws`` (symlinks), on ``PYTHONPATH``: the measuring code is the
same for both, only the library under test differs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .__main__ import measure_perf

REPO = Path(__file__).resolve().parent.parent
FIGURES = (  # (label, phase, field)
    ("p50 µs", "sequential", "p50_us"),
    ("p99 µs", "sequential", "p99_us"),
    ("CPU µs/req seq", "sequential", "cpu_us_per_req"),
    ("req/s @100", "inflight-100", "req_per_s"),
    ("req/s @1000 (echo)", "inflight-1000", "req_per_s"),
    ("CPU µs/req @1000", "inflight-1000", "cpu_us_per_req"),
)
DEFAULT_CLIENTS = "floor,okx-ws-default,okx-ws-blocking-websockets"


def overlay(root: Path, library: Path) -> Path:
    """A directory with this tree's ``bench`` and ``library``'s okx-ws packages."""
    root.mkdir()
    (root / "bench").symlink_to(REPO / "bench")
    (root / "okx_ws_core").symlink_to(library / "okx_ws_core")
    (root / "okx_ws").symlink_to(library / "generated" / "okx_ws")
    return root


@contextmanager
def checkout(ref: str) -> Iterator[tuple[Path, Path]]:
    """Overlays for ``ref`` (a detached worktree) and for this tree; removed on exit."""
    with tempfile.TemporaryDirectory(prefix="bench-trees-") as tmp:
        tree = Path(tmp) / "tree"
        subprocess.run(
            ["git", "-C", str(REPO), "worktree", "add", "--detach", "-q", str(tree), ref],
            check=True,
        )
        try:
            yield overlay(Path(tmp) / "base", tree), overlay(Path(tmp) / "head", REPO)
        finally:
            subprocess.run(
                ["git", "-C", str(REPO), "worktree", "remove", "--force", str(tree)], check=False
            )


def _env(tree: Path) -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(tree), PYTHONDONTWRITEBYTECODE="")


def imported_from(tree: Path) -> str:
    """Where a worker started in ``tree`` finds okx-ws: printed, so the A/B shows its trees."""
    code = "import okx_ws, okx_ws_core; print(okx_ws.__file__, okx_ws_core.__file__)"
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tree, env=_env(tree)
    )
    return proc.stdout.strip() or proc.stderr.strip()


def run_worker(tree: Path, client: str, quick: bool) -> dict[str, Any]:
    """One perf pass of ``client`` from ``tree``, against fresh servers of this tree."""
    return measure_perf(client, "sim", quick, (tree, _env(tree)))


def figure(result: dict[str, Any], phase: str, field: str) -> float | None:
    for p in result.get("phases", ()):
        if p["phase"] == phase:
            value = p.get(field)
            return float(value) if isinstance(value, int | float) else None
    return None


def medians(runs: list[dict[str, Any]]) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for label, phase, field in FIGURES:
        values = [v for r in runs if (v := figure(r, phase, field)) is not None]
        out[label] = statistics.median(values) if values else None
    return out


def render(base: str, head: str, table: dict[str, dict[str, dict[str, float | None]]]) -> str:
    labels = [f[0] for f in FIGURES]
    lines = [
        f"{'client':28s} {'tree':10s} " + " ".join(f"{lab:>19s}" for lab in labels),
    ]
    for client, by_tree in table.items():
        for tree_name in (base, head):
            row = by_tree[tree_name]
            cells = [
                f"{row[lab]:>19,.1f}" if row[lab] is not None else f"{'—':>19s}" for lab in labels
            ]
            lines.append(f"{client:28s} {tree_name:10s} " + " ".join(cells))
        ratio = [
            f"{by_tree[head][lab] / by_tree[base][lab]:>19.3f}"  # type: ignore[operator]
            if by_tree[head][lab] and by_tree[base][lab]
            else f"{'—':>19s}"
            for lab in labels
        ]
        lines.append(f"{client:28s} {'this/base':10s} " + " ".join(ratio))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.trees", description=__doc__)
    parser.add_argument("--base", required=True, help="the older commit (any git ref)")
    parser.add_argument("--clients", default=DEFAULT_CLIENTS)
    parser.add_argument("--passes", type=int, default=5)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", type=Path, default=None, help="write the medians as JSON")
    args = parser.parse_args()
    clients = [c.strip() for c in args.clients.split(",") if c.strip()]
    base_sha = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", args.base],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    head_name = "this tree"
    runs: dict[str, dict[str, list[dict[str, Any]]]] = {
        c: {base_sha: [], head_name: []} for c in clients
    }
    started = time.perf_counter()
    with checkout(args.base) as (base_tree, head_tree):
        for name, tree in ((base_sha, base_tree), (head_name, head_tree)):
            print(f"trees: {name} imports {imported_from(tree)}", file=sys.stderr)
        for n in range(args.passes):
            # Alternate which tree goes first, so a drift in machine load is shared.
            trees = [(base_sha, base_tree), (head_name, head_tree)]
            if n % 2:
                trees.reverse()
            for client in clients:
                for name, tree in trees:
                    result = run_worker(tree, client, args.quick)
                    status = result.get("unavailable") or "ok"
                    print(f"trees: pass {n + 1} {client} {name}: {status}", file=sys.stderr)
                    if "unavailable" not in result:
                        runs[client][name].append(result)
    table = {c: {t: medians(r) for t, r in by_tree.items()} for c, by_tree in runs.items()}
    print(
        f"bench.trees: base {args.base} ({base_sha}) vs this tree, median of {args.passes}"
        f" interleaved passes, {'quick' if args.quick else 'full'} sizes, same servers;"
        f" {time.perf_counter() - started:.0f} s"
    )
    print(render(base_sha, head_name, table))
    if args.out is not None:
        args.out.write_text(json.dumps({"base": base_sha, "table": table}, indent=2) + "\n")


if __name__ == "__main__":
    main()
