"""Format generated sources with ruff, in memory, so output is identical wherever it is written.

Ruff runs with the project's pyproject.toml (found next to this package) and
``--stdin-filename`` pointing into the real ``generated/`` tree, so import
sorting and first-party detection do not depend on the output directory.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = PROJECT_ROOT / "pyproject.toml"


def _ruff() -> list[str]:
    found = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    return [found] if found else [sys.executable, "-m", "ruff"]


def _run(args: list[str], source: str) -> str:
    result = subprocess.run(
        [*_ruff(), *args], input=source, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"ruff {args[0]} failed:\n{result.stderr or result.stdout}")
    return result.stdout


def format_source(file_name: str, source: str) -> str:
    """``ruff check --fix`` (imports, pyupgrade) then ``ruff format`` one file's source."""
    stdin_name = str(PROJECT_ROOT / "generated" / "okx_ws" / file_name)
    common = ["--config", str(PYPROJECT), "--stdin-filename", stdin_name]
    fixed = _run(["check", "--fix", "--exit-zero", "--quiet", *common, "-"], source)
    return _run(["format", *common, "-"], fixed)
