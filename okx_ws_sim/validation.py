"""Per-item argument validation for WS API ops.

Uses the spec-generated pydantic models (``okx_ws.operations.BY_OP[op]
.params_model``) when that package is importable, else the minimal checks
below.  The engine re-checks the semantics it relies on (numbers, enums,
ordId-or-clOrdId), so this layer only has to catch structural errors.

Switching source is one line: ``USE_GENERATED_MODELS``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from . import codes

USE_GENERATED_MODELS: Final = True

# (code, msg) of a failed item, or None when the item is acceptable.
Validator = Callable[[dict[str, Any]], "tuple[str, str] | None"]

_REQUIRED: Final[dict[str, tuple[str, ...]]] = {
    "order": ("instId", "tdMode", "side", "ordType", "sz"),
    "batch-orders": ("instId", "tdMode", "side", "ordType", "sz"),
    "cancel-order": ("instId",),
    "batch-cancel-orders": ("instId",),
    "amend-order": ("instId",),
    "batch-amend-orders": ("instId",),
    "mass-cancel": ("instType", "instFamily"),
    "sprd-order": ("sprdId", "side", "ordType", "sz"),
    "sprd-amend-order": (),
    "sprd-cancel-order": (),
    "sprd-mass-cancel": (),
}
_STRING_FIELDS: Final = frozenset(
    {
        "instId",
        "sprdId",
        "tdMode",
        "side",
        "ordType",
        "sz",
        "px",
        "ccy",
        "clOrdId",
        "tag",
        "posSide",
        "tgtCcy",
        "pxUsd",
        "pxVol",
        "stpMode",
        "ordId",
        "reqId",
        "newSz",
        "newPx",
        "newPxUsd",
        "newPxVol",
        "instType",
        "instFamily",
    }
)
_BOOL_FIELDS: Final = frozenset({"reduceOnly", "banAmend", "cxlOnFail"})


def _param_error(field: str) -> tuple[str, str]:
    return codes.PARAM_ERROR, f"Parameter {field} error"


def _minimal(op: str) -> Validator:
    required = _REQUIRED[op]

    def check(item: dict[str, Any]) -> tuple[str, str] | None:
        for name in required:
            value = item.get(name)
            if value is None or value == "":
                return _param_error(name)
        for name, value in item.items():
            if name in _STRING_FIELDS and not isinstance(value, str):
                return _param_error(name)
            if name in _BOOL_FIELDS and not isinstance(value, bool | str):
                return _param_error(name)
        if op in (
            "cancel-order",
            "batch-cancel-orders",
            "amend-order",
            "batch-amend-orders",
            "sprd-amend-order",
            "sprd-cancel-order",
        ):
            if not item.get("ordId") and not item.get("clOrdId"):
                return _param_error("ordId")
        return None

    return check


def _generated(op: str) -> Validator | None:
    try:
        from okx_ws.operations import BY_OP  # type: ignore[import-not-found,unused-ignore]
    except Exception:  # noqa: BLE001 - absent or half-written package: fall back
        return None
    operation = BY_OP.get(op)
    model = getattr(operation, "params_model", None)
    if model is None:
        return None
    fallback = _minimal(op)
    validate = model.model_validate

    def check(item: dict[str, Any]) -> tuple[str, str] | None:
        try:
            validate(item)
        except Exception as exc:  # pydantic.ValidationError
            errors = getattr(exc, "errors", None)
            field = "args"
            if callable(errors):
                errs = errors()
                if errs and errs[0].get("loc"):
                    field = str(errs[0]["loc"][0])
                elif errs and "at least one of " in str(errs[0].get("msg", "")):
                    # model-level "ordId or clOrdId" rule: name the first field
                    field = str(errs[0]["msg"]).split("at least one of ", 1)[1].split(",")[0]
            return _param_error(field)
        return fallback(item)

    return check


_CACHE: dict[str, Validator] = {}


def validator_for(op: str) -> Validator:
    """The item validator of ``op`` (cached; ``op`` must be a known op)."""
    found = _CACHE.get(op)
    if found is None:
        found = (_generated(op) if USE_GENERATED_MODELS else None) or _minimal(op)
        _CACHE[op] = found
    return found


def source(op: str = "order") -> str:
    """'generated' or 'minimal': which validator serves ``op`` (for tests/diagnostics)."""
    v = validator_for(op)
    return "generated" if v.__qualname__.startswith("_generated") else "minimal"
