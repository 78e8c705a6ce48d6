"""Errors that say what to do (issue #19 item 4): a bad value is explained with what a
valid one looks like (the spec's ``x-format``), a float price with the string to send
instead, a misspelt field with the field that was meant; nothing is sent."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from okx_ws import OPERATIONS, OrderParams, WebsocketAPIClient
from pydantic import ValidationError

from okx_ws_core import ParamsValidationError
from okx_ws_core.testing import ScriptedServer

ORDER = {
    "instId": "BTC-USDT",
    "tdMode": "cash",
    "side": "buy",
    "ordType": "limit",
    "sz": "1",
    "px": "1",
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"sz": "abc"}, """sz: must be a positive decimal string like "0.01", got 'abc'"""),
        (
            {"px": 20000.5},
            'px: got a float 20000.5; send a decimal string like "20000.5" (floats lose precision)',
        ),
        (
            {"px": Decimal("20000.5")},
            'px: got a Decimal 20000.5; send a decimal string like "20000.5"',
        ),
        ({"sz": 5}, 'sz: must be a positive decimal string like "0.01", got int 5'),
        ({"prx": "1"}, "prx: not a field of submit_new_order; did you mean px?"),
        ({"tdmode": "cash"}, "tdmode: not a field of submit_new_order; did you mean tdMode?"),
        ({"zzzzzz": 1}, "zzzzzz: not a field of submit_new_order"),
        (
            {"clOrdId": "a-b"},
            """clOrdId: must be 1 to 32 letters and digits, like "b15", got 'a-b'""",
        ),
        ({"side": "hold"}, "side: Input should be 'buy' or 'sell', got 'hold'"),
        ({"reduceOnly": "true"}, "reduceOnly: Input should be a valid boolean, got 'true'"),
    ],
    ids=lambda value: str(value)[:30],
)
def test_the_client_explains_a_bad_value(change: dict[str, Any], message: str) -> None:
    server = ScriptedServer()
    with WebsocketAPIClient(api_key="k", api_secret="s", api_passphrase="p", transport=server,
                            instruments={"BTC-USDT": 1}) as client:  # fmt: skip
        with pytest.raises(ParamsValidationError) as caught:
            client.submit_new_order({**ORDER, **change})
    assert str(caught.value) == f"invalid parameters for submit_new_order: {message}"
    assert server.connect_attempts == 0


def test_batch_items_are_located_and_explained() -> None:
    with pytest.raises(ParamsValidationError) as caught:
        OPERATIONS["submit_multiple_orders"].prepare([ORDER, {**ORDER, "px": 1.5}])
    assert caught.value.errors == [
        ("[1].px", 'got a float 1.5; send a decimal string like "1.5" (floats lose precision)')
    ]


def test_model_constructors_keep_pydantic_errors() -> None:
    with pytest.raises(ValidationError, match="String should match pattern"):
        OrderParams.model_validate({**ORDER, "sz": "abc"})
