"""Channels and order tracking in the spec: load, check, and shape for the templates.

``spec/channels.yaml`` declares OKX's push channels (name, connection, the
schema of one subscription argument, the schema of one pushed item, doc and
examples); ``spec/tracking.yaml`` declares how each operation changes orders.
This module turns both into what the templates need:

* every channel's ``args`` and ``push_item`` schemas are hoisted into the
  definitions as ``<Name>Args`` and ``<Name>PushItem`` (nested objects as
  ``<Name>Push<Field>``), so datamodel-code-generator emits them with the
  operations' models.  Push models get ``additionalProperties: true``: fields
  OKX adds later are kept on the model, never fatal.
* each argument property becomes one parameter of the generated
  ``subscribe_<name>`` methods, typed from its schema (an enum is a
  ``Literal``; a ``default`` is the Python default, else ``None``).
"""

from __future__ import annotations

import keyword
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .schema_check import Path, Problem, SchemaChecker, format_path

# Names the generated clients define themselves besides the operation methods.
CLIENT_METHODS = frozenset({"track_orders", "wait_for", "reconcile", "tracked_order"})
_PY_TYPES = {"string": "str", "boolean": "bool", "integer": "int"}


@dataclass(frozen=True)
class ChannelParam:
    """One argument of a generated ``subscribe_<name>`` method."""

    name: str  # snake_case Python name
    okx_name: str
    annotation: str  # without "| None"
    default: str  # Python literal ("None" when the spec gives none)
    doc: str
    required: bool = False  # required by the spec and without a default: no Python default


@dataclass(frozen=True)
class ChannelSpec:
    """One channel as the templates need it (class names already resolved)."""

    name: str  # python name: subscribe_<name>
    channel: str  # OKX's channel name
    connection: str
    role: str | None
    args_class: str
    item_class: str
    params: tuple[ChannelParam, ...]
    doc: str
    login: bool = False
    name_suffix_arg: str | None = None
    row_columns: tuple[str, ...] = ()
    book: str | None = None


@dataclass(frozen=True)
class OrderOpSpec:
    """How one operation changes orders (spec/tracking.yaml)."""

    name: str  # operation (python) name
    op: str  # OKX op
    effect: str
    exp_time: bool
    lookup: str


def pascal_case(snake: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in snake.split("_"))


def snake_case(camel: str) -> str:
    out = ""
    for char in camel:
        out += f"_{char.lower()}" if char.isupper() else char
    return out.lstrip("_")


# -- checks -----------------------------------------------------------------------


def channel_schemas(spec: Mapping[str, Any]) -> Iterator[tuple[Path, Mapping[str, Any]]]:
    """The root schemas of every channel (for the generic schema checks)."""
    for name, channel in (spec.get("channels") or {}).items():
        for key in ("args", "push_item"):
            yield ("channels", name, key), channel[key]


def check_channels(spec: Mapping[str, Any], checker: SchemaChecker) -> list[Problem]:
    """Semantic problems of the channels and the tracking table (the shape is checked already)."""
    problems: list[Problem] = []
    operations = spec["operations"]
    for name in operations:
        if name in CLIENT_METHODS:
            problems.append(Problem(("operations", name), f"{name!r} is a client method"))
    seen: dict[tuple[str, str], str] = {}
    roles: dict[tuple[str, str], str] = {}
    for name, channel in (spec.get("channels") or {}).items():
        path: Path = ("channels", name)
        if keyword.iskeyword(name) or name.startswith("_"):
            problems.append(Problem(path, f"{name!r} cannot be part of a method name"))
        if f"subscribe_{name}" in operations:
            problems.append(Problem(path, f"subscribe_{name} is also an operation"))
        where = (channel["connection"], channel["channel"])
        if where in seen:
            problems.append(Problem((*path, "channel"), f"also declared by {seen[where]}"))
        seen.setdefault(where, name)
        role = channel.get("role")
        if role is not None:
            if (channel["connection"], role) in roles:
                problems.append(
                    Problem(
                        (*path, "role"),
                        f"{roles[(channel['connection'], role)]} has role {role!r} on"
                        f" {channel['connection']!r} already",
                    )
                )
            roles.setdefault((channel["connection"], role), name)
        problems += _check_args(checker, (*path, "args"), channel["args"])
        problems += _check_shape_keys(checker, path, channel)
        problems += _check_push(checker, path, channel)
        for index, example in enumerate(channel["examples"]["subscribe"]):
            for problem in checker.check(example["args"], channel["args"]):
                problems.append(
                    Problem(
                        (*path, "examples", "subscribe", index, "args"),
                        f"{format_path(problem.path) or '(args)'}: {problem.message}",
                    )
                )
    for name, entry in (spec.get("order_tracking") or {}).items():
        path = ("order_tracking", name)
        operation = operations.get(name)
        if operation is None:
            problems.append(Problem(path, f"{name!r} is not an operation"))
            continue
        if entry["lookup"] == "order" and operation["connection"] != "private":
            problems.append(Problem((*path, "lookup"), "order lookups are for private operations"))
        if entry["lookup"] == "spread" and operation["connection"] != "business":
            problems.append(
                Problem((*path, "lookup"), "spread lookups are for business operations")
            )
    return problems


def _check_shape_keys(
    checker: SchemaChecker, path: Path, channel: Mapping[str, Any]
) -> list[Problem]:
    """``name_suffix_arg`` names a required argument; ``row_columns`` name push_item's properties."""
    problems: list[Problem] = []
    try:
        args, item = checker.resolve(channel["args"]), checker.resolve(channel["push_item"])
    except KeyError:
        return problems
    suffix = channel.get("name_suffix_arg")
    if suffix is not None and suffix not in (args.get("required") or ()):
        problems.append(
            Problem((*path, "name_suffix_arg"), f"{suffix!r} is not a required argument")
        )
    properties = item.get("properties") or {}
    for index, column in enumerate(channel.get("row_columns") or ()):
        if column not in properties:
            problems.append(
                Problem((*path, "row_columns", index), f"{column!r} is not a push_item property")
            )
    return problems


def _check_args(checker: SchemaChecker, path: Path, schema: Mapping[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    try:
        resolved = checker.resolve(schema)
    except KeyError:
        return problems  # reported by the generic schema checks
    if resolved.get("type") != "object":
        return [Problem(path, "must be an object schema (type: object)")]
    if resolved.get("additionalProperties") is not False:
        problems.append(Problem(path, "subscription arguments need additionalProperties: false"))
    for prop, sub in (resolved.get("properties") or {}).items():
        where: Path = (*path, "properties", prop)
        if prop == "channel":
            problems.append(Problem(where, "'channel' is added by the client"))
        try:
            sub = checker.resolve(sub)
        except KeyError:
            continue
        if sub.get("type") not in _PY_TYPES:
            problems.append(Problem(where, "an argument must be a string, boolean or integer"))
        if "default" in sub:
            problems += [
                Problem((*where, "default"), f"{problem.message}")
                for problem in checker.check(sub["default"], sub)
            ]
        if keyword.iskeyword(snake_case(prop)) or snake_case(prop) in ("callback", "timeout"):
            problems.append(Problem(where, f"{snake_case(prop)!r} cannot be a parameter name"))
    return problems


def inbound_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """``schema`` as inbound models read it: a string enum also takes any other string
    (OKX adds values without notice; see :mod:`codegen.models_gen`)."""
    opened = dict(schema)
    if opened.get("type") == "string":
        opened.pop("enum", None)
    if "properties" in opened:
        opened["properties"] = {k: inbound_schema(v) for k, v in opened["properties"].items()}
    if "items" in opened:
        opened["items"] = inbound_schema(opened["items"])
    return opened


def _check_push(checker: SchemaChecker, path: Path, channel: Mapping[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    try:
        item = checker.resolve(channel["push_item"])
    except KeyError:
        return problems
    if item.get("type") != "object":
        return [Problem((*path, "push_item"), "must be an object schema (type: object)")]
    for index, example in enumerate(channel["examples"]["push"]):
        where: Path = (*path, "examples", "push", index, "message")
        message = example["message"]
        arg, data = message.get("arg"), message.get("data")
        named = isinstance(arg, dict) and str(arg.get("channel", "")).startswith(channel["channel"])
        exact = isinstance(arg, dict) and arg.get("channel") == channel["channel"]
        if not (exact or (named and channel.get("name_suffix_arg"))):
            problems.append(
                Problem((*where, "arg"), f"must be an object with channel {channel['channel']!r}")
            )
        if not isinstance(data, list) or not data:
            problems.append(Problem((*where, "data"), "must be a non-empty list"))
            continue
        columns = channel.get("row_columns")
        for item_index, value in enumerate(data):
            if columns and isinstance(value, list):
                value = dict(zip(columns, value, strict=False))
            for problem in checker.check(value, inbound_schema(checker.resolve(item))):
                problems.append(
                    Problem(
                        (*where, "data", item_index),
                        f"{format_path(problem.path)}: {problem.message}",
                    )
                )
    return problems


# -- building ---------------------------------------------------------------------


def _hoist(
    schema: Mapping[str, Any],
    base: str,
    definitions: dict[str, Any],
    push: bool,
    prefix: str = "",
) -> str:
    """Put ``schema`` into ``definitions`` under ``base``, nested objects under
    ``prefix + Field``; returns the class name."""
    if "$ref" in schema and len(schema) == 1:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if base in definitions:
        raise ValueError(f"definitions.{base}: clashes with a generated channel class name")
    hoisted = dict(schema)
    if push:
        hoisted.setdefault("additionalProperties", True)
        properties = {}
        for prop, sub in (schema.get("properties") or {}).items():
            if sub.get("type") == "object" and "properties" in sub:
                nested = f"{prefix}{pascal_case(snake_case(prop))}"
                name = _hoist(sub, nested, definitions, push, nested)
                sub = {"$ref": f"#/definitions/{name}", "description": sub.get("description", "")}
                sub = {k: v for k, v in sub.items() if v != ""}
            elif sub.get("type") == "array" and (sub.get("items") or {}).get("type") == "object":
                nested = f"{prefix}{pascal_case(snake_case(prop))}"
                name = _hoist(sub["items"], nested, definitions, push, nested)
                sub = {**sub, "items": {"$ref": f"#/definitions/{name}"}}
            properties[prop] = sub
        hoisted["properties"] = properties
    definitions[base] = hoisted
    return base


def _annotation(schema: Mapping[str, Any]) -> str:
    if "enum" in schema:
        values = ", ".join(_literal(v) for v in schema["enum"])
        return f"Literal[{values}]"
    return _PY_TYPES[schema["type"]]


def _literal(value: object) -> str:
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}"'
    return repr(value)


def build_channels(raw: Mapping[str, Any], definitions: dict[str, Any]) -> tuple[ChannelSpec, ...]:
    """The channels of a validated spec; hoists their schemas into ``definitions``."""
    checker = SchemaChecker({"definitions": definitions})
    channels = []
    for name, entry in (raw.get("channels") or {}).items():
        base = pascal_case(name)
        args_schema = {
            "description": f"One subscription argument of OKX's {entry['channel']} channel.",
            **entry["args"],
        }
        item_schema = {
            "description": f"One item of a push on OKX's {entry['channel']} channel.",
            **entry["push_item"],
        }
        args_class = _hoist(args_schema, f"{base}Args", definitions, push=False)
        item_class = _hoist(
            item_schema, f"{base}PushItem", definitions, push=True, prefix=f"{base}Push"
        )
        args = checker.resolve(entry["args"])
        required = set(args.get("required") or ())
        params = []
        for prop, sub in (args.get("properties") or {}).items():
            sub = checker.resolve(sub)
            params.append(
                ChannelParam(
                    name=snake_case(prop),
                    okx_name=prop,
                    annotation=_annotation(sub),
                    default=_literal(sub["default"]) if "default" in sub else "None",
                    doc=" ".join(str(sub.get("description", "")).split()),
                    required=prop in required and "default" not in sub,
                )
            )
        params.sort(key=lambda param: not param.required)  # Python: no default first
        channels.append(
            ChannelSpec(
                name=name,
                channel=entry["channel"],
                connection=entry["connection"],
                role=entry.get("role"),
                args_class=args_class,
                item_class=item_class,
                params=tuple(params),
                doc=" ".join(entry["doc"].split()),
                login=entry.get("login", False),
                name_suffix_arg=entry.get("name_suffix_arg"),
                row_columns=tuple(entry.get("row_columns") or ()),
                book=entry.get("book"),
            )
        )
    return tuple(channels)


def build_order_ops(raw: Mapping[str, Any]) -> tuple[OrderOpSpec, ...]:
    """The tracking table of a validated spec, in the operations' order."""
    table = raw.get("order_tracking") or {}
    return tuple(
        OrderOpSpec(
            name=name,
            op=operation["op"],
            effect=table[name]["effect"],
            exp_time=table[name]["exp_time"],
            lookup=table[name]["lookup"],
        )
        for name, operation in raw["operations"].items()
        if name in table
    )
