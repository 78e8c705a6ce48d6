"""Every example in spec/operations.yaml, run through both generated clients.

The clients run on the real runtime over an in-memory OKX peer
(:class:`okx_ws_core.testing.ScriptedServer`).  Valid examples must reach the
wire as exactly the frame the spec describes (op, connection, args, expTime),
with an integer ``instIdCode`` filled in from ``instId`` where the spec says
``x-resolve``; invalid ones must raise ParamsValidationError naming the field,
with nothing sent.  The cases come from the spec, so a new example or
operation is tested without touching this file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from okx_ws import OPERATIONS, AsyncWebsocketAPIClient, ParamsValidationError, WebsocketAPIClient

from codegen.spec_loader import load_spec
from okx_ws_core.testing import ScriptedServer, ServerLink, run

SPEC = load_spec(Path(__file__).resolve().parent.parent / "spec")
EXP_TIME = 1597026383085
CREDENTIALS = {"api_key": "k", "api_secret": "s", "api_passphrase": "p"}


def _cases(kind: str) -> list[Any]:
    return [
        pytest.param(name, example, id=f"{name}:{example['name']}")
        for name, entry in SPEC.raw["operations"].items()
        for example in entry["examples"][kind]
    ]


def _items(params: Any) -> list[dict[str, Any]]:
    return list(params) if isinstance(params, list) else [params]


# Every instId the examples use gets a code, so no REST call is ever needed.
CODES = {
    item["instId"]: 7000 + index
    for index, item in enumerate(
        item
        for case in _cases("valid")
        for item in _items(case.values[1]["params"])
        if isinstance(item, dict) and "instId" in item
    )
}


def _server(example: dict[str, Any]) -> ScriptedServer:
    def answer(frame: dict[str, Any]) -> dict[str, Any]:
        return {"id": frame["id"], "op": frame["op"], "code": "0", "msg": "",
                "data": example["response"], "inTime": "1", "outTime": "2"}  # fmt: skip

    return ScriptedServer(answer=answer)


def _sent(server: ScriptedServer) -> list[tuple[str, dict[str, Any]]]:
    """(connection, request frame) for every request the server saw."""
    links: list[ServerLink] = server.links
    return [(link.url.rsplit("/", 1)[-1].split("?")[0], f) for link in links for f in link.requests]


def _expected_args(name: str, params: Any) -> list[dict[str, Any]]:
    """The spec's args, plus each resolved field the caller left out."""
    args = [dict(item) for item in _items(params)]
    for field in OPERATIONS[name].resolved:
        for item in args:
            if field.target not in item and field.source in item:
                item[field.target] = CODES[item[field.source]]
    return args


def _check_frame(server: ScriptedServer, name: str, params: Any, exp_time: int | None) -> None:
    operation = OPERATIONS[name]
    [(connection, frame)] = _sent(server)
    assert connection == operation.connection
    assert frame["op"] == operation.op
    assert frame["args"] == _expected_args(name, params)
    assert frame.get("expTime") == (str(exp_time) if exp_time is not None else None)
    for field in operation.resolved:
        for item in frame["args"]:
            assert type(item[field.target]) is int  # a JSON integer, never "123" or true


def _as_models(name: str, params: Any) -> Any:
    """The same parameters as model instances, to check both input forms."""
    model = OPERATIONS[name].params_model
    if isinstance(params, list):
        return [model.model_validate(item) for item in params]
    return model.model_validate(params)


@pytest.mark.parametrize("as_models", [False, True], ids=["mapping", "model"])
@pytest.mark.parametrize(("name", "example"), _cases("valid"))
def test_valid_example_sends_the_spec_frame_async(
    name: str, example: dict[str, Any], as_models: bool
) -> None:
    server = _server(example)
    params = _as_models(name, example["params"]) if as_models else example["params"]

    async def main() -> Any:
        async with AsyncWebsocketAPIClient(**CREDENTIALS, transport=server, instruments=CODES) as c:
            return await getattr(c, name)(params, exp_time=EXP_TIME)

    response = run(main())

    _check_frame(server, name, example["params"], EXP_TIME)
    assert isinstance(response, OPERATIONS[name].response_model)
    assert response.model_dump(exclude_none=True)["data"] == example["response"]


@pytest.mark.parametrize(("name", "example"), _cases("valid"))
def test_valid_example_sends_the_spec_frame_sync(name: str, example: dict[str, Any]) -> None:
    server = _server(example)
    with WebsocketAPIClient(**CREDENTIALS, transport=server, instruments=CODES) as client:
        response = getattr(client, name)(example["params"])

    _check_frame(server, name, example["params"], None)
    assert response.model_dump(exclude_none=True)["data"] == example["response"]


@pytest.mark.parametrize(("name", "example"), _cases("invalid"))
def test_invalid_example_is_rejected_before_sending_async(
    name: str, example: dict[str, Any]
) -> None:
    server = ScriptedServer()

    async def main() -> None:
        async with AsyncWebsocketAPIClient(**CREDENTIALS, transport=server, instruments=CODES) as c:
            await getattr(c, name)(example["params"])

    with pytest.raises(ParamsValidationError) as caught:
        run(main())

    assert example["error_field"] in str(caught.value)
    assert example.get("error_contains", "") in str(caught.value)
    assert caught.value.operation == name
    assert server.connect_attempts == 0  # rejected before even connecting


@pytest.mark.parametrize(("name", "example"), _cases("invalid"))
def test_invalid_example_is_rejected_before_sending_sync(
    name: str, example: dict[str, Any]
) -> None:
    server = ScriptedServer()
    with WebsocketAPIClient(**CREDENTIALS, transport=server, instruments=CODES) as client:
        with pytest.raises(ParamsValidationError) as caught:
            getattr(client, name)(example["params"])

    assert example["error_field"] in str(caught.value)
    assert example.get("error_contains", "") in str(caught.value)
    assert server.connect_attempts == 0


def test_every_resolved_operation_has_a_valid_example_with_the_source_field() -> None:
    for name, operation in OPERATIONS.items():
        for field in operation.resolved:
            examples = SPEC.raw["operations"][name]["examples"]["valid"]
            assert any(
                field.source in item and field.target not in item
                for example in examples
                for item in _items(example["params"])
            ), name


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
