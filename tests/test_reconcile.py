"""reconcile(): an order's fate after a lost request or reply, asked of OKX's signed REST API.

The WebSocket side is the scripted peer (virtual time); OKX's REST API is an
``httpx.MockTransport`` that checks every signature exactly as OKX documents
it, computed here independently: Base64(HMAC-SHA256(secret, timestamp +
"GET" + requestPath-with-query)), the timestamp ISO 8601 UTC with
milliseconds.  Its answers follow OKX's: the order in ``data``, 51603 "Order
does not exist", 401 with 50111/50105/50113 for bad credentials.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import re
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from okx_ws import (
    AsyncWebsocketAPIClient,
    AuthenticationError,
    ConnectionLost,
    OrdersPushItem,
    RequestTimeout,
    RestAuthenticationError,
    SprdOrdersPushItem,
    WebsocketAPIClient,
)

from okx_ws_core import ConfigurationError
from okx_ws_core.orders.fates import EXPIRY_MARGIN_S
from okx_ws_core.testing import ScriptedServer, run

KEY, SECRET, PASSPHRASE = "key-1", "SECRET-1", "Pass-1"
CREDENTIALS = {"api_key": KEY, "api_secret": SECRET, "api_passphrase": PASSPHRASE}
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
SPREAD = "BTC-USDT_BTC-USDT-SWAP"


def expected_sign(secret: str, timestamp: str, request_path: str) -> str:
    """OKX's documented formula, written out here independently of okx_ws_core.rest.queries."""
    prehash = timestamp + "GET" + request_path
    digest = hmac.new(secret.encode("utf-8"), prehash.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


class Venue:
    """OKX's private REST order queries: signed, answering as OKX does."""

    def __init__(self, *, secret: str = SECRET, demo: bool = False) -> None:
        self.secret = secret
        self.demo = demo
        self.orders: dict[tuple[str, str], dict[str, Any]] = {}  # (instId, clOrdId) -> order
        self.spread_orders: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[float, str, dict[str, str]]] = []  # (loop time, path, query)
        self.failures: list[tuple[int, dict[str, Any]]] = []  # answered first, in order
        self.clock: Callable[[], float] = time.monotonic

    def handler(self, request: httpx.Request) -> httpx.Response:
        raw_path = request.url.raw_path.decode()
        path = urlsplit(raw_path).path
        query = dict(parse_qsl(urlsplit(raw_path).query))
        self.requests.append((self.clock(), path, query))
        headers = request.headers
        assert request.method == "GET" and request.content == b""
        assert TIMESTAMP.match(headers["OK-ACCESS-TIMESTAMP"]), headers["OK-ACCESS-TIMESTAMP"]
        assert headers.get("x-simulated-trading") == ("1" if self.demo else None)
        if headers["OK-ACCESS-KEY"] != KEY:
            return httpx.Response(401, json={"code": "50111", "msg": "Invalid OK-ACCESS-KEY"})
        if headers["OK-ACCESS-PASSPHRASE"] != PASSPHRASE:
            return httpx.Response(
                401,
                json={"code": "50105", "msg": 'Request header "OK-ACCESS-PASSPHRASE" incorrect.'},
            )
        sign = expected_sign(self.secret, headers["OK-ACCESS-TIMESTAMP"], raw_path)
        if headers["OK-ACCESS-SIGN"] != sign:
            return httpx.Response(401, json={"code": "50113", "msg": "Invalid Sign"})
        if self.failures:
            status, body = self.failures.pop(0)
            return httpx.Response(status, json=body)
        if path == "/api/v5/trade/order":
            found = self.orders.get((query["instId"], query["clOrdId"]))
        elif path == "/api/v5/sprd/order":
            found = self.spread_orders.get(query["clOrdId"])
        else:
            return httpx.Response(404, json={"code": "50005", "msg": "no such endpoint"})
        if found is None:
            return httpx.Response(200, json={"code": "51603", "msg": "Order does not exist",
                                             "data": []})  # fmt: skip
        return httpx.Response(200, json={"code": "0", "msg": "", "data": [found]})

    def place(self, args: dict[str, Any], ord_id: str, state: str = "live") -> None:
        order = {"instType": "SPOT", "instId": args.get("instId", "BTC-USDT"), "ordId": ord_id,
                 "clOrdId": args["clOrdId"], "px": args.get("px", ""), "sz": args["sz"],
                 "side": args["side"], "ordType": args["ordType"], "tdMode": "cash",
                 "state": state, "accFillSz": "0", "avgPx": "", "fillSz": "", "fillPx": "",
                 "tradeId": "", "cTime": "1", "uTime": "1", "cancelSource": ""}  # fmt: skip
        self.orders[(order["instId"], args["clOrdId"])] = order


def order(cl: str, **extra: Any) -> dict[str, Any]:
    return {"instId": "BTC-USDT", "tdMode": "cash", "side": "buy", "ordType": "limit",
            "px": "20000", "sz": "0.01", "clOrdId": cl, **extra}  # fmt: skip


def client(server: ScriptedServer, venue: Venue, **overrides: Any) -> AsyncWebsocketAPIClient:
    options: dict[str, Any] = {
        "transport": server,
        "rest_transport": httpx.MockTransport(venue.handler),
        "instruments": {"BTC-USDT": 7, "ETH-USDT": 8},
        "attach_event_listeners": False,
        "request_timeout": 10.0,
        **overrides,
    }
    venue.clock = lambda: asyncio.get_running_loop().time()
    return AsyncWebsocketAPIClient(**{**CREDENTIALS, **options})


# -- the lost request, the lost reply ------------------------------------------------------------


def test_a_dropped_request_is_not_placed_and_the_signature_is_okx_s() -> None:
    async def main() -> None:
        server, venue = ScriptedServer(), Venue()
        server.drop_on = {"order"}
        async with client(server, venue) as api:
            with pytest.raises(ConnectionLost) as caught:
                await api.submit_new_order(order("a1"))
            error = caught.value
            assert (error.op, error.cl_ord_ids) == ("order", ("a1",))  # unchanged attributes
            assert (dict(error.inst_ids), error.exp_time, error.connection) == (
                {"a1": "BTC-USDT"}, None, "private",
            )  # fmt: skip
            verdicts = await api.reconcile(error)
        [(at, path, query)] = venue.requests
        assert (path, query) == ("/api/v5/trade/order", {"instId": "BTC-USDT", "clOrdId": "a1"})
        verdict = verdicts["a1"]
        assert (verdict.status, verdict.definite, verdict.order) == ("not_placed", False, None)
        assert "51603" in verdict.reason and "stamp_exp_time" in verdict.reason

    run(main())


def test_the_exact_headers_of_one_query() -> None:
    seen: list[httpx.Request] = []
    venue = Venue()

    def spy(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return venue.handler(request)

    async def main() -> None:
        server = ScriptedServer()
        options: dict[str, Any] = {"rest_transport": httpx.MockTransport(spy)}
        async with client(server, venue, **options) as api:
            api.set_time_offset_ms(-2_000)
            before = time.time()
            await api.reconcile({"z9": "ETH-USDT"})
            after = time.time()
        [request] = seen
        assert (
            str(request.url) == "https://www.okx.com/api/v5/trade/order?instId=ETH-USDT&clOrdId=z9"
        )
        stamp = request.headers["OK-ACCESS-TIMESTAMP"]
        moment = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
        assert before - 2.0 - 0.002 <= moment.timestamp() <= after - 2.0 + 0.002  # offset applied
        assert request.headers["OK-ACCESS-KEY"] == KEY
        assert request.headers["OK-ACCESS-PASSPHRASE"] == PASSPHRASE
        assert request.headers["OK-ACCESS-SIGN"] == expected_sign(
            SECRET, stamp, "/api/v5/trade/order?instId=ETH-USDT&clOrdId=z9"
        )
        assert "x-simulated-trading" not in request.headers

    run(main())


def test_a_dropped_reply_is_placed_with_the_order_as_okx_reports_it() -> None:
    async def main() -> None:
        venue = Venue()

        def swallow(frame: dict[str, Any]) -> None:
            venue.place(frame["args"][0], "4242")  # OKX executed it; the reply is lost
            return None

        server = ScriptedServer(answer=swallow)
        async with client(server, venue) as api:
            with pytest.raises(RequestTimeout) as caught:
                await api.submit_new_order(order("b1"))
            assert caught.value.sent and asyncio.get_running_loop().time() == 10.0
            verdicts = await api.reconcile(caught.value)
        verdict = verdicts["b1"]
        assert (verdict.status, verdict.placed, verdict.definite, verdict.state) == (
            "placed", True, True, "live",
        )  # fmt: skip
        assert isinstance(verdict.order, OrdersPushItem)
        assert (verdict.order.ord_id, verdict.order.cl_ord_id) == ("4242", "b1")
        assert verdict.data is not None and verdict.data["ordId"] == "4242"
        assert len(venue.requests) == 1  # found at once: no waiting

    run(main())


def test_a_batch_is_judged_per_clordid_and_instidcode_items_are_found_by_instid() -> None:
    async def main() -> None:
        venue = Venue()
        venue.place(order("c1"), "1")
        server = ScriptedServer(answer=None)
        batch = [order("c1"), {**order("c2"), "instId": None, "instIdCode": 8}, order("c3")]
        batch[1].pop("instId")
        async with client(server, venue) as api:
            with pytest.raises(RequestTimeout) as caught:
                await api.submit_multiple_orders(batch)
            assert dict(caught.value.inst_ids) == {
                "c1": "BTC-USDT", "c2": "ETH-USDT", "c3": "BTC-USDT",
            }  # fmt: skip
            verdicts = await api.reconcile(caught.value)
        assert {cl: v.status for cl, v in verdicts.items()} == {
            "c1": "placed", "c2": "not_placed", "c3": "not_placed",
        }  # fmt: skip
        assert sorted(q["instId"] for _, _, q in venue.requests) == [
            "BTC-USDT", "BTC-USDT", "ETH-USDT",
        ]  # fmt: skip

    run(main())


def test_a_request_that_never_left_is_not_placed_without_asking() -> None:
    async def main() -> None:
        server, venue = ScriptedServer(), Venue()
        server.refuse_connects = 10**6
        async with client(server, venue) as api:
            with pytest.raises(RequestTimeout) as caught:
                await api.submit_new_order(order("d1"))
            assert not caught.value.sent
            verdict = (await api.reconcile(caught.value))["d1"]
        assert (verdict.status, verdict.definite) == ("not_placed", True)
        assert venue.requests == []

    run(main())


# -- expTime: a definite answer ----------------------------------------------------------------


def test_stamped_exp_time_gives_a_definite_not_placed_after_the_expiry() -> None:
    async def main() -> None:
        server, venue = ScriptedServer(answer=None), Venue()
        async with client(server, venue, stamp_exp_time=True) as api:
            loop = asyncio.get_running_loop()
            before = int(time.time() * 1000)
            with pytest.raises(RequestTimeout) as caught:
                await api.submit_new_order(order("e1"))
            after = int(time.time() * 1000)
            [frame] = server.links[0].ops("order")
            stamped = int(frame["expTime"])
            assert before + 10_000 <= stamped <= after + 10_000  # now + the call's timeout
            error = caught.value
            assert (error.exp_time, error.expires_at) == (stamped, 10.0)
            started = loop.time()
            verdict = (await api.reconcile(error))["e1"]
        assert (verdict.status, verdict.definite) == ("not_placed", True)
        assert "expTime has passed" in verdict.reason
        # Asked at once (found nothing), then again once the expiry (+ margin) had passed.
        assert [at for at, _, _ in venue.requests] == [started, 10.0 + EXPIRY_MARGIN_S]

    run(main())


def test_an_order_okx_executes_before_its_exp_time_is_found_by_the_second_look() -> None:
    async def main() -> None:
        server, venue = ScriptedServer(answer=None), Venue()
        async with client(server, venue, stamp_exp_time=True, request_timeout=4.0) as api:
            with pytest.raises(RequestTimeout) as caught:
                await api.submit_new_order(order("f1"))
            asyncio.get_running_loop().call_later(0.5, venue.place, order("f1"), "77")
            verdict = (await api.reconcile(caught.value))["f1"]
        assert (verdict.status, verdict.data and verdict.data["ordId"]) == ("placed", "77")
        assert len(venue.requests) == 2

    run(main())


def test_exp_time_is_stamped_on_order_and_amend_requests_only_and_never_over_the_callers() -> None:
    async def main() -> None:
        server, venue = ScriptedServer(), Venue()
        async with client(server, venue, stamp_exp_time=True) as api:
            await api.submit_new_order(order("g1"), timeout=3.0)
            await api.amend_order({"instId": "BTC-USDT", "clOrdId": "g1", "newPx": "1"})
            await api.cancel_order({"instId": "BTC-USDT", "clOrdId": "g1"})
            await api.submit_spread_order(
                {"sprdId": SPREAD, "side": "buy", "ordType": "limit", "sz": "1", "px": "1"}
            )
            await api.submit_new_order(order("g2"), exp_time=1234)
        frames = [f for link in server.links for f in link.requests]
        stamps = [(f["op"], f.get("expTime")) for f in frames]
        now = int(time.time() * 1000)
        ops = [op for op, _ in stamps]
        assert ops == ["order", "amend-order", "cancel-order", "order", "sprd-order"]
        assert abs(int(stamps[0][1]) - (now + 3_000)) < 1_000  # the call's own timeout
        assert abs(int(stamps[1][1]) - (now + 10_000)) < 1_000  # request_timeout
        assert stamps[2][1] is None and stamps[4][1] is None  # OKX honours it on these only
        assert stamps[3][1] == "1234"  # the caller's own expTime wins

    run(main())


def test_without_the_option_nothing_is_stamped() -> None:
    async def main() -> None:
        server, venue = ScriptedServer(), Venue()
        async with client(server, venue) as api:
            await api.submit_new_order(order("h1"))
        assert "expTime" not in server.links[0].requests[0]

    run(main())


# -- amends, cancels, spreads ------------------------------------------------------------------


def test_a_lost_cancel_is_judged_by_the_order_s_current_state() -> None:
    async def main() -> None:
        venue = Venue()
        venue.place(order("i1"), "5", state="canceled")
        server = ScriptedServer(answer=None)
        async with client(server, venue) as api:
            with pytest.raises(RequestTimeout) as caught:
                await api.cancel_order({"instId": "BTC-USDT", "clOrdId": "i1"})
            verdicts = await api.reconcile(caught.value)
            with pytest.raises(RequestTimeout) as again:
                await api.amend_order({"instId": "BTC-USDT", "clOrdId": "i9", "newSz": "2"})
            missing = await api.reconcile(again.value)
        assert (verdicts["i1"].status, verdicts["i1"].state) == ("placed", "canceled")
        assert missing["i9"].status == "not_placed" and "2 hours" in missing["i9"].reason

    run(main())


def test_spread_orders_are_asked_of_the_spread_endpoint() -> None:
    async def main() -> None:
        venue = Venue()
        server = ScriptedServer(answer=None)
        item = {"sprdId": SPREAD, "side": "buy", "ordType": "limit", "sz": "2", "px": "-3",
                "clOrdId": "s1"}  # fmt: skip
        venue.spread_orders["s1"] = {"sprdId": SPREAD, "ordId": "31", "clOrdId": "s1",
                                     "px": "-3", "sz": "2", "ordType": "limit", "side": "buy",
                                     "state": "live", "accFillSz": "0", "avgPx": "0",
                                     "pendingFillSz": "2", "canceledSz": "0", "cTime": "1",
                                     "uTime": "1"}  # fmt: skip
        async with client(server, venue) as api:
            with pytest.raises(RequestTimeout) as caught:
                await api.submit_spread_order(item)
            assert caught.value.connection == "business" and dict(caught.value.inst_ids) == {}
            verdicts = await api.reconcile(caught.value)
            with pytest.raises(RequestTimeout) as lost:
                await api.cancel_spread_order({"clOrdId": "s2"})
            missing = await api.reconcile(lost.value)
        assert [(p, q) for _, p, q in venue.requests] == [
            ("/api/v5/sprd/order", {"clOrdId": "s1"}),
            ("/api/v5/sprd/order", {"clOrdId": "s2"}),
        ]
        verdict = verdicts["s1"]
        assert verdict.status == "placed" and isinstance(verdict.order, SprdOrdersPushItem)
        assert verdict.order.sprd_id == SPREAD and verdict.inst_id == ""
        assert missing["s2"].status == "not_placed"

    run(main())


# -- by clOrdId: a mapping, or the tracker's knowledge --------------------------------------------


def test_a_mapping_or_tracked_clordids_can_be_reconciled_without_an_error() -> None:
    async def main() -> None:
        venue = Venue()
        venue.place(order("j1"), "1")
        server = ScriptedServer(answer=None)
        async with client(server, venue) as api:
            by_mapping = await api.reconcile({"j1": "BTC-USDT", "j2": None})
            assert {k: v.status for k, v in by_mapping.items()} == {
                "j1": "placed", "j2": "not_placed",
            }  # fmt: skip
            untracked = await api.reconcile(["j1"])
            assert untracked["j1"].status == "unknown" and "instId" in untracked["j1"].reason
            await api.track_orders(subscribe=False)
            with pytest.raises(RequestTimeout):
                await api.submit_new_order(order("j1"))
            assert api.tracked_order("j1").state == "unknown"  # type: ignore[union-attr]
            tracked = await api.reconcile(["j1"])
            assert tracked["j1"].status == "placed"
            now = api.tracked_order("j1")
            assert now is not None and (now.state, now.ord_id) == ("live", "1")

    run(main())


def test_reconcile_tells_the_tracker_what_it_found() -> None:
    async def main() -> None:
        server, venue = ScriptedServer(answer=None), Venue()
        async with client(server, venue, stamp_exp_time=True, request_timeout=2.0) as api:
            await api.track_orders(subscribe=False)
            with pytest.raises(RequestTimeout) as caught:
                await api.submit_new_order(order("k1"))
            waiting = asyncio.ensure_future(api.wait_for("k1", timeout=60))
            await api.reconcile(caught.value)
            got = await waiting
        assert got.state == "not_placed" and got.final

    run(main())


# -- REST failures ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tamper", "code"),
    [({"api_secret": "WRONG"}, "50113"), ({"api_key": "nokey"}, "50111"),
     ({"api_passphrase": "nope"}, "50105")],
    ids=["bad signature", "bad key", "bad passphrase"],
)  # fmt: skip
def test_refused_rest_credentials_raise_a_clear_authentication_error(
    tamper: dict[str, str], code: str
) -> None:
    async def main() -> None:
        server, venue = ScriptedServer(), Venue()
        options = {**CREDENTIALS, **tamper}
        api = AsyncWebsocketAPIClient(
            **options,
            transport=server,
            rest_transport=httpx.MockTransport(venue.handler),
            attach_event_listeners=False,
        )
        async with api:
            with pytest.raises(AuthenticationError) as caught:
                await api.reconcile({"a1": "BTC-USDT"})
        error = caught.value
        assert isinstance(error, RestAuthenticationError)
        assert (error.code, error.connection, error.status) == (code, "rest", 401)
        assert "GET /api/v5/trade/order?instId=BTC-USDT&clOrdId=a1" in str(error)
        assert "api_secret" in str(error)  # says what to check
        for secret in ("WRONG", SECRET, "nope", PASSPHRASE):
            assert secret not in str(error) and secret not in repr(error)
        assert len(venue.requests) == 1  # never retried

    run(main())


def test_a_clock_refusal_hints_at_the_clock() -> None:
    async def main() -> None:
        server, venue = ScriptedServer(), Venue()
        venue.failures = [(401, {"code": "50102", "msg": "Timestamp request expired"})]
        async with client(server, venue) as api:
            with pytest.raises(RestAuthenticationError, match="set_time_offset_ms"):
                await api.reconcile({"a1": "BTC-USDT"})

    run(main())


def test_busy_or_rate_limited_answers_are_retried_within_the_timeout() -> None:
    async def main() -> None:
        server, venue = ScriptedServer(), Venue()
        venue.place(order("l1"), "1")
        venue.failures = [
            (429, {"code": "50011", "msg": "Too Many Requests"}),
            (503, {"code": "50001", "msg": "Service temporarily unavailable"}),
            (200, {"code": "50013", "msg": "Systems are busy"}),
        ]
        async with client(server, venue) as api:
            verdict = (await api.reconcile({"l1": "BTC-USDT"}))["l1"]
        assert verdict.status == "placed"
        assert [at for at, _, _ in venue.requests] == [0.0, 0.25, 0.75, 1.75]

    run(main())


def test_no_usable_answer_within_the_timeout_is_unknown_with_why() -> None:
    async def main() -> None:
        server, venue = ScriptedServer(), Venue()
        venue.failures = [(503, {"code": "50001", "msg": "Service unavailable"})] * 100
        garbled = Venue()

        def not_json(request: httpx.Request) -> httpx.Response:
            garbled.handler(request)
            return httpx.Response(200, text="<html>maintenance</html>")

        async with client(server, venue) as api:
            verdict = (await api.reconcile({"m1": "BTC-USDT"}, timeout=3.0))["m1"]
        assert verdict.status == "unknown" and "50001" in verdict.reason
        assert venue.requests[-1][0] <= 3.0
        async with client(server, garbled, rest_transport=httpx.MockTransport(not_json)) as api:
            odd = (await api.reconcile({"m2": "BTC-USDT"}, timeout=1.0))["m2"]
        assert odd.status == "unknown" and "not a JSON object" in odd.reason

    run(main())


def test_an_unexpected_code_is_unknown_with_okx_s_words() -> None:
    async def main() -> None:
        server, venue = ScriptedServer(), Venue()
        venue.failures = [(200, {"code": "51001", "msg": "Instrument ID doesn't exist."})]
        async with client(server, venue) as api:
            verdict = (await api.reconcile({"n1": "NOPE-USDT"}))["n1"]
        assert verdict.status == "unknown" and "51001" in verdict.reason

    run(main())


def test_demo_trading_asks_with_the_demo_header() -> None:
    async def main() -> None:
        server, venue = ScriptedServer(), Venue(demo=True)
        async with client(server, venue, demo_trading=True) as api:
            verdict = (await api.reconcile({"o1": "BTC-USDT"}))["o1"]
        assert verdict.status == "not_placed"

    run(main())


def test_reconcile_needs_credentials_and_a_proper_target() -> None:
    async def main() -> None:
        public = AsyncWebsocketAPIClient(attach_event_listeners=False)
        async with public:
            with pytest.raises(ConfigurationError, match="api_key"):
                await public.reconcile({"a": "BTC-USDT"})
        async with client(ScriptedServer(), Venue()) as api:
            with pytest.raises(ConfigurationError):
                await api.reconcile("a1")  # type: ignore[arg-type]

    run(main())


# -- the blocking client ---------------------------------------------------------------------------


def test_the_blocking_client_reconciles_too() -> None:
    venue = Venue()
    venue.clock = time.monotonic
    server = ScriptedServer()
    server.drop_on = {"order"}
    with WebsocketAPIClient(
        **CREDENTIALS,
        transport=server,
        rest_transport=httpx.MockTransport(venue.handler),
        instruments={"BTC-USDT": 7},
        attach_event_listeners=False,
    ) as api:
        with pytest.raises(ConnectionLost) as caught:
            api.submit_new_order(order("p1"))
        venue.place(order("p1"), "9")
        verdict = api.reconcile(caught.value)["p1"]
    assert verdict.status == "placed" and isinstance(verdict.order, OrdersPushItem)
