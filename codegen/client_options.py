"""The generated clients' constructor options, derived from ``okx_ws_core.ClientOptions``.

That dataclass is the one definition (name, type, default, doc); here each
field becomes a typed keyword argument of both generated constructors, whose
value ``None`` means "keep the default".  An option whose annotation names a
type this module does not know how to import stops generation with a clear
error instead of emitting code that does not type-check.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from okx_ws_core import ClientOptions

# Names an option annotation may use, and the import that provides each.
KNOWN_NAMES: dict[str, str] = {
    "logging": "import logging",
    "Mapping": "from collections.abc import Mapping",
    "Sequence": "from collections.abc import Sequence",
    # The generated code imports only from okx_ws_core's top level (its __all__).
    "TransportName": "from okx_ws_core import TransportName",
    "Connector": "from okx_ws_core import Connector",
    "RateLimitMode": "from okx_ws_core import RateLimitMode",
    "HttpTransport": "from okx_ws_core import HttpTransport",
}
BUILTINS = frozenset({"str", "int", "float", "bool", "None", "tuple", "list", "dict"})
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")  # a dotted name counts by its first part


@dataclass(frozen=True)
class ClientOption:
    name: str
    annotation: str  # without "| None"
    doc: str
    default: str


def _strip_none(annotation: str) -> str:
    parts = [p.strip() for p in annotation.split("|")]
    return " | ".join(p for p in parts if p != "None")


def client_options() -> tuple[ClientOption, ...]:
    return tuple(
        ClientOption(
            name=f.name,
            annotation=_strip_none(str(f.type)),
            doc=f.metadata["doc"],
            default=repr(f.default),
        )
        for f in dataclasses.fields(ClientOptions)
    )


def annotation_imports(options: tuple[ClientOption, ...]) -> str:
    """The import lines the options' annotations (and the clients' ``Sequence``) need."""
    needed = {"Sequence", "Mapping"}
    for option in options:
        needed.update(name.split(".")[0] for name in _NAME.findall(option.annotation))
    unknown = sorted(needed - BUILTINS - set(KNOWN_NAMES))
    if unknown:
        raise RuntimeError(
            f"ClientOptions annotations use {unknown}; add their imports to "
            "codegen/client_options.py KNOWN_NAMES"
        )
    return "\n".join(sorted({KNOWN_NAMES[name] for name in needed - BUILTINS}))
