"""The request fast path (okx_ws_core/protocol/fastparams.py) against pydantic itself.

The contract: whenever the fast path answers for an item, pydantic accepts that
item and dumps exactly the same dict (same keys, values and value types);
otherwise it answers ``None`` and the item takes pydantic's path, with its
errors.  Hypothesis draws items from each params model's JSON schema (a view
independent of the core schema the fast path compiles) mixed with hostile
values; a second property checks that valid items do take the fast path, so
the first cannot pass by never answering.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from okx_ws import OPERATIONS
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from okx_ws_core.protocol import frames
from okx_ws_core.protocol.fastparams import Unsupported, compile_params, fast_params

MODELS = sorted({op.params_model for op in OPERATIONS.values()}, key=lambda m: m.__name__)
HOSTILE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 2**70),
    st.floats(allow_nan=False),
    st.text(max_size=6),
    st.sampled_from(["1\n", "\u0661", "１", "0", "0.0", "buy ", "BUY", "", "a" * 40, "1e3"]),
    st.lists(st.text(max_size=2), max_size=2),
)


def _properties(model: type[BaseModel]) -> dict[str, dict[str, Any]]:
    schema = model.model_json_schema(by_alias=True)
    props: dict[str, dict[str, Any]] = schema["properties"]
    return {name: _non_null(prop) for name, prop in props.items()}


def _non_null(prop: dict[str, Any]) -> dict[str, Any]:
    for option in prop.get("anyOf", []):
        if option.get("type") != "null":
            return {**prop, **option}
    return prop


def _valid(prop: dict[str, Any]) -> st.SearchStrategy[Any]:
    if "enum" in prop or "const" in prop:
        return st.sampled_from(prop.get("enum", [prop.get("const")]))
    kind = prop.get("type")
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        return st.integers(prop.get("minimum", -(2**40)), 2**40)
    if "pattern" in prop:
        return st.from_regex(re.compile(prop["pattern"]), fullmatch=True)
    return st.text(min_size=prop.get("minLength", 0), max_size=prop.get("maxLength", 12))


@st.composite
def _items(draw: st.DrawFn, model: type[BaseModel], hostile: bool) -> dict[str, Any]:
    props = _properties(model)
    required = set(model.model_json_schema(by_alias=True).get("required", []))
    python_names = {f.alias: n for n, f in model.model_fields.items() if f.alias}
    names = sorted(props)
    chosen = set(draw(st.lists(st.sampled_from(names), unique=True))) | required
    for group in getattr(model, "required_any_of", ()):
        if chosen.isdisjoint(group):
            chosen.add(draw(st.sampled_from(sorted(group))))
    item: dict[str, Any] = {}
    for name in sorted(chosen):
        key = name
        value: Any = draw(_valid(props[name]))
        if hostile and draw(st.integers(0, 4)) == 0:
            value = draw(HOSTILE)
        if hostile and name in python_names and draw(st.integers(0, 9)) == 0:
            key = python_names[name]  # the Python name: pydantic takes it too
        item[key] = value
    if hostile and draw(st.integers(0, 5)) == 0:
        retired = sorted(getattr(model, "retired_names", {})) or ["nonsense"]
        item[draw(st.sampled_from([*retired, "clordid", "instid"]))] = draw(HOSTILE)
    if hostile and draw(st.booleans()):
        item.pop(draw(st.sampled_from(sorted(item))), None) if item else None
    return item


def _pydantic(model: type[BaseModel], item: dict[str, Any]) -> dict[str, Any] | None:
    try:
        validated = model.__pydantic_validator__.validate_python(item)
    except ValidationError:
        return None
    return frames._wire(validated)


def test_every_params_model_has_a_fast_path() -> None:
    assert MODELS and all(fast_params(model) is not None for model in MODELS)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_fast_path_answers_only_what_pydantic_would(model: type[BaseModel], data: Any) -> None:
    item = data.draw(_items(model, hostile=True))
    fast = fast_params(model)
    assert fast is not None
    answer = fast.wire(dict(item))
    if answer is None:
        return  # pydantic decides, as before
    expected = _pydantic(model, item)
    assert expected is not None, f"fast path accepted what pydantic refuses: {item!r}"
    assert answer == expected
    assert {k: type(v) for k, v in answer.items()} == {k: type(v) for k, v in expected.items()}


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_valid_items_take_the_fast_path(model: type[BaseModel], data: Any) -> None:
    item = data.draw(_items(model, hostile=False))
    expected = _pydantic(model, item)
    assert expected is not None, f"the strategy drew an invalid item: {item!r}"
    fast = fast_params(model)
    assert fast is not None
    assert fast.wire(item) == expected


def test_an_order_dict_skips_pydantic_and_is_copied() -> None:
    order = {"instId": "BTC-USDT", "tdMode": "cash", "side": "buy", "ordType": "limit"}
    order |= {"sz": "0.01", "px": "20000", "clOrdId": "b15"}
    op = OPERATIONS["submit_new_order"]
    with mock.patch.object(frames, "_wire", side_effect=AssertionError("pydantic's path")):
        args = op.prepare(order)
    assert args == [order] and args[0] is not order


@pytest.mark.parametrize(
    "change",
    [
        {"sz": "\u0661"},  # an Arabic-Indic one: Rust's \d would differ from Python's
        {"sz": "1\n"},  # Python's $ matches before a final newline
        {"px": None},  # dropped by pydantic
        {"side": "sell "},
        {"td_mode": "cash"},  # a Python name
        {"isElpTakerAccess": True},  # retired: pydantic says what replaced it
    ],
)
def test_unusual_items_take_pydantics_path(change: dict[str, Any]) -> None:
    order = {"instId": "BTC-USDT", "tdMode": "cash", "side": "buy", "ordType": "limit", "sz": "1"}
    fast = fast_params(OPERATIONS["submit_new_order"].params_model)
    assert fast is not None and fast.wire(order) == order
    assert fast.wire({**order, **change}) is None


class _Custom(BaseModel):
    side: Literal["buy", "sell"]

    @field_validator("side")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()


class _Stripped(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)
    name: str


class _Defaulted(BaseModel):
    name: str = "x"


class _Anchored(BaseModel):
    code: Annotated[str, Field(pattern="^a$|^b$")]


class _Nested(BaseModel):
    inner: _Stripped


@pytest.mark.parametrize("model", [_Custom, _Stripped, _Defaulted, _Anchored, _Nested])
def test_models_the_fast_path_cannot_reproduce_have_none(model: type[BaseModel]) -> None:
    with pytest.raises(Unsupported):
        compile_params(model)
    assert fast_params(model) is None
