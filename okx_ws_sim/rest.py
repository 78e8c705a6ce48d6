"""OKX REST endpoints the simulator answers on its WebSocket port (plain HTTP GET).

websockets hands every HTTP request to the server's ``process_request`` hook
before any WebSocket handshake; a path in ``ROUTES`` is answered there with
OKX's JSON envelope ``{"code": "0", "msg": "", "data": [...]}`` and the
connection is closed.  Clients need the instruments listing since 2026 to map
instId -> instIdCode, and the server time to sign logins with OKX's clock.

Public: ``GET /api/v5/public/instruments``, ``GET /api/v5/public/time``,
``GET /api/v5/market/books`` (the market's book and its seqId).  Signed
(OK-ACCESS-* headers checked by ``auth.verify_rest``; a refusal is HTTP 401 with
OKX's 501xx code): ``GET /api/v5/trade/order`` (one order-book order),
``GET /api/v5/trade/orders-pending`` (the live ones), ``GET /api/v5/sprd/order``
(one spread order) - what a client asks to learn an order's fate.  They read
the engine directly: an order is visible as soon as the engine has it (a request
dropped before execution never made one; one whose reply was dropped did).

Adding an endpoint is one function and one ``ROUTES`` entry (see ``get_time``;
``signed(route)`` for a private one, which then reads ``request.account``).
``request.now_ms`` is the simulator's clock, skew included.  Routes are pure;
``RestFront`` does the rest: faults first (asked of the policy), then the route,
then counting and demo-header tracking.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import functools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

from websockets.asyncio.server import ServerConnection
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from . import codes, views
from .auth import Account, RestAuthError, verify_rest
from .clock import SimClock
from .engine import Engine, Order
from .instruments import REST_INST_TYPES, rest_item
from .market import Market
from .policy import Policy
from .state import SimState


@dataclass(frozen=True)
class RestRequest:
    path: str
    query: Mapping[str, str]  # first value of each parameter
    headers: Mapping[str, str]  # names lower-cased
    engine: Engine
    now_ms: int
    accounts: Mapping[str, Account] = field(default_factory=dict)
    target: str = ""  # the request target as sent: path and query (what is signed)
    timestamp_window: float = codes.REST_TIMESTAMP_WINDOW_S
    account: Account | None = None  # who signed it (signed routes only)
    market: Market | None = None  # the synthetic market (market routes)


@dataclass(frozen=True)
class RestAnswer:
    code: str
    msg: str
    data: list[Any]

    @property
    def http_status(self) -> int:
        """OKX's HTTP status for this code (codes.REST_HTTP_STATUS; 200 otherwise)."""
        return codes.REST_HTTP_STATUS.get(self.code, 200) if self.code != codes.OK else 200

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "msg": self.msg, "data": self.data}


Route = Callable[[RestRequest], RestAnswer]


def ok(data: list[Any]) -> RestAnswer:
    return RestAnswer(codes.OK, "", data)


def error(code: str, msg: str) -> RestAnswer:
    return RestAnswer(code, msg, [])


def get_instruments(request: RestRequest) -> RestAnswer:
    """GET /api/v5/public/instruments?instType=..[&instFamily=..][&uly=..][&instId=..]

    MARGIN lists the margin-enabled SPOT pairs (see codes.MARGIN_CODE_OFFSET).
    instFamily / uly filter derivatives and MARGIN; SPOT has neither, so they are
    ignored there.  Other query parameters are ignored.
    """
    query = request.query
    inst_type = query.get("instType", "")
    if not inst_type:
        return error(codes.MISSING_PARAM, codes.MISSING_PARAM_MSG.format("instType"))
    if inst_type not in REST_INST_TYPES:
        return error(codes.PARAM_ERROR, "Parameter instType error")
    family, uly, inst_id = (
        query.get("instFamily", ""),
        query.get("uly", ""),
        query.get("instId", ""),
    )
    if inst_type == "OPTION" and not family and not uly:
        return error(codes.EITHER_PARAM, "Either parameter instFamily or uly is required")
    if inst_type == "SPOT":
        family = uly = ""
    items = []
    for inst in request.engine.instruments.values():
        listed = inst.margin_enabled if inst_type == "MARGIN" else inst.inst_type == inst_type
        if not listed:
            continue
        item = rest_item(inst, inst_type)
        if (
            (family and item["instFamily"] != family)
            or (uly and item["uly"] != uly)
            or (inst_id and item["instId"] != inst_id)
        ):
            continue
        items.append(item)
    if inst_id and not items:
        return error(codes.INSTRUMENT_NOT_FOUND, codes.INSTRUMENT_NOT_FOUND_MSG)
    return ok(items)


def get_time(request: RestRequest) -> RestAnswer:
    """GET /api/v5/public/time: the server's clock in ms, ``[{"ts": "1597026383085"}]``.
    Clients read it to sign logins with OKX's time rather than their own."""
    return ok([{"ts": str(request.now_ms)}])


# GET /api/v5/market/books: "sz: Order book depth per side. Maximum 400, e.g. 400 bids
# + 400 asks. Default returns to 1 depth data" (OKX's "GET / Order book", docs-v5).  A
# size outside 1..400 or not an integer: 51000 "Parameter sz error" (*uncertain*).
BOOKS_MAX_SZ = 400


def get_books(request: RestRequest) -> RestAnswer:
    """GET /api/v5/market/books?instId=..[&sz=..]: the book's top ``sz`` levels per side
    and its ``seqId``, the starting point of OKX's resync procedure (log_en 2026-02-12:
    buffer the stream, fetch this, drop buffered events with seqId <= the snapshot's).
    A spread or unlisted instId answers 51001 (*uncertain*)."""
    inst_id = request.query.get("instId", "")
    if not inst_id:
        return error(codes.MISSING_PARAM, codes.MISSING_PARAM_MSG.format("instId"))
    raw = request.query.get("sz", "1")
    if not raw.isdigit() or not 1 <= int(raw) <= BOOKS_MAX_SZ:
        return error(codes.PARAM_ERROR, "Parameter sz error")
    inst = request.engine.instruments.get(inst_id)
    item = None
    if inst is not None and inst.inst_type != "SPREAD" and request.market is not None:
        item = request.market.rest_snapshot(inst_id, int(raw))
    if item is None:
        return error(codes.INSTRUMENT_NOT_FOUND, codes.INSTRUMENT_NOT_FOUND_MSG)
    return ok([item])


def signed(route: Route) -> Route:
    """``route`` behind OKX's REST authentication: refused with the 501xx code (HTTP
    401) unless the OK-ACCESS-* headers sign this very request."""

    @functools.wraps(route)
    def check(request: RestRequest) -> RestAnswer:
        try:
            account = verify_rest(
                request.headers,
                "GET",
                request.target,
                "",
                request.accounts,
                request.now_ms,
                request.timestamp_window,
            )
        except RestAuthError as exc:
            return error(exc.code, exc.msg)
        return route(replace(request, account=account))

    return check


def _ord_ids(query: Mapping[str, str]) -> tuple[str, str] | RestAnswer:
    """(ordId, clOrdId) of an order query; ordId wins when both are given (OKX)."""
    ord_id, cl_ord_id = query.get("ordId", ""), query.get("clOrdId", "")
    if not ord_id and not cl_ord_id:
        return error(codes.ORD_ID_REQUIRED, codes.ORD_ID_REQUIRED_MSG)
    return ord_id, cl_ord_id


def _find(request: RestRequest, ord_id: str, cl_ord_id: str) -> Order | None:
    """The signer's order with ``ord_id`` (else the latest with ``cl_ord_id``), unless
    OKX would have forgotten it: canceled without a fill more than 2 hours ago."""
    assert request.account is not None
    order = request.engine.find(request.account.api_key, cl_ord_id=cl_ord_id, ord_id=ord_id)
    if (
        order is not None
        and order.state == "canceled"
        and order.acc_base == 0
        and request.now_ms - order.u_time > codes.CANCELED_UNFILLED_RETENTION_MS
    ):
        return None
    return order


@signed
def get_order(request: RestRequest) -> RestAnswer:
    """GET /api/v5/trade/order?instId=..&ordId=..|clOrdId=..: one order-book order.

    instId is required (OKX's REST order query still takes instId, not instIdCode);
    an instrument the simulator does not list answers 51001 (*uncertain*), an order
    it does not have (or of another instrument) 51603, HTTP 200.
    """
    inst_id = request.query.get("instId", "")
    if not inst_id:
        return error(codes.MISSING_PARAM, codes.MISSING_PARAM_MSG.format("instId"))
    ids = _ord_ids(request.query)
    if isinstance(ids, RestAnswer):
        return ids
    inst = request.engine.instruments.get(inst_id)
    if inst is None or inst.inst_type == "SPREAD":
        return error(codes.INSTRUMENT_NOT_FOUND, codes.INSTRUMENT_NOT_FOUND_MSG)
    order = _find(request, *ids)
    if order is None or order.is_spread or order.inst.inst_id != inst_id:
        return error(codes.ORDER_NOT_EXIST, codes.ORDER_NOT_EXIST_MSG)
    return ok([views.order_rest(order)])


_PENDING_TYPES = frozenset({"SPOT", "MARGIN", "SWAP", "FUTURES", "OPTION", "EVENTS"})
_PENDING_STATES = frozenset({"live", "partially_filled"})


@signed
def get_orders_pending(request: RestRequest) -> RestAnswer:
    """GET /api/v5/trade/orders-pending[?instType=&instFamily=&instId=&ordType=&state=
    &after=&before=&limit=]: the signer's live and partially filled order-book orders,
    newest first; ``after`` / ``before`` page by ordId (older / newer than it), at
    most ``limit`` (1-100, default 100).  A value out of its set is 51000."""
    query = request.query
    inst_type = query.get("instType", "")
    state = query.get("state", "")
    for name, value, allowed in (
        ("instType", inst_type, _PENDING_TYPES),
        ("state", state, _PENDING_STATES),
    ):
        if value and value not in allowed:
            return error(codes.PARAM_ERROR, f"Parameter {name} error")
    raw_limit = query.get("limit", "")
    limit = codes.PENDING_PAGE_MAX
    if raw_limit:
        if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= codes.PENDING_PAGE_MAX:
            return error(codes.PARAM_ERROR, "Parameter limit error")
        limit = int(raw_limit)
    bounds = []
    for name in ("after", "before"):
        value = query.get(name, "")
        if value and not value.isdigit():
            return error(codes.PARAM_ERROR, f"Parameter {name} error")
        bounds.append(int(value) if value else None)
    after, before = bounds
    family, inst_id, ord_type = (
        query.get("instFamily", ""),
        query.get("instId", ""),
        query.get("ordType", ""),
    )
    assert request.account is not None
    acct = request.engine.accounts.get(request.account.api_key)
    orders = list(acct.orders.values()) if acct is not None else []
    items = []
    for order in sorted(orders, key=lambda o: int(o.ord_id), reverse=True):
        number = int(order.ord_id)
        if (
            not order.is_live
            or order.is_spread
            or (inst_type and order.inst_type != inst_type)
            or (family and order.inst.inst_family != family)
            or (inst_id and order.inst.inst_id != inst_id)
            or (ord_type and order.ord_type != ord_type)
            or (state and order.state != state)
            or (after is not None and number >= after)
            or (before is not None and number <= before)
        ):
            continue
        items.append(views.order_rest(order))
        if len(items) == limit:
            break
    return ok(items)


@signed
def get_sprd_order(request: RestRequest) -> RestAnswer:
    """GET /api/v5/sprd/order?ordId=..|clOrdId=..: one spread order; a missing one
    answers 51603 like the order-book query (*uncertain* for spreads)."""
    ids = _ord_ids(request.query)
    if isinstance(ids, RestAnswer):
        return ids
    order = _find(request, *ids)
    if order is None or not order.is_spread:
        return error(codes.SPRD_ORDER_NOT_EXIST, codes.ORDER_NOT_EXIST_MSG)
    return ok([views.sprd_order(order, push=False)])


ROUTES: dict[str, Route] = {
    "/api/v5/public/instruments": get_instruments,
    "/api/v5/public/time": get_time,
    "/api/v5/trade/order": get_order,
    "/api/v5/trade/orders-pending": get_orders_pending,
    "/api/v5/sprd/order": get_sprd_order,
    "/api/v5/market/books": get_books,
}


def parse_query(query: str) -> dict[str, str]:
    """``a=1&b=2`` -> {"a": "1", "b": "2"}; the first value of a repeated name wins."""
    out: dict[str, str] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        out.setdefault(name, value)
    return out


def json_response(status: int, body: Any) -> Response:
    """An HTTP response with a JSON body; the connection closes after it."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:  # a status Python does not name, e.g. 599
        phrase = ""
    payload = json.dumps(body, separators=(",", ":")).encode()
    headers = Headers(
        [
            ("Date", email.utils.formatdate(usegmt=True)),
            ("Connection", "close"),
            ("Content-Length", str(len(payload))),
            ("Content-Type", "application/json"),
        ]
    )
    return Response(status, phrase, headers, payload)


def unavailable_body() -> dict[str, Any]:
    """The body of a REST request failed on purpose (FaultPlan.fail_rest)."""
    return error(codes.SERVICE_UNAVAILABLE, codes.SERVICE_UNAVAILABLE_MSG).body()


class RestFront:
    """Answers the paths of ``ROUTES`` before any WebSocket handshake."""

    def __init__(
        self,
        state: SimState,
        policy: Policy,
        clock: SimClock,
        abort: Callable[[ServerConnection], None],
        timestamp_window: Callable[[], float] = lambda: codes.REST_TIMESTAMP_WINDOW_S,
        market: Market | None = None,
    ) -> None:
        self.state = state
        self.market = market
        self.policy = policy
        self.clock = clock
        self._abort = abort
        self._window = timestamp_window
        self._release = asyncio.Event()  # set: every request held by hang_rest() ends

    def hold(self) -> None:
        """(Re)start holding hung requests (the simulator starts listening)."""
        self._release = asyncio.Event()

    def release(self) -> None:
        """End every hung request now (stop / restart), or closing would wait for them."""
        self._release.set()

    async def answer(self, connection: ServerConnection, request: Request) -> Response | None:
        """The response to a REST request, or None when the path is not a REST route."""
        path = request.path.partition("?")[0]
        route = ROUTES.get(path)
        if route is None:
            return None
        fault = self.policy.rest_fault(path)
        if fault is not None and fault.kind == "fail":
            return json_response(int(fault.value), unavailable_body())
        if fault is not None and fault.kind == "hang":  # no answer at all
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._release.wait(), fault.value)
            self._abort(connection)
            return connection.respond(HTTPStatus.SERVICE_UNAVAILABLE, "")
        state, query = self.state, parse_query(request.path.partition("?")[2])
        headers = {name.lower(): value for name, value in request.headers.raw_items()}
        answer = route(
            RestRequest(
                path,
                query,
                headers,
                state.engine,
                self.clock.now_ms(),
                state.accounts,
                request.path,
                self._window(),
                market=self.market,
            )
        )
        if fault is not None:  # delay: the answer as of now, sent later
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._release.wait(), fault.value)
        state.stats.rest_calls[f"{path}?instType={query.get('instType', '')}"] += 1
        if headers.get("x-simulated-trading") == "1":
            state.stats.rest_simulated_trading += 1
        state.rest_last_headers = headers
        return json_response(answer.http_status, answer.body())

    def calls(self, path: str | None = None, inst_type: str | None = None) -> int:
        """REST requests answered by a route (faulted ones excluded): all, or those to
        ``path``, or with query ``instType=inst_type``."""
        total = 0
        for key, n in self.state.stats.rest_calls.items():
            key_path, _, key_type = key.partition("?instType=")
            if (path is None or key_path == path) and (inst_type is None or key_type == inst_type):
                total += n
        return total
