"""``python -m codegen [--spec DIR] [--out DIR]``: generate the okx_ws package from the spec."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .pipeline import build, write
from .spec_loader import SpecError

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m codegen", description=__doc__)
    parser.add_argument("--spec", type=Path, default=ROOT / "spec", help="spec directory (*.yaml)")
    parser.add_argument("--out", type=Path, default=ROOT / "generated", help="output directory")
    args = parser.parse_args(argv)
    try:
        files = build(args.spec)
    except SpecError as exc:
        print(
            f"codegen: invalid spec in {args.spec} ({len(exc.problems)} problems):", file=sys.stderr
        )
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    package_dir = write(files, args.out)
    print(f"codegen: wrote {len(files)} files to {package_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
