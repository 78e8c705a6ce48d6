"""Generation is a pure function of spec/: byte-identical on every run and equal to generated/."""

from __future__ import annotations

from pathlib import Path

from codegen.pipeline import build, write

ROOT = Path(__file__).resolve().parent.parent


def _tree(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file()}


def test_two_runs_are_byte_identical(tmp_path: Path) -> None:
    first = write(build(ROOT / "spec"), tmp_path / "a")
    second = write(build(ROOT / "spec"), tmp_path / "b")
    assert _tree(first) == _tree(second)


def test_committed_output_matches_the_spec(tmp_path: Path) -> None:
    fresh = write(build(ROOT / "spec"), tmp_path)
    assert _tree(fresh) == _tree(ROOT / "generated" / "okx_ws"), (
        "generated/okx_ws is stale: run `make generate`"
    )


def test_no_timestamps_in_output() -> None:
    for name, content in build(ROOT / "spec").items():
        assert "timestamp" not in content.split("\n", 3)[0].lower(), name
