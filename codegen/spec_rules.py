"""Checks on the spec that its meta-schema cannot express.

Cross-references (``required`` names, ``$ref`` targets, ``anyOf`` fields,
``x-resolve`` sources),
uniqueness of OKX ops, batch limits, and the examples themselves: a valid
example must pass the operation's schema and an invalid one must fail *at the
field it names*, so the spec cannot drift from the behaviour it documents.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Iterator, Mapping
from typing import Any

from .channels import channel_schemas, check_channels
from .schema_check import Path, Problem, SchemaChecker, format_path, requirement_groups

ENVELOPE = "ResponseEnvelope"
# Names the generated clients define themselves; an operation may not shadow them.
RESERVED_METHODS = frozenset(
    {
        "close",
        "connect_ws_api",
        "get_ws_client",
        "load_instruments",
        "set_time_offset_ms",
        "sync_time",
    }
)
WHOLE_REQUEST = "(params)"


def check_rules(spec: Mapping[str, Any]) -> list[Problem]:
    """Every semantic problem of a spec that already matches the meta-schema."""
    checker = SchemaChecker(spec)
    problems: list[Problem] = []
    definitions: Mapping[str, Any] = spec["definitions"]
    if ENVELOPE not in definitions:
        problems.append(Problem(("definitions",), f"{ENVELOPE!r} must be defined"))
    for schema_path, schema in _schemas(spec):
        problems += _check_schema(checker, schema_path, schema)
    seen_ops: dict[str, str] = {}
    for name, operation in spec["operations"].items():
        path: Path = ("operations", name)
        problems += _check_operation(checker, path, name, operation)
        problems += _check_limits(spec, path, operation)
        if operation["op"] in seen_ops:
            problems.append(
                Problem(
                    (*path, "op"),
                    f"op {operation['op']!r} is also used by {seen_ops[operation['op']]}",
                )
            )
        seen_ops.setdefault(operation["op"], name)
    problems += check_channels(spec, checker)
    problems += _check_changes(spec)
    return problems


def spec_path_exists(spec: Mapping[str, Any], dotted: str) -> bool:
    """Whether ``dotted`` (``definitions.X.properties.y``, ``...enum.value``) names
    something in the spec; used for ``okx_changes[*].spec_paths``."""
    node: Any = spec
    parts = dotted.split(".")
    for index, part in enumerate(parts):
        if isinstance(node, list):  # an enum: the rest names one value
            return ".".join(parts[index:]) in [str(v) for v in node]
        if not isinstance(node, Mapping) or part not in node:
            return False
        node = node[part]
    return True


def _check_changes(spec: Mapping[str, Any]) -> list[Problem]:
    problems = []
    for index, entry in enumerate(spec.get("okx_changes") or ()):
        for path_index, dotted in enumerate(entry.get("spec_paths") or ()):
            if not spec_path_exists(spec, dotted):
                problems.append(
                    Problem(
                        ("okx_changes", index, "spec_paths", path_index),
                        f"{dotted!r} does not exist in the spec",
                    )
                )
        if not (entry.get("spec_paths") or entry.get("runtime") or entry.get("not_followed")):
            problems.append(
                Problem(
                    ("okx_changes", index),
                    "name what follows it (spec_paths, runtime) or why not (not_followed)",
                )
            )
    return problems


def _schemas(spec: Mapping[str, Any]) -> Iterator[tuple[Path, Mapping[str, Any]]]:
    """Every schema object in the spec, nested ones included, with its path."""
    roots: list[tuple[Path, Mapping[str, Any]]] = [
        (("definitions", name), schema) for name, schema in spec["definitions"].items()
    ]
    for name, operation in spec["operations"].items():
        roots += [
            (("operations", name, key), operation[key]) for key in ("params", "response_item")
        ]
    roots += channel_schemas(spec)
    stack = list(reversed(roots))
    while stack:
        path, schema = stack.pop()
        yield path, schema
        for prop, sub in reversed(list((schema.get("properties") or {}).items())):
            stack.append(((*path, "properties", prop), sub))
        if "items" in schema:
            stack.append(((*path, "items"), schema["items"]))


def _check_schema(checker: SchemaChecker, path: Path, schema: Mapping[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    if "$ref" in schema:
        try:
            checker.resolve(schema)
        except KeyError:
            problems.append(Problem((*path, "$ref"), f"{schema['$ref']!r} is not defined"))
    if "pattern" in schema:
        try:
            re.compile(schema["pattern"])
        except re.error as exc:
            problems.append(Problem((*path, "pattern"), f"invalid regular expression: {exc}"))
    properties = schema.get("properties") or {}
    for index, name in enumerate(schema.get("required") or ()):
        if name not in properties:
            problems.append(Problem((*path, "required", index), f"{name!r} is not a property"))
    for group_path, alternatives in requirement_groups(schema):
        for alt_index, alternative in enumerate(alternatives):
            for index, name in enumerate(alternative["required"]):
                if name not in properties:
                    problems.append(
                        Problem(
                            (*path, *group_path, alt_index, "required", index),
                            f"{name!r} is not a property",
                        )
                    )
    for name, prop in properties.items():
        source = (prop.get("x-resolve") or {}).get("from")
        if source is not None and source not in properties:
            problems.append(
                Problem(
                    (*path, "properties", name, "x-resolve", "from"),
                    f"{source!r} is not a property of the same object",
                )
            )
    problems += _check_retired(path, schema)
    expected = schema.get("type")
    for index, value in enumerate(schema.get("enum") or ()):
        if expected is not None and checker.check(value, {"type": expected}):
            problems.append(Problem((*path, "enum", index), f"{value!r} is not a {expected}"))
    return problems


def _check_retired(path: Path, schema: Mapping[str, Any]) -> list[Problem]:
    """``x-retired`` on an object names retired properties, on an enum retired values;
    a retired one is no longer current, and its replacement is."""
    retired = schema.get("x-retired")
    if not retired:
        return []
    if "properties" in schema:
        current, what = set(schema["properties"]), "property"
    elif "enum" in schema:
        current, what = set(schema["enum"]), "enum value"
    else:
        return [Problem((*path, "x-retired"), "only an object or an enum can retire names")]
    problems = []
    for name, entry in retired.items():
        where: Path = (*path, "x-retired", name)
        if name in current:
            problems.append(Problem(where, f"{name!r} is retired but still a current {what}"))
        if entry["replacement"] not in current:
            problems.append(
                Problem(
                    (*where, "replacement"), f"{entry['replacement']!r} is not a current {what}"
                )
            )
        if entry["refused"] < entry["renamed"]:
            problems.append(Problem((*where, "refused"), "refused before it was renamed"))
    return problems


def _object_schema(
    checker: SchemaChecker, path: Path, schema: Mapping[str, Any]
) -> tuple[Mapping[str, Any] | None, list[Problem]]:
    try:
        resolved = checker.resolve(schema)
    except KeyError:
        return None, []  # reported by _check_schema
    if resolved.get("type") != "object":
        return None, [Problem(path, "must be an object schema (type: object)")]
    return resolved, []


def _check_limits(
    spec: Mapping[str, Any], path: Path, operation: Mapping[str, Any]
) -> list[Problem]:
    """``batch_of_one`` names a single operation; ``shared_limits`` name declared limits."""
    problems: list[Problem] = []
    declared = spec.get("limits") or {}
    for index, name in enumerate(operation.get("shared_limits") or ()):
        if name not in declared:
            problems.append(Problem((*path, "shared_limits", index), f"{name!r} is not in limits"))
    single = operation.get("batch_of_one")
    if single is not None:
        target = spec["operations"].get(single)
        if not operation["batch"]:
            problems.append(Problem((*path, "batch_of_one"), "only batch operations take it"))
        elif target is None or target["batch"]:
            problems.append(
                Problem((*path, "batch_of_one"), f"{single!r} is not a single operation")
            )
        elif "rate_limit" not in target:
            problems.append(Problem((*path, "batch_of_one"), f"{single!r} has no rate_limit"))
    return problems


def _check_operation(
    checker: SchemaChecker, path: Path, name: str, operation: Mapping[str, Any]
) -> list[Problem]:
    problems: list[Problem] = []
    if keyword.iskeyword(name) or name in RESERVED_METHODS or name.startswith("_"):
        problems.append(Problem(path, f"{name!r} cannot be a client method name"))
    batch, max_items = operation["batch"], operation.get("max_items")
    if batch and max_items is None:
        problems.append(Problem((*path, "max_items"), "a batch operation needs max_items"))
    if not batch and max_items not in (None, 1):
        problems.append(Problem((*path, "max_items"), "only batch operations take max_items"))
    params, found = _object_schema(checker, (*path, "params"), operation["params"])
    problems += found
    problems += _object_schema(checker, (*path, "response_item"), operation["response_item"])[1]
    if params is None:
        return problems
    request_schema: Mapping[str, Any] = operation["params"]
    if batch:
        request_schema = {
            "type": "array",
            "minItems": 1,
            "maxItems": max_items or 1,
            "items": request_schema,
        }
    examples = operation["examples"]
    for index, example in enumerate(examples["valid"]):
        where: Path = (*path, "examples", "valid", index)
        for problem in checker.check(example["params"], request_schema):
            problems.append(
                Problem((*where, "params"), f"{format_path(problem.path)}: {problem.message}")
            )
        for item_index, item in enumerate(example["response"]):
            for problem in checker.check(item, operation["response_item"]):
                problems.append(
                    Problem(
                        (*where, "response", item_index),
                        f"{format_path(problem.path)}: {problem.message}",
                    )
                )
    for index, example in enumerate(examples["invalid"]):
        where = (*path, "examples", "invalid", index)
        field = example["error_field"]
        if field != WHOLE_REQUEST and field not in (params.get("properties") or {}):
            if not _unknown_field_example(example["params"], field):
                problems.append(Problem((*where, "error_field"), f"{field!r} is not a property"))
        errors = _as_request_errors(checker.check(example["params"], request_schema))
        if not errors:
            problems.append(
                Problem((*where, "params"), "expected to be invalid but passes the schema")
            )
        elif not any(field in text for text in errors):
            problems.append(
                Problem(
                    (*where, "error_field"),
                    f"no error names {field!r}; errors: {'; '.join(errors)}",
                )
            )
    return problems


def _unknown_field_example(params: object, field: str) -> bool:
    """An example may name a field that is *not* a property when it tests that it is rejected."""
    items = params if isinstance(params, list) else [params]
    return any(isinstance(item, dict) and field in item for item in items)


def _as_request_errors(problems: list[Problem]) -> list[str]:
    """Render problems the way ``prepare_args`` locates them: ``[1].side``, ``(params)``."""
    return [f"{format_path(p.path) or WHOLE_REQUEST}: {p.message}" for p in problems]
