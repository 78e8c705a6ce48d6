"""Per-item argument validation for WS API ops, against the simulator's own table.

The table is ``rules.py``; this module never imports ``okx_ws`` or
``okx_ws_core``, so the simulator stays an independent witness of OKX's rules:
a field the client's spec misspells or mistypes is refused here with the error
OKX would send, instead of being accepted on both sides.

Which error a bad item gets first is our choice (*uncertain*: OKX does not
document its order): an unknown field, then instIdCode, then the other required
fields, then "ordId or clOrdId", then each field's type and format.  The engine
re-checks the semantics it relies on (instrument, positive numbers, tdMode per
instType), so this layer only has to catch what OKX rejects on sight.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import codes, rules

# (code, msg) of a failed item, or None when the item is acceptable.
Validator = Callable[[dict[str, Any]], "tuple[str, str] | None"]
Failure = tuple[str, str]


def param_error(name: str) -> Failure:
    return codes.PARAM_ERROR, f"Parameter {name} error"


def missing(name: str) -> Failure:
    return codes.MISSING_PARAM, codes.MISSING_PARAM_MSG.format(name)


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value == "")


def _well_formed(spec: rules.Field, value: Any) -> bool:
    kind = spec.kind
    if kind == rules.BOOL:
        return isinstance(value, bool)
    if kind == rules.CODE:
        return type(value) is int  # bool is an int subclass: refused too
    if not isinstance(value, str) or value == "":
        return False
    if kind == rules.ENUM:
        return value in spec.choices
    pattern = rules.PATTERNS.get(kind)
    return pattern is None or pattern.fullmatch(value) is not None


def _inst_id_code(item: dict[str, Any], legacy: bool) -> Failure | None:
    """instIdCode must be a JSON integer; with ``legacy`` an instId may stand in."""
    value = item.get("instIdCode")
    if _empty(value):
        if legacy and not _empty(item.get("instId")):
            return None
        return missing("instIdCode")
    if type(value) is not int:
        return codes.BAD_INST_ID_CODE, "Parameter instIdCode error"
    return None


def check_item(rule: rules.OpRule, item: dict[str, Any], *, legacy: bool = False) -> Failure | None:
    """The first failure of ``item`` under ``rule``, or None."""
    fields = rule.fields
    if codes.REJECT_UNKNOWN_FIELDS:
        for name in item:
            if name not in fields:
                return codes.UNKNOWN_FIELD_CODE, f"Parameter {name} error"
    if rule.has_inst_id_code:
        bad = _inst_id_code(item, legacy)
        if bad is not None:
            return bad
    for name in rule.required:
        if name != "instIdCode" and _empty(item.get(name)):
            return missing(name)
    if rule.one_of and all(_empty(item.get(name)) for name in rule.one_of):
        return codes.ORD_ID_REQUIRED, codes.ORD_ID_REQUIRED_MSG
    for name, value in item.items():
        spec = fields.get(name)
        if spec is None or name == "instIdCode":
            continue
        if isinstance(value, str) and value == "":
            continue  # an optional field left empty counts as not set
        if not _well_formed(spec, value):
            return param_error(name)
    return None


_CACHE: dict[tuple[str, bool], Validator] = {}


def validator_for(op: str, legacy: bool = False) -> Validator:
    """The item validator of ``op`` (a key of ``rules.RULES``); cached.

    ``legacy`` (``Simulator(legacy_inst_id=True)``) accepts an item that carries
    only ``instId``, as OKX did before 2026.
    """
    key = (op, legacy)
    found = _CACHE.get(key)
    if found is None:
        rule = rules.RULES[op]

        def check(item: dict[str, Any]) -> Failure | None:
            return check_item(rule, item, legacy=legacy)

        found = _CACHE[key] = check
    return found


def forget(op: str) -> None:
    """Drop ``op``'s cached validators (its rule was removed: ``extra_ops``)."""
    for legacy in (False, True):
        _CACHE.pop((op, legacy), None)
