"""Every example in spec/operations.yaml, run through both generated clients.

Valid examples must reach the runtime as exactly the (connection, op, args,
exp_time) the spec describes; invalid ones must raise ParamsValidationError
naming the field, with nothing sent.  The cases come from the spec, so a new
example or operation is tested without touching this file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest
from okx_ws import (
    OPERATIONS,
    AsyncWebsocketAPIClient,
    ParamsValidationError,
    WebsocketAPIClient,
)
from pydantic import BaseModel

from codegen.spec_loader import load_spec

SPEC = load_spec(Path(__file__).resolve().parent.parent / "spec")
EXP_TIME = 1597026383085


def _cases(kind: str) -> list[Any]:
    return [
        pytest.param(name, example, id=f"{name}:{example['name']}")
        for name, entry in SPEC.raw["operations"].items()
        for example in entry["examples"][kind]
    ]


def _reply(op: str, data: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": "7",
        "op": op,
        "code": "0",
        "msg": "",
        "data": data,
        "inTime": "1",
        "outTime": "2",
    }


class RecordingAsyncWs:
    """Stands in for okx_ws_core.AsyncWebsocketClient: records requests, answers canned data."""

    def __init__(self, data: list[dict[str, Any]]) -> None:
        self.calls: list[tuple[str, str, list[dict[str, Any]], int | None]] = []
        self.data = data

    async def send_ws_api_request(
        self,
        connection: str,
        op: str,
        args: list[dict[str, Any]],
        *,
        exp_time: int | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        self.calls.append((connection, op, args, exp_time))
        return _reply(op, self.data)


class RecordingSyncWs:
    """Blocking twin of :class:`RecordingAsyncWs`."""

    def __init__(self, data: list[dict[str, Any]]) -> None:
        self.calls: list[tuple[str, str, list[dict[str, Any]], int | None]] = []
        self.data = data

    def send_ws_api_request(
        self,
        connection: str,
        op: str,
        args: list[dict[str, Any]],
        *,
        exp_time: int | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        self.calls.append((connection, op, args, exp_time))
        return _reply(op, self.data)


def _expected_args(params: Any) -> list[dict[str, Any]]:
    return list(params) if isinstance(params, list) else [params]


def _as_models(name: str, params: Any) -> Any:
    """The same parameters as model instances, to check both input forms."""
    model = OPERATIONS[name].params_model
    if isinstance(params, list):
        return [model.model_validate(item) for item in params]
    return model.model_validate(params)


@pytest.mark.parametrize("as_models", [False, True], ids=["mapping", "model"])
@pytest.mark.parametrize(("name", "example"), _cases("valid"))
async def test_valid_example_sends_the_spec_frame_async(
    name: str, example: dict[str, Any], as_models: bool
) -> None:
    operation = OPERATIONS[name]
    ws = RecordingAsyncWs(example["response"])
    client = AsyncWebsocketAPIClient(ws_client=cast(Any, ws))
    params = _as_models(name, example["params"]) if as_models else example["params"]

    response = await getattr(client, name)(params, exp_time=EXP_TIME)

    assert ws.calls == [
        (operation.connection, operation.op, _expected_args(example["params"]), EXP_TIME)
    ]
    assert isinstance(response, operation.response_model)
    assert response.model_dump(exclude_none=True)["data"] == example["response"]


@pytest.mark.parametrize(("name", "example"), _cases("valid"))
def test_valid_example_sends_the_spec_frame_sync(name: str, example: dict[str, Any]) -> None:
    operation = OPERATIONS[name]
    ws = RecordingSyncWs(example["response"])
    client = WebsocketAPIClient(ws_client=cast(Any, ws))

    response = getattr(client, name)(example["params"])

    assert ws.calls == [
        (operation.connection, operation.op, _expected_args(example["params"]), None)
    ]
    items = cast(BaseModel, response).model_dump(exclude_none=True)["data"]
    assert items == example["response"]


@pytest.mark.parametrize(("name", "example"), _cases("invalid"))
async def test_invalid_example_is_rejected_before_sending_async(
    name: str, example: dict[str, Any]
) -> None:
    ws = RecordingAsyncWs([])
    client = AsyncWebsocketAPIClient(ws_client=cast(Any, ws))

    with pytest.raises(ParamsValidationError) as caught:
        await getattr(client, name)(example["params"])

    assert example["error_field"] in str(caught.value)
    assert caught.value.operation == name
    assert ws.calls == []


@pytest.mark.parametrize(("name", "example"), _cases("invalid"))
def test_invalid_example_is_rejected_before_sending_sync(
    name: str, example: dict[str, Any]
) -> None:
    ws = RecordingSyncWs([])
    client = WebsocketAPIClient(ws_client=cast(Any, ws))

    with pytest.raises(ParamsValidationError) as caught:
        getattr(client, name)(example["params"])

    assert example["error_field"] in str(caught.value)
    assert ws.calls == []


def test_every_operation_has_valid_and_invalid_examples() -> None:
    for name, entry in SPEC.raw["operations"].items():
        assert entry["examples"]["valid"], name
        assert entry["examples"]["invalid"], name


def test_batch_operations_have_an_over_max_example() -> None:
    for name, entry in SPEC.raw["operations"].items():
        if entry["batch"]:
            sizes = [
                len(example["params"])
                for example in entry["examples"]["invalid"]
                if isinstance(example["params"], list)
            ]
            assert max(sizes) > entry["max_items"], name
