"""The layer contracts (pyproject.toml, ``make lint``) catch a module that breaks them.

A copy of the packages in a temporary directory gets one import that crosses a
layer; ``lint-imports`` must fail and name the broken contract and the import,
while the untouched copy passes.  Nothing in the working tree is changed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

pytestmark = pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter not installed")


def _copy(tmp_path: Path) -> Path:
    for package in ("okx_ws_core", "okx_ws_sim"):
        shutil.copytree(ROOT / package, tmp_path / package)
    shutil.copytree(ROOT / "generated" / "okx_ws", tmp_path / "generated" / "okx_ws")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": f"{tree}{os.pathsep}{tree / 'generated'}"}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_contracts_hold_and_a_crossing_import_breaks_them(tmp_path: Path) -> None:
    tree = _copy(tmp_path)
    kept = _lint(tree)
    assert kept.returncode == 0, kept.stdout + kept.stderr
    assert "0 broken" in kept.stdout

    # The sans-I/O protocol reaches up into the client: two contracts break.
    timing = tree / "okx_ws_core" / "protocol" / "timing.py"
    timing.write_text(timing.read_text() + "\nfrom ..client import async_client  # noqa\n")
    broken = _lint(tree)
    print(broken.stdout)
    assert broken.returncode != 0
    assert "protocol\nBROKEN" in broken.stdout or "protocol BROKEN" in broken.stdout
    assert "okx_ws_core.protocol.timing -> okx_ws_core.client.async_client" in broken.stdout
    assert "are sans-I/O (no asyncio, httpx, websockets) BROKEN" in broken.stdout
