"""instIdCode on the wire (issue #10), driven by spec/operations.yaml, over a scripted peer.

Since 2026 OKX reads an integer ``instIdCode`` in the six order/amend/cancel
operations.  Users pass ``instId``; the client fills the code in before
sending, sends an explicit code unchanged, forgets a code OKX rejects without
re-sending the order, and refuses a malformed code before connecting.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from okx_ws import AsyncWebsocketAPIClient, operations

from codegen.spec_loader import read_yaml
from okx_ws_core import OkxApiError, ParamsValidationError
from okx_ws_core.rest.instruments import InstrumentRegistry
from okx_ws_core.testing import ScriptedServer, ok_reply, run

SPEC = read_yaml(Path(__file__).parents[1] / "spec" / "operations.yaml")
CODED_OPS = (
    "order",
    "batch-orders",
    "amend-order",
    "batch-amend-orders",
    "cancel-order",
    "batch-cancel-orders",
)
METHOD_OF = {op: operations.BY_OP[op].name for op in CODED_OPS}


def items(params: Any) -> list[dict[str, Any]]:
    return list(params) if isinstance(params, list) else [params]


VALID = [
    (op, example)
    for op in CODED_OPS
    for example in SPEC["operations"][METHOD_OF[op]]["examples"]["valid"]
]
PRESET = {
    inst_id: 9000 + i
    for i, inst_id in enumerate(
        sorted(
            {item["instId"] for _, ex in VALID for item in items(ex["params"]) if "instId" in item}
        )
    )
}


def _first_item_by_inst_id(op: str) -> dict[str, Any]:
    """The first example item of ``op`` that names its instrument by instId only."""
    for example_op, example in VALID:
        for item in items(example["params"]):
            if example_op == op and "instId" in item and "instIdCode" not in item:
                return item
    raise AssertionError(f"no valid {op} example with instId")


FIRST_ITEM = {op: _first_item_by_inst_id(op) for op in CODED_OPS}


def make(server: ScriptedServer, **overrides: Any) -> AsyncWebsocketAPIClient:
    options: dict[str, Any] = {"attach_event_listeners": False, **overrides}
    return AsyncWebsocketAPIClient(
        api_key="k", api_secret="s", api_passphrase="p", transport=server, **options
    )


def wire(server: ScriptedServer, op: str) -> list[dict[str, Any]]:
    """Every request frame of ``op`` the server saw, across all links."""
    return [frame for link in server.links for frame in link.ops(op)]


def replying(data: list[dict[str, Any]], code: str = "0") -> Any:
    def answer(frame: dict[str, Any]) -> dict[str, Any]:
        return {"id": frame["id"], "op": frame["op"], "code": code, "msg": "", "data": data,
                "inTime": "1", "outTime": "2"}  # fmt: skip

    return answer


# -- every valid spec example carries an integer instIdCode --------------------------------


@pytest.mark.parametrize(("op", "example"), VALID, ids=[f"{op}: {ex['name']}" for op, ex in VALID])
def test_valid_example_sends_an_integer_instidcode_in_every_item(
    op: str, example: dict[str, Any]
) -> None:
    async def main() -> None:
        server = ScriptedServer(answer=replying(example["response"]))
        async with make(server, instruments=PRESET) as api:
            reply = await getattr(api, METHOD_OF[op])(example["params"])
        assert reply.code == "0"
        (frame,) = wire(server, op)
        given = items(example["params"])
        assert len(frame["args"]) == len(given)
        for sent, item in zip(frame["args"], given, strict=True):
            code = sent["instIdCode"]
            assert type(code) is int  # not bool, not str
            assert code == item.get("instIdCode", PRESET.get(item.get("instId")))
        assert '"instIdCode":"' not in server.links[0].frames[-1]  # unquoted on the wire

    run(main())


def test_the_valid_examples_cover_all_six_ops_and_both_sources() -> None:
    assert {op for op, _ in VALID} == set(CODED_OPS)
    sources = {"instIdCode" in item for _, ex in VALID for item in items(ex["params"])}
    assert sources == {True, False}


@pytest.mark.parametrize("op", CODED_OPS)
def test_explicit_instidcode_is_sent_unchanged_even_with_a_preset_instid(op: str) -> None:
    async def main() -> None:
        server = ScriptedServer()
        given = {**FIRST_ITEM[op], "instIdCode": 424242}
        params = [given, given] if operations.BY_OP[op].batch else given
        async with make(server, instruments=PRESET) as api:
            await getattr(api, METHOD_OF[op])(params)
            assert api.get_ws_client().instruments.code(given["instId"]) == PRESET[given["instId"]]
        (frame,) = wire(server, op)
        assert [item["instIdCode"] for item in frame["args"]] == [424242] * len(items(params))

    run(main())


# -- a code OKX rejects is forgotten, the order is not re-sent ----------------------------------


class Venue:
    """OKX's public instrument list, served by an ``httpx.MockTransport`` (no socket)."""

    def __init__(self, codes: dict[str, int]) -> None:
        self.codes = codes
        self.requests: list[str] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request.url.params["instType"])
        data = [{"instId": i, "instIdCode": c, "instType": "SPOT", "state": "live"}
                for i, c in self.codes.items()]  # fmt: skip
        return httpx.Response(200, json={"code": "0", "msg": "", "data": data})


def with_rest_codes(api: AsyncWebsocketAPIClient, venue: Venue) -> None:
    """Codes learned from REST (not a preset, which the user owns and is never dropped).

    The client's public ``instruments`` registry is swapped for one whose REST
    list is a mock: the only way to get REST-resolved codes without a socket.
    """
    ws = api.get_ws_client()
    ws.instruments = InstrumentRegistry(
        ws.options.rest_base(),
        transport=httpx.MockTransport(venue.handler),
        clock=asyncio.get_running_loop().time,
    )


BUY = {"instId": "BTC-USDT", "tdMode": "cash", "side": "buy", "ordType": "market", "sz": "1"}


@pytest.mark.parametrize("s_code", ["50014", "51001"])
def test_rejected_resolved_code_is_forgotten_and_the_order_not_resent(s_code: str) -> None:
    async def main() -> None:
        venue = Venue({"BTC-USDT": 501, "ETH-USDT": 601})
        rejected = [{"clOrdId": "k1", "ordId": "", "sCode": s_code, "sMsg": "bad instIdCode"}]
        server = ScriptedServer(answer=replying(rejected, code="1"))
        async with make(server) as api:
            with_rest_codes(api, venue)
            registry = api.get_ws_client().instruments
            with pytest.raises(OkxApiError) as caught:
                await api.submit_new_order({**BUY, "clOrdId": "k1"})
            assert caught.value.failed[0]["sCode"] == s_code
            assert wire(server, "order")[0]["args"][0]["instIdCode"] == 501
            assert registry.code("BTC-USDT") is None
            assert registry.code("ETH-USDT") == 601  # only the rejected one

            await asyncio.sleep(30)  # reconnect-free quiet time: nothing re-sent
            assert len(wire(server, "order")) == 1

            venue.codes["BTC-USDT"] = 502  # the next call learns the new code, once
            server.answer = ok_reply
            await api.submit_new_order({**BUY, "clOrdId": "k2"})
        assert [f["args"][0]["instIdCode"] for f in wire(server, "order")] == [501, 502]
        assert venue.requests == ["SPOT", "SPOT"]

    run(main())


def test_only_codes_the_client_resolved_are_forgotten() -> None:
    async def main() -> None:
        venue = Venue({"BTC-USDT": 501, "ETH-USDT": 601, "SOL-USDT": 701})
        rejected = [
            {"clOrdId": "a", "ordId": "", "sCode": "51001", "sMsg": "x"},  # resolved: forgotten
            {"clOrdId": "b", "ordId": "", "sCode": "51001", "sMsg": "x"},  # explicit: kept
            {"clOrdId": "c", "ordId": "", "sCode": "51008", "sMsg": "x"},  # other code: kept
        ]
        server = ScriptedServer(answer=replying(rejected, code="1"))
        async with make(server) as api:
            with_rest_codes(api, venue)
            registry = api.get_ws_client().instruments
            with pytest.raises(OkxApiError):
                await api.submit_multiple_orders(
                    [
                        {**BUY, "clOrdId": "a"},
                        {**BUY, "instId": "ETH-USDT", "instIdCode": 601, "clOrdId": "b"},
                        {**BUY, "instId": "SOL-USDT", "clOrdId": "c"},
                    ]
                )
            assert registry.code("BTC-USDT") is None
            assert registry.code("ETH-USDT") == 601
            assert registry.code("SOL-USDT") == 701
        assert len(wire(server, "batch-orders")) == 1

    run(main())


def test_a_rejected_preset_code_is_kept_it_is_the_users_word() -> None:
    async def main() -> None:
        rejected = [{"clOrdId": "p", "ordId": "", "sCode": "51001", "sMsg": "x"}]
        server = ScriptedServer(answer=replying(rejected, code="1"))
        async with make(server, instruments={"BTC-USDT": 7}) as api:
            with pytest.raises(OkxApiError):
                await api.submit_new_order({**BUY, "clOrdId": "p"})
            assert api.get_ws_client().instruments.code("BTC-USDT") == 7
        assert len(wire(server, "order")) == 1

    run(main())


# -- a malformed instIdCode is refused before anything is sent ------------------------------------

BAD_CODES = [("string", "10459"), ("zero", 0), ("negative", -5), ("float", 10459.0), ("bool", True)]
BAD_CASES = [
    (op, label, value, keep_inst_id)
    for op in CODED_OPS
    for label, value in BAD_CODES
    for keep_inst_id in (False, True)
]


@pytest.mark.parametrize(
    ("op", "label", "value", "keep_inst_id"),
    BAD_CASES,
    ids=[
        f"{op}-{label}-{'with' if keep else 'without'}-instId" for op, label, _, keep in BAD_CASES
    ],
)
def test_malformed_instidcode_is_refused_naming_the_field_and_nothing_is_sent(
    op: str, label: str, value: object, keep_inst_id: bool
) -> None:
    async def main() -> None:
        server = ScriptedServer()
        good = FIRST_ITEM[op]
        bad = {**good, "instIdCode": value}
        if not keep_inst_id:
            del bad["instId"]
        batch = operations.BY_OP[op].batch
        params = [good, bad] if batch else bad
        async with make(server, instruments=PRESET) as api:
            await api.connect_ws_api()
            with pytest.raises(ParamsValidationError) as caught:
                await getattr(api, METHOD_OF[op])(params)
        where = "[1].instIdCode" if batch else "instIdCode"
        assert where in [location for location, _ in caught.value.errors], caught.value.errors
        assert "instIdCode" in str(caught.value)
        assert [link.requests for link in server.links] == [[], []]  # private, business
        assert all(json.loads(f).get("op") == "login" for link in server.links for f in link.frames)

    run(main())
