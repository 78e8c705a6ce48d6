"""TypedDicts with OKX's names for every operation's params (``OrderParamsDict``).

The models take snake_case keywords, which is what type checkers see; users
who write OKX's names write dicts, and these make a type checker catch a
misspelt key or a float price there too.  ``total=False`` with ``Required``
for the fields OKX always needs; an "at least one of" group stays optional
(the client enforces it before sending).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .channels import _literal
from .schema_check import SchemaChecker
from .spec_loader import Spec

_TYPES = {"string": "str", "boolean": "bool", "integer": "int"}


@dataclass(frozen=True)
class DictField:
    okx_name: str
    annotation: str
    required: bool
    doc: str


@dataclass(frozen=True)
class TypedDictSpec:
    name: str  # OrderParamsDict
    model: str  # OrderParams
    fields: tuple[DictField, ...]


def dict_name(model: str) -> str:
    return f"{model}Dict"


def _annotation(schema: Mapping[str, Any]) -> str:
    if "enum" in schema:
        return f"Literal[{', '.join(_literal(v) for v in schema['enum'])}]"
    return _TYPES.get(str(schema.get("type")), "Any")


def typed_dicts(spec: Spec) -> list[TypedDictSpec]:
    """One TypedDict per distinct params model, in the operations' order."""
    checker = SchemaChecker({"definitions": spec.definitions})
    seen: dict[str, TypedDictSpec] = {}
    for operation in spec.operations:
        model = operation.params_class
        if model in seen:
            continue
        schema = checker.resolve(spec.definitions[model])
        required = set(schema.get("required") or ())
        fields = []
        for name, sub in (schema.get("properties") or {}).items():
            resolved = {**checker.resolve(sub), **{k: v for k, v in sub.items() if k != "$ref"}}
            doc = " ".join(str(resolved.get("description", "")).split())
            fields.append(DictField(name, _annotation(resolved), name in required, doc))
        seen[model] = TypedDictSpec(dict_name(model), model, tuple(fields))
    return list(seen.values())
