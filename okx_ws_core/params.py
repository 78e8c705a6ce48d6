"""Turn user parameters into the ``args`` list of one OKX request, validating first.

The generated clients call :func:`prepare_args` with the operation's pydantic
model, so every field is checked before anything touches a socket and errors
name the field (``[3].side``) exactly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

from .errors import OkxWsError


class ParamsValidationError(OkxWsError, ValueError):
    """Parameters failed validation; nothing was sent.

    ``errors`` lists ``(location, message)`` pairs, location in OKX field names
    and prefixed by the item index for batch operations (``"[2].clOrdId"``).
    """

    def __init__(self, operation: str, errors: Sequence[tuple[str, str]]) -> None:
        self.operation = operation
        self.errors = list(errors)
        lines = "; ".join(f"{loc}: {msg}" for loc, msg in self.errors)
        super().__init__(f"invalid parameters for {operation}: {lines}")


def _location(prefix: str, loc: tuple[int | str, ...]) -> str:
    text = prefix
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(params)"


def _one(model: type[BaseModel], item: object, operation: str, prefix: str) -> dict[str, Any]:
    if isinstance(item, model):
        return item.model_dump(by_alias=True, exclude_none=True, mode="json")
    if isinstance(item, BaseModel):
        raise ParamsValidationError(
            operation,
            [(prefix or "(params)", f"expected {model.__name__}, got {type(item).__name__}")],
        )
    if not isinstance(item, Mapping):
        raise ParamsValidationError(
            operation,
            [
                (
                    prefix or "(params)",
                    f"expected a mapping or {model.__name__}, got {type(item).__name__}",
                )
            ],
        )
    try:
        validated = model.model_validate(item)
    except ValidationError as exc:
        raise ParamsValidationError(
            operation,
            [(_location(prefix, tuple(err["loc"])), err["msg"]) for err in exc.errors()],
        ) from None
    return validated.model_dump(by_alias=True, exclude_none=True, mode="json")


def prepare_args(
    params: object,
    model: type[BaseModel],
    *,
    operation: str,
    batch: bool,
    max_items: int = 1,
    min_items: int = 1,
) -> list[dict[str, Any]]:
    """Validate ``params`` against ``model`` and return OKX's ``args`` list."""
    if not batch:
        return [_one(model, params, operation, "")]
    if isinstance(params, (Mapping, BaseModel, str, bytes)) or not isinstance(params, Sequence):
        raise ParamsValidationError(
            operation, [("(params)", f"expected a list of {model.__name__} or mappings")]
        )
    if not min_items <= len(params) <= max_items:
        raise ParamsValidationError(
            operation,
            [("(params)", f"a batch takes {min_items} to {max_items} items, got {len(params)}")],
        )
    return [_one(model, item, operation, f"[{i}]") for i, item in enumerate(params)]
