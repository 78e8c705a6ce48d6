"""Sans-I/O tests: frames, ids, signing, endpoints, timing policies, params."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random

import pytest
from pydantic import BaseModel, ConfigDict, Field

from okx_ws_core import ConfigurationError, OkxApiError, ParamsValidationError, prepare_args
from okx_ws_core.client.async_client import AsyncWebsocketClient
from okx_ws_core.errors import ConnectionLost, RequestTimeout
from okx_ws_core.protocol import frames as p
from okx_ws_core.protocol.endpoints import resolve_url
from okx_ws_core.protocol.signing import login_args, login_timestamp, sign
from okx_ws_core.protocol.timing import Backoff, Heartbeat


def test_request_frame_is_compact_json_with_optional_exp_time() -> None:
    frame = p.encode_request("abc1", "order", [{"instId": "BTC-USDT", "sz": "1"}])
    assert frame == '{"id":"abc1","op":"order","args":[{"instId":"BTC-USDT","sz":"1"}]}'
    with_exp = json.loads(p.encode_request("abc2", "order", [], exp_time=1597026383085))
    assert with_exp["expTime"] == "1597026383085"


def test_request_ids_are_unique_alphanumeric_and_at_most_32_chars() -> None:
    ids = p.RequestIds()
    seen = {ids.next() for _ in range(10_000)}
    assert len(seen) == 10_000
    assert all(i.isalnum() and len(i) <= p.MAX_ID_LENGTH for i in seen)
    with pytest.raises(ValueError):
        p.RequestIds("bad-prefix")


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("pong", p.Pong),
        ('{"id":"1","op":"order","code":"0","msg":"","data":[]}', p.Reply),
        ('{"id":"1","code":"60011","msg":"Please log in","data":[]}', p.Reply),
        ('{"event":"login","code":"0","msg":"","connId":"a"}', p.LoginOk),
        ('{"event":"error","code":"60009","msg":"Login failed.","connId":"a"}', p.ErrorEvent),
        ('{"event":"subscribe","arg":{"channel":"orders"},"connId":"a"}', p.SubscriptionAck),
        ('{"event":"notice","code":"64008","msg":"soon closed","connId":"a"}', p.Notice),
        ('{"arg":{"channel":"orders"},"data":[{}]}', p.Push),
        ('{"event":"channel-conn-count","channel":"orders","connCount":"2"}', p.Info),
        ("{not json", p.Malformed),
        ("[1,2]", p.Malformed),
        ('{"unexpected":true}', p.Malformed),
    ],
)
def test_parse_frame_classifies_every_inbound_shape(text: str, kind: type) -> None:
    assert type(p.parse_frame(text)) is kind


def test_cl_ord_ids_and_arg_matching() -> None:
    assert p.cl_ord_ids([{"clOrdId": "a1"}, {"ordId": "5"}, {"clOrdId": "b2"}]) == ["a1", "b2"]
    assert p.arg_matches(
        {"channel": "orders", "instType": "ANY"},
        {"channel": "orders", "instType": "ANY", "uid": "1"},
    )
    assert not p.arg_matches(
        {"channel": "orders", "instType": "SPOT"}, {"channel": "orders", "instType": "ANY"}
    )


def test_login_signature_matches_okx_documentation() -> None:
    expected = base64.b64encode(
        hmac.new(b"secret", b"1538054050GET/users/self/verify", hashlib.sha256).digest()
    ).decode()
    assert sign("secret", "1538054050") == expected
    args = login_args("key", "secret", "pass", "1538054050")
    assert args == {
        "apiKey": "key",
        "passphrase": "pass",
        "timestamp": "1538054050",
        "sign": expected,
    }


def test_login_timestamp_is_seconds_and_applies_the_offset() -> None:
    assert login_timestamp(0, now=1_000.9) == "1000"
    assert login_timestamp(-60_000, now=1_000.0) == "940"
    assert login_timestamp(2_500, now=1_000.0) == "1002"


@pytest.mark.parametrize(
    ("market", "demo", "connection", "url"),
    [
        ("prod", False, "private", "wss://ws.okx.com/ws/v5/private"),
        ("prod", True, "business", "wss://wspap.okx.com/ws/v5/business?brokerId=9999"),
        ("prod", True, "private", "wss://wspap.okx.com/ws/v5/private"),
        ("eea", False, "public", "wss://wseea.okx.com/ws/v5/public"),
        ("eea", True, "business", "wss://wseeapap.okx.com/ws/v5/business?brokerId=9999"),
        ("us", False, "business", "wss://wsus.okx.com/ws/v5/business"),
        ("us", True, "public", "wss://wsuspap.okx.com/ws/v5/public"),
    ],
)
def test_endpoints_for_every_market(market: str, demo: bool, connection: str, url: str) -> None:
    assert resolve_url(connection, market=market, demo_trading=demo) == url


def test_base_url_replaces_scheme_host_and_port_only() -> None:
    assert resolve_url("private", base_url="ws://127.0.0.1:9/") == "ws://127.0.0.1:9/ws/v5/private"
    assert (
        resolve_url("business", demo_trading=True, base_url="ws://127.0.0.1:9")
        == "ws://127.0.0.1:9/ws/v5/business?brokerId=9999"
    )


@pytest.mark.parametrize(
    "options",
    [
        {"market": "mars"},
        {"base_url": "http://x"},
        {"ping_interval": 30},
        {"pong_timeout": 0},
        {"request_timeout": 0},
        {"reconnect_delay": 5, "reconnect_max_delay": 1},
        {"transport": "carrier-pigeon"},
    ],
)
def test_bad_options_are_refused_with_configuration_error(options: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError):
        AsyncWebsocketClient(**options)  # type: ignore[arg-type]


def test_partial_credentials_are_refused_and_secrets_never_shown() -> None:
    with pytest.raises(ConfigurationError, match="together"):
        AsyncWebsocketClient(api_key="k")
    client = AsyncWebsocketClient("key-123456", "very-secret", "my-passphrase")
    text = repr(client)
    assert "very-secret" not in text and "my-passphrase" not in text and "key-123456" not in text


def test_heartbeat_pings_when_idle_and_declares_dead_without_inbound() -> None:
    hb = Heartbeat(interval=5, pong_timeout=1)
    hb.start(100.0)
    assert hb.poll(102.0) == ("wait", 105.0)
    assert hb.poll(105.0) == ("ping", 106.0)
    assert hb.poll(105.5) == ("wait", 106.0)
    assert hb.poll(106.0)[0] == "dead"


def test_heartbeat_any_inbound_frame_cancels_the_pong_deadline() -> None:
    hb = Heartbeat(interval=5, pong_timeout=1)
    hb.start(0.0)
    assert hb.poll(5.0)[0] == "ping"
    hb.received(5.5)  # an order reply, not a pong: the link is alive
    assert hb.poll(6.5) == ("wait", 10.0)


def test_heartbeat_pings_when_only_receiving() -> None:
    hb = Heartbeat(interval=5, pong_timeout=1)
    hb.start(0.0)
    for t in range(1, 6):
        hb.received(float(t))  # pushes keep arriving, we send nothing
    assert hb.poll(5.0)[0] == "ping"


def test_backoff_grows_exponentially_with_jitter_and_caps() -> None:
    backoff = Backoff(initial=0.1, maximum=1.0, rng=random.Random(7))
    delays = [backoff.next_delay() for _ in range(8)]
    ceilings = [min(1.0, 0.1 * 2**i) for i in range(8)]
    assert all(c / 2 <= d <= c for d, c in zip(delays, ceilings, strict=True))
    assert len(set(delays)) == len(delays)
    backoff.reset()
    assert backoff.next_delay() <= 0.1


def test_errors_carry_ids_and_every_item_result() -> None:
    reply = {
        "id": "r1",
        "op": "batch-orders",
        "code": "2",
        "msg": "",
        "data": [
            {"clOrdId": "a1", "ordId": "11", "sCode": "0", "sMsg": ""},
            {"clOrdId": "a2", "ordId": "", "sCode": "51008", "sMsg": "Insufficient balance"},
        ],
    }
    err = OkxApiError(reply)
    assert (err.code, err.id, err.op) == ("2", "r1", "batch-orders")
    assert [i["clOrdId"] for i in err.succeeded] == ["a1"]
    assert [i["sCode"] for i in err.failed] == ["51008"]
    assert "51008" in str(err)
    lost = ConnectionLost(id="r2", op="order", cl_ord_ids=["x1"], reason="eof")
    assert lost.cl_ord_ids == ("x1",) and "UNKNOWN" in str(lost)
    timeout = RequestTimeout(id="r3", op="order", cl_ord_ids=["x2"], timeout=1.0, sent=False)
    assert not timeout.sent and "never sent" in str(timeout)


class _Order(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")
    inst_id: str = Field(alias="instId")
    side: str
    px: str | None = None


def test_prepare_args_dumps_okx_names_and_omits_unset_fields() -> None:
    assert prepare_args(
        {"instId": "BTC-USDT", "side": "buy"}, _Order, operation="t", batch=False
    ) == [{"instId": "BTC-USDT", "side": "buy"}]
    model = _Order(inst_id="ETH-USDT", side="sell", px="1")
    assert prepare_args([model], _Order, operation="t", batch=True, max_items=20) == [
        {"instId": "ETH-USDT", "side": "sell", "px": "1"}
    ]


def test_prepare_args_names_the_failing_field_and_item() -> None:
    with pytest.raises(ParamsValidationError) as info:
        prepare_args(
            [{"instId": "A", "side": "buy"}, {"instId": "B"}],
            _Order,
            operation="t",
            batch=True,
            max_items=20,
        )
    assert info.value.errors[0][0] == "[1].side"
    with pytest.raises(ParamsValidationError, match="1 to 2 items, got 3"):
        prepare_args(
            [{"instId": "A", "side": "b"}] * 3, _Order, operation="t", batch=True, max_items=2
        )
    with pytest.raises(ParamsValidationError, match="expected a list"):
        prepare_args({"instId": "A", "side": "b"}, _Order, operation="t", batch=True, max_items=2)


def test_backoff_survives_thousands_of_failed_attempts() -> None:
    backoff = Backoff(initial=0.01, maximum=0.1)
    delays = [backoff.next_delay() for _ in range(5_000)]  # 2.0**1024 would overflow
    assert 0.05 <= delays[-1] <= 0.1
