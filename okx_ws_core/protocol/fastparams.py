"""A fast path for the common request: a plain dict of valid OKX-named fields (issue #20).

Why.  Validating an order with its pydantic model and dumping it back to OKX's
names is most of what the typed client adds to a request's CPU (two thirds of
the default's instructions over the raw runtime, landing 6): the model's Python
validators are called back from Rust, an instance is built only to be
serialized again.  Yet a trading bot sends the same kind of dict every time:
OKX's names, strings from a small set, decimal strings.

What.  :func:`compile_params` turns a params model's own pydantic *core schema*
(what its validator actually runs) into a few set look-ups and regexes, once per
model (:func:`fast_wire` keeps the result), which answer with the wire dict for
an item they can vouch for, or ``None``.  ``None`` sends the item through
pydantic as before, so every error, every coercion and every unusual input
(Python names, ``None`` values, models, a value outside its field's rules,
anything the compiler does not recognise) keeps exactly its old treatment.  The
contract, checked by a differential property test (``tests/test_fastparams.py``):
whenever the fast path answers, pydantic accepts the item and dumps the same
dict.  Only the key order may differ (the caller's here, the model's fields
there): OKX reads a JSON object by name.

The compiler refuses (returns no checker for) a model with anything it does not
know: a validator other than the generated "one of these is required" and
"retired name or value" rules, a serializer, a config key, a default other
than ``None``, a field type other than str, int, bool and str literals.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import BaseModel

__all__ = ["WIRES", "FastParams", "Unsupported", "compile_params", "fast_params", "fast_wire"]

# Config keys whose values the fast path reproduces (anything else: no fast path).
_CONFIG = {
    "validate_by_name": True,
    "validate_by_alias": True,
    "serialize_by_alias": True,
    "extra_fields_behavior": "forbid",
}
# Generated model validators (okx_ws/_model_base.py) whose rules the fast path applies.
_REQUIRED_ANY_OF = "_check_required_any_of"
_REFUSE_RETIRED = "_refuse_retired"


class Unsupported(Exception):
    """The schema holds something the fast path does not reproduce."""


INF = float("inf")


@dataclass(frozen=True, slots=True)
class FastParams:
    """One model's fast checker: its fields by OKX name and kind, and its model-level rules.

    Tables, not a function per field: a warm order runs no Python frame per field.
    """

    literals: Mapping[str, frozenset[str]]  # str fields with a set of values
    patterns: Mapping[str, Callable[[str], object]]  # str fields with a pattern: fullmatch
    lengths: Mapping[str, tuple[float, float]]  # other str fields, and bounded patterned ones
    bools: frozenset[str]
    ints: Mapping[str, tuple[float, float]]  # bounds, inclusive
    required: frozenset[str]
    any_of: tuple[frozenset[str], ...]  # at least one of each group must be given
    refused: tuple[tuple[str, str], ...]  # retired (field, value) pairs no table refuses

    def wire(self, item: dict[str, Any]) -> dict[str, Any] | None:
        """The item as OKX's ``args`` entry, or ``None``: let pydantic decide."""
        literals, patterns, lengths = self.literals, self.patterns, self.lengths
        for key, value in item.items():
            kind = type(value)
            if kind is str:
                allowed = literals.get(key)
                if allowed is not None:
                    if value not in allowed:
                        return None
                    continue
                match = patterns.get(key)
                if match is not None and match(value) is None:
                    return None
                bounds = lengths.get(key)
                if bounds is None:
                    if match is None:  # not a string field
                        return None
                elif not bounds[0] <= len(value) <= bounds[1]:
                    return None
            elif kind is bool:
                if key not in self.bools:
                    return None
            elif kind is int:
                bounds = self.ints.get(key)
                if bounds is None or not bounds[0] <= value <= bounds[1]:
                    return None
            else:
                return None
        keys = item.keys()
        if not keys >= self.required:
            return None
        for group in self.any_of:
            if keys.isdisjoint(group):
                return None
        for key, value in self.refused:
            if item.get(key) == value:
                return None
        return dict(item)  # a copy: the client fills instIdCode in without touching the caller's


Wire = Callable[[dict[str, Any]], "dict[str, Any] | None"]
#: model -> its fast path's ``wire`` (``None``: it has none); read by the caller as a dict,
#: so that a warm request enters this module once.
WIRES: dict[type[Any], Wire | None] = {}


def fast_params(model: type[BaseModel]) -> FastParams | None:
    """The model's fast checker, compiled anew; ``None`` if it has none."""
    try:
        return compile_params(model)
    except Unsupported:
        return None


def fast_wire(model: type[BaseModel]) -> Wire | None:
    """The model's fast path (``FastParams.wire``), compiled on first use; ``None`` if none."""
    if model not in WIRES:
        fast = fast_params(model)
        WIRES[model] = None if fast is None else fast.wire
    return WIRES[model]


def compile_params(model: type[BaseModel]) -> FastParams:
    """Compile ``model``'s core schema; raises :class:`Unsupported`."""
    node: Mapping[str, Any] = model.__pydantic_core_schema__
    any_of: tuple[frozenset[str], ...] = ()
    retired: tuple[tuple[str, str], ...] = ()
    while node["type"] in ("function-after", "function-wrap"):
        _keys(node, "type", "function", "schema", "ref", "metadata")
        name = getattr(node["function"].get("function"), "__name__", None)
        if name == _REQUIRED_ANY_OF and node["type"] == "function-after":
            any_of = tuple(frozenset(group) for group in model.required_any_of)  # type: ignore[attr-defined]
        elif name == _REFUSE_RETIRED and node["type"] == "function-wrap":
            # Retired names are not fields (unknown keys take pydantic's path); retired values:
            retired = tuple(model.retired_values)  # type: ignore[attr-defined]
        else:
            raise Unsupported(f"validator {name}")
        node = node["schema"]
    _keys(
        node,
        "type",
        "cls",
        "schema",
        "config",
        "ref",
        "metadata",
        "custom_init",
        "root_model",
        "post_init",
    )
    if (
        node["type"] != "model"
        or node["custom_init"]
        or node["root_model"]
        or node.get("post_init")
    ):
        raise Unsupported("not a plain model")
    for key, value in node["config"].items():
        if key != "title" and _CONFIG.get(key, not value) != value:
            raise Unsupported(f"config {key}={value!r}")
    fields = node["schema"]
    _keys(fields, "type", "fields", "model_name", "computed_fields")
    if fields["type"] != "model-fields" or fields.get("computed_fields"):
        raise Unsupported("not plain model fields")
    tables = _Tables()
    required: set[str] = set()
    for name, field in fields["fields"].items():
        _keys(field, "type", "schema", "validation_alias", "serialization_alias", "metadata")
        alias = field.get("validation_alias", name)
        if not isinstance(alias, str) or field.get("serialization_alias", name) != alias:
            raise Unsupported(f"field {name}: aliases")
        schema = field["schema"]
        if schema["type"] == "default":
            _keys(schema, "type", "schema", "default")
            if schema.get("default", ...) is not None:
                raise Unsupported(f"field {name}: a default other than None")
            schema = schema["schema"]
            if schema["type"] == "nullable":  # None values take pydantic's path (dropped there)
                _keys(schema, "type", "schema")
                schema = schema["schema"]
        else:
            required.add(alias)
        tables.add(alias, schema)
    fields_only = tables.freeze(frozenset(), (), ())
    # A retired value its field refuses anyway (today all: enums dropped them) costs nothing.
    refused = tuple((k, v) for k, v in retired if fields_only.wire({k: v}) is not None)
    return tables.freeze(frozenset(required), any_of, refused)


class _Tables:
    """The field tables of :class:`FastParams` while a model is compiled."""

    def __init__(self) -> None:
        self.literals: dict[str, frozenset[str]] = {}
        self.patterns: dict[str, Callable[[str], object]] = {}
        self.lengths: dict[str, tuple[float, float]] = {}
        self.bools: set[str] = set()
        self.ints: dict[str, tuple[float, float]] = {}

    def add(self, key: str, schema: Mapping[str, Any]) -> None:
        """Enter one field's value schema (under ``nullable`` and ``default``)."""
        kind = schema["type"]
        if kind == "literal":
            _keys(schema, "type", "expected", "metadata")
            allowed = frozenset(schema["expected"])
            if not all(type(value) is str for value in allowed):
                raise Unsupported(f"field {key}: a literal of other than strings")
            self.literals[key] = allowed
        elif kind == "bool":
            _keys(schema, "type", "strict", "metadata")
            self.bools.add(key)
        elif kind == "int":
            _keys(schema, "type", "strict", "ge", "le", "metadata")
            self.ints[key] = (schema.get("ge", -INF), schema.get("le", INF))
        elif kind == "str":
            _keys(schema, "type", "strict", "pattern", "min_length", "max_length", "metadata")
            bounds = (schema.get("min_length", 0), schema.get("max_length", INF))
            if "pattern" in schema:
                self.patterns[key] = _fullmatch(schema["pattern"])
            if "pattern" not in schema or bounds != (0, INF):
                self.lengths[key] = bounds
        else:
            raise Unsupported(f"field {key}: type {kind}")

    def freeze(
        self,
        required: frozenset[str],
        any_of: tuple[frozenset[str], ...],
        refused: tuple[tuple[str, str], ...],
    ) -> FastParams:
        return FastParams(
            self.literals,
            self.patterns,
            self.lengths,
            frozenset(self.bools),
            self.ints,
            required,
            any_of,
            refused,
        )


def _keys(node: Mapping[str, Any], *known: str) -> None:
    unknown = set(node) - set(known)
    if unknown:
        raise Unsupported(f"{node.get('type')}: {sorted(unknown)}")


def _fullmatch(pattern: str) -> Callable[[str], object]:
    """A Python matcher that accepts no text pydantic's Rust regex refuses.

    Only ``^...$`` patterns without other anchors, word boundaries or ``(?``
    groups: then Rust's ``is_match`` means the inside matches the whole text,
    which is ``fullmatch`` (Python's ``$`` would also match before a final
    newline).  ``re.ASCII`` makes ``\\d``, ``\\w`` and ``\\s`` subsets of Rust's
    Unicode classes, so anything else only ever sends more text to pydantic.
    """
    inner = pattern[1:-1]
    if not (
        pattern.startswith("^") and pattern.endswith("$") and not pattern.endswith("\\$")
    ) or any(token in inner for token in ("^", "$", "\\b", "\\B", "\\A", "\\Z", "\\z", "(?")):
        raise Unsupported(f"pattern {pattern!r}")
    return re.compile(inner, re.ASCII).fullmatch
