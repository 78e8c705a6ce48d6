"""``Operation.prepare``: what each kind of ``params`` gives, before anything is sent.

A plain dict takes a fast path past the checks against pydantic classes; every other
kind must still get its own answer: the model's instance is sent as it dumps, another
model or a non-mapping is refused naming what it got, any other mapping is validated.
"""

from __future__ import annotations

from collections import OrderedDict
from types import MappingProxyType

import pytest
from okx_ws import CancelOrderParams, OrderParams, operations

from okx_ws_core import ParamsValidationError

ORDER = {"instId": "BTC-USDT", "tdMode": "cash", "side": "buy", "ordType": "limit", "sz": "1"}
WIRE = [{"instId": "BTC-USDT", "tdMode": "cash", "side": "buy", "ordType": "limit", "sz": "1"}]


@pytest.mark.parametrize(
    "params",
    [dict(ORDER), OrderedDict(ORDER), MappingProxyType(ORDER), OrderParams.model_validate(ORDER)],
    ids=["dict", "OrderedDict", "mappingproxy", "model"],
)
def test_a_mapping_or_the_model_gives_the_wire_items(params: object) -> None:
    assert operations.SUBMIT_NEW_ORDER.prepare(params) == WIRE


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            CancelOrderParams.model_validate({"instId": "BTC-USDT", "ordId": "1"}),
            "(params): expected OrderParams, got CancelOrderParams",
        ),
        ([ORDER], "(params): expected a mapping or OrderParams, got list"),
        ({**ORDER, "sz": 1}, "sz: must be"),
        ({**ORDER, "ordType": "elp"}, "ordType: 'elp' was renamed 'rpi'"),
    ],
    ids=["another model", "a list", "a bad field", "a retired value"],
)
def test_anything_else_is_refused_naming_it(params: object, message: str) -> None:
    with pytest.raises(ParamsValidationError) as caught:
        operations.SUBMIT_NEW_ORDER.prepare(params)
    assert message in str(caught.value)
