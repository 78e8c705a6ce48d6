"""Markdown for one page per OKX operation and per push channel, from ``spec/``.

The pages are derived data, like ``generated/``: the spec says what each
operation and channel is (doc, connection, rate limits, fields, examples), so
the site reads it at build time instead of keeping a hand-written copy that
drifts.  Every class named on a page is an autoref into the API reference, so
a renamed model or method fails the strict build instead of leaving a dead link.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from codegen.channels import ChannelSpec, snake_case
from codegen.spec_loader import LimitSpec, OperationSpec, Spec

_SCOPES = {
    "instrument": "per instrument",
    "family": "per instrument family",
    "user": "per sub-account",
    "connection": "per connection",
}
_CLIENTS = (
    ("async", "AsyncWebsocketAPIClient", "await client."),
    ("blocking", "WebsocketAPIClient", "client."),
)


def _ref(name: str, target: str) -> str:
    return f"[`{name}`][{target}]"


def _model(name: str) -> str:
    return _ref(name, f"okx_ws.models.{name}")


def _cell(text: str) -> str:
    """A table cell: one line, pipes escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _resolve(
    schema: Mapping[str, Any], definitions: Mapping[str, Any]
) -> tuple[dict[str, Any], str | None]:
    """The schema with its ``$ref`` merged in (local keys win), and the referenced name."""
    ref = schema.get("$ref")
    if not ref:
        return dict(schema), None
    name = str(ref).rsplit("/", 1)[-1]
    target, _ = _resolve(definitions[name], definitions)
    return {**target, **{k: v for k, v in schema.items() if k != "$ref"}}, name


def _type(schema: Mapping[str, Any], ref: str | None, definitions: Mapping[str, Any]) -> str:
    kind = schema.get("type", "")
    if kind == "object" and ref is not None:
        return _model(ref)
    if kind == "array":
        items, item_ref = _resolve(schema.get("items") or {}, definitions)
        return f"list of {_type(items, item_ref, definitions)}"
    text = f"`{kind}`" if kind else "any"
    if "enum" in schema:
        text += ": " + ", ".join(
            f"`{value}`" if value != "" else '`""`' for value in schema["enum"]
        )
    elif ref is not None and kind == "string":
        text = f"`{kind}` ({ref})"
    return text


def fields_table(schema: Mapping[str, Any], definitions: Mapping[str, Any]) -> str:
    """One row per property: OKX name, Python name, type, required, description."""
    schema, _ = _resolve(schema, definitions)
    required = set(schema.get("required") or ())
    rows = ["| OKX name | Python name | type | required | description |", "|---|---|---|---|---|"]
    for name, raw in (schema.get("properties") or {}).items():
        prop, ref = _resolve(raw, definitions)
        doc = prop.get("description", "")
        if "x-resolve" in prop:
            doc += f" Filled in from `{prop['x-resolve']['from']}` when left out."
        if "x-since" in prop:
            doc += f" Since {prop['x-since'].get('date', '?')}."
        rows.append(
            f"| `{name}` | `{snake_case(name)}` | {_cell(_type(prop, ref, definitions))} | "
            f"{'yes' if name in required else ''} | {_cell(doc)} |"
        )
    notes = [
        "At least one of "
        + ", ".join(f"`{field}`" for alt in group for field in alt.get("required", ()))
        + "."
        for group in [schema.get("anyOf") or []]
        if group
    ]
    for old, entry in (schema.get("x-retired") or {}).items():
        notes.append(
            f"`{old}` is retired: renamed `{entry['replacement']}` by OKX ({entry['renamed']}),"
            f" refused since {entry['refused']}."
        )
    return "\n".join(rows) + ("\n\n" + "\n".join(f"- {note}" for note in notes) if notes else "")


def _limits(limits: Iterable[LimitSpec]) -> str:
    parts = []
    for limit in limits:
        unit = "items" if limit.per_item else "requests"
        parts.append(
            f"`{limit.name}`: {limit.count} {unit} / {limit.window_s} s {_SCOPES.get(limit.scope, limit.scope)}"
        )
    return "; ".join(parts) or "none"


def _json(value: Any) -> str:
    return "```json\n" + json.dumps(value, indent=2, ensure_ascii=False) + "\n```"


def operation_page(spec: Spec, operation: OperationSpec) -> str:
    entry = spec.raw["operations"][operation.name]
    item = entry["params"]
    shape = f"a batch of up to {operation.max_items} items" if operation.batch else "one item"
    lines = [
        f"# {operation.name}",
        "",
        operation.doc,
        "",
        f"| OKX op | `{operation.op}` |",
        "|---|---|",
        f"| connection | `{operation.connection}` |",
        f"| request | {shape}: {_model(operation.params_class)} or a mapping with OKX names"
        + (" (a list of them)" if operation.batch else "")
        + " |",
        f"| reply | {_model(operation.response_class)}, `data` items {_model(operation.response_item_class)} |",
    ]
    for label, cls, prefix in _CLIENTS:
        lines.append(
            f"| {label} | {_ref(prefix + operation.name + '(params)', f'okx_ws.{cls}.{operation.name}')} |"
        )
    lines.append(f"| rate limits | {_limits(operation.limits)} |")
    if operation.batch_of_one_limits:
        lines.append(f"| a batch of one counts as | {_limits(operation.batch_of_one_limits[:1])} |")
    for target, source, _resolver in operation.resolved:
        lines.append(
            f"| `{target}` | filled in from `{source}` ([instrument codes](../guide/instrument-codes.md)) |"
        )
    lines += ["", "## Parameters", "", f"Each item is {_model(operation.params_class)}.", ""]
    lines.append(fields_table(item, spec.definitions))
    lines += ["", "## Reply items", "", fields_table(entry["response_item"], spec.definitions)]
    examples = entry.get("examples") or {}
    if examples.get("valid"):
        lines += ["", "## Examples", ""]
        for example in examples["valid"]:
            lines += [f"**{example['name']}**", "", _json(example["params"]), ""]
            lines += ["OKX answers `data`:", "", _json(example["response"]), ""]
    if examples.get("invalid"):
        lines += ["## Refused before sending", "", "| case | the error names |", "|---|---|"]
        for example in examples["invalid"]:
            lines.append(f"| {_cell(example['name'])} | `{example['error_field']}` |")
    return "\n".join(lines) + "\n"


def channel_page(spec: Spec, channel: ChannelSpec) -> str:
    entry = spec.raw["channels"][channel.name]
    lines = [
        f"# {channel.name}",
        "",
        channel.doc,
        "",
        f"| OKX channel | `{channel.channel}` |",
        "|---|---|",
        f"| connection | `{channel.connection}` |",
        f"| arguments | {_model(channel.args_class)} |",
        f"| push items | {_model(channel.item_class)} |",
    ]
    for label, cls, prefix in _CLIENTS:
        method = f"subscribe_{channel.name}"
        lines.append(f"| {label} | {_ref(prefix + method + '(...)', f'okx_ws.{cls}.{method}')} |")
    if channel.role == "orders":
        lines.append("| order tracking | its pushes feed `track_orders()` and `reconcile()` |")
    lines += ["", "## Subscription arguments", ""]
    lines += [
        "| Python keyword | OKX name | type | default | description |",
        "|---|---|---|---|---|",
    ]
    for param in channel.params:
        lines.append(
            f"| `{param.name}` | `{param.okx_name}` | `{_cell(param.annotation)}` | "
            f"`{param.default}` | {_cell(param.doc)} |"
        )
    lines += [
        "",
        "## Push item fields",
        "",
        fields_table(spec.definitions[channel.item_class], spec.definitions),
    ]
    pushes = (entry.get("examples") or {}).get("push") or []
    if pushes:
        lines += [
            "",
            "## Example push",
            "",
            f"**{pushes[0]['name']}**",
            "",
            _json(pushes[0]["message"]),
        ]
    return "\n".join(lines) + "\n"


def operations_index(spec: Spec) -> str:
    lines = [
        "# Operations",
        "",
        "Every OKX WebSocket API operation okx-ws speaks, generated from `spec/operations.yaml`.",
        "Each is one method of the same name on both clients.",
        "",
        "| method | OKX op | connection | what |",
        "|---|---|---|---|",
    ]
    for op in spec.operations:
        lines.append(
            f"| [{op.name}]({op.name}.md) | `{op.op}` | `{op.connection}` | {_cell(op.doc)} |"
        )
    return "\n".join(lines) + "\n"


def channels_index(spec: Spec) -> str:
    lines = [
        "# Channels",
        "",
        "The push channels okx-ws types, generated from `spec/channels.yaml`.",
        "Each has a `subscribe_<name>` method on both clients returning a typed stream.",
        "",
        "| channel | OKX name | connection | what |",
        "|---|---|---|---|",
    ]
    for channel in spec.channels:
        lines.append(
            f"| [{channel.name}]({channel.name}.md) | `{channel.channel}` | `{channel.connection}` | {_cell(channel.doc)} |"
        )
    return "\n".join(lines) + "\n"


def pages(spec: Spec) -> dict[str, str]:
    """Every generated page: docs-relative path -> markdown."""
    out = {"operations/index.md": operations_index(spec), "channels/index.md": channels_index(spec)}
    out.update({f"operations/{op.name}.md": operation_page(spec, op) for op in spec.operations})
    out.update({f"channels/{ch.name}.md": channel_page(spec, ch) for ch in spec.channels})
    return out
