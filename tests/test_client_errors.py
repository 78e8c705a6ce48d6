"""The error contract (issue #11 item 4): every public method, every way the network fails.

Each public coroutine of the runtime :class:`AsyncWebsocketClient` and of the
generated :class:`AsyncWebsocketAPIClient` is driven through each failure a
:class:`ScriptedServer` can stage: connects refused, a handshake that never
completes, the link dropped mid-call, no reply at all, and the client closed
while the call waits.  Whatever happens, the caller gets an
:class:`OkxWsError` subclass (never a raw ``TimeoutError``, ``TransportClosed``
or ``ValueError``), by the deadline, and nothing is sent twice.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from okx_ws import AsyncWebsocketAPIClient, channels, operations

from codegen.spec_loader import read_yaml
from okx_ws_core import (
    AsyncWebsocketClient,
    ClientClosed,
    ClientOptions,
    ConfigurationError,
    ConnectionLost,
    ConnectTimeout,
    OkxWsError,
    ParamsValidationError,
    RequestTimeout,
    Transport,
)
from okx_ws_core.testing import ScriptedServer, run
from tests.conftest import subscribe_kwargs

SPEC = read_yaml(Path(__file__).parents[1] / "spec" / "operations.yaml")
EXAMPLES: dict[str, Any] = {
    name: entry["examples"]["valid"][0]["params"] for name, entry in SPEC["operations"].items()
}
TIMEOUT = 5.0
# A request that cannot be sent gives up min_send_time before its deadline.
UNSENT_AFTER = TIMEOUT - ClientOptions().min_send_time
TICKERS = {"channel": "tickers", "instId": "BTC-USDT"}


def _inst_ids(params: Any) -> set[str]:
    items = params if isinstance(params, list) else [params]
    return {item["instId"] for item in items if "instId" in item}


PRESET = {
    inst_id: 1000 + i
    for i, inst_id in enumerate(sorted(set().union(*map(_inst_ids, EXAMPLES.values()))))
}


class HungHandshake:
    """A Connector to a black-holed host: each handshake hangs for its whole timeout."""

    def __init__(self) -> None:
        self.connect_attempts = 0

    def open(self, url: str, timeout: float) -> AbstractAsyncContextManager[Transport]:
        self.connect_attempts += 1
        return self._hang(timeout)

    @asynccontextmanager
    async def _hang(self, timeout: float) -> AsyncIterator[Transport]:
        await asyncio.sleep(timeout)
        raise TimeoutError(f"handshake timed out after {timeout:g}s")
        yield  # pragma: no cover


# -- the methods under test ------------------------------------------------------------

Client = AsyncWebsocketClient | AsyncWebsocketAPIClient


@dataclass(frozen=True)
class Method:
    """One public coroutine method, how to call it, and what it puts on the wire."""

    name: str
    kind: str  # "connect", "request" or "subscription"
    op: str  # the frame whose arrival the "dropped" scenario answers by dropping the link
    invoke: Callable[[Any], Awaitable[object]]
    generated: bool


def _op_method(name: str) -> Method:
    operation = operations.OPERATIONS[name]
    params = EXAMPLES[name]
    return Method(name, "request", operation.op, lambda c: getattr(c, name)(params), generated=True)


def _track(client: AsyncWebsocketClient) -> Awaitable[object]:
    client.register_order_tracking(channels.ORDER_OPS.values(), channels.ORDER_CHANNELS)
    return client.track_orders()


RUNTIME_METHODS = [
    Method("connect", "connect", "login", lambda c: c.connect("private"), False),
    Method("connect_ws_api", "connect", "login", lambda c: c.connect_ws_api(), False),
    Method(
        "call",
        "request",
        "order",
        lambda c: c.call(operations.SUBMIT_NEW_ORDER, EXAMPLES["submit_new_order"]),
        False,
    ),
    Method(
        "send_ws_api_request",
        "request",
        "sprd-cancel-order",
        lambda c: c.send_ws_api_request("business", "sprd-cancel-order", [{"ordId": "1"}]),
        False,
    ),
    Method("subscribe", "subscription", "subscribe", lambda c: c.subscribe(TICKERS), False),
    Method(
        "unsubscribe",
        "subscription",
        "unsubscribe",
        lambda c: c.unsubscribe(TICKERS, "business"),
        False,
    ),
    Method(
        "subscribe_channel",
        "subscription",
        "subscribe",
        lambda c: c.subscribe_channel(channels.ORDERS),
        False,
    ),
    Method("track_orders", "subscription", "subscribe", _track, False),
    Method(
        "order_book",
        "subscription",
        "subscribe",
        lambda c: c.order_book(channels.BOOKS, "BTC-USDT"),
        False,
    ),
]
GENERATED_METHODS = [
    Method("connect_ws_api", "connect", "login", lambda c: c.connect_ws_api(), True),
    *(_op_method(name) for name in operations.OPERATIONS),
    *(
        Method(
            f"subscribe_{n}",
            "subscription",
            "subscribe",
            lambda c, n=n: getattr(c, f"subscribe_{n}")(**subscribe_kwargs(n)),
            True,
        )
        for n in channels.CHANNELS
    ),
    Method("track_orders", "subscription", "subscribe", lambda c: c.track_orders(), True),
    Method("order_book", "subscription", "subscribe", lambda c: c.order_book("BTC-USDT"), True),
]
METHODS = RUNTIME_METHODS + GENERATED_METHODS
IDS = [f"{'generated' if m.generated else 'runtime'}.{m.name}" for m in METHODS]
NOT_NETWORK = {
    "close",
    "load_instruments",
    "sync_time",
    "reconcile",
    "wait_for",
}  # REST only or local: covered below, in test_pacing_clock.py and test_reconcile*.py


def _public_coroutines(cls: type) -> set[str]:
    return {
        name
        for name, member in inspect.getmembers(cls, inspect.iscoroutinefunction)
        if not name.startswith("_")
    }


def test_every_public_coroutine_is_in_the_contract_table() -> None:
    assert _public_coroutines(AsyncWebsocketClient) - NOT_NETWORK == {
        m.name for m in RUNTIME_METHODS
    }
    assert _public_coroutines(AsyncWebsocketAPIClient) - NOT_NETWORK == {
        m.name for m in GENERATED_METHODS
    }


def make(server: Any, generated: bool) -> tuple[Client, AsyncWebsocketClient]:
    options: dict[str, Any] = {
        "transport": server,
        "instruments": PRESET,
        "request_timeout": TIMEOUT,
        "attach_event_listeners": False,
    }
    if generated:
        api = AsyncWebsocketAPIClient(api_key="k", api_secret="s", api_passphrase="p", **options)
        return api, api.get_ws_client()
    runtime = AsyncWebsocketClient("k", "s", "p", **options)
    return runtime, runtime


async def expect_error(method: Method, client: Client) -> tuple[OkxWsError, float]:
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(OkxWsError) as caught:
        await method.invoke(client)
    return caught.value, loop.time() - started


def sent(server: ScriptedServer, op: str) -> int:
    return sum(len(link.ops(op)) for link in server.links)


# -- the scenarios -----------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS, ids=IDS)
def test_connects_refused(method: Method) -> None:
    async def main() -> None:
        server = ScriptedServer()
        server.refuse_connects = 10**6
        client, ws = make(server, method.generated)
        error, elapsed = await expect_error(method, client)
        await ws.close()
        expected = RequestTimeout if method.kind == "request" else ConnectTimeout
        assert type(error) is expected, repr(error)
        limit = UNSENT_AFTER if method.kind == "request" else TIMEOUT
        assert elapsed == pytest.approx(limit, abs=1e-9)
        if isinstance(error, RequestTimeout):
            assert error.sent is False
        assert server.connect_attempts > 1 and server.links == []

    run(main())


@pytest.mark.parametrize("method", METHODS, ids=IDS)
def test_handshake_never_completes(method: Method) -> None:
    async def main() -> None:
        connector = HungHandshake()
        client, ws = make(connector, method.generated)
        error, elapsed = await expect_error(method, client)
        await ws.close()
        expected = RequestTimeout if method.kind == "request" else ConnectTimeout
        assert type(error) is expected, repr(error)
        limit = UNSENT_AFTER if method.kind == "request" else TIMEOUT
        assert elapsed == pytest.approx(limit, abs=1e-9)
        if isinstance(error, RequestTimeout):
            assert error.sent is False
        assert connector.connect_attempts >= 1
        assert asyncio.all_tasks() == {asyncio.current_task()}

    run(main())


@pytest.mark.parametrize("method", METHODS, ids=IDS)
def test_link_dropped_mid_call(method: Method) -> None:
    async def main() -> None:
        server = ScriptedServer()
        server.drop_on = {method.op}
        client, ws = make(server, method.generated)
        error, elapsed = await expect_error(method, client)
        if method.kind == "connect":  # every link dies during login: retried until the deadline
            assert type(error) is ConnectTimeout, repr(error)
            assert elapsed == pytest.approx(TIMEOUT, abs=1e-9)
            assert "dropped" in str(error)
        else:
            assert type(error) is ConnectionLost, repr(error)
            assert elapsed == 0.0  # at once
        server.drop_on = set()
        await asyncio.sleep(30)  # reconnects happen meanwhile...
        if method.kind == "request":
            assert sent(server, method.op) == 1  # ...but a request is never re-sent
        await ws.close()

    run(main())


ANSWERED = [(m, i) for m, i in zip(METHODS, IDS, strict=True) if m.kind != "connect"]


@pytest.mark.parametrize("method", [m for m, _ in ANSWERED], ids=[i for _, i in ANSWERED])
def test_no_reply(method: Method) -> None:
    async def main() -> None:
        server = ScriptedServer(answer=None, ack_subscriptions=False)
        client, ws = make(server, method.generated)
        error, elapsed = await expect_error(method, client)
        await ws.close()
        assert type(error) is RequestTimeout, repr(error)
        assert error.sent is True
        assert elapsed == pytest.approx(TIMEOUT, abs=1e-9)
        assert sent(server, method.op) == 1

    run(main())


@pytest.mark.parametrize("method", METHODS, ids=IDS)
def test_client_closed_while_the_call_waits(method: Method) -> None:
    async def main() -> None:
        server = ScriptedServer()
        server.refuse_connects = 10**6
        client, ws = make(server, method.generated)
        call = asyncio.ensure_future(method.invoke(client))
        await asyncio.sleep(1)
        await ws.close()
        with pytest.raises(OkxWsError) as caught:
            await call
        assert type(caught.value) is ClientClosed, repr(caught.value)
        with pytest.raises(ClientClosed):  # and after close, at once
            await method.invoke(client)

    run(main())


# -- load_instruments: REST only, never the WebSocket ----------------------------------------


@pytest.mark.parametrize("generated", [False, True], ids=["runtime", "generated"])
def test_load_instruments_with_a_preset_needs_no_connection(generated: bool) -> None:
    async def main() -> None:
        server = ScriptedServer()
        server.refuse_connects = 10**6
        client, ws = make(server, generated)
        await client.load_instruments(())
        assert ws.instruments.code("BTC-USDT") == PRESET["BTC-USDT"]
        assert server.connect_attempts == 0
        await ws.close()
        with pytest.raises(ClientClosed):
            await client.load_instruments(())

    run(main())


# -- bad input: OkxWsError too, nothing sent ----------------------------------------------------


GOOD_INPUT_ERRORS: list[tuple[str, Callable[[Any], Awaitable[object]], type[OkxWsError]]] = [
    ("unknown connection", lambda c: c.send_ws_api_request("nope", "order", []), ConfigurationError),
    ("subscribe nothing", lambda c: c.subscribe([]), ParamsValidationError),
    ("subscribe without channel", lambda c: c.subscribe({"instId": "x"}), ParamsValidationError),
    ("call with a list for a single op",
     lambda c: c.call(operations.CANCEL_ORDER, [{"instId": "BTC-USDT", "ordId": "1"}]),
     ParamsValidationError),
    ("private without credentials", lambda c: AsyncWebsocketClient(transport=c.options.transport)
     .connect("private"), ConfigurationError),
]  # fmt: skip


@pytest.mark.parametrize(
    ("what", "invoke", "expected"), GOOD_INPUT_ERRORS, ids=[g[0] for g in GOOD_INPUT_ERRORS]
)
def test_bad_input_raises_okx_ws_error_and_sends_nothing(
    what: str, invoke: Callable[[Any], Awaitable[object]], expected: type[OkxWsError]
) -> None:
    async def main() -> None:
        server = ScriptedServer()
        client, _ = make(server, generated=False)
        async with client:
            with pytest.raises(expected):
                await invoke(client)
        assert server.connect_attempts == 0

    run(main())


RAW_VALUE_ERRORS: list[tuple[str, Callable[[Any], Awaitable[object]]]] = [
    ("load_instruments unknown type", lambda c: c.load_instruments(["BOGUS"])),
    ("load_instruments OPTION without families", lambda c: c.load_instruments(["OPTION"])),
    ("send_ws_api_request args as a mapping",
     lambda c: c.send_ws_api_request("private", "order", {"instIdCode": 1})),
    ("subscribe a bare channel name", lambda c: c.subscribe("tickers")),
]  # fmt: skip


@pytest.mark.parametrize(("what", "invoke"), RAW_VALUE_ERRORS, ids=[r[0] for r in RAW_VALUE_ERRORS])
def test_malformed_arguments_raise_okx_ws_error(
    what: str, invoke: Callable[[Any], Awaitable[object]]
) -> None:
    async def main() -> None:
        server = ScriptedServer()
        client, _ = make(server, generated=False)
        async with client:
            try:
                await invoke(client)
            except OkxWsError:
                pass
            else:
                raise AssertionError("no error")
        assert server.connect_attempts == 0

    run(main())
