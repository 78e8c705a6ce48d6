"""Compile the order book's sans-I/O core with mypyc, when it can be (issue #18).

Why: applying a one-level update in pure Python costs ~1.8x a plain dict's
time (the floor of ``python -m bench.book``); compiled, the same source meets
the issue's 1.5x.  The pure-Python modules stay beside the compiled ones and
are the fallback: a build without a C compiler, or with ``OKX_WS_COMPILE=0``,
is a pure-Python build, and nothing else changes.

Used two ways:

* as hatchling's custom build hook (``[tool.hatch.build.targets.wheel.hooks.custom]``
  in pyproject.toml): ``pip wheel .`` and ``pip install .`` ship the compiled
  modules with the ``.py`` sources; ``pip install -e .`` compiles them in place
  in the checkout;
* as a script, ``python hatch_build.py``: compile in place now (``make install``
  runs it, so the checkout's compiled book follows its sources).

Beside the compiled modules it writes ``compiled-from.txt``: the sha256 of each
source they were compiled from.  ``okx_ws_core.book`` refuses a compiled module
whose source has changed since (it loads the ``.py`` and warns), so a stale
build can never shadow newer code.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import sysconfig
import tempfile
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
BOOK = "okx_ws_core/book"
MODULES = ("levels", "orderbook")  # the hot path; the rest of the book stays interpreted
#: Named after the package so the runtime library mypyc builds for the group
#: (one shared object) lives inside it, not as a top-level module.
GROUP = "okx_ws_core.book._compiled"
MANIFEST = "compiled-from.txt"
ENV = "OKX_WS_COMPILE"  # "0": pure Python; "1": compile or fail; unset: compile if possible


def source_hashes(book_dir: Path) -> dict[str, str]:
    """``{"levels.py": sha256, ...}`` of the sources the compiled modules come from."""
    return {
        f"{m}.py": hashlib.sha256((book_dir / f"{m}.py").read_bytes()).hexdigest() for m in MODULES
    }


def manifest_text(book_dir: Path) -> str:
    return "".join(f"{name} {digest}\n" for name, digest in source_hashes(book_dir).items())


def compiled_files(root: Path) -> list[Path]:
    """The compiled modules, their runtime library and the manifest, as built in place."""
    book = root / BOOK
    found = [p for m in (*MODULES, "_compiled__mypyc") for p in book.glob(f"{m}.*.so")]
    found += [p for p in book.glob("*.pyd")]
    manifest = book / MANIFEST
    return found + ([manifest] if manifest.exists() else [])


def clean(root: Path = ROOT) -> None:
    for path in compiled_files(root):
        path.unlink()


def up_to_date(root: Path = ROOT) -> bool:
    """True if the in-place build exists and was compiled from the current sources."""
    book = root / BOOK
    manifest = book / MANIFEST
    return (
        manifest.exists()
        and manifest.read_text() == manifest_text(book)
        and len(compiled_files(root)) == len(MODULES) + 2
    )


def has_compiler() -> bool:
    cc = (sysconfig.get_config_var("CC") or "cc").split()[0]
    return shutil.which(os.environ.get("CC", cc).split()[0]) is not None


def compile_in_place(root: Path = ROOT) -> list[Path]:
    """Compile :data:`MODULES` next to their sources; returns the files written.

    Runs mypy (strict, from pyproject.toml) over the sources: a type error
    fails the build rather than compiling wrong code.
    """
    from mypyc.build import mypycify
    from setuptools import Distribution  # type: ignore[import-untyped,unused-ignore]

    clean(root)
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="okx-ws-mypyc-") as tmp:
        os.chdir(root)  # mypy reads [tool.mypy] here; paths are the module names
        try:
            extensions = mypycify(
                # silent: a type error elsewhere in the package (another mypy
                # version) does not block compiling the book; the book's own do.
                ["--follow-imports=silent", *(f"{BOOK}/{m}.py" for m in MODULES)],
                opt_level="3",
                group_name=GROUP,
                target_dir=str(Path(tmp) / "c"),
            )
            # A bare Distribution: setuptools' own reading of pyproject.toml
            # (package discovery, metadata) has no business in this step.
            dist = Distribution({"name": "okx-ws-book", "ext_modules": extensions})
            build_ext: Any = dist.get_command_obj("build_ext")
            build_ext.inplace = True
            build_ext.build_temp = str(Path(tmp) / "tmp")
            build_ext.build_lib = str(Path(tmp) / "lib")
            dist.run_command("build_ext")
        finally:
            os.chdir(cwd)
    book = root / BOOK
    (book / MANIFEST).write_text(manifest_text(book))
    return compiled_files(root)


def want_compiled() -> bool | None:
    """``False`` for ``OKX_WS_COMPILE=0``, ``True`` for ``1`` (compile or fail), else ``None``."""
    value = os.environ.get(ENV, "").strip()
    return None if not value else value not in ("0", "false", "no")


def try_compile(root: Path = ROOT) -> list[Path]:
    """Compile if wanted and possible; a pure-Python build otherwise (with a warning why)."""
    want = want_compiled()
    if want is False:
        clean(root)
        return []
    if want is None and not has_compiler():
        clean(root)
        warnings.warn("okx-ws: no C compiler found: the order book stays pure Python", stacklevel=1)
        return []
    try:
        return compile_in_place(root)
    except Exception as exc:  # mypyc, mypy or the compiler: fall back unless asked not to
        clean(root)
        if want:
            raise
        warnings.warn(
            f"okx-ws: compiling the order book failed ({exc}); it stays pure Python", stacklevel=1
        )
        return []


try:
    from hatchling.builders.hooks.plugin.interface import BuildHookInterface
except ImportError:  # run as a script, without hatchling
    BuildHookInterface = object  # type: ignore[misc,assignment,unused-ignore]


class CustomBuildHook(BuildHookInterface):  # type: ignore[misc,valid-type,unused-ignore]
    """hatchling's hook: compile for a wheel or an editable install, else nothing."""

    def dependencies(self) -> list[str]:
        if want_compiled() is False:
            return []
        return ["mypy>=1.10", "setuptools>=61", *self.metadata.core.dependencies]

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel":
            return
        root = Path(self.root)
        built = try_compile(root)
        if not built:
            return
        build_data["pure_python"] = False
        build_data["infer_tag"] = True
        if version != "editable":  # editable: imported from the checkout as they are
            for path in built:
                build_data["force_include"][str(path)] = str(path.relative_to(root))


if __name__ == "__main__":
    if "--clean" in sys.argv:
        clean()
    elif "--if-stale" in sys.argv and up_to_date():
        print("okx-ws: compiled order book up to date")
    else:
        files = try_compile()
        print(
            "okx-ws: order book compiled (mypyc): " + ", ".join(p.name for p in files)
            if files
            else "okx-ws: order book is pure Python"
        )
