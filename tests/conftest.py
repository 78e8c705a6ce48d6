"""Shared fixtures: an in-process simulator on a loopback port and fast client options.

Every interval is shortened here (pings every 0.2 s, 0.2 s pong timeout,
10-100 ms reconnect backoff) so no test waits for real multi-second timers.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from okx_ws_sim import (
    DEFAULT_API_KEY,
    DEFAULT_API_SECRET,
    DEFAULT_PASSPHRASE,
    Simulator,
    SimulatorThread,
)

FAST: dict[str, Any] = {
    "request_timeout": 2.0,
    "ping_interval": 0.2,
    "pong_timeout": 0.2,
    "reconnect_delay": 0.01,
    "reconnect_max_delay": 0.1,
    "attach_event_listeners": False,
}
CREDENTIALS: dict[str, str] = {
    "api_key": DEFAULT_API_KEY,
    "api_secret": DEFAULT_API_SECRET,
    "api_passphrase": DEFAULT_PASSPHRASE,
}


def subscribe_kwargs(channel: str) -> dict[str, Any]:
    """Keyword arguments of ``subscribe_<channel>`` from the spec's first subscribe example."""
    from pathlib import Path

    from codegen.channels import snake_case
    from codegen.spec_loader import read_yaml

    spec = read_yaml(Path(__file__).parent.parent / "spec" / "channels.yaml")
    args = spec["channels"][channel]["examples"]["subscribe"][0]["args"]
    return {snake_case(key): value for key, value in args.items()}


ROOT = Path(__file__).resolve().parent.parent


def spec_copy(tmp_path: Path, edits: Mapping[str, Callable[[dict[str, Any]], None]] = {}) -> Path:
    """A copy of ``spec/`` in ``tmp_path``; ``edits`` change its YAML files by name."""
    import yaml

    from codegen.spec_loader import read_yaml

    spec_dir = tmp_path / "spec"
    shutil.copytree(ROOT / "spec", spec_dir)
    for name, edit in edits.items():
        path = spec_dir / name
        document = read_yaml(path)
        edit(document)
        path.write_text(yaml.safe_dump(document, sort_keys=False))
    return spec_dir


def generate(spec_dir: Path, out_dir: Path) -> subprocess.CompletedProcess[str]:
    """``make generate`` from ``spec_dir`` into ``out_dir``; the caller reads the outcome."""
    return subprocess.run(
        [sys.executable, "-m", "codegen", "--spec", str(spec_dir), "--out", str(out_dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def run_against(script: str, out_dir: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``script`` in a fresh interpreter given the package in ``out_dir`` and the repo
    (argv[1], argv[2]), so it cannot mix with the real generated package."""
    return subprocess.run(
        [sys.executable, "-c", script, str(out_dir), str(ROOT)],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": ""},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


# Tests run on one xdist worker (make test runs the suite on several) when they share
# a resource in the checkout (mypy writes its cache to .mypy_cache), or a costly
# module-scoped fixture that each worker would otherwise build again: the docs site
# build (mkdocs, ~10 s) and the short soaks (~20 s each).
GROUPS: dict[str, tuple[str, ...]] = {
    "mypy-cache": (
        "tests/test_codegen_clients.py::test_generated_code_passes_mypy_strict",
        "tests/test_typed_dicts.py::",  # three of its tests run mypy
    ),
    "docs-site": ("tests/test_docs_site.py::",),
    "soak-short": ("tests/test_soak_short.py::",),
    "soak-at-limits": ("tests/test_soak_at_limits.py::",),
}
FIRST = ("tests/test_docs_site.py::",)  # long, though not marked slow


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The long tests first (``slow``, and :data:`FIRST`; a stable sort), so xdist, which
    hands tests out in this order, starts them early and its workers finish together."""
    items.sort(
        key=lambda item: not (item.get_closest_marker("slow") or item.nodeid.startswith(FIRST))
    )


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadgroup`` with :data:`GROUPS`: each group on one worker, every other
    test on its own.  xdist's own loadgroup reads ``xdist_group`` marks but renames
    node ids to do it, which pytest 9 ignores (its node ids are derived), so the marks
    were silently not grouped; a scheduler that names the scopes works on both."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class Grouped(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            for group, prefixes in GROUPS.items():
                if nodeid.startswith(prefixes):
                    return group
            return nodeid

    return Grouped(config, log)


def wait_until(predicate: Callable[[], object], what: str, limit: float = 5.0) -> None:
    """Poll another thread's progress (real time: the loop thread runs on its own)."""
    deadline = time.monotonic() + limit
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.001)


def client_options(sim_base_url: str, **overrides: Any) -> dict[str, Any]:
    return {**CREDENTIALS, **FAST, "base_url": sim_base_url, **overrides}


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(idle_timeout=5.0) as simulator:
        yield simulator


@pytest.fixture
def sim_thread() -> Iterator[SimulatorThread]:
    with SimulatorThread(idle_timeout=5.0) as simulator:
        yield simulator


@pytest.fixture(params=["httpx-ws", "websockets"])
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def book_frame(
    action: str, prev: int, seq: int, bids: Any, asks: Any, inst_id: str = "BTC-USDT"
) -> dict[str, Any]:
    """A ``books`` push as OKX sends it: rows ``[px, sz, "0", "1"]``, ``ts`` = the seqId."""
    data = {
        "bids": [[px, sz, "0", "1"] for px, sz in bids],
        "asks": [[px, sz, "0", "1"] for px, sz in asks],
        "ts": str(seq),
        "prevSeqId": prev,
        "seqId": seq,
    }
    return {"arg": {"channel": "books", "instId": inst_id}, "action": action, "data": [data]}
