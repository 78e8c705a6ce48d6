"""spec/ -> generated/okx_ws/: validate, build every file in memory, then write.

Building everything before touching the output directory means a broken spec
or a generator failure leaves the previous output intact.
"""

from __future__ import annotations

from pathlib import Path

from .formatting import format_source
from .models_gen import PACKAGE, generate_models
from .render import render_package
from .spec_loader import load_spec


def build(spec_dir: Path) -> dict[str, str]:
    """File name -> final content of every file of the generated package."""
    spec = load_spec(spec_dir)
    models_source, requirements, rules = generate_models(spec)
    files = {"models.py": models_source, **render_package(spec, requirements, rules)}
    return {
        name: format_source(name, text) if name.endswith(".py") else text
        for name, text in sorted(files.items())
    }


def write(files: dict[str, str], out_dir: Path) -> Path:
    """Write ``files`` into ``out_dir/okx_ws``, removing files the spec no longer produces."""
    package_dir = out_dir / PACKAGE
    package_dir.mkdir(parents=True, exist_ok=True)
    for stale in package_dir.iterdir():
        if stale.is_file() and stale.name not in files:
            stale.unlink()
    for name, text in files.items():
        target = package_dir / name
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
    return package_dir
