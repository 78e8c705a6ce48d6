"""InstrumentRegistry (instId -> instIdCode) and the REST URL it talks to.

No network and no sleeps: OKX's REST list is an ``httpx.MockTransport`` whose
handler counts calls per (instType, instFamily) and can fail or hang on
demand, and time is an injected clock the tests move by hand.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from okx_ws_core.errors import (
    ConfigurationError,
    InstrumentResolutionError,
    UnknownInstrumentError,
)
from okx_ws_core.protocol.endpoints import rest_headers, rest_url
from okx_ws_core.rest.instruments import InstrumentRegistry, inst_type_of

FIELDS = [("instIdCode", "instId")]
URL = "https://www.okx.com"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Venue:
    """OKX's public instrument list, per (instType, instFamily)."""

    def __init__(self) -> None:
        self.lists: dict[tuple[str, str | None], list[dict[str, Any]]] = {
            ("SPOT", None): [
                {"instId": "BTC-USDT", "instIdCode": 1001, "instType": "SPOT", "state": "live"},
                {"instId": "ETH-USDT", "instIdCode": 1002, "instType": "SPOT", "state": "live"},
            ],
            ("SWAP", None): [
                {"instId": "BTC-USDT-SWAP", "instIdCode": 2001, "instType": "SWAP"},
                {"instId": "ETH-USDT-SWAP", "instIdCode": 2002, "instType": "SWAP"},
            ],
            ("FUTURES", None): [
                {"instId": "BTC-USD-251226", "instIdCode": 3001, "instType": "FUTURES"},
                {"instId": "", "instIdCode": None, "instType": "FUTURES", "state": "preopen"},
                {"instId": "BTC-USD-260327", "instType": "FUTURES", "state": "preopen"},
            ],
            ("OPTION", "BTC-USD"): [
                {"instId": "BTC-USD-251226-60000-C", "instIdCode": 4001, "instFamily": "BTC-USD"},
                {"instId": "BTC-USD-251226-60000-P", "instIdCode": 4002, "instFamily": "BTC-USD"},
            ],
            ("OPTION", "ETH-USD"): [
                {"instId": "ETH-USD-251226-3000-C", "instIdCode": 5001, "instFamily": "ETH-USD"},
            ],
        }
        self.calls: Counter[tuple[str, str | None]] = Counter()
        self.requests: list[httpx.Request] = []
        self.fail: Callable[[httpx.Request], httpx.Response] | None = None
        self.gate: asyncio.Event | None = None  # set: requests wait for it (a hanging REST)

    def add(self, inst_type: str, inst_id: str, code: int) -> None:
        self.lists[(inst_type, None)].append({"instId": inst_id, "instIdCode": code})

    async def handler(self, request: httpx.Request) -> httpx.Response:
        key = (request.url.params["instType"], request.url.params.get("instFamily"))
        self.calls[key] += 1
        self.requests.append(request)
        if self.gate is not None:
            await self.gate.wait()
        if self.fail is not None:
            return self.fail(request)
        if key[0] == "OPTION" and key[1] is None:
            return httpx.Response(
                400, json={"code": "50015", "msg": "Either uly or instFamily is required"}
            )
        return httpx.Response(
            200, json={"code": "0", "msg": "", "data": list(self.lists.get(key, []))}
        )

    @property
    def total(self) -> int:
        return sum(self.calls.values())


@pytest.fixture
def venue() -> Venue:
    return Venue()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def registry(venue: Venue, clock: Clock) -> AsyncIterator[InstrumentRegistry]:
    reg = InstrumentRegistry(URL, transport=httpx.MockTransport(venue.handler), clock=clock)
    yield reg
    await reg.aclose()


# -- instId shape -> instType -------------------------------------------------------


@pytest.mark.parametrize(
    ("inst_id", "expected"),
    [
        ("BTC-USDT", ("SPOT", None)),
        ("1INCH-USDT", ("SPOT", None)),
        ("BTC-USDT-SWAP", ("SWAP", None)),
        ("BTC-USD_UM-SWAP", ("SWAP", None)),
        ("BTC-USD-251226", ("FUTURES", None)),
        ("BTC-USD_UM-250808", ("FUTURES", None)),
        ("BTC-USD-251226-60000-C", ("OPTION", "BTC-USD")),
        ("ETH-USD-250328-3500-P", ("OPTION", "ETH-USD")),
        ("DOGE-USD-250328-0.25-C", ("OPTION", "DOGE-USD")),
    ],
)
def test_inst_type_of(inst_id: str, expected: tuple[str, str | None]) -> None:
    assert inst_type_of(inst_id) == expected


@pytest.mark.parametrize(
    "inst_id",
    [
        "",
        "BTC",
        "BTC-USDT-",
        "BTC USDT",
        "BTC-USDT-SWAP-X",
        "BTC-USD-2512",
        "BTC-USD-251226-60000",
        "BTC-USD-251226-60000-X",
        "BTC-USDT_BTC-USDT-SWAP",  # a spread id (sprdId), not an instId
    ],
)
def test_inst_type_of_junk(inst_id: str) -> None:
    with pytest.raises(UnknownInstrumentError) as info:
        inst_type_of(inst_id)
    assert info.value.inst_id == inst_id
    assert repr(inst_id) in str(info.value)
    assert "not shaped like an OKX instId" in str(info.value)


def test_inst_type_of_hints_at_upper_case() -> None:
    with pytest.raises(UnknownInstrumentError, match="upper case"):
        inst_type_of("btc-usdt")


# -- cold, warm, coalescing -------------------------------------------------------


async def test_concurrent_cold_resolves_make_one_call_per_type(
    registry: InstrumentRegistry, venue: Venue
) -> None:
    ids = ["BTC-USDT", "ETH-USDT", "BTC-USDT-SWAP", "ETH-USDT-SWAP"] * 25
    codes = await asyncio.gather(*(registry.resolve(inst_id) for inst_id in ids))
    assert codes == [1001, 1002, 2001, 2002] * 25
    assert venue.calls == {("SPOT", None): 1, ("SWAP", None): 1}


async def test_warm_code_is_a_lookup_without_rest(
    registry: InstrumentRegistry, venue: Venue
) -> None:
    assert registry.code("BTC-USDT-SWAP") is None  # cold: no REST either
    assert venue.total == 0
    await registry.load(["SWAP"])
    assert venue.total == 1
    assert registry.code("BTC-USDT-SWAP") == 2001
    assert await registry.resolve("ETH-USDT-SWAP") == 2002
    assert registry.code("NOPE-USDT-SWAP") is None
    assert venue.total == 1


async def test_option_list_is_loaded_per_family(registry: InstrumentRegistry, venue: Venue) -> None:
    assert await registry.resolve("BTC-USD-251226-60000-P") == 4002
    assert await registry.resolve("ETH-USD-251226-3000-C") == 5001
    assert venue.calls == {("OPTION", "BTC-USD"): 1, ("OPTION", "ETH-USD"): 1}
    assert venue.requests[0].url.params["instFamily"] == "BTC-USD"


async def test_request_shape_live_and_demo(venue: Venue, clock: Clock) -> None:
    for demo in (False, True):
        reg = InstrumentRegistry(
            URL, demo_trading=demo, transport=httpx.MockTransport(venue.handler), clock=clock
        )
        assert await reg.resolve("BTC-USDT") == 1001
        await reg.aclose()
        request = venue.requests[-1]
        assert str(request.url) == "https://www.okx.com/api/v5/public/instruments?instType=SPOT"
        assert request.method == "GET"
        assert request.headers.get("x-simulated-trading") == ("1" if demo else None)
        assert "OK-ACCESS-KEY" not in request.headers  # public and unsigned


async def test_live_and_demo_registries_never_share_codes(venue: Venue, clock: Clock) -> None:
    live = InstrumentRegistry(URL, transport=httpx.MockTransport(venue.handler), clock=clock)
    demo = InstrumentRegistry(
        URL, demo_trading=True, transport=httpx.MockTransport(venue.handler), clock=clock
    )
    await live.load(["SPOT"])
    assert live.code("BTC-USDT") == 1001
    assert demo.code("BTC-USDT") is None
    assert (live.rest_url, live.demo_trading, demo.demo_trading) == (URL, False, True)
    await live.aclose()
    await demo.aclose()


# -- misses: unknown instruments and new listings --------------------------------------


async def test_unknown_instrument_after_one_load_then_throttled(
    registry: InstrumentRegistry, venue: Venue, clock: Clock
) -> None:
    with pytest.raises(UnknownInstrumentError) as info:
        await registry.resolve("NOPE-USDT")
    assert info.value.inst_id == "NOPE-USDT"
    assert info.value.inst_type == "SPOT"
    assert "'NOPE-USDT'" in str(info.value)
    assert venue.total == 1  # the cold load was the one refresh

    clock.advance(4.9)
    with pytest.raises(UnknownInstrumentError, match="next refresh in 0.1s"):
        await registry.resolve("NOPE-USDT")
    assert venue.total == 1  # inside refresh_interval: no REST call


async def test_miss_on_a_loaded_list_refreshes_it_once(
    registry: InstrumentRegistry, venue: Venue, clock: Clock
) -> None:
    await registry.load(["SPOT"])
    clock.advance(5.0)
    with pytest.raises(UnknownInstrumentError):
        await asyncio.gather(*(registry.resolve("NOPE-USDT") for _ in range(50)))
    assert venue.calls[("SPOT", None)] == 2  # one refresh for 50 concurrent misses


async def test_new_listing_is_found_after_the_interval(
    registry: InstrumentRegistry, venue: Venue, clock: Clock
) -> None:
    await registry.load(["SWAP"])
    venue.add("SWAP", "NEW-USDT-SWAP", 2999)
    clock.advance(1.0)
    with pytest.raises(UnknownInstrumentError):
        await registry.resolve("NEW-USDT-SWAP")
    assert venue.total == 1
    clock.advance(4.0)
    assert await registry.resolve("NEW-USDT-SWAP") == 2999
    assert venue.total == 2
    assert registry.code("BTC-USDT-SWAP") == 2001  # the rest of the list survives


async def test_a_refresh_drops_delisted_instruments(
    registry: InstrumentRegistry, venue: Venue, clock: Clock
) -> None:
    await registry.load(["SWAP"])
    venue.lists[("SWAP", None)] = venue.lists[("SWAP", None)][:1]
    clock.advance(5.0)
    await registry.load(["SWAP"])
    assert registry.code("BTC-USDT-SWAP") == 2001
    assert registry.code("ETH-USDT-SWAP") is None


async def test_listed_without_code_and_preopen_items(
    registry: InstrumentRegistry, venue: Venue
) -> None:
    assert await registry.resolve("BTC-USD-251226") == 3001  # the empty-instId item is skipped
    with pytest.raises(InstrumentResolutionError, match="without an instIdCode"):
        await registry.resolve("BTC-USD-260327")
    assert venue.total == 1


# -- REST failures ------------------------------------------------------------------


def _connect_error(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("[Errno 111] Connection refused", request=request)


def _timeout(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("timed out", request=request)


@pytest.mark.parametrize(
    ("fail", "reason"),
    [
        (_connect_error, "cannot connect ([Errno 111] Connection refused)"),
        (_timeout, "timed out after 5s"),
        (lambda r: httpx.Response(503, text="<html>busy</html>"), "HTTP 503"),
        (
            lambda r: httpx.Response(429, json={"code": "50011", "msg": "Too Many Requests"}),
            "HTTP 429, OKX code=50011 msg='Too Many Requests'",
        ),
        (
            lambda r: httpx.Response(200, json={"code": "50001", "msg": "busy", "data": []}),
            "OKX code=50001 msg='busy'",
        ),
        (lambda r: httpx.Response(200, text="not json"), "not a JSON object"),
        (lambda r: httpx.Response(200, json={"code": "0", "msg": ""}), "no data list"),
    ],
)
async def test_rest_failure_is_reported_then_recovered(
    registry: InstrumentRegistry,
    venue: Venue,
    clock: Clock,
    fail: Callable[[httpx.Request], httpx.Response],
    reason: str,
) -> None:
    venue.fail = fail
    with pytest.raises(InstrumentResolutionError) as info:
        await registry.resolve("BTC-USDT-SWAP")
    assert info.value.inst_id == "BTC-USDT-SWAP"
    assert reason in info.value.reason
    assert "GET https://www.okx.com/api/v5/public/instruments?instType=SWAP" in str(info.value)
    assert "nothing was sent" in str(info.value)
    assert venue.total == 1

    venue.fail = None
    clock.advance(0.25)  # the failure backoff
    assert await registry.resolve("BTC-USDT-SWAP") == 2001
    assert venue.total == 2


async def test_failure_backoff_fails_fast_and_doubles(
    registry: InstrumentRegistry, venue: Venue, clock: Clock
) -> None:
    venue.fail = _connect_error
    with pytest.raises(InstrumentResolutionError):
        await registry.resolve("BTC-USDT")
    clock.advance(0.1)
    with pytest.raises(InstrumentResolutionError, match=r"next attempt in 0\.15s"):
        await registry.resolve("BTC-USDT")
    assert venue.total == 1  # inside the backoff: no REST call, the last reason at once
    clock.advance(0.15)
    with pytest.raises(InstrumentResolutionError, match="Connection refused"):
        await registry.resolve("BTC-USDT")
    assert venue.total == 2
    clock.advance(0.25)  # second consecutive failure: 0.5 s now
    with pytest.raises(InstrumentResolutionError, match=r"next attempt in 0\.25s"):
        await registry.resolve("BTC-USDT")
    clock.advance(0.25)
    venue.fail = None
    assert await registry.resolve("BTC-USDT") == 1001
    assert venue.total == 3


async def test_concurrent_callers_share_one_failed_load(
    registry: InstrumentRegistry, venue: Venue
) -> None:
    venue.fail = _connect_error
    ids = ["BTC-USDT", "ETH-USDT"] * 10
    results = await asyncio.gather(
        *(registry.resolve(inst_id) for inst_id in ids), return_exceptions=True
    )
    assert venue.total == 1
    assert all(isinstance(result, InstrumentResolutionError) for result in results)
    assert [r.inst_id for r in results if isinstance(r, InstrumentResolutionError)] == ids
    assert len({id(result) for result in results}) == len(ids)  # each caller its own error


async def test_option_without_family_is_refused_by_load_not_sent(
    registry: InstrumentRegistry, venue: Venue
) -> None:
    with pytest.raises(ValueError, match="inst_families"):
        await registry.load(["OPTION"])
    with pytest.raises(ValueError, match="instType must be one of"):
        await registry.load(["PERP"])
    assert venue.total == 0
    await registry.load(["OPTION", "SPOT"], inst_families=["BTC-USD", "ETH-USD"])
    assert venue.calls == {("OPTION", "BTC-USD"): 1, ("OPTION", "ETH-USD"): 1, ("SPOT", None): 1}
    assert registry.code("ETH-USD-251226-3000-C") == 5001


async def test_load_reports_a_failure_by_list(registry: InstrumentRegistry, venue: Venue) -> None:
    venue.fail = lambda r: httpx.Response(503)
    with pytest.raises(InstrumentResolutionError, match="'SWAP instruments'.*HTTP 503"):
        await registry.load(["SWAP"])


async def test_load_for_loads_each_needed_list_once(
    registry: InstrumentRegistry, venue: Venue
) -> None:
    await registry.load_for(["BTC-USDT", "ETH-USDT", "BTC-USDT-SWAP", "BTC-USD-251226-60000-C"])
    assert venue.calls == {("SPOT", None): 1, ("SWAP", None): 1, ("OPTION", "BTC-USD"): 1}
    with pytest.raises(UnknownInstrumentError, match="NOPE-USDT"):
        await registry.load_for(["BTC-USDT", "NOPE-USDT"])


# -- timeouts, cancellation, close -----------------------------------------------------


async def test_resolve_timeout_bounds_the_caller_not_the_shared_load(
    registry: InstrumentRegistry, venue: Venue
) -> None:
    venue.gate = asyncio.Event()
    with pytest.raises(InstrumentResolutionError, match="within 0.01s"):
        await registry.resolve("BTC-USDT-SWAP", timeout=0.01)
    waiter = asyncio.ensure_future(registry.resolve("ETH-USDT-SWAP"))
    await asyncio.sleep(0)  # let it join the load in flight
    venue.gate.set()
    assert await waiter == 2002
    assert registry.code("BTC-USDT-SWAP") == 2001
    assert venue.total == 1  # the timed-out caller's load went on and served the next


async def test_a_cancelled_caller_does_not_cancel_the_load(
    registry: InstrumentRegistry, venue: Venue
) -> None:
    venue.gate = asyncio.Event()
    first = asyncio.ensure_future(registry.resolve("BTC-USDT"))
    second = asyncio.ensure_future(registry.resolve("ETH-USDT"))
    await asyncio.sleep(0)
    first.cancel()
    venue.gate.set()
    assert await second == 1002
    with pytest.raises(asyncio.CancelledError):
        await first
    assert venue.total == 1


async def test_aclose_fails_waiters_and_keeps_warm_codes(venue: Venue, clock: Clock) -> None:
    reg = InstrumentRegistry(URL, transport=httpx.MockTransport(venue.handler), clock=clock)
    await reg.load(["SPOT"])
    venue.gate = asyncio.Event()
    waiter = asyncio.ensure_future(reg.resolve("BTC-USDT-SWAP"))
    await asyncio.sleep(0)
    await reg.aclose()
    with pytest.raises(InstrumentResolutionError, match="closed"):
        await waiter
    with pytest.raises(InstrumentResolutionError, match="closed"):
        await reg.resolve("ETH-USDT-SWAP")
    assert reg.code("BTC-USDT") == 1001
    assert await reg.resolve("BTC-USDT") == 1001


# -- preset mapping, invalidate ----------------------------------------------------


async def test_preset_mapping_needs_no_rest_at_all() -> None:
    reg = InstrumentRegistry(None, preset={"BTC-USDT-SWAP": 7, "BTC-USDT": 8})
    assert reg.code("BTC-USDT-SWAP") == 7
    assert await reg.resolve("BTC-USDT") == 8
    items = [{"instId": "BTC-USDT-SWAP"}, {"instId": "BTC-USDT"}]
    await reg.resolve_items(items, FIELDS)
    assert items == [
        {"instId": "BTC-USDT-SWAP", "instIdCode": 7},
        {"instId": "BTC-USDT", "instIdCode": 8},
    ]
    with pytest.raises(InstrumentResolutionError, match="no REST URL"):
        await reg.resolve("ETH-USDT")
    with pytest.raises(UnknownInstrumentError):
        await reg.resolve("junk")
    await reg.aclose()


async def test_preset_wins_over_rest_and_survives_invalidate(venue: Venue, clock: Clock) -> None:
    reg = InstrumentRegistry(
        URL, preset={"BTC-USDT": 9}, transport=httpx.MockTransport(venue.handler), clock=clock
    )
    assert await reg.resolve("BTC-USDT") == 9
    assert venue.total == 0
    await reg.load(["SPOT"])
    assert (reg.code("BTC-USDT"), reg.code("ETH-USDT")) == (9, 1002)
    reg.invalidate("BTC-USDT")
    assert reg.code("BTC-USDT") == 9
    await reg.aclose()


@pytest.mark.parametrize("preset", [{"BTC-USDT": "x"}, {"BTC-USDT": True}, {1: 2}])
def test_bad_preset_is_a_configuration_error(preset: dict[Any, Any]) -> None:
    with pytest.raises(ConfigurationError, match="instIdCode"):
        InstrumentRegistry(None, preset=preset)


async def test_invalidate_then_resolve_refreshes(
    registry: InstrumentRegistry, venue: Venue, clock: Clock
) -> None:
    await registry.load(["SWAP"])
    venue.lists[("SWAP", None)][0]["instIdCode"] = 2101  # OKX re-coded it
    clock.advance(5.0)
    registry.invalidate("BTC-USDT-SWAP")
    assert registry.code("BTC-USDT-SWAP") is None
    assert await registry.resolve("BTC-USDT-SWAP") == 2101
    assert venue.total == 2


async def test_invalidate_inside_the_interval_is_throttled(
    registry: InstrumentRegistry, venue: Venue, clock: Clock
) -> None:
    await registry.load(["SWAP"])
    clock.advance(1.0)
    registry.invalidate("BTC-USDT-SWAP")
    registry.invalidate("NEVER-SEEN-SWAP")  # nothing to drop: no error
    with pytest.raises(InstrumentResolutionError, match="OKX rejected its instIdCode 2001"):
        await registry.resolve("BTC-USDT-SWAP")
    assert venue.total == 1  # a venue rejecting its own codes cannot make us hammer REST
    clock.advance(4.0)
    assert await registry.resolve("BTC-USDT-SWAP") == 2001
    assert venue.total == 2


# -- resolve_items -----------------------------------------------------------------


async def test_resolve_items_fills_missing_codes_only(
    registry: InstrumentRegistry, venue: Venue
) -> None:
    await registry.load(["SPOT"])
    items: list[dict[str, Any]] = [
        {"instId": "BTC-USDT", "side": "buy"},  # warm
        {"instId": "BTC-USDT-SWAP"},  # cold
        {"instId": "ETH-USDT-SWAP", "instIdCode": 42},  # explicit: untouched
        {"instId": "NOPE-USDT-SWAP", "instIdCode": 43},  # explicit, unknown: never looked up
        {"ordId": "1"},  # no source: untouched
        {"instId": "BTC-USDT-SWAP", "instIdCode": None},  # None counts as missing
    ]
    await registry.resolve_items(items, FIELDS)
    assert items == [
        {"instId": "BTC-USDT", "side": "buy", "instIdCode": 1001},
        {"instId": "BTC-USDT-SWAP", "instIdCode": 2001},
        {"instId": "ETH-USDT-SWAP", "instIdCode": 42},
        {"instId": "NOPE-USDT-SWAP", "instIdCode": 43},
        {"ordId": "1"},
        {"instId": "BTC-USDT-SWAP", "instIdCode": 2001},
    ]
    assert venue.calls == {("SPOT", None): 1, ("SWAP", None): 1}


async def test_resolve_items_all_warm_never_suspends(registry: InstrumentRegistry) -> None:
    await registry.load(["SPOT", "SWAP"])
    items: list[dict[str, Any]] = [{"instId": "BTC-USDT"}, {"instId": "ETH-USDT-SWAP"}]
    step = registry.resolve_items(items, FIELDS)
    with pytest.raises(StopIteration):  # ran to completion without yielding to the loop
        step.send(None)
    assert [item["instIdCode"] for item in items] == [1001, 2002]


async def test_resolve_items_raises_before_changing_any_item(
    registry: InstrumentRegistry, venue: Venue
) -> None:
    await registry.load(["SPOT"])
    items: list[dict[str, Any]] = [
        {"instId": "BTC-USDT"},
        {"instId": "BTC-USDT-SWAP"},
        {"instId": "NOPE-USDT-SWAP"},
        {"instId": "ETH-USDT"},
    ]
    before = [dict(item) for item in items]
    with pytest.raises(UnknownInstrumentError, match="NOPE-USDT-SWAP"):
        await registry.resolve_items(items, FIELDS)
    assert items == before

    venue.fail = _connect_error
    items = [{"instId": "BTC-USDT"}, {"instId": "BTC-USD-251226"}]
    with pytest.raises(InstrumentResolutionError, match="BTC-USD-251226"):
        await registry.resolve_items(items, FIELDS)
    assert items == [{"instId": "BTC-USDT"}, {"instId": "BTC-USD-251226"}]

    with pytest.raises(UnknownInstrumentError, match="must be a string"):
        await registry.resolve_items([{"instId": 5}], FIELDS)


# -- REST URL derivation -----------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({}, "https://www.okx.com"),
        ({"demo_trading": True}, "https://www.okx.com"),
        ({"market": "eea"}, "https://eea.okx.com"),
        ({"market": "eea", "demo_trading": True}, "https://eea.okx.com"),
        ({"market": "us"}, "https://us.okx.com"),
        ({"base_url": "ws://127.0.0.1:8765"}, "http://127.0.0.1:8765"),
        ({"base_url": "wss://example.test:8443/ws/v5/private"}, "https://example.test:8443"),
        ({"base_url": "WS://h:1", "demo_trading": True}, "http://h:1"),
        ({"rest_url": "https://proxy.test:9000"}, "https://proxy.test:9000"),
        ({"rest_url": "http://h/", "base_url": "ws://other:1"}, "http://h"),
        ({"rest_url": "https://eu.test", "market": "us"}, "https://eu.test"),
    ],
)
def test_rest_url(kwargs: dict[str, Any], expected: str) -> None:
    assert rest_url(**kwargs) == expected


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"market": "mars"}, "market must be one of"),
        ({"base_url": "http://h:1"}, "base_url must look like ws://host:port"),
        ({"base_url": "ws://"}, "base_url must look like"),
        ({"rest_url": "ws://h"}, "rest_url must look like https://host"),
        ({"rest_url": "https://h/api/v5"}, "no path"),
        ({"rest_url": "https://h?x=1"}, "no path"),
        ({"rest_url": "https://h:port"}, "rest_url must look like"),
        ({"rest_url": "www.okx.com"}, "rest_url must look like"),
    ],
)
def test_rest_url_refuses_bad_input(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        rest_url(**kwargs)


def test_rest_url_never_echoes_credentials() -> None:
    with pytest.raises(ValueError) as info:
        rest_url(rest_url="https://user:s3cret@h")
    assert "s3cret" not in str(info.value)


def test_rest_headers() -> None:
    assert rest_headers(demo_trading=True) == {"x-simulated-trading": "1"}
    assert rest_headers() == {}
    rest_headers(demo_trading=True)["x-simulated-trading"] = "0"  # a copy: the constant is safe
    assert rest_headers(demo_trading=True) == {"x-simulated-trading": "1"}


def test_registry_refuses_a_bad_rest_url() -> None:
    with pytest.raises(ConfigurationError, match="rest_url must look like"):
        InstrumentRegistry("www.okx.com")
    assert InstrumentRegistry("https://www.okx.com/").rest_url == URL
