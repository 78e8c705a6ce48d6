"""Operations as data: what the runtime needs to execute one OKX WS API call.

The spec declares each operation (its ``op``, connection, models, batch limit
and the fields the client resolves itself); the generator turns each into one
:class:`Operation` constant, and both runtime clients execute any of them with
one ``call(operation, params)``.  So the runtime names no operation, and a new
one is a spec edit.  Validation happens here, before anything touches a
socket, with errors that name the field (``[3].side``) exactly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from .endpoints import ConnectionKey
from .errors import ParamsValidationError

P = TypeVar("P", bound=BaseModel)
R = TypeVar("R", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class Resolved:
    """A field the client fills in when the caller leaves it out (spec: ``x-resolve``).

    ``target`` is looked up from ``source`` by the resolver named ``by``; today the
    only one is ``"instruments"`` (``instIdCode`` from ``instId``).
    """

    target: str
    source: str
    by: str


@dataclass(frozen=True, slots=True)
class Operation(Generic[P, R]):
    """One WS API operation: everything ``call()`` needs, nothing it must guess."""

    name: str
    op: str
    connection: ConnectionKey
    params_model: type[P]
    response_model: type[R]
    batch: bool = False
    max_items: int = 1
    resolved: tuple[Resolved, ...] = ()
    doc: str = ""

    def prepare(self, params: object) -> list[dict[str, Any]]:
        """Validate ``params`` and return the request's ``args``; raises ParamsValidationError."""
        return prepare_args(
            params,
            self.params_model,
            operation=self.name,
            batch=self.batch,
            max_items=self.max_items,
        )


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
    """Validate ``params`` against ``model`` and return OKX's ``args`` list (OKX names)."""
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
