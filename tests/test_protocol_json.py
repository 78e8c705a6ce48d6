"""The frame codec (orjson when installed) accepts and refuses what the stdlib does."""

from __future__ import annotations

import json
import math

import pytest

from okx_ws_core.protocol import frames as protocol
from okx_ws_core.protocol.frames import Malformed, Reply, encode_request, parse_frame

ITEM = {"instId": "BTC-USDT", "instIdCode": 1, "side": "buy", "px": "100", "note": "é"}


def test_frames_are_the_compact_utf8_json_the_stdlib_wrote() -> None:
    frame = encode_request("a1", "order", [ITEM], exp_time=1700000000000)
    assert frame == json.dumps(
        {"id": "a1", "op": "order", "args": [ITEM], "expTime": "1700000000000"},
        separators=(",", ":"),
        ensure_ascii=False,
    )


def test_what_the_fast_codec_refuses_goes_through_the_stdlib() -> None:
    huge = {"n": 2**70, 7: "int key"}
    assert protocol._dumps(huge) == json.dumps(huge, separators=(",", ":"))
    reply = parse_frame('{"id":"a1","op":"order","code":"0","data":[{"px":NaN}]}')
    assert isinstance(reply, Reply) and math.isnan(reply.message["data"][0]["px"])


def test_replies_decode_as_the_stdlib_decoded_them() -> None:
    text = (
        '{"id":"a1","op":"order","code":"0","msg":"","data":[{"clOrdId":"c1","ordId":"31226",'
        '"sCode":"0","sMsg":"","ts":"1695190491421","n":12,"f":0.5,"ok":true,"x":null}],'
        '"inTime":"1695190491421339","outTime":"1695190491423240"}'
    )
    reply = parse_frame(text)
    assert isinstance(reply, Reply) and reply.message == json.loads(text)


def test_what_the_stdlib_refuses_is_still_refused() -> None:
    with pytest.raises(TypeError):
        protocol._dumps({"px": object()})
    broken = parse_frame('{"id": "a1", "op": ')
    assert isinstance(broken, Malformed) and broken.reason.startswith("invalid JSON: ")
