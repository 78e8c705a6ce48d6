"""Signed REST order queries on the simulator's port: OKX's signing checked, OKX's
codes and HTTP statuses, order shapes, and each fate of a request visible through REST.

Signatures are computed here from OKX's documented formula ("REST Authentication /
Signature"), not with the simulator's or the client's signer:
``Base64(HMAC-SHA256(secret, timestamp + METHOD + requestPath + body))``, the
requestPath with its query string, the timestamp ISO 8601 UTC with milliseconds.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from okx_ws_sim import (
    DEFAULT_API_KEY,
    DEFAULT_API_SECRET,
    DEFAULT_PASSPHRASE,
    Account,
    Simulator,
)
from okx_ws_sim.testing import SAMPLE_ORDER, HttpReply, RawClient, http_get, inst_id_code

ORDER = "/api/v5/trade/order"
PENDING = "/api/v5/trade/orders-pending"
SPRD = "/api/v5/sprd/order"
SPREAD = "BTC-USDT_BTC-USDT-SWAP"
# OKX's "GET / Order details" response parameters for an ordinary order.
REST_ORDER_FIELDS = {
    "instType", "instId", "tgtCcy", "ccy", "ordId", "clOrdId", "tag", "px", "pxUsd", "pxVol",
    "pxType", "sz", "pnl", "ordType", "side", "posSide", "tdMode", "accFillSz", "fillPx",
    "tradeId", "fillSz", "fillTime", "avgPx", "state", "stpId", "stpMode", "lever",
    "attachAlgoClOrdId", "tpTriggerPx", "tpTriggerPxType", "tpOrdPx", "slTriggerPx",
    "slTriggerPxType", "slOrdPx", "attachAlgoOrds", "linkedAlgoOrd", "feeCcy", "fee",
    "rebateCcy", "rebate", "source", "category", "reduceOnly", "isTpLimit", "cancelSource",
    "cancelSourceReason", "quickMgnType", "algoClOrdId", "algoId", "uTime", "cTime",
    "tradeQuoteCcy",
}  # fmt: skip
# Push-only fields the REST view must not have.
PUSH_ONLY = {"reqId", "amendResult", "code", "msg", "execType", "fillFee", "fillFeeCcy"}
# Spread "GET / Order details" response parameters.
REST_SPRD_FIELDS = {
    "sprdId", "ordId", "clOrdId", "tag", "px", "sz", "ordType", "side", "fillSz", "fillPx",
    "tradeId", "accFillSz", "pendingFillSz", "pendingSettleSz", "canceledSz", "state", "avgPx",
    "cancelSource", "uTime", "cTime",
}  # fmt: skip


def okx_sign(secret: str, timestamp: str, method: str, request_path: str, body: str = "") -> str:
    message = f"{timestamp}{method}{request_path}{body}".encode()
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def iso(ms: int) -> str:
    moment = datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def headers(
    sim: Simulator,
    target: str,
    *,
    key: str = DEFAULT_API_KEY,
    secret: str = DEFAULT_API_SECRET,
    passphrase: str = DEFAULT_PASSPHRASE,
    ts: str | None = None,
    signed_path: str | None = None,
) -> dict[str, str]:
    timestamp = ts if ts is not None else iso(sim.clock.now_ms())
    return {
        "OK-ACCESS-KEY": key,
        "OK-ACCESS-SIGN": okx_sign(secret, timestamp, "GET", signed_path or target),
        "OK-ACCESS-TIMESTAMP": timestamp,
        "OK-ACCESS-PASSPHRASE": passphrase,
    }


async def get(sim: Simulator, target: str, **kw: Any) -> HttpReply:
    extra = kw.pop("extra", {})
    return await http_get(f"{sim.rest_url}{target}", {**headers(sim, target, **kw), **extra})


def body(reply: HttpReply) -> dict[str, Any]:
    assert reply.headers["content-type"] == "application/json"
    result: dict[str, Any] = reply.json()
    assert list(result) == ["code", "msg", "data"]
    return result


def order(inst: str = "BTC-USDT", **over: Any) -> dict[str, Any]:
    item: dict[str, Any] = {**SAMPLE_ORDER, "instIdCode": inst_id_code(inst)}
    item.update(over)
    return {k: v for k, v in item.items() if v is not None}


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(seed=5) as s:
        yield s


@pytest.fixture
async def priv(sim: Simulator) -> AsyncIterator[RawClient]:
    async with await RawClient.open(sim.url("private")) as c:
        await c.login()
        yield c


async def test_a_signed_query_returns_the_order_as_okx_shows_it(
    sim: Simulator, priv: RawClient
) -> None:
    placed = await priv.request("order", order(clOrdId="q1", tag="t9", sz="0.4"))
    ord_id = placed["data"][0]["ordId"]
    reply = await get(sim, f"{ORDER}?instId=BTC-USDT&clOrdId=q1")
    assert reply.status == 200
    answer = body(reply)
    assert (answer["code"], answer["msg"]) == ("0", "")
    (item,) = answer["data"]
    assert REST_ORDER_FIELDS <= set(item), REST_ORDER_FIELDS - set(item)
    assert not PUSH_ONLY & set(item)
    assert all(isinstance(v, str) for k, v in item.items() if k not in ("attachAlgoOrds",
                                                                      "linkedAlgoOrd"))  # fmt: skip
    assert (item["ordId"], item["clOrdId"], item["tag"], item["state"]) == (
        ord_id,
        "q1",
        "t9",
        "live",
    )
    assert (item["accFillSz"], item["fillSz"], item["fillPx"], item["avgPx"]) == ("0", "0", "", "")
    # by ordId, and ordId wins over clOrdId (OKX: "if both are passed, ordId will be used")
    by_id = body(await get(sim, f"{ORDER}?instId=BTC-USDT&ordId={ord_id}"))["data"][0]
    assert by_id == item
    both = body(await get(sim, f"{ORDER}?ordId={ord_id}&instId=BTC-USDT&clOrdId=other1"))
    assert both["data"][0]["ordId"] == ord_id
    # REST reports the last fill (the push reports the fill of its update)
    sim.fill("q1", "0.1")
    sim.fill("q1", "0.1", px="39000")
    filled = body(await get(sim, f"{ORDER}?instId=BTC-USDT&clOrdId=q1"))["data"][0]
    assert (filled["state"], filled["accFillSz"], filled["fillSz"], filled["fillPx"]) == (
        "partially_filled", "0.2", "0.1", "39000",
    )  # fmt: skip
    assert filled["avgPx"] == "39500" and filled["tradeId"] and filled["fillTime"]
    assert sim.rest_calls(ORDER) == 4


async def test_missing_and_mismatched_orders_answer_51603(sim: Simulator, priv: RawClient) -> None:
    await priv.request("order", order(clOrdId="here1"))
    for target in (
        f"{ORDER}?instId=BTC-USDT&clOrdId=never1",
        f"{ORDER}?instId=BTC-USDT&ordId=12345",
        f"{ORDER}?instId=ETH-USDT&clOrdId=here1",  # another instrument's order
    ):
        reply = await get(sim, target)
        assert reply.status == 200, target
        assert body(reply) == {"code": "51603", "msg": "Order does not exist.", "data": []}


async def test_bad_query_parameters(sim: Simulator) -> None:
    cases = [
        (f"{ORDER}?clOrdId=a1", 400, "50014"),  # instId is required (REST takes no instIdCode)
        (f"{ORDER}?instIdCode={inst_id_code('BTC-USDT')}&clOrdId=a1", 400, "50014"),
        (f"{ORDER}?instId=BTC-USDT", 200, "51003"),  # neither ordId nor clOrdId
        (f"{ORDER}?instId=NOPE-USDT&clOrdId=a1", 200, "51001"),
        (f"{ORDER}?instId={SPREAD}&clOrdId=a1", 200, "51001"),
        (f"{SPRD}", 200, "51003"),
        (f"{PENDING}?limit=101", 400, "51000"),
        (f"{PENDING}?limit=x", 400, "51000"),
        (f"{PENDING}?instType=SPREAD", 400, "51000"),
        (f"{PENDING}?state=filled", 400, "51000"),
    ]
    for target, status, code in cases:
        reply = await get(sim, target)
        assert (reply.status, body(reply)["code"]) == (status, code), target


# -- authentication -------------------------------------------------------------------------
async def test_refused_signatures_answer_401_with_okx_codes(sim: Simulator) -> None:
    target = f"{ORDER}?instId=BTC-USDT&clOrdId=a1"
    now = sim.clock.now_ms()
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"secret": "not-the-secret"}, "50113", "Invalid signature."),
        ({"passphrase": "wrong"}, "50105", 'Request header "OK-ACCESS-PASSPHRASE" incorrect.'),
        ({"key": "no-such-key"}, "50111", "Invalid OK-ACCESS-KEY."),
        ({"ts": iso(now - 31_000)}, "50102", "Timestamp request expired."),
        ({"ts": iso(now + 31_000)}, "50102", "Timestamp request expired."),
        ({"ts": str(now // 1000)}, "50112", "Invalid OK-ACCESS-TIMESTAMP."),  # Unix seconds
        ({"ts": iso(now)[:-5] + "Z"}, "50112", "Invalid OK-ACCESS-TIMESTAMP."),  # no millis
        ({"signed_path": ORDER}, "50113", "Invalid signature."),  # query left out of the sign
        (
            {"signed_path": f"{ORDER}?clOrdId=a1&instId=BTC-USDT"},  # the query reordered
            "50113",
            "Invalid signature.",
        ),
    ]
    for kw, code, msg in cases:
        reply = await get(sim, target, **kw)
        assert reply.status == 401, kw
        assert body(reply) == {"code": code, "msg": msg, "data": []}, kw


@pytest.mark.parametrize(
    ("header", "code"),
    [
        ("OK-ACCESS-KEY", "50103"),
        ("OK-ACCESS-SIGN", "50106"),
        ("OK-ACCESS-TIMESTAMP", "50107"),
        ("OK-ACCESS-PASSPHRASE", "50104"),
    ],
)
async def test_a_missing_header_answers_its_own_code(
    sim: Simulator, header: str, code: str
) -> None:
    target = f"{ORDER}?instId=BTC-USDT&clOrdId=a1"
    sent = headers(sim, target)
    del sent[header]
    reply = await http_get(f"{sim.rest_url}{target}", sent)
    assert (reply.status, body(reply)["code"]) == (401, code)
    sent[header] = ""
    assert (await http_get(f"{sim.rest_url}{target}", sent)).status == 401


async def test_the_timestamp_is_checked_against_the_simulators_clock(sim: Simulator) -> None:
    target = f"{ORDER}?instId=BTC-USDT&clOrdId=a1"
    local = iso(sim.clock.now_ms())
    sim.clock_offset_s = 45  # OKX's clock runs 45 s ahead of ours
    assert body(await get(sim, target, ts=local))["code"] == "50102"
    assert body(await get(sim, target))["code"] == "51603"  # signed with the server's time
    sim.timestamp_window = 60  # the same window as logins
    assert body(await get(sim, target, ts=local))["code"] == "51603"


async def test_each_account_sees_only_its_own_orders(sim: Simulator, priv: RawClient) -> None:
    other = Account("key-2", "secret-2", "pass-2")
    sim.add_account(other)
    await priv.request("order", order(clOrdId="mine1"))
    target = f"{ORDER}?instId=BTC-USDT&clOrdId=mine1"
    assert body(await get(sim, target))["code"] == "0"
    theirs = await get(sim, target, key="key-2", secret="secret-2", passphrase="pass-2")
    assert body(theirs)["code"] == "51603"
    wrong_secret = await get(
        sim, target, key="key-2", secret=DEFAULT_API_SECRET, passphrase="pass-2"
    )
    assert body(wrong_secret)["code"] == "50113"


async def test_the_demo_header_is_accepted_and_recorded(sim: Simulator) -> None:
    target = f"{PENDING}"
    reply = await get(sim, target, extra={"x-simulated-trading": "1"})
    assert (reply.status, body(reply)["code"]) == (200, "0")
    assert sim.stats.rest_simulated_trading == 1
    assert sim.rest_last_headers["x-simulated-trading"] == "1"
    assert sim.rest_last_headers["ok-access-key"] == DEFAULT_API_KEY


# -- spread orders ---------------------------------------------------------------------------
async def test_spread_orders_are_queried_on_their_own_route(sim: Simulator) -> None:
    async with await RawClient.open(sim.url("business")) as biz:
        await biz.login()
        await biz.request(
            "sprd-order", {"sprdId": SPREAD, "side": "sell", "ordType": "limit", "px": "30",
                           "sz": "4", "clOrdId": "sq1"},
        )  # fmt: skip
    sim.fill("sq1", "1")
    reply = await get(sim, f"{SPRD}?clOrdId=sq1")
    assert reply.status == 200
    (item,) = body(reply)["data"]
    assert set(item) == REST_SPRD_FIELDS
    assert all(isinstance(v, str) for v in item.values())
    assert (item["sprdId"], item["state"], item["accFillSz"], item["pendingFillSz"]) == (
        SPREAD, "partially_filled", "1", "3",
    )  # fmt: skip
    assert (item["fillSz"], item["fillPx"], item["avgPx"]) == ("1", "30", "30")
    by_id = body(await get(sim, f"{SPRD}?ordId={item['ordId']}"))
    assert by_id["data"] == [item]
    missing = await get(sim, f"{SPRD}?clOrdId=never1")
    assert (missing.status, body(missing)) == (
        200, {"code": "51603", "msg": "Order does not exist.", "data": []},
    )  # fmt: skip
    # a spread order is not an order-book order, nor the reverse
    assert body(await get(sim, f"{ORDER}?instId=BTC-USDT&ordId={item['ordId']}"))["code"] == "51603"


async def test_a_plain_order_is_not_found_on_the_spread_route(
    sim: Simulator, priv: RawClient
) -> None:
    await priv.request("order", order(clOrdId="plain1"))
    assert body(await get(sim, f"{SPRD}?clOrdId=plain1"))["code"] == "51603"


# -- fates through REST ----------------------------------------------------------------------
async def test_a_request_dropped_in_flight_made_no_order(sim: Simulator) -> None:
    sim.faults.drop_next_request("order")
    async with await RawClient.open(sim.url()) as c:
        await c.login()
        await c.send({"id": "x1", "op": "order", "args": [order(clOrdId="lost1")]})
        with pytest.raises(ConnectionClosed):  # the connection dies with no reply
            await c.recv(1.0)
    assert body(await get(sim, f"{ORDER}?instId=BTC-USDT&clOrdId=lost1"))["code"] == "51603"


async def test_a_request_whose_reply_was_dropped_made_the_order(sim: Simulator) -> None:
    sim.faults.drop_after_execute("order")
    async with await RawClient.open(sim.url()) as c:
        await c.login()
        await c.send({"id": "x2", "op": "order", "args": [order(clOrdId="made1")]})
        with pytest.raises(ConnectionClosed):
            await c.recv(1.0)
    answer = body(await get(sim, f"{ORDER}?instId=BTC-USDT&clOrdId=made1"))
    assert answer["code"] == "0" and answer["data"][0]["state"] == "live"


async def test_an_expired_request_made_no_order(sim: Simulator, priv: RawClient) -> None:
    past = str(sim.clock.now_ms() - 1)
    reply = await priv.request("order", order(clOrdId="late1"), expTime=past)
    assert reply["code"] == "1" and reply["data"][0]["sCode"] == "50036"
    assert body(await get(sim, f"{ORDER}?instId=BTC-USDT&clOrdId=late1"))["code"] == "51603"


async def test_canceled_unfilled_orders_are_forgotten_after_two_hours(
    sim: Simulator, priv: RawClient
) -> None:
    await priv.request("order", order(clOrdId="gone1"))
    await priv.request("order", order(px="60000", sz="0.01", clOrdId="kept1"))  # fills
    await priv.request("cancel-order", {"instIdCode": inst_id_code("BTC-USDT"), "clOrdId": "gone1"})
    assert body(await get(sim, f"{ORDER}?instId=BTC-USDT&clOrdId=gone1"))["code"] == "0"
    sim.clock_offset_s = 2 * 3600 + 5
    assert body(await get(sim, f"{ORDER}?instId=BTC-USDT&clOrdId=gone1"))["code"] == "51603"
    kept = body(await get(sim, f"{ORDER}?instId=BTC-USDT&clOrdId=kept1"))
    assert kept["data"][0]["state"] == "filled"


# -- orders-pending --------------------------------------------------------------------------
async def test_orders_pending_lists_live_orders_newest_first(
    sim: Simulator, priv: RawClient
) -> None:
    ids = []
    for n, item in enumerate(
        [
            order(clOrdId="p0"),
            order("ETH-USDT", px="2000", clOrdId="p1"),
            order("BTC-USDT-SWAP", tdMode="cross", px="40000", sz="1", clOrdId="p2"),
            order(px="60000", clOrdId="p3"),  # fills at once: not pending
        ]
    ):
        ids.append((await priv.request("order", item))["data"][0]["ordId"])
        assert n == len(ids) - 1
    sim.fill("p1", "0.005")  # partially filled still pending
    pending = body(await get(sim, PENDING))["data"]
    assert [o["clOrdId"] for o in pending] == ["p2", "p1", "p0"]
    assert [o["state"] for o in pending] == ["live", "partially_filled", "live"]
    assert REST_ORDER_FIELDS <= set(pending[0])

    async def listed(query: str) -> list[str]:
        return [o["clOrdId"] for o in body(await get(sim, f"{PENDING}?{query}"))["data"]]

    assert await listed("instType=SWAP") == ["p2"]
    assert await listed("instType=SPOT") == ["p1", "p0"]
    assert await listed("instId=ETH-USDT") == ["p1"]
    assert await listed("instFamily=BTC-USDT") == ["p2"]
    assert await listed("state=partially_filled") == ["p1"]
    assert await listed("ordType=market") == []
    assert await listed("limit=2") == ["p2", "p1"]
    assert await listed(f"after={ids[2]}") == ["p1", "p0"]  # older than p2
    assert await listed(f"before={ids[0]}") == ["p2", "p1"]  # newer than p0


async def test_rest_faults_apply_to_the_signed_routes(sim: Simulator) -> None:
    sim.faults.fail_rest(path=ORDER)
    failed = await get(sim, f"{ORDER}?instId=BTC-USDT&clOrdId=a1")
    assert (failed.status, body(failed)["code"]) == (503, "50001")
    assert body(await get(sim, PENDING))["code"] == "0"  # another path: untouched
    assert sim.rest_calls(ORDER) == 0 and sim.rest_calls(PENDING) == 1
    assert body(await get(sim, f"{ORDER}?instId=BTC-USDT&clOrdId=a1"))["code"] == "51603"
    assert sim.rest_calls(ORDER) == 1 and sim.stats.faults_injected["rest_fail"] == 1
