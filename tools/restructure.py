#!/usr/bin/env python3
"""Move okx_ws_core's flat modules into the subpackages that show its layers.

    python tools/restructure.py          # move, rewrite every reference, regenerate
    python tools/restructure.py --check  # only list flat modules missing from TABLE

Run it from a clean work tree: it ``git mv``s each module named in ``TABLE``,
writes each subpackage's ``__init__.py`` and the thin alias modules, then
rewrites every reference to a moved module in the repository: relative and
absolute imports (parsed with ``ast``, so ``from . import x``, lazy imports and
``import okx_ws_core.x as y`` are found too), dotted paths in strings
(``mock.patch("okx_ws_core.x.f")``, ``spec/okx-changes.yaml``'s code
references, docstrings, Markdown) and ``okx_ws_core/x.py`` file paths.  Last it
runs ``ruff check --fix`` (import order) and ``ruff format`` on the files it
changed, regenerates ``generated/`` and imports every module once.

It fails loudly, before touching anything, when ``okx_ws_core`` holds a flat
module that ``TABLE`` does not place (someone added one): add a row and rerun.
Run again on a tree already moved (for instance after merging branches that
still import the flat names), it moves what is still flat and repairs relative
imports that only resolve in the flat layout (``from .errors import`` in
``net/session.py``).  No new module's name repeats a flat one in another
subpackage, so such an import cannot silently resolve to the wrong module;
the closing smoke import and mypy catch anything else.
"""

from __future__ import annotations

import argparse
import ast
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PKG = "okx_ws_core"
CORE = ROOT / PKG

# Each flat module of okx_ws_core and its home, relative to okx_ws_core.
TABLE: dict[str, str] = {
    # protocol/: sans-I/O, imports no asyncio, httpx or websockets.
    "protocol": "protocol.frames",
    "signing": "protocol.signing",
    "endpoints": "protocol.endpoints",
    "ratelimit": "protocol.ratelimit",
    "timing": "protocol.timing",
    "api_codes": "protocol.api_codes",
    "late": "protocol.late",
    "inst_ids": "protocol.inst_ids",
    # transports/: the interface, the registry of backends, TLS, connect diagnosis.
    "transport": "transports.registry",
    "transport_interface": "transports.interface",
    "transport_websockets": "transports.websockets_backend",
    "transport_httpx": "transports.httpx_backend",
    "tls": "transports.tls",
    "connect_errors": "transports.connect_errors",
    # rest/: the one httpx wrapper and what uses it.
    "rest": "rest.queries",
    "rest_http": "rest.http",
    "clock": "rest.clock",
    "instruments": "rest.instruments",
    "instrument_store": "rest.instrument_store",
    # net/: the asyncio drivers of the protocol.
    "connection": "net.connection",
    "session": "net.session",
    "link": "net.link",
    "pacing": "net.pacing",
    # streams/: what reaches user code: events, channel streams, raw updates.
    "events": "streams.events",
    "channels": "streams.channels",
    "updates": "streams.updates",
    "stream_buffer": "streams.buffer",
    # orders/: the tracker and the fates (stamping, tracking, reconcile).
    "tracker": "orders.tracker",
    "reconcile": "orders.fates",
    # book/: the sans-I/O order book and its one driver.
    "orderbook": "book.orderbook",
    "book_levels": "book.levels",
    "book_resync": "book.resync",
    "book_channels": "book.channel_rules",  # not book.channels: a flat `.channels` means streams
    "book_stream": "book.stream",
    # client/: the async client, the blocking one and its loop thread.
    "client": "client.async_client",
    "sync_client": "client.sync_client",
    "loop_thread": "client.loop_thread",
    "blocking_tracker": "client.blocking_tracker",
    "facade": "client.facade",
}
# Stay at the top level: every layer raises errors.py's exceptions and reads
# options.py's ClientOptions; testing.py is the public test kit; lazy.py (a
# module imported on first use) imports nothing of the package.
STAY = frozenset({"__init__", "errors", "lazy", "options", "testing"})
# Old paths users are shown (examples/demo.py, docs/): kept as thin re-exporting
# modules, and left as they are in examples/, docs/ and README.md.
ALIASES = frozenset({"transport", "endpoints"})
USER_FACING = ("examples/", "docs/", "README.md")
# Names whose home moved before the layout did: imports inside okx_ws_core go
# to the home, so the import graph (and its contracts) sees the true edge.
NAME_MOVES: dict[str, dict[str, str]] = {
    "instruments": dict.fromkeys(
        ("inst_type_of", "INST_TYPES", "SPOT_SHAPED_INST_TYPE", "ANY_INST_TYPE"), "inst_ids"
    ),
    "transport": dict.fromkeys(
        (
            "CLOSE_TIMEOUT_S",
            "MAX_MESSAGE_BYTES",
            "Connector",
            "Transport",
            "TransportClosed",
            "TransportName",
        ),
        "transport_interface",
    ),
    "rest": {
        "RETRY_CODES": "rest_http",
        "RestAnswer": "rest_http",
        "rest_sign": "signing",
        "rest_timestamp": "signing",
        "RestAuthenticationError": "errors",
        "RestUnavailable": "errors",
    },
    "book_stream": {"PublicRest": "rest"},
}
PACKAGES: dict[str, str] = {
    "protocol": "OKX's protocol without I/O: operations, frames, signatures, endpoints,\n"
    "rate-limit windows, heartbeat timing, instId shapes, late replies.\n\n"
    "May import: the top-level errors only; never asyncio, httpx or websockets.",
    "transports": "The WebSocket transports: the interface, the registry of backends\n"
    "(websockets, httpx-ws), the shared TLS context, connect-failure diagnosis.\n\n"
    "May import: protocol.",
    "rest": "OKX's REST API: the one httpx wrapper and what uses it (signed and public\n"
    "queries, the clock, the instrument registry).\n\n"
    "May import: transports, protocol.",
    "net": "The asyncio drivers of the protocol: one socket (link), its requests\n"
    "(session), reconnects and login (connection), OKX's limits (pacing).\n\n"
    "May import: streams (events), transports, protocol.",
    "streams": "What reaches user code: events for handlers, typed channel streams, the\n"
    "raw updates stream and their buffers.\n\n"
    "May import: transports, protocol.",
    "orders": "Orders: the tracker and the fates (stamping expTime, feeding the tracker,\n"
    "reconcile over REST).\n\n"
    "May import: streams, rest, transports, protocol.",
    "book": "The order book: a sans-I/O book (levels, checksum, resync decisions) and\n"
    "BookStream, its driver over a channel stream and REST snapshots.\n\n"
    "May import: streams, rest, transports, protocol.",
    "client": "The clients: AsyncWebsocketClient, the blocking WebsocketClient and its\n"
    "loop thread.\n\n"
    "May import: every layer below.",
}
GENERATED_MARK = "# Written by tools/restructure.py."
TEXT_SUFFIXES = (".md", ".yaml", ".yml", ".j2", ".toml", ".cfg", ".mk", ".txt")
# pyproject.toml's contracts name the alias modules on purpose.
SKIP_DIRS = ("generated/", "tools/restructure.py", ".venv", "site/", "pyproject.toml")


class RestructureError(SystemExit):
    def __init__(self, message: str) -> None:
        super().__init__(f"restructure: {message}")


# -- the plan --------------------------------------------------------------------------


def flat_modules() -> list[str]:
    """okx_ws_core's flat modules, aliases already written by this script excepted."""
    names = []
    for path in sorted(CORE.glob("*.py")):
        if path.stem in ALIASES and GENERATED_MARK in path.read_text():
            continue
        names.append(path.stem)
    return names


def check_table() -> list[str]:
    """The flat modules to move; fails loudly on one TABLE does not place."""
    clashes = [
        f"{old} -> {home}"
        for old, home in TABLE.items()
        if home.split(".")[-1] in TABLE and TABLE[home.split(".")[-1]] != home
    ]
    if clashes:
        raise RestructureError(
            "a new module repeats the name of another flat module (a flat-style relative"
            f" import would find the wrong one): {', '.join(clashes)}"
        )
    unplaced = [name for name in flat_modules() if name not in TABLE and name not in STAY]
    if unplaced:
        raise RestructureError(
            "flat modules not in TABLE: "
            + ", ".join(f"okx_ws_core/{name}.py" for name in unplaced)
            + "\nadd each to TABLE in tools/restructure.py (its subpackage) and rerun"
        )
    return [name for name in flat_modules() if name in TABLE]


def new_name(old: str) -> str:
    """okx_ws_core.<old> -> its new dotted name (``old`` is relative to okx_ws_core)."""
    return f"{PKG}.{TABLE[old]}"


def module_exists(dotted: str) -> bool:
    parts = dotted.split(".")
    base = ROOT.joinpath(*parts)
    return base.with_suffix(".py").exists() or (base / "__init__.py").exists()


def map_module(dotted: str, *, bare_package: bool = False) -> str:
    """The new name of an absolute module name (unchanged when it did not move).

    With ``bare_package``, ``okx_ws_core.protocol`` alone names the new package
    (text already rewritten, or about the package), not the old module.
    """
    parts = dotted.split(".")
    if len(parts) < 2 or parts[0] != PKG or parts[1] not in TABLE:
        return dotted
    if bare_package and len(parts) == 2 and parts[1] in PACKAGES and module_exists(dotted):
        return dotted
    if parts[1] in PACKAGES and len(parts) > 2 and module_exists(".".join(parts[:3])):
        return dotted  # already a new name: okx_ws_core.protocol.frames
    # okx_ws_core.protocol names both the old module and the new package (whose
    # __init__ re-exports the old names): references go to the real home.
    return ".".join([*new_name(parts[1]).split("."), *parts[2:]])


# -- Python sources --------------------------------------------------------------------


@dataclass
class Edit:
    start: int  # line index (0-based) of the statement's first line
    end: int  # line index after its last line
    text: list[str]


def _resolve(level: int, module: str | None, package: str) -> str:
    """The absolute module a relative import names, from the importing file's package."""
    parts = package.split(".")
    if level > 1:
        parts = parts[: len(parts) - (level - 1)]
    return ".".join([*parts, module] if module else parts)


def _relative(target: str, package: str) -> tuple[int, str]:
    """``target`` as a relative import from ``package``: (level, module)."""
    here, there = package.split("."), target.split(".")
    common = 0
    while common < min(len(here), len(there)) and here[common] == there[common]:
        common += 1
    level = len(here) - common + 1
    return level, ".".join(there[common:])


def _import_line(indent: str, level: int, module: str, names: list[ast.alias]) -> str:
    source = "." * level + module
    listed = ", ".join(a.name if a.asname is None else f"{a.name} as {a.asname}" for a in names)
    return f"{indent}from {source} import {listed}\n"


def rewrite_python(
    source: str, package: str | None, old_package: str | None, *, user_facing: bool = False
) -> str:
    """Rewrite the imports of one file.  ``package`` is the package a relative import is
    read from (None outside okx_ws_core); ``old_package`` the one it was written for."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise RestructureError(f"cannot parse: {exc}") from exc
    lines = source.splitlines(keepends=True)
    edits: list[Edit] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            edit = _rewrite_from(node, lines, package, old_package, user_facing)
        elif isinstance(node, ast.Import):
            edit = _rewrite_import(node, lines)
        else:
            continue
        if edit is not None:
            edits.append(edit)
    for edit in sorted(edits, key=lambda e: e.start, reverse=True):
        lines[edit.start : edit.end] = edit.text
    return "".join(lines)


def _target(node: ast.ImportFrom, package: str | None, old_package: str | None) -> str | None:
    """The absolute (old-layout) module an ImportFrom names, or None if not okx_ws_core's."""
    if node.level == 0:
        return node.module if node.module and node.module.split(".")[0] == PKG else None
    if package is None:
        return None
    target = _resolve(node.level, node.module, old_package or package)
    if old_package is None and not module_exists(target):
        # Written for the flat layout in a file that has moved since: read it as flat.
        flat = _resolve(1, node.module, PKG)
        first = flat.split(".")[1:2]
        if first and (first[0] in TABLE or first[0] in STAY):
            return flat
    return target


def _rewrite_from(
    node: ast.ImportFrom,
    lines: list[str],
    package: str | None,
    old_package: str | None,
    user_facing: bool,
) -> Edit | None:
    target = _target(node, package, old_package)
    if target is None:
        return None
    if user_facing and target.split(".")[1:2] and target.split(".")[1] in ALIASES:
        return None  # examples keep the old public path (an alias module)
    # Group the imported names by their new home module.
    groups: dict[str, list[ast.alias]] = {}
    for alias in node.names:
        home = _home(target, alias.name, alias.asname, internal=package is not None)
        groups.setdefault(home[0], []).append(home[1])
    relative = node.level > 0
    indent = re.match(r"\s*", lines[node.lineno - 1]).group(0)  # type: ignore[union-attr]
    text = []
    for module, names in groups.items():
        if relative and package is not None:
            level, rel = _relative(module, package)
            text.append(_import_line(indent, level, rel, names))
        else:
            text.append(_import_line(indent, 0, module, names))
    original = "".join(lines[node.lineno - 1 : node.end_lineno])
    if "#" in original:
        # Keep a commented statement's text: only its module may change.
        if len(groups) != 1:
            raise RestructureError(f"commented import needs a split: {original.strip()}")
        module = next(iter(groups))
        old_source = "." * node.level + (node.module or "")
        new_source = module
        if relative and package is not None:
            level, rel = _relative(module, package)
            new_source = "." * level + rel
        if new_source == old_source:
            return None
        pattern = re.compile(r"from\s+" + re.escape(old_source) + r"\s+import")
        fixed, count = pattern.subn(f"from {new_source} import", original, count=1)
        if count != 1:
            raise RestructureError(f"cannot rewrite: {original.strip()}")
        return Edit(node.lineno - 1, node.end_lineno or node.lineno, [fixed])
    if "".join(text) == original or _same(original, text, node):
        return None
    return Edit(node.lineno - 1, node.end_lineno or node.lineno, text)


def _same(original: str, text: list[str], node: ast.ImportFrom) -> bool:
    """True when the rewrite names the same module the same way (keep the formatting)."""
    if len(text) != 1:
        return False
    first = text[0].strip().split(" import ")[0]
    return original.strip().startswith(first + " import")


def _home(target: str, name: str, asname: str | None, *, internal: bool) -> tuple[str, ast.alias]:
    """Where ``name``, imported from the (old-layout) module ``target``, lives now."""
    parts = target.split(".")
    alias = ast.alias(name=name, asname=asname)
    if len(parts) == 1:  # from okx_ws_core import <name>: a module, or a public name
        if name in TABLE:
            home = new_name(name).rsplit(".", 1)
            alias.name = home[1]
            if asname is None and home[1] != name:
                alias.asname = name  # the importing code keeps its name for the module
            return home[0], alias
        return target, alias
    if parts[1] in PACKAGES and module_exists(f"{target}.{name}"):
        return target, alias  # from okx_ws_core.protocol import frames: already new
    old = parts[1] if len(parts) == 2 else None
    if internal and old in NAME_MOVES and name in NAME_MOVES[old]:
        moved = NAME_MOVES[old][name]
        return f"{PKG}.{moved if moved in STAY else TABLE[moved]}", alias
    return map_module(target), alias


def _rewrite_import(node: ast.Import, lines: list[str]) -> Edit | None:
    changed = False
    names = []
    for alias in node.names:
        new = map_module(alias.name)
        if new != alias.name:
            changed = True
            if alias.asname is None:
                raise RestructureError(
                    f"`import {alias.name}` binds the old dotted name: write"
                    f" `import {alias.name} as ...` or `from ... import` (line {node.lineno})"
                )
        names.append(f"{new} as {alias.asname}" if alias.asname else new)
    if not changed:
        return None
    indent = re.match(r"\s*", lines[node.lineno - 1]).group(0)  # type: ignore[union-attr]
    return Edit(
        node.lineno - 1, node.end_lineno or node.lineno, [f"{indent}import {', '.join(names)}\n"]
    )


# -- dotted paths and file paths in any text ---------------------------------------------

_DOTTED = re.compile(r"\bokx_ws_core((?:\.[A-Za-z_]\w*)+)")
_FILE = re.compile(r"\bokx_ws_core/(\w+)\.py\b")
_JOINED = re.compile(r"""(["'])okx_ws_core\1(\s*/\s*)(["'])(\w+)\.py\3""")  # "okx_ws_core" / "x.py"
_BASENAME = re.compile(r"""(["'])(\w+)\.py\1""")
# Files that name okx_ws_core's modules by bare file name ("client.py"): a quoted
# basename of a moved module becomes the new one there, and nowhere else (the
# simulator has a protocol.py, a rest.py and a clock.py of its own).
BASENAME_FILES = frozenset({"tests/test_hardening_threads.py"})


def rewrite_text(text: str, *, user_facing: bool, fresh: frozenset[str] = frozenset()) -> str:
    """Dotted and file paths in any text.  ``fresh``: the modules moved by this run, whose
    bare old name (``okx_ws_core.rest``) still means the old module, not the package."""

    def dotted(match: re.Match[str]) -> str:
        parts = match.group(1).split(".")[1:]
        if parts[0] in ALIASES and user_facing:
            return match.group(0)
        return map_module(f"{PKG}.{'.'.join(parts)}", bare_package=parts[0] not in fresh)

    def path(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in TABLE:
            return match.group(0)
        return f"{PKG}/{TABLE[name].replace('.', '/')}.py"

    def joined(match: re.Match[str]) -> str:
        quote, slash, name = match.group(1), match.group(2), match.group(4)
        if name not in TABLE:
            return match.group(0)
        parts = TABLE[name].split(".")
        inner = slash.join(f"{quote}{p}{quote}" for p in [*parts[:-1], parts[-1] + ".py"])
        return f"{quote}okx_ws_core{quote}{slash}{inner}"

    return _JOINED.sub(joined, _FILE.sub(path, _DOTTED.sub(dotted, text)))


def rewrite_outside_imports(text: str, *, user_facing: bool, fresh: frozenset[str]) -> str:
    """:func:`rewrite_text` on every line of a Python file but its import statements."""
    tree = ast.parse(text)
    spans = {
        line
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for line in range(node.lineno - 1, node.end_lineno or node.lineno)
    }
    lines = text.splitlines(keepends=True)
    return "".join(
        line if number in spans else rewrite_text(line, user_facing=user_facing, fresh=fresh)
        for number, line in enumerate(lines)
    )


def rewrite_basenames(text: str) -> str:
    def basename(match: re.Match[str]) -> str:
        quote, name = match.group(1), match.group(2)
        if name not in TABLE:
            return match.group(0)
        return f"{quote}{TABLE[name].split('.')[-1]}.py{quote}"

    return _BASENAME.sub(basename, text)


# -- writing the new layout --------------------------------------------------------------


def public_names(path: Path) -> list[str]:
    """The names a module offers: its ``__all__``, else its public top-level definitions."""
    tree = ast.parse(path.read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            return [ast.literal_eval(e) for e in node.value.elts]  # type: ignore[attr-defined]
    names = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, ast.Assign):
            names += [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.append(node.target.id)
    return [n for n in names if not n.startswith("_")]


def reexport(docstring: str, module: str, names: list[str]) -> str:
    listed = "".join(f"    {n},\n" for n in names)
    quoted = "".join(f'    "{n}",\n' for n in names)
    return (
        f'"""{docstring}"""\n\n{GENERATED_MARK}\n\n'
        f"from {module} import (\n{listed})\n\n__all__ = [\n{quoted}]\n"
    )


def write_packages() -> list[Path]:
    """Each subpackage's ``__init__``: what lives there and what it may import, no names.

    Re-exporting from a subpackage's ``__init__`` would import the whole layer with
    any one module of it (and cycle through errors.py); public names are imported
    from ``okx_ws_core`` itself.
    """
    written = []
    for package, doc in PACKAGES.items():
        path = CORE / package / "__init__.py"
        if not path.parent.is_dir():
            continue
        if path.exists() and GENERATED_MARK not in path.read_text():
            continue  # written by hand since: leave it
        text = f'"""{doc}\n"""\n\n{GENERATED_MARK}\n'
        if path.exists() and path.read_text() == text:
            continue
        path.write_text(text)
        subprocess.run(["git", "add", str(path)], cwd=ROOT, check=True)
        written.append(path)
    return written


def write_aliases(names: dict[str, list[str]]) -> list[Path]:
    written = []
    for old in sorted(ALIASES):
        if old not in names:
            continue
        path = CORE / f"{old}.py"
        home = TABLE[old]
        doc = (
            f"Old path of :mod:`okx_ws_core.{home}`, kept for code written against it.\n\n"
            "New code imports the public names from ``okx_ws_core``.\n"
        )
        text = reexport(doc, f".{home}", names[old])
        if path.exists() and path.read_text() == text:
            continue
        path.write_text(text)
        subprocess.run(["git", "add", str(path)], cwd=ROOT, check=True)
        written.append(path)
    return written


# -- the run ---------------------------------------------------------------------------


def tracked_files() -> list[Path]:
    out = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    return [ROOT / line for line in out.splitlines() if not line.startswith(SKIP_DIRS)]


def package_of(path: Path) -> str | None:
    """The package a file's relative imports are read from (None outside okx_ws_core)."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    if parts[0] != PKG:
        return None
    return ".".join(parts[:-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="only check that TABLE is complete")
    args = parser.parse_args()
    to_move = check_table()
    if args.check:
        print(f"restructure: TABLE places every flat module ({len(to_move)} still flat)")
        return 0

    # Names the aliases must offer, read before the moves.
    aliases = {old: public_names(CORE / f"{old}.py") for old in to_move if old in ALIASES}

    fresh = frozenset(to_move)
    # 1. Move, remembering each moved file's old package for its relative imports.
    old_package: dict[Path, str] = {}
    for old in to_move:
        src = CORE / f"{old}.py"
        dst = ROOT / (new_name(old).replace(".", "/") + ".py")
        dst.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "mv", str(src), str(dst)], cwd=ROOT, check=True)
        old_package[dst] = PKG
    written = write_packages() + write_aliases(aliases)

    # 2. Rewrite every reference.
    changed: list[Path] = []
    for path in tracked_files():
        if not path.exists() or path in written:
            continue
        name = str(path.relative_to(ROOT))
        if path.suffix == ".py":
            text = path.read_text()
            facing = name.startswith(USER_FACING)
            # Strings, comments and docstrings first, the imports (already exact) apart.
            new = rewrite_outside_imports(text, user_facing=facing, fresh=fresh)
            new = rewrite_python(new, package_of(path), old_package.get(path), user_facing=facing)
            if name in BASENAME_FILES:
                new = rewrite_basenames(new)
        elif path.suffix in TEXT_SUFFIXES or path.name == "Makefile":
            text = path.read_text()
            new = rewrite_text(text, user_facing=name.startswith(USER_FACING), fresh=fresh)
        else:
            continue
        if new != text:
            path.write_text(new)
            changed.append(path)
    python = [str(p) for p in [*changed, *written] if p.suffix == ".py"]

    # 3. Import order and formatting of what changed; the generated package; a smoke import.
    if python:
        subprocess.run(
            [sys.executable, "-m", "ruff", "check", "--fix", "--select", "I", "-q", *python],
            cwd=ROOT,
            check=False,
        )
        subprocess.run(
            [sys.executable, "-m", "ruff", "format", "-q", *python], cwd=ROOT, check=True
        )
    subprocess.run(
        [sys.executable, "-m", "codegen", "--spec", "spec", "--out", "generated"],
        cwd=ROOT,
        check=True,
    )
    modules = sorted(
        ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for p in CORE.rglob("*.py")
    )
    smoke = "import importlib, sys\nfor m in sys.argv[1:]:\n    importlib.import_module(m)\n"
    result = subprocess.run([sys.executable, "-c", smoke, *modules], cwd=ROOT, check=False)
    if result.returncode != 0:
        raise RestructureError("a module no longer imports (see above)")
    print(
        f"restructure: moved {len(to_move)} modules, rewrote {len(changed)} files,"
        f" wrote {len(written)} package/alias modules"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
