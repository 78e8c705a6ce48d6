"""Sans-I/O core of OKX's WebSocket protocol: operations, frames out, typed events in.

An :class:`Operation` is what the spec declares (op, connection, models,
batch limit, resolved fields); the generator emits one constant per
operation and both clients execute any of them with ``call``, so the runtime
names no operation and a new one is a spec edit.  Validation happens here,
before anything touches a socket, with errors that name the field exactly.

Nothing here touches a socket or a clock, so the same logic serves the asyncio
client, the blocking facade and unit tests.  Encoding is one JSON dump per
frame and decoding one JSON load plus a few dict look-ups: the request path
must stay cheap.  The codec is orjson when installed (a default dependency:
about 4 µs less CPU per request and reply than the stdlib, ``bench/json_ab.py``);
whatever orjson refuses goes through the stdlib, so what is accepted or refused
is what it was with the stdlib alone.  One difference: orjson reads an integer
past 64 bits as a float (OKX sends its numbers as strings).
"""

from __future__ import annotations

import decimal
import difflib
import itertools
import json
import logging
import secrets
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Generic, TypeVar

try:  # optional: the fastest JSON codec measured (bench/json_ab.py), the stdlib otherwise
    import orjson
except ImportError:  # pragma: no cover - orjson is a default dependency
    orjson = None  # type: ignore[assignment]

from ..errors import ParamsValidationError
from ..lazy import pydantic
from .endpoints import ConnectionKey
from .fastparams import WIRES as FAST_WIRES
from .fastparams import fast_wire
from .ratelimit import BucketKey, RateLimit, demands

PING: Final = "ping"
PONG: Final = "pong"
NOTICE_RECONNECT_CODE: Final = "64008"
MAX_ID_LENGTH: Final = 32
_ALNUM = string.ascii_letters + string.digits

# -- operations -----------------------------------------------------------------

if TYPE_CHECKING:  # pydantic is imported on first use (see lazy.py)
    from pydantic import BaseModel

P = TypeVar("P", bound="BaseModel")
_NO_CODES: Mapping[str, int] = {}
R = TypeVar("R", bound="BaseModel")


@dataclass(frozen=True, slots=True)
class Resolved:
    """A field the client fills in when the caller leaves it out (spec: ``x-resolve``).

    ``target`` is looked up from ``source`` in the instrument registry: today the
    spec's only resolver (``x-resolve: {by: instruments}``, which codegen checks),
    ``instIdCode`` from ``instId``.
    """

    target: str
    source: str


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
    limits: tuple[RateLimit, ...] = ()  # OKX's rate limits this operation counts against
    batch_of_one_limits: tuple[RateLimit, ...] = ()  # a batch of one counts as the single op
    doc: str = ""

    def rate_demands(self, args: list[dict[str, Any]]) -> list[tuple[RateLimit, BucketKey, int]]:
        """What this request costs in which rate-limit bucket."""
        if len(args) == 1 and self.batch_of_one_limits:
            return demands(self.batch_of_one_limits, args)
        return demands(self.limits, args)

    def prepare(
        self, params: object, extra_fields: ExtraFields | None = None
    ) -> list[dict[str, Any]]:
        """Validate ``params`` and return the request's ``args``; raises ParamsValidationError.

        ``extra_fields`` (see :func:`add_extra_fields`) go on the wire unvalidated.
        """
        return self.prepare_with_codes(params, extra_fields, _NO_CODES)[0]

    def prepare_with_codes(
        self,
        params: object,
        extra_fields: ExtraFields | None,
        codes: Mapping[str, int],
    ) -> tuple[list[dict[str, Any]], list[tuple[int, Resolved]], list[str]]:
        """:meth:`prepare`, then :meth:`fill_resolved` from ``codes``: all ``call()``
        needs of the protocol before sending, in one call, so the request leaves this
        layer once.

        Returns the ``args``, the fields filled and the source values ``codes`` did
        not know (to be loaded, then filled, before anything is sent).
        """
        args = prepare_args(
            params,
            self.params_model,
            operation=self.name,
            batch=self.batch,
            max_items=self.max_items,
        )
        if extra_fields is not None:
            add_extra_fields(args, extra_fields, self.params_model, operation=self.name)
        if not self.resolved:
            return args, [], []
        filled, cold = self.fill_resolved(args, codes)
        return args, filled, cold

    def fill_resolved(
        self, args: list[dict[str, Any]], codes: Mapping[str, int]
    ) -> tuple[list[tuple[int, Resolved]], list[str]]:
        """Fill each resolved field the caller left out from ``codes`` (a warm cache).

        Returns the ``(item index, field)`` pairs it is responsible for, and the
        source values ``codes`` did not know (to be loaded, then filled again).
        """
        filled: list[tuple[int, Resolved]] = []
        cold: list[str] = []
        for field in self.resolved:
            for index, item in enumerate(args):
                if item.get(field.target) is not None or field.source not in item:
                    continue
                filled.append((index, field))
                code = codes.get(item[field.source])
                if code is None:
                    cold.append(item[field.source])
                else:
                    item[field.target] = code
        return filled, cold


def _location(prefix: str, loc: tuple[int | str, ...]) -> str:
    text = prefix
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(params)"


def _wire(item: BaseModel) -> dict[str, Any]:
    """``item.model_dump(by_alias=True, exclude_none=True, mode="json")``, less the wrapper:
    the item's own serializer called directly (6k fewer instructions per order)."""
    wire: dict[str, Any] = item.__pydantic_serializer__.to_python(
        item, by_alias=True, exclude_none=True, mode="json"
    )
    return wire


def _one(model: type[BaseModel], item: object, operation: str, prefix: str) -> dict[str, Any]:
    # A plain dict, the common case, is no model: it skips the isinstance checks against
    # pydantic classes, whose metaclass runs Python for each (5k instructions per order),
    # and one the fast path vouches for skips pydantic altogether (fastparams.py).
    if type(item) is dict:
        fast = FAST_WIRES.get(model) or fast_wire(model)
        if fast is not None:
            wire = fast(item)
            if wire is not None:
                return wire
    else:
        if isinstance(item, model):
            return _wire(item)
        if isinstance(item, pydantic.BaseModel):
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
    try:  # model_validate's own validator, called directly: 4.7k fewer instructions per order
        validated = model.__pydantic_validator__.validate_python(item)
    except pydantic.ValidationError as exc:
        raise ParamsValidationError(
            operation,
            [
                (_location(prefix, tuple(err["loc"])), explain(model, err, operation))
                for err in exc.errors()
            ],
        ) from None
    return _wire(validated)


def explain(model: type[BaseModel], error: Mapping[str, Any], operation: str) -> str:
    """One pydantic error as a trader reads it: what a valid value looks like
    (the spec's ``x-format``), what was given, and the field meant by a typo.

    Model constructors keep pydantic's own messages; the client's methods
    raise :class:`ParamsValidationError` with these.
    """
    kind, given, loc = error["type"], error.get("input"), error["loc"]
    if kind == "extra_forbidden":
        known = [f.alias or n for n, f in model.model_fields.items()]
        close = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
        return f"not a field of {operation}" + (f"; did you mean {close[0]}?" if close else "")
    fmt = _field_format(model, loc)
    if kind == "string_type" and isinstance(given, (float, decimal.Decimal)) and fmt:
        kind_name = "a float" if isinstance(given, float) else "a Decimal"
        loses = " (floats lose precision)" if isinstance(given, float) else ""
        return f'got {kind_name} {given}; send a decimal string like "{given}"{loses}'
    if kind == "string_type" and fmt:
        return f"must be {fmt}, got {type(given).__name__} {given!r}"
    if kind == "string_pattern_mismatch" and fmt:
        return f"must be {fmt}, got {given!r}"
    if kind in ("literal_error", "bool_type", "int_type", "string_type", "greater_than_equal"):
        return f"{error['msg']}, got {given!r}"
    return str(error["msg"])


def _field_format(model: type[BaseModel], loc: Sequence[int | str]) -> str:
    """The ``x-format`` of the top-level field at ``loc`` (OKX or Python name)."""
    if not loc:
        return ""
    for name, field in model.model_fields.items():
        if loc[0] in (name, field.alias):
            extra = field.json_schema_extra
            return str(extra.get("x-format", "")) if isinstance(extra, dict) else ""
    return ""


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
    if isinstance(params, (Mapping, pydantic.BaseModel, str, bytes)) or not isinstance(
        params, Sequence
    ):
        raise ParamsValidationError(
            operation, [("(params)", f"expected a list of {model.__name__} or mappings")]
        )
    if not min_items <= len(params) <= max_items:
        raise ParamsValidationError(
            operation,
            [("(params)", f"a batch takes {min_items} to {max_items} items, got {len(params)}")],
        )
    return [_one(model, item, operation, f"[{i}]") for i, item in enumerate(params)]


# Fields OKX added after this release: sent as given, per call, never validated.
ExtraFields = Mapping[str, Any] | Sequence[Mapping[str, Any]]
_announced_extras: set[tuple[str, str]] = set()
_log = logging.getLogger("okx_ws")


def add_extra_fields(
    args: list[dict[str, Any]], extra: ExtraFields, model: type[BaseModel], *, operation: str
) -> None:
    """Add ``extra`` to each item of ``args``: one mapping for every item, or one per item.

    The escape hatch for a field OKX documented after this release: the
    request stays strict (a misspelt field in ``params`` still fails), and a
    field is sent unvalidated only when the caller names it here.  A field the
    spec knows, or one OKX retired, is refused: it belongs in ``params``.
    """
    if isinstance(extra, Mapping):
        per_item: Sequence[Mapping[str, Any]] = [extra] * len(args)
    elif isinstance(extra, Sequence) and not isinstance(extra, (str, bytes)):
        per_item = extra
        if len(per_item) != len(args):
            raise ParamsValidationError(
                operation,
                [("extra_fields", f"got {len(per_item)} mappings for {len(args)} items")],
            )
    else:
        raise ParamsValidationError(
            operation, [("extra_fields", f"expected a mapping, got {type(extra).__name__}")]
        )
    known = _known_names(model)
    retired: Mapping[str, Any] = getattr(model, "retired_names", {})
    for index, (item, fields) in enumerate(zip(args, per_item, strict=True)):
        prefix = f"[{index}]." if len(args) > 1 or not isinstance(extra, Mapping) else ""
        if not isinstance(fields, Mapping):
            where = f"extra_fields[{index}]"
            raise ParamsValidationError(
                operation, [(where, f"expected a mapping, got {type(fields).__name__}")]
            )
        for key, value in fields.items():
            problem = _extra_field_problem(key, value, known, retired, model)
            if problem:
                raise ParamsValidationError(operation, [(f"{prefix}extra_fields.{key}", problem)])
            item[key] = value
            if (operation, key) not in _announced_extras:
                _announced_extras.add((operation, key))
                _log.debug("okx-ws %s: sending %r unvalidated (extra_fields)", operation, key)


def _known_names(model: type[BaseModel]) -> frozenset[str]:
    return frozenset(
        name for attr, field in model.model_fields.items() for name in (attr, field.alias) if name
    )


def _extra_field_problem(
    key: object, value: object, known: frozenset[str], retired: Mapping[str, Any], model: type
) -> str:
    if not isinstance(key, str) or not key:
        return f"a field name must be a non-empty string, got {key!r}"
    if key in known:
        return f"a field of {model.__name__}: pass it in params, where it is validated"
    if key in retired:
        return str(retired[key][1])
    try:
        _dumps(value)
    except (TypeError, ValueError) as exc:
        return f"cannot be sent as JSON: {exc}"
    return ""


# -- frames -----------------------------------------------------------------------

_std_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def _orjson_dumps(obj: Any) -> str:
    try:
        return orjson.dumps(obj).decode()
    except TypeError:  # what orjson refuses (ints past 64 bits, keys not str): stdlib rules
        return _std_dumps(obj)


def _orjson_loads(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:  # ints past 64 bits, NaN, or broken: stdlib rules
        return json.loads(text)


_dumps: Callable[[Any], str] = _std_dumps if orjson is None else _orjson_dumps
_loads: Callable[[str], Any] = json.loads if orjson is None else _orjson_loads


class RequestIds:
    """Request ids: a random prefix per client plus a counter.

    OKX accepts up to 32 case-sensitive alphanumerics and echoes the id in the
    reply; the prefix keeps ids of several clients (or processes) on one key apart.
    """

    def __init__(self, prefix: str | None = None) -> None:
        self._prefix = (
            prefix if prefix is not None else "".join(secrets.choice(_ALNUM) for _ in range(8))
        )
        if not self._prefix.isalnum() or len(self._prefix) > 16:
            raise ValueError("id prefix must be 1-16 alphanumerics")
        # ``next()``: prefix + "1", "2", ...  Built of C iterators, so taking an id runs
        # no Python frame on the request path (and costs less than a method would).
        self.next: Callable[[], str] = map(
            self._prefix.__add__, map(str, itertools.count(1))
        ).__next__


def encode_request(
    request_id: str, op: str, args: list[dict[str, Any]], exp_time: int | None = None
) -> str:
    frame: dict[str, Any] = {"id": request_id, "op": op, "args": args}
    if exp_time is not None:
        frame["expTime"] = str(exp_time)
    return _dumps(frame)


def encode_op(op: str, args: list[dict[str, Any]]) -> str:
    """Frames without an id: ``login``, ``subscribe``, ``unsubscribe``."""
    return _dumps({"op": op, "args": args})


# -- inbound events ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Pong:
    pass


@dataclass(slots=True)
class Reply:
    """A reply to a WS API request, matched to it by ``id`` and ``op`` (a frame with
    our id but another op settles nothing).

    Not frozen, unlike the other events: one is made for every reply, and a frozen
    dataclass's ``__init__`` (``object.__setattr__`` per field) costs 4.4k instructions
    where this one costs 1.9k.  Nothing changes it after :func:`parse_frame`.
    """

    id: str
    message: dict[str, Any]


@dataclass(frozen=True, slots=True)
class LoginOk:
    message: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ErrorEvent:
    """``{"event": "error"}`` without an id: a failed login or subscription."""

    code: str
    msg: str
    message: dict[str, Any]


@dataclass(frozen=True, slots=True)
class SubscriptionAck:
    event: str  # "subscribe" | "unsubscribe"
    arg: dict[str, Any]
    message: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Notice:
    code: str
    msg: str
    message: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Push:
    """A channel update: ``{"arg": {...}, "data": [...]}``."""

    arg: dict[str, Any]
    message: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Info:
    """Known but uninteresting events (``channel-conn-count``...)."""

    message: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Malformed:
    text: str
    reason: str


Inbound = Pong | Reply | LoginOk | ErrorEvent | SubscriptionAck | Notice | Push | Info | Malformed
PONG_EVENT: Final = Pong()


def parse_frame(text: str) -> Inbound:
    """Classify one text frame; never raises."""
    if text == PONG:
        return PONG_EVENT
    try:
        message = _loads(text)
    except (ValueError, RecursionError) as exc:  # RecursionError: nested past the limit
        return Malformed(text[:200], f"invalid JSON: {exc}")
    if type(message) is not dict:
        return Malformed(text[:200], "not a JSON object")
    request_id = message.get("id")
    if request_id is not None and ("op" in message or "code" in message):
        return Reply(str(request_id), message)
    event = message.get("event")
    if event is None:
        arg = message.get("arg")
        if isinstance(arg, dict) and "data" in message:
            return Push(arg, message)
        return Malformed(text[:200], "neither a reply, an event nor a push")
    if event == "login":
        if str(message.get("code", "0")) == "0":
            return LoginOk(message)
        return ErrorEvent(str(message.get("code")), str(message.get("msg", "")), message)
    if event == "error":
        return ErrorEvent(str(message.get("code", "")), str(message.get("msg", "")), message)
    if event in ("subscribe", "unsubscribe"):
        arg = message.get("arg")
        return SubscriptionAck(event, arg if isinstance(arg, dict) else {}, message)
    if event == "notice":
        return Notice(str(message.get("code", "")), str(message.get("msg", "")), message)
    return Info(message)


def cl_ord_ids(args: list[dict[str, Any]]) -> list[str]:
    """The client order ids of a request's items (for reconciling unknown fates)."""
    return [str(item["clOrdId"]) for item in args if isinstance(item, dict) and "clOrdId" in item]


def arg_matches(sent: dict[str, Any], acked: dict[str, Any]) -> bool:
    """An ack matches a subscription when it echoes every key we sent."""
    return all(acked.get(key) == value for key, value in sent.items())
