"""Load ``spec/*.yaml``, validate it completely, and turn it into a :class:`Spec`.

Validation happens in two passes, both reporting every problem with its path:
the meta-schema (``spec_format.yaml``) for shape, then :mod:`codegen.spec_rules`
for cross-references and examples.  Nothing is generated from a spec that
fails either pass.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .channels import ChannelSpec, OrderOpSpec, build_channels, build_order_ops
from .schema_check import Problem, SchemaChecker, format_path
from .spec_rules import check_rules

META_SCHEMA_FILE = Path(__file__).with_name("spec_format.yaml")
# libyaml's loader where PyYAML was built with it: the spec reads in 30 ms, not 210 ms.
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(path: Path) -> Any:
    """One YAML file, safely loaded (no Python tags), with libyaml when present."""
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)  # noqa: S506 - safe loaders


class SpecError(Exception):
    """The spec is invalid; ``problems`` holds one ``path: message`` line per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class OperationSpec:
    """One operation as the templates need it (class names already resolved)."""

    name: str
    op: str
    connection: str
    batch: bool
    max_items: int
    params_class: str
    response_item_class: str
    response_class: str
    doc: str
    resolved: tuple[tuple[str, str, str], ...] = ()  # (target, source, resolver) per x-resolve
    limits: tuple[LimitSpec, ...] = ()  # its own rate limit, then the shared ones it counts against
    batch_of_one_limits: tuple[LimitSpec, ...] = ()  # what a batch of one counts against instead


@dataclass(frozen=True)
class LimitSpec:
    """One OKX rate limit: ``count`` per ``window_s`` seconds in ``scope``."""

    name: str
    count: int
    window_s: int
    scope: str
    per_item: bool = False


@dataclass(frozen=True)
class Spec:
    """A validated spec: raw documents plus the resolved operation list (spec order)."""

    raw: Mapping[str, Any]
    definitions: Mapping[str, Any]  # includes inline params/response items, hoisted
    operations: tuple[OperationSpec, ...]
    limits: Mapping[str, LimitSpec] = field(default_factory=dict)  # spec/limits.yaml, by name
    channels: tuple[ChannelSpec, ...] = ()  # spec/channels.yaml, in spec order
    order_ops: tuple[OrderOpSpec, ...] = ()  # spec/tracking.yaml, in the operations' order


def pascal_case(snake: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in snake.split("_"))


def _read_documents(spec_dir: Path) -> tuple[dict[str, Any], dict[str, str]]:
    """Merge the top-level keys of every YAML file; remember which file holds which key."""
    merged: dict[str, Any] = {}
    origin: dict[str, str] = {}
    problems: list[str] = []
    files = sorted(spec_dir.glob("*.yaml"))
    if not files:
        raise SpecError([f"{spec_dir}: no *.yaml spec files"])
    for file in files:
        try:
            document = read_yaml(file)
        except yaml.YAMLError as exc:
            problems.append(f"{file}: invalid YAML: {exc}")
            continue
        if not isinstance(document, dict):
            problems.append(f"{file}: expected a mapping at the top level")
            continue
        for key, value in document.items():
            if key in merged:
                problems.append(f"{key}: defined in both {origin[key]} and {file}")
            merged[key] = value
            origin[key] = str(file)
    if problems:
        raise SpecError(problems)
    return merged, origin


def _render(problems: list[Problem], origin: Mapping[str, str]) -> list[str]:
    lines = []
    for problem in problems:
        source = origin.get(str(problem.path[0]), "") if problem.path else ""
        suffix = f"  ({source})" if source else ""
        lines.append(f"{format_path(problem.path) or '(spec)'}: {problem.message}{suffix}")
    return lines


def load_spec(spec_dir: Path) -> Spec:
    """Read and validate the spec in ``spec_dir``; raise :class:`SpecError` listing all problems."""
    raw, origin = _read_documents(spec_dir)
    meta = read_yaml(META_SCHEMA_FILE)
    problems = SchemaChecker(meta).check(raw, meta)
    if not problems:
        problems = check_rules(raw)
    if problems:
        raise SpecError(_render(problems, origin))
    return _build(raw)


def _class_for(schema: Mapping[str, Any], fallback: str, definitions: dict[str, Any]) -> str:
    """The model class of a params/response item schema, hoisting inline schemas."""
    if "$ref" in schema and len(schema) == 1:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if fallback in definitions:
        raise SpecError([f"definitions.{fallback}: clashes with an inline schema's class name"])
    definitions[fallback] = dict(schema)
    return fallback


def _resolved(schema: Mapping[str, Any], definitions: Mapping[str, Any]) -> tuple[Any, ...]:
    """``(target, source, resolver)`` for each property of ``schema`` marked ``x-resolve``."""
    schema = SchemaChecker({"definitions": definitions}).resolve(schema)
    return tuple(
        (name, prop["x-resolve"]["from"], prop["x-resolve"]["by"])
        for name, prop in (schema.get("properties") or {}).items()
        if "x-resolve" in prop
    )


def _limit(name: str, entry: Mapping[str, Any]) -> LimitSpec:
    return LimitSpec(
        name, entry["count"], entry["window_s"], entry["scope"], entry.get("per_item", False)
    )


def _op_limits(
    raw: Mapping[str, Any], entry: Mapping[str, Any], shared: Mapping[str, LimitSpec]
) -> tuple[LimitSpec, ...]:
    own = (_limit(entry["op"], entry["rate_limit"]),) if "rate_limit" in entry else ()
    return own + tuple(shared[name] for name in entry.get("shared_limits") or ())


def _build(raw: Mapping[str, Any]) -> Spec:
    definitions = dict(raw["definitions"])
    shared = {name: _limit(name, entry) for name, entry in (raw.get("limits") or {}).items()}
    operations = []
    for name, entry in raw["operations"].items():
        base = pascal_case(name)
        single = raw["operations"].get(entry.get("batch_of_one") or "")
        operations.append(
            OperationSpec(
                name=name,
                op=entry["op"],
                connection=entry["connection"],
                batch=entry["batch"],
                max_items=entry.get("max_items", 1),
                params_class=_class_for(entry["params"], f"{base}Params", definitions),
                response_item_class=_class_for(
                    entry["response_item"], f"{base}ResultItem", definitions
                ),
                response_class=f"{base}Response",
                doc=" ".join(entry["doc"].split()),
                resolved=_resolved(entry["params"], definitions),
                limits=_op_limits(raw, entry, shared),
                batch_of_one_limits=_op_limits(raw, single, shared) if single else (),
            )
        )
    taken = set(definitions)
    for operation in operations:
        if operation.response_class in taken:
            raise SpecError(
                [f"definitions.{operation.response_class}: clashes with a generated response class"]
            )
    try:
        channels = build_channels(raw, definitions)
    except ValueError as exc:
        raise SpecError([str(exc)]) from None
    return Spec(
        raw=raw,
        definitions=definitions,
        operations=tuple(operations),
        limits=shared,
        channels=channels,
        order_ops=build_order_ops(raw),
    )
