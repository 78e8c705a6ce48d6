"""MkDocs hook: the spec's operation and channel pages, made at build time.

``on_config`` reads ``spec/`` with the generator's own loader (an invalid spec
fails the build with the generator's message) and expands the nav's
``Operations`` and ``Channels`` entries into one entry per page; ``on_files``
adds the pages themselves, so nothing generated is committed.  ``on_page_content``
drops the reST roles (``:class:``, ``:meth:``...) the code's docstrings use, so
they read as plain code on the site.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
for path in (ROOT, Path(__file__).resolve().parent):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from mkdocs.structure.files import File, Files  # noqa: E402
from spec_markdown import pages  # noqa: E402

from codegen.spec_loader import load_spec  # noqa: E402

_SECTIONS = {"Operations": "operations/", "Channels": "channels/"}
_ROLE = re.compile(r":(?:class|meth|func|mod|attr|exc|data|obj):(<code>)~?")
_pages: dict[str, str] = {}


def on_config(config: Any) -> Any:
    _pages.clear()
    _pages.update(pages(load_spec(ROOT / "spec")))
    for entry in config["nav"] or ():
        if isinstance(entry, dict):
            for title, prefix in _SECTIONS.items():
                if entry.get(title) == f"{prefix}index.md":
                    entry[title] = [f"{prefix}index.md"] + [
                        {path[len(prefix) : -3]: path}
                        for path in _pages
                        if path.startswith(prefix) and not path.endswith("index.md")
                    ]
    return config


def on_files(files: Files, config: Any) -> Files:
    for path, markdown in _pages.items():
        files.append(File.generated(config, path, content=markdown))
    return files


def on_page_content(html: str, **_: Any) -> str:
    return _ROLE.sub(r"\1", html)
