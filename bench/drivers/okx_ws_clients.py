"""okx-ws drivers: the typed async and blocking clients, and the raw runtime.

The typed clients are what users call (params validated, instIdCode filled in
from instId, reply parsed into a response model); the raw runtime row
(``okx_ws_core.AsyncWebsocketClient.send_ws_api_request``) splits the cost of
that typed layer from the cost of the connection core.

Rows are named by the knobs they turn away from the default configuration
(what ``AsyncWebsocketAPIClient(...)`` gives a user: asyncio, the runtime's
default transport, ``rate_limit="wait"``): :func:`label`.

Rate limits: every row sends thousands of orders a second on one instrument,
far past OKX's 60 per 2 s.  The rows keep the default ``rate_limit="wait"``
with limits that never bind (counts of 10^9, the same code path; the
simulator runs without limits); one row turns it ``"off"``, and the distance
between the two is what the limiter costs a request under OKX's limits.

Warm, as a trading application runs: every driver passes
``instrument_types=("SPOT",)``, so ``connect_ws_api()`` loads the SPOT
instIdCodes from the server's REST list while it connects, and no timed
request makes a REST call.  :func:`cold_first_order` measures what the first
order costs without that warming.
"""

from __future__ import annotations

import asyncio
import gc
import statistics
import time
from typing import Any

from ..workload import (
    API_KEY,
    API_SECRET,
    INST_ID,
    INST_TYPE,
    PASSPHRASE,
    coded_cancel_args,
    coded_order_args,
    order_args,
)

WARM_TYPES = (INST_TYPE,)
COLD_STEP_TIMEOUT_S = 10.0


def default_transport() -> str:
    """The runtime's default transport, read from the runtime so it cannot drift."""
    from okx_ws_core import ClientOptions

    return str(ClientOptions().transport)


def label(kind: str, transport: str, limiter: bool = True) -> str:
    """Row name: the default configuration, or the knobs this row turns away from it."""
    knobs = [] if kind == "async" else [kind]
    if transport != default_transport():
        knobs.append(f'transport="{transport}"')
    if not limiter:
        knobs.append('rate_limit="off"')
    if not knobs:
        return f'okx-ws default (async, {transport}, rate_limit="wait")'
    return "okx-ws " + ", ".join(knobs)


def _options(base_url: str, transport: str | None) -> dict[str, Any]:
    opts: dict[str, Any] = {
        "api_key": API_KEY,
        "api_secret": API_SECRET,
        "api_passphrase": PASSPHRASE,
        "base_url": base_url,
        "request_timeout": 30.0,  # 1,000 in flight on a loaded 2-core box: no spurious timeouts
        "attach_event_listeners": False,
        "instrument_types": WARM_TYPES,
        "rate_limit": "off",
    }
    if transport is not None:
        opts["transport"] = transport
    return opts


def _limits_that_never_bind() -> None:
    """In this worker process only: every operation keeps its limits, counts of 10^9."""
    import dataclasses

    from okx_ws import operations

    def loose(op: Any) -> Any:
        def widen(limits: Any) -> tuple[Any, ...]:
            return tuple(dataclasses.replace(limit, count=10**9) for limit in limits)

        return dataclasses.replace(
            op, limits=widen(op.limits), batch_of_one_limits=widen(op.batch_of_one_limits)
        )

    for name, op in list(operations.OPERATIONS.items()):
        setattr(operations, name.upper(), loose(op))


class OkxWsAsyncDriver:
    def __init__(self, transport: str, limiter: bool = True) -> None:
        self.transport = transport
        self.limiter = limiter
        self.name = label("async", transport, limiter)
        self._client: Any = None

    async def open(self, base_url: str) -> None:
        from okx_ws import AsyncWebsocketAPIClient

        options = _options(base_url, self.transport)
        if self.limiter:
            _limits_that_never_bind()
            options["rate_limit"] = "wait"
        self._client = AsyncWebsocketAPIClient(**options)
        await self._client.connect_ws_api()

    async def order(self, cl_ord_id: str) -> tuple[str, str]:
        item = (await self._client.submit_new_order(order_args(cl_ord_id))).data[0]
        return item.cl_ord_id, item.ord_id

    async def cancel(self, ord_id: str) -> str:
        reply = await self._client.cancel_order({"instId": INST_ID, "ordId": ord_id})
        return str(reply.data[0].ord_id)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()


class OkxWsBlockingDriver:
    def __init__(self, transport: str, limiter: bool = True) -> None:
        self.transport = transport
        self.limiter = limiter
        self.name = label("blocking", transport, limiter)
        self._client: Any = None

    def open(self, base_url: str) -> None:
        from okx_ws import WebsocketAPIClient

        options = _options(base_url, self.transport)
        if self.limiter:
            _limits_that_never_bind()
            options["rate_limit"] = "wait"
        self._client = WebsocketAPIClient(**options)
        self._client.connect_ws_api()

    def order(self, cl_ord_id: str) -> tuple[str, str]:
        item = self._client.submit_new_order(order_args(cl_ord_id)).data[0]
        return item.cl_ord_id, item.ord_id

    def cancel(self, ord_id: str) -> str:
        reply = self._client.cancel_order({"instId": INST_ID, "ordId": ord_id})
        return str(reply.data[0].ord_id)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


class OkxWsCoreDriver:
    """``okx_ws_core.AsyncWebsocketClient.send_ws_api_request``: no models, no validation.

    Raw requests are sent as given (the runtime resolves instIdCode only for
    typed operations), so the items carry the code, taken once from the
    client's own instrument registry after ``load_instruments``.
    """

    def __init__(self, transport: str) -> None:
        self.transport = transport
        self.name = label("core raw (send_ws_api_request: no models, no limiter)", transport)
        self._client: Any = None
        self._code = 0

    async def open(self, base_url: str) -> None:
        from okx_ws_core import AsyncWebsocketClient

        opts = _options(base_url, self.transport)
        self._client = AsyncWebsocketClient(
            opts.pop("api_key"), opts.pop("api_secret"), opts.pop("api_passphrase"), **opts
        )
        await asyncio.gather(
            self._client.connect("private"), self._client.load_instruments(WARM_TYPES)
        )
        code = self._client.instruments.code(INST_ID)
        if code is None:
            raise RuntimeError(f"okx-ws registry has no instIdCode for {INST_ID} after loading")
        self._code = code

    async def order(self, cl_ord_id: str) -> tuple[str, str]:
        reply = await self._client.send_ws_api_request(
            "private", "order", [coded_order_args(cl_ord_id, self._code)]
        )
        item = reply["data"][0]
        return item["clOrdId"], item["ordId"]

    async def cancel(self, ord_id: str) -> str:
        reply = await self._client.send_ws_api_request(
            "private", "cancel-order", [coded_cancel_args(ord_id, self._code)]
        )
        return str(reply["data"][0]["ordId"])

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()


async def _one_cold_client(base_url: str, warm: bool, n: int) -> dict[str, Any]:
    """A fresh typed async client with the default transport: connect_ws_api(), then
    one timed order.  ``warm``: instrument_types=("SPOT",) loads the codes during
    the connect; otherwise the order's own latency includes the REST call."""
    from okx_ws import AsyncWebsocketAPIClient

    opts = _options(base_url, None)  # no transport=: what a user gets by default
    if not warm:
        del opts["instrument_types"]
    client = AsyncWebsocketAPIClient(**opts)
    try:
        t0 = time.perf_counter()
        await asyncio.wait_for(client.connect_ws_api(), COLD_STEP_TIMEOUT_S)
        t1 = time.perf_counter()
        had_code = client.get_ws_client().instruments.code(INST_ID) is not None
        sent = f"bcold{'w' if warm else 'c'}{n}"  # n: 0 for the untimed first client
        reply = await asyncio.wait_for(
            client.submit_new_order(order_args(sent)), COLD_STEP_TIMEOUT_S
        )
        t2 = time.perf_counter()
        if reply.data[0].cl_ord_id != sent:
            raise RuntimeError(f"cold order: sent {sent}, got {reply.data[0].cl_ord_id}")
    finally:
        await asyncio.wait_for(client.close(), COLD_STEP_TIMEOUT_S)
        # The clients of one process share their codes while any of them lives, and a
        # closed client lingers in reference cycles until the collector runs: without
        # this, every "fresh" client after the first knew the code (the bench's own
        # warning said so), and (a) measured a warm order.
        del client
        gc.collect()
    return {"connect_s": t1 - t0, "order_s": t2 - t1, "code_before_order": had_code}


async def cold_first_order(base_url: str, clients: int) -> dict[str, Any]:
    """What the first order of a fresh client costs, (a) without and (b) with warming.

    One untimed client first pays the imports and lazy set-up, then ``clients``
    fresh clients of each kind, interleaved so noise hits both alike.  Medians.
    """
    await _one_cold_client(base_url, False, 0)
    runs: dict[str, list[dict[str, Any]]] = {"cold": [], "warm": []}
    for n in range(1, clients + 1):
        runs["cold"].append(await _one_cold_client(base_url, False, n))
        runs["warm"].append(await _one_cold_client(base_url, True, n))

    def summary(kind: str) -> dict[str, Any]:
        rs = runs[kind]
        return {
            "first_order_us": statistics.median(r["order_s"] for r in rs) * 1e6,
            "connect_ws_api_us": statistics.median(r["connect_s"] for r in rs) * 1e6,
            "first_order_us_all": [round(r["order_s"] * 1e6) for r in rs],
            # a cold client must not know the code before its order, a warm one must
            "code_known_before_order": sorted({r["code_before_order"] for r in rs}),
        }

    return {
        "client": label("async", default_transport()),
        "transport": default_transport(),
        "clients_each": clients,
        "without_warming": {
            "how": "connect_ws_api() without instrument_types, then one order "
            "(its latency includes one REST call for the SPOT list)",
            **summary("cold"),
        },
        "with_warming": {
            "how": 'instrument_types=("SPOT",), connect_ws_api(), then one order',
            **summary("warm"),
        },
    }
