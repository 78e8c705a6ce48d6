"""okx-ws speaks OKX as it is today (issue #22), without sockets.

Replies keep every field OKX sends (``subCode`` since 2026-03-10 and any field
added later), on the typed reply, a batch reply and an ``OkxApiError``; pushes
take order types and states the spec does not list; ``extra_fields`` sends a
field this release does not know, on purpose, while a misspelt one still fails
before sending; the error codes OKX introduced this year say what to do.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from okx_ws import (
    AsyncWebsocketAPIClient,
    OkxApiError,
    OrdersPushItem,
    ParamsValidationError,
    WebsocketAPIClient,
)

from okx_ws_core.protocol.api_codes import HINTS
from okx_ws_core.testing import ScriptedServer, run

CREDENTIALS = {"api_key": "k", "api_secret": "s", "api_passphrase": "p"}
CODES = {"BTC-USDT": 10001, "BTC-USDC": 10003}
ORDER = {
    "instId": "BTC-USDT",
    "tdMode": "cash",
    "side": "buy",
    "ordType": "limit",
    "sz": "1",
    "px": "1",
}
NEW_ITEM_FIELDS = {"subCode": "", "aFieldFrom2027": {"nested": True}}


def _answer(code: str, items: list[dict[str, Any]]) -> Any:
    def answer(frame: dict[str, Any]) -> dict[str, Any]:
        return {"id": frame["id"], "op": frame["op"], "code": code, "msg": "", "data": items,
                "inTime": "1", "outTime": "2", "anEnvelopeFieldFrom2027": "x"}  # fmt: skip

    return answer


def _client(server: ScriptedServer) -> AsyncWebsocketAPIClient:
    return AsyncWebsocketAPIClient(**CREDENTIALS, transport=server, instruments=CODES)


def test_a_reply_keeps_sub_code_and_fields_nobody_knows_yet() -> None:
    server = ScriptedServer(
        answer=_answer("0", [{"ordId": "1", "sCode": "0", "sMsg": "", **NEW_ITEM_FIELDS}])
    )

    async def main() -> Any:
        async with _client(server) as client:
            return await client.submit_new_order(ORDER)

    reply = run(main())
    item = reply.data[0]
    assert item.sub_code == "" and item.model_extra == {"aFieldFrom2027": {"nested": True}}
    assert reply.model_extra == {"anEnvelopeFieldFrom2027": "x"}
    dumped = reply.model_dump(by_alias=True, exclude_none=True)
    assert (
        dumped["data"][0]["aFieldFrom2027"] == {"nested": True}
        and dumped["data"][0]["subCode"] == ""
    )
    assert dumped["anEnvelopeFieldFrom2027"] == "x"


def test_a_batch_and_an_amend_reply_keep_them_too() -> None:
    items = [{"ordId": str(i), "sCode": "0", "sMsg": "", **NEW_ITEM_FIELDS} for i in range(2)]
    server = ScriptedServer(answer=_answer("0", items))
    with WebsocketAPIClient(**CREDENTIALS, transport=server, instruments=CODES) as client:
        batch = client.submit_multiple_orders([ORDER, {**ORDER, "px": "2"}])
        amended = client.amend_order({"instId": "BTC-USDT", "ordId": "1", "newPx": "2"})
    for item in (*batch.data, *amended.data):
        assert item.sub_code == "" and item.model_extra == {"aFieldFrom2027": {"nested": True}}


def test_an_okx_api_error_keeps_every_item_field_typed_and_says_what_to_do() -> None:
    rejected = {"clOrdId": "u1", "ordId": "", "sCode": "54109", "subCode": "", "aFieldFrom2027": 1,
                "sMsg": "You have not activated trading for this pair."}  # fmt: skip
    placed = {"clOrdId": "u2", "ordId": "8", "sCode": "0", "sMsg": "", "subCode": ""}
    server = ScriptedServer(answer=_answer("2", [rejected, placed]))

    async def main() -> None:
        async with _client(server) as client:
            await client.submit_multiple_orders(
                [{**ORDER, "instId": "BTC-USDC", "clOrdId": "u1"}, {**ORDER, "clOrdId": "u2"}]
            )

    with pytest.raises(OkxApiError) as caught:
        run(main())
    error = caught.value
    assert error.failed == [rejected] and error.succeeded == [placed]  # dicts: every field
    assert error.response is not None
    first = error.response.data[0]
    assert first.s_code == "54109" and first.model_extra == {"aFieldFrom2027": 1}
    assert error.hints == [HINTS["54109"]]
    assert "activate-feature" in str(error) and "tradeQuoteCcy" in str(error)


def test_a_sub_code_is_shown_in_the_error_message() -> None:
    item = {"ordId": "", "sCode": "51008", "subCode": "1000", "sMsg": "Insufficient USDT balance"}
    server = ScriptedServer(answer=_answer("1", [item]))

    async def main() -> None:
        async with _client(server) as client:
            await client.submit_new_order(ORDER)

    with pytest.raises(
        OkxApiError, match=r"sCode=51008 sMsg='Insufficient USDT balance' subCode=1000"
    ):
        run(main())


@pytest.mark.parametrize("code", sorted(HINTS))
def test_every_code_introduced_this_year_has_a_dated_hint(code: str) -> None:
    hint = HINTS[code]
    assert hint.code == code and hint.meaning and hint.action and hint.source
    assert hint.since.startswith("202")
    assert str(hint).startswith(f"{code}: ")


@pytest.mark.parametrize(
    "changes",
    [
        {"ordType": "trigger", "algoId": "9001", "source": "6"},
        {"ordType": "rpi", "amendSource": "6", "rpiPxRound": "true"},
        {"state": "a_state_from_2027"},
        {"instType": "EVENTS", "outcome": "yes"},
    ],
    ids=["trigger", "rpi", "unknown state", "events"],
)
def test_order_pushes_with_values_the_spec_does_not_list_are_typed_without_a_warning(
    changes: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="okx_ws")
    base = {"instId": "BTC-USDT-SWAP", "ordId": "1", "clOrdId": "c1", "state": "live", "sz": "1",
            "side": "buy", "ordType": "limit", "accFillSz": "0", "cTime": "1", "uTime": "1"}  # fmt: skip
    pushed = {**base, **changes}
    server = ScriptedServer()

    async def main() -> Any:
        async with _client(server) as client:
            stream = await client.subscribe_orders()
            link = next(link for link in server.links if link.url.endswith("/private"))
            link.push({"arg": {"channel": "orders", "instType": "ANY"}, "data": [pushed]})
            return await stream.get(timeout=1.0)

    update = run(main())
    item = update.data[0]
    assert type(item) is OrdersPushItem
    assert item.model_dump(by_alias=True, exclude_none=True) == pushed  # every field kept
    assert caplog.records == []


# -- extra_fields: sending what this release does not know, on purpose ---------------


def _sent_args(server: ScriptedServer) -> list[dict[str, Any]]:
    return [frame["args"] for link in server.links for frame in link.requests][0]


def test_extra_fields_go_on_the_wire_as_given_and_are_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="okx_ws")
    server = ScriptedServer(answer=_answer("0", [{"ordId": "1", "sCode": "0", "sMsg": ""}]))

    async def main() -> None:
        async with _client(server) as client:
            for _ in range(2):
                await client.submit_new_order(
                    ORDER, extra_fields={"brandNewField": {"a": [1, "2"]}}
                )

    run(main())
    sent = _sent_args(server)
    assert sent[0]["brandNewField"] == {"a": [1, "2"]} and sent[0]["px"] == "1"
    assert caplog.text.count("sending 'brandNewField' unvalidated") == 1


def test_extra_fields_per_batch_item_and_for_every_item() -> None:
    server = ScriptedServer(answer=_answer("0", [{"ordId": "1", "sCode": "0", "sMsg": ""}] * 2))
    with WebsocketAPIClient(**CREDENTIALS, transport=server, instruments=CODES) as client:
        client.submit_multiple_orders([ORDER, ORDER], extra_fields=[{"x1": 1}, {"x2": 2}])
        client.submit_multiple_orders([ORDER, ORDER], extra_fields={"both": True})
    first, second = (frame["args"] for link in server.links for frame in link.requests)
    assert [("x1" in a, "x2" in a) for a in first] == [(True, False), (False, True)]
    assert all(a["both"] is True for a in second)


@pytest.mark.parametrize(
    ("params", "extra", "named"),
    [
        ({**ORDER, "prx": "1"}, None, "prx"),  # a misspelt field without extra_fields
        (ORDER, {"px": "2"}, "extra_fields.px: a field of OrderParams"),  # known: belongs in params
        (ORDER, {"isElpTakerAccess": True}, "renamed rpiTakerAccess"),  # retired: refused anyway
        (ORDER, {"when": object()}, "extra_fields.when: cannot be sent as JSON"),
        (ORDER, ["not", "mappings"], "extra_fields"),
    ],
    ids=["misspelt", "known", "retired", "not-json", "wrong-shape"],
)
def test_bad_input_is_refused_before_sending(params: Any, extra: Any, named: str) -> None:
    server = ScriptedServer()

    async def main() -> None:
        async with _client(server) as client:
            await client.submit_new_order(params, extra_fields=extra)

    with pytest.raises(ParamsValidationError, match=named.replace("[", r"\[")):
        run(main())
    assert server.connect_attempts == 0


def test_extra_fields_for_a_batch_must_match_its_length() -> None:
    server = ScriptedServer()
    with WebsocketAPIClient(**CREDENTIALS, transport=server, instruments=CODES) as client:
        with pytest.raises(ParamsValidationError, match="got 1 mappings for 2 items"):
            client.submit_multiple_orders([ORDER, ORDER], extra_fields=[{"x": 1}])
    assert server.connect_attempts == 0
