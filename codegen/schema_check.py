"""A small JSON Schema checker for the subset the spec uses.

Hand-written so the generator needs no ``jsonschema`` dependency.  It checks
both the spec files against the meta-schema (``spec_format.yaml``) and the
spec's examples against the operation schemas, and reports *every* problem
with its location rather than stopping at the first.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    """One violation: where it is (a path into the instance) and what is wrong."""

    path: Path
    message: str


def format_path(path: Path, *, root: str = "") -> str:
    """Render ``("operations", "x", "required", 0)`` as ``operations.x.required[0]``."""
    text = root
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "boolean": (bool,),
    "integer": (int,),
}


def _is_type(value: object, name: str) -> bool:
    if name == "integer" and isinstance(value, bool):
        return False  # JSON booleans are not integers, unlike Python's
    return isinstance(value, _TYPES[name])


class SchemaChecker:
    """Validate instances against schemas whose ``$ref`` point into ``root``'s definitions."""

    def __init__(self, root: Mapping[str, Any]) -> None:
        self._definitions: Mapping[str, Any] = root.get("definitions") or {}

    def resolve(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        """Follow ``$ref`` (siblings such as ``description`` override the target)."""
        seen: set[str] = set()
        while "$ref" in schema:
            ref = schema["$ref"]
            name = ref.rsplit("/", 1)[-1]
            if ref in seen or name not in self._definitions:
                raise KeyError(ref)
            seen.add(ref)
            rest = {k: v for k, v in schema.items() if k != "$ref"}
            schema = {**self._definitions[name], **rest}
        return schema

    def check(self, value: object, schema: Mapping[str, Any], path: Path = ()) -> list[Problem]:
        """Every problem of ``value`` against ``schema``; empty when valid."""
        try:
            schema = self.resolve(schema)
        except KeyError as exc:
            return [Problem(path, f"unresolvable $ref {exc.args[0]!r}")]
        problems: list[Problem] = []
        expected = schema.get("type")
        if expected is not None and not _is_type(value, expected):
            return [Problem(path, f"expected {expected}, got {type(value).__name__} {value!r}")]
        if "enum" in schema and value not in schema["enum"]:
            problems.append(Problem(path, f"{value!r} is not one of {schema['enum']}"))
        if isinstance(value, str):
            problems += self._check_string(value, schema, path)
        if isinstance(value, int) and not isinstance(value, bool):
            if "minimum" in schema and value < schema["minimum"]:
                problems.append(Problem(path, f"{value} is less than {schema['minimum']}"))
            if "maximum" in schema and value > schema["maximum"]:
                problems.append(Problem(path, f"{value} is greater than {schema['maximum']}"))
        if isinstance(value, list):
            problems += self._check_array(value, schema, path)
        if isinstance(value, dict):
            problems += self._check_object(value, schema, path)
        return problems

    def _check_string(self, value: str, schema: Mapping[str, Any], path: Path) -> list[Problem]:
        problems = []
        if "pattern" in schema and re.search(schema["pattern"], value) is None:
            problems.append(Problem(path, f"{value!r} does not match {schema['pattern']!r}"))
        if "minLength" in schema and len(value) < schema["minLength"]:
            problems.append(Problem(path, f"{value!r} is shorter than {schema['minLength']}"))
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            problems.append(Problem(path, f"{value!r} is longer than {schema['maxLength']}"))
        return problems

    def _check_array(
        self, value: list[Any], schema: Mapping[str, Any], path: Path
    ) -> list[Problem]:
        problems = []
        if "minItems" in schema and len(value) < schema["minItems"]:
            problems.append(Problem(path, f"expected at least {schema['minItems']} items"))
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            problems.append(Problem(path, f"expected at most {schema['maxItems']} items"))
        if "items" in schema:
            for index, item in enumerate(value):
                problems += self.check(item, schema["items"], (*path, index))
        return problems

    def _check_object(
        self, value: dict[str, Any], schema: Mapping[str, Any], path: Path
    ) -> list[Problem]:
        problems = []
        properties: Mapping[str, Any] = schema.get("properties") or {}
        for name in schema.get("required") or ():
            if name not in value:
                problems.append(Problem((*path, name), "required property is missing"))
        if "minProperties" in schema and len(value) < schema["minProperties"]:
            problems.append(Problem(path, f"expected at least {schema['minProperties']} entries"))
        names_schema = schema.get("propertyNames")
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            if names_schema is not None:
                problems += [
                    Problem((*path, key), f"invalid name: {p.message}")
                    for p in self.check(key, names_schema, path)
                ]
            if key in properties:
                problems += self.check(item, properties[key], (*path, key))
            elif extra is False:
                problems.append(Problem((*path, key), "unknown property"))
            elif isinstance(extra, Mapping):
                problems += self.check(item, extra, (*path, key))
        for _, alternatives in requirement_groups(schema):
            if all(self.check(value, alt, path) for alt in alternatives):
                problems.append(
                    Problem(path, f"must match one of {_describe_any_of(alternatives)}")
                )
        return problems


def requirement_groups(schema: Mapping[str, Any]) -> list[tuple[Path, list[Mapping[str, Any]]]]:
    """The "at least one of" groups of an object schema, each with its path in the schema.

    One group is written ``anyOf: [{required: [a]}, {required: [b]}]``; several
    are written ``allOf: [{anyOf: ...}, {anyOf: ...}]``.
    """
    groups: list[tuple[Path, list[Mapping[str, Any]]]] = []
    if schema.get("anyOf"):
        groups.append((("anyOf",), list(schema["anyOf"])))
    for index, member in enumerate(schema.get("allOf") or ()):
        groups.append((("allOf", index, "anyOf"), list(member["anyOf"])))
    return groups


def _describe_any_of(alternatives: list[Mapping[str, Any]]) -> str:
    described = [
        "required " + ", ".join(alt["required"]) if set(alt) == {"required"} else repr(alt)
        for alt in alternatives
    ]
    return " | ".join(described)
