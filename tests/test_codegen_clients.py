"""Contracts of the generated package beyond the examples: naming, options, lifecycle, table."""

from __future__ import annotations

import dataclasses
import inspect
import subprocess
import sys
from pathlib import Path
from typing import Any, cast

import okx_ws
import pytest
from okx_ws import (
    BY_OP,
    OPERATIONS,
    AsyncWebsocketAPIClient,
    CancelOrderParams,
    ConfigurationError,
    Operation,
    OrderParams,
    SubmitNewOrderResponse,
    WebsocketAPIClient,
)
from pydantic import ValidationError

import okx_ws_core
from codegen.render import RUNTIME_NAMES
from codegen.spec_loader import load_spec

ROOT = Path(__file__).resolve().parent.parent
ORDER = {"instId": "BTC-USDT", "tdMode": "cash", "side": "buy", "ordType": "limit", "sz": "0.1"}


def test_models_accept_both_names_and_emit_okx_names() -> None:
    by_alias = OrderParams.model_validate({**ORDER, "clOrdId": "a1"})
    by_name = OrderParams.model_validate(
        {
            "inst_id": "BTC-USDT",
            "td_mode": "cash",
            "side": "buy",
            "ord_type": "limit",
            "sz": "0.1",
            "cl_ord_id": "a1",
        }
    )
    assert by_alias == by_name
    assert by_name.cl_ord_id == "a1"
    assert by_name.model_dump(exclude_none=True) == {**ORDER, "clOrdId": "a1"}


@pytest.mark.parametrize("value", [0.1, 1, True, "1e3", "-1", "0.0", " 1", "1."])
def test_decimal_fields_take_only_positive_decimal_strings(value: object) -> None:
    with pytest.raises(ValidationError) as caught:
        OrderParams.model_validate({**ORDER, "sz": value})
    assert caught.value.errors()[0]["loc"] == ("sz",)


@pytest.mark.parametrize("value", ["0.1", "1", "100.25", "0.00000001", "10"])
def test_decimal_strings_are_kept_verbatim(value: str) -> None:
    assert OrderParams.model_validate({**ORDER, "sz": value}).sz == value


def test_any_of_rule_is_enforced_by_the_model() -> None:
    with pytest.raises(ValidationError, match="at least one of ordId, clOrdId is required"):
        CancelOrderParams.model_validate({"instId": "BTC-USDT"})
    with pytest.raises(ValidationError):
        CancelOrderParams.model_validate({"instId": "BTC-USDT", "ordId": None})
    assert CancelOrderParams.model_validate({"instId": "X", "clOrdId": "a"}).cl_ord_id == "a"


def test_every_any_of_rule_checks_its_models_own_fields() -> None:
    """The generated checks read the groups' attributes by name: each model that has a
    rule fails on every group left out, naming it, and passes with one field of each."""
    ruled = [
        m
        for m in vars(okx_ws.models).values()
        if isinstance(m, type) and m.__module__ == "okx_ws.models" and hasattr(m, "required_any_of")
    ]
    assert ruled
    for model in ruled:
        attribute = {field.alias or name: name for name, field in model.model_fields.items()}
        for group in model.required_any_of:
            assert all(alias in attribute for alias in group), (model.__name__, group)
            others = {attribute[a]: "x" for g in model.required_any_of if g != group for a in g}
            instance = model.model_construct(**others, **{attribute[a]: None for a in group})
            with pytest.raises(ValidationError, match=f"at least one of {', '.join(group)}"):
                type(instance).__pydantic_validator__.validate_assignment(
                    instance, attribute[group[0]], None
                )


def test_response_envelope_uses_snake_case_with_okx_aliases() -> None:
    reply = {
        "id": "1", "op": "order", "code": "0", "msg": "", "inTime": "10", "outTime": "20",
        "data": [{"ordId": "5", "sCode": "0", "sMsg": "", "newField": "ignored"}],
    }  # fmt: skip
    response = SubmitNewOrderResponse.model_validate(reply)
    assert (response.in_time, response.out_time) == ("10", "20")
    assert response.data[0].ord_id == "5"
    assert response.model_dump(exclude_none=True)["inTime"] == "10"


def test_operation_table_follows_the_spec() -> None:
    spec = load_spec(ROOT / "spec")
    assert list(OPERATIONS) == [operation.name for operation in spec.operations]
    assert set(BY_OP) == {operation.op for operation in spec.operations}
    assert dataclasses.is_dataclass(Operation)
    assert Operation is okx_ws_core.Operation
    order = BY_OP["batch-orders"]
    assert (order.name, order.connection, order.batch, order.max_items) == (
        "submit_multiple_orders", "private", True, 20,
    )  # fmt: skip
    assert order.params_model is OrderParams is OPERATIONS["submit_new_order"].params_model
    assert BY_OP["sprd-mass-cancel"].connection == "business"
    assert all(op.max_items == 1 for op in OPERATIONS.values() if not op.batch)


def test_both_clients_have_one_method_per_operation() -> None:
    for name, operation in OPERATIONS.items():
        for client in (AsyncWebsocketAPIClient, WebsocketAPIClient):
            method = getattr(client, name)
            assert operation.doc in " ".join((method.__doc__ or "").split())
            parameters = inspect.signature(method).parameters
            assert parameters["exp_time"].kind is inspect.Parameter.KEYWORD_ONLY
            assert parameters["timeout"].kind is inspect.Parameter.KEYWORD_ONLY
        assert inspect.iscoroutinefunction(getattr(AsyncWebsocketAPIClient, name))


@pytest.mark.parametrize(
    ("client", "runtime"),
    [
        (AsyncWebsocketAPIClient, okx_ws_core.AsyncWebsocketClient),
        (WebsocketAPIClient, okx_ws_core.WebsocketClient),
    ],
)
def test_constructor_spells_out_every_runtime_option(client: type, runtime: type) -> None:
    """The generated constructors are derived from ClientOptions, the one definition."""
    ours = set(inspect.signature(client).parameters) - {"ws_client"}
    options = {field.name for field in dataclasses.fields(okx_ws_core.ClientOptions)}
    theirs = set(inspect.signature(runtime).parameters) - {"overrides", "connection_limits"}
    assert ours == theirs | options
    for field in dataclasses.fields(okx_ws_core.ClientOptions):
        assert field.metadata["doc"] in " ".join((client.__init__.__doc__ or "").split())


def test_ws_client_and_options_are_exclusive() -> None:
    with pytest.raises(ConfigurationError, match="not both"):
        AsyncWebsocketAPIClient(ws_client=cast(Any, object()), market="eea")


def test_unknown_runtime_option_is_named() -> None:
    with pytest.raises(ConfigurationError, match="markt"):
        okx_ws_core.AsyncWebsocketClient(markt="eea")


class _FakeAsyncWs:
    def __init__(self) -> None:
        self.calls: list[str] = []
        self.closed = False

    def register_instrument_channels(self, channels: object) -> None:
        pass

    async def connect_ws_api(self, *, timeout: float | None = None) -> None:
        self.calls.append(f"connect {timeout}")

    def set_time_offset_ms(self, offset_ms: int) -> None:
        self.calls.append(f"offset {offset_ms}")

    def register_order_tracking(self, ops: Any, channels: Any) -> None:
        pass  # the generated constructor hands over the spec's order ops and channels

    async def close(self) -> None:
        self.calls.append("close")


async def test_utility_methods_delegate_and_borrowed_client_stays_open() -> None:
    ws = _FakeAsyncWs()
    async with AsyncWebsocketAPIClient(ws_client=cast(Any, ws)) as client:
        assert client.get_ws_client() is cast(Any, ws)
        await client.connect_ws_api(timeout=3.0)
        client.set_time_offset_ms(-250)
    assert ws.calls == ["connect 3.0", "offset -250"]


async def test_owned_runtime_client_is_closed() -> None:
    async with AsyncWebsocketAPIClient(attach_event_listeners=False) as client:
        ws = client.get_ws_client()
        assert isinstance(ws, okx_ws_core.AsyncWebsocketClient)
    assert ws.closed


def test_sync_owned_runtime_client_is_closed() -> None:
    with WebsocketAPIClient(attach_event_listeners=False) as client:
        ws = client.get_ws_client()
    with pytest.raises(okx_ws.ClientClosed):
        ws.connect_ws_api()


def test_package_reexports_the_runtime_names() -> None:
    assert set(RUNTIME_NAMES) == set(okx_ws_core.__all__) - {"__version__"}  # read, not copied
    for name in RUNTIME_NAMES:
        assert getattr(okx_ws, name) is getattr(okx_ws_core, name)
        assert name in okx_ws.__all__


def test_generated_code_passes_ruff() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "generated/okx_ws"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout


@pytest.mark.slow
def test_generated_code_passes_mypy_strict() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "generated/okx_ws"],
        cwd=ROOT, capture_output=True, text=True, check=False, env={"MYPYPATH": str(ROOT), "PATH": ""},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout
