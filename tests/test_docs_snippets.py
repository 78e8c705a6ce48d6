"""Every code block marked runnable in README.md and docs/ runs as written.

The convention: a fenced block whose info string is ``python {.runnable}``.
GitHub highlights it as Python (it reads the first word); MkDocs' superfences
reads ``{.runnable}`` as a CSS class, which the site shows as a "runs in CI"
badge.  Blocks without the marker (signatures, option tables, fragments) are
documentation only.

Each snippet runs in its own interpreter, exactly as a reader would paste it
into a file: complete, with its own imports and its own embedded simulator
(``okx_ws_sim``), ``asyncio.run`` instead of top-level ``await``.  A snippet
passes when it exits 0 with nothing on stderr: a warning, a logged error or a
"Task was destroyed" would be something a reader sees and should not.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MARKER = "python {.runnable}"
FENCE = re.compile(
    r"^(?P<indent> *)```(?P<info>[^\n`]*)\n(?P<code>.*?)^(?P=indent)```[ \t]*$", re.M | re.S
)
SNIPPET_TIMEOUT_S = 60
MAX_LINE = 79  # the site's code blocks show about this many characters without scrolling


@dataclass(frozen=True)
class Snippet:
    path: str  # relative to the repository
    line: int
    code: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


def documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def snippets_in(text: str, name: str) -> list[Snippet]:
    found = []
    for match in FENCE.finditer(text):
        if match["info"].strip() != MARKER:
            continue
        indent = len(match["indent"])
        code = "".join(line[indent:] for line in match["code"].splitlines(keepends=True))
        line = text.count("\n", 0, match.start()) + 1
        found.append(Snippet(name, line, code))
    return found


SNIPPETS = [
    snippet
    for path in documents()
    for snippet in snippets_in(path.read_text(encoding="utf-8"), path.relative_to(ROOT).as_posix())
]


def test_the_marker_is_found_in_the_readme_and_the_docs() -> None:
    """A typo in the convention would silently turn every snippet test off."""
    paths = {snippet.path for snippet in SNIPPETS}
    assert "README.md" in paths
    assert any(path.startswith("docs/guide/") for path in paths)
    assert len(SNIPPETS) >= 10, [str(s) for s in SNIPPETS]


@pytest.mark.parametrize("snippet", SNIPPETS, ids=str)
def test_snippet_reads_without_scrolling(snippet: Snippet) -> None:
    long = [line for line in snippet.code.splitlines() if len(line) > MAX_LINE]
    assert not long, f"{snippet}: lines over {MAX_LINE} characters: {long}"


def test_only_marked_blocks_are_collected_with_their_line_and_indent() -> None:
    text = (
        "intro\n\n```python\nnot run\n```\n\n- a list item:\n\n"
        "    ```python {.runnable}\n    if True:\n        print(1)\n    ```\n"
    )
    assert snippets_in(text, "x.md") == [Snippet("x.md", 9, "if True:\n    print(1)\n")]


def test_a_misspelt_marker_is_not_mistaken_for_documentation() -> None:
    """Near misses of the marker are reported, so a snippet meant to run cannot hide."""
    near = re.compile(r"^ *```(?P<info>[^\n`]*runnable[^\n`]*)$", re.M | re.I)
    for path in documents():
        for match in near.finditer(path.read_text(encoding="utf-8")):
            assert match["info"].strip() == MARKER, f"{path}: {match.group(0)!r}"


@pytest.mark.parametrize("snippet", SNIPPETS, ids=str)
def test_snippet_runs(snippet: Snippet, tmp_path: Path) -> None:
    script = tmp_path / "snippet.py"
    script.write_text(snippet.code, encoding="utf-8")
    # The checkout's own packages first (not an installed copy), as pytest imports them.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "generated")])}
    env.pop("PYTHONWARNINGS", None)
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=SNIPPET_TIMEOUT_S,
    )
    detail = f"{snippet} exited {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    assert result.returncode == 0, detail
    assert result.stderr == "", detail
