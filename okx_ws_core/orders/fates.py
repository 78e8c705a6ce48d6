"""Orders' fates: expTime stamping, the order tracker's feed, and ``reconcile()``.

``reconcile()`` answers, per clOrdId, what became of an order whose reply
never came (:class:`RequestTimeout` with ``sent=True``, :class:`ConnectionLost`,
:class:`RequestCancelled`: a call cancelled after its frame left) by asking
OKX's signed REST API, unless OKX answered that very request late:

* a **late reply** (OKX's reply to a request that had timed out or whose
  call was cancelled; the link remembers such ids for a while, see
  :mod:`.late`) settles a place request without asking REST: an item with
  ``sCode "0"`` is **placed**, any other **not placed**, both definite.
  Amends and cancels are still looked up, as their verdict is the order's
  current state (the tracker has the late reply either way);

* ``GET /api/v5/trade/order?instId=...&clOrdId=...`` for order-book orders,
  ``GET /api/v5/sprd/order?clOrdId=...`` for spread orders (which query an
  operation's orders is ``lookup`` in ``spec/tracking.yaml``);
* OKX lists it: **placed**, with the order as OKX reports it (typed with the
  order channel's push model: the fields are the same).  Amends and cancels
  are judged the same way: the verdict carries the order's current state;
* OKX answers 51603 "Order does not exist": **not placed**.  That is certain
  only once OKX can no longer execute the request: when it carried an
  ``expTime`` (the ``stamp_exp_time`` option, or the caller's ``exp_time``)
  reconcile waits until that time has passed (plus a margin for clock error)
  before it answers, and says ``definite=True``.  Without one the answer is
  ``definite=False``: OKX had not processed it when asked, but a request still
  travelling inside OKX could in principle be executed later.  A request that
  never left the client (``RequestTimeout(sent=False)``: no connection, or
  its deadline passed before sending) is not placed for sure, without asking;
* anything else (REST unreachable after retries, an unexpected code, an
  instId we cannot know): **unknown**, with why.  A refused signature, key or
  passphrase raises :class:`~okx_ws_core.rest.queries.RestAuthenticationError` (an
  :class:`AuthenticationError`): no verdict can come from those credentials.

OKX keeps canceled orders that never filled for 2 hours only, so a "not
placed" for an order placed and canceled long ago is possible: reconcile
right after the failure, as the client's errors invite.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final, Literal

from ..errors import (
    ConfigurationError,
    ConnectionLost,
    OkxWsError,
    RequestCancelled,
    RequestTimeout,
    RestUnavailable,
)
from ..protocol.late import Recent, Retained
from ..rest.http import RestAnswer
from ..rest.queries import SignedRest
from ..streams.channels import ROLE_ORDERS, Channel
from .tracker import Lookup, OrderOp, OrderTracker, OrderWaits, TrackedOrder

ORDER_PATH: Final = "/api/v5/trade/order"  # ?instId=&clOrdId=
SPREAD_PATH: Final = "/api/v5/sprd/order"  # ?clOrdId=
NOT_FOUND_CODE: Final = "51603"  # "Order does not exist"
# Uncertain: that the spread order query answers a missing order with 51603 too;
# OKX's spread docs do not say.  An empty data list with code 0 counts as missing.
LOOKUP_OF: Final[dict[str, Lookup]] = {"private": "order", "business": "spread"}
# Seconds reconcile waits past a request's expTime before trusting a 51603: the
# error of our estimate of OKX's clock (set_time_offset_ms / sync_time) plus
# OKX's own processing.  Uncertain: OKX does not document its tolerance.
EXPIRY_MARGIN_S: Final = 1.0
RETRY_DELAYS: Final = (0.25, 0.5, 1.0, 2.0)  # then 2.0 s each, within the timeout
MAX_CONCURRENT: Final = 4  # REST queries in flight per reconcile (OKX: 60 / 2 s per instId)
# Open tracked orders looked up after a reconnect (most recently changed first).
MAX_REFRESH: Final = 200
# Late replies kept for reconcile(error), by request id: how many and how long.
MAX_SETTLED: Final = 10_000
SETTLED_TTL_S: Final = 3600.0
# Cancelled calls whose fate is unsettled (cancelled_fates()): the oldest go first.
MAX_CANCELLED: Final = 10_000

Status = Literal["placed", "not_placed", "unknown"]
Failure = RequestTimeout | ConnectionLost | RequestCancelled
Target = Failure | Iterable[str] | Mapping[str, "str | None"]


@dataclass(frozen=True, slots=True)
class Verdict:
    """What OKX says of one clOrdId.

    ``status``: ``"placed"`` (OKX has the order: ``order``/``data``, its
    ``state`` tells whether an amend or cancel took effect), ``"not_placed"``
    (OKX has no such order; ``definite`` when it can no longer get one from
    that request) or ``"unknown"`` (``reason`` says why).  Settled by OKX's
    late reply, ``data`` is that reply's item (``ordId``, ``sCode``...; no
    ``state``, ``order`` is ``None``) and ``reason`` says so.
    """

    cl_ord_id: str
    status: Status
    reason: str
    definite: bool = False
    order: Any = None  # OKX's order typed with the order channel's item model
    data: Mapping[str, Any] | None = None  # the same as OKX's REST API returned it
    inst_id: str = ""  # the instId asked about ("" for spread orders)

    @property
    def placed(self) -> bool:
        return self.status == "placed"

    @property
    def state(self) -> str | None:
        """OKX's state of the order (``live``, ``filled``, ``canceled``...) when placed."""
        return None if self.data is None else str(self.data.get("state", "")) or None


# One item of a late reply, as kept: (clOrdId, ordId, sCode, sMsg).
SettledItem = tuple[str, str, str, str]


@dataclass(frozen=True, slots=True)
class Settled:
    """What settles a fate in OKX's late reply: its ``code`` and ``msg`` and, per item,
    (clOrdId, ordId, sCode, sMsg).  Kept instead of the decoded reply, whose other
    fields (timestamps, tags, every key again per item) cost four times as much over
    the thousands kept for an hour."""

    code: str
    msg: str
    items: tuple[SettledItem, ...]

    @classmethod
    def of(cls, reply: Mapping[str, Any]) -> Settled:
        data = reply.get("data")
        items = tuple(
            (
                str(item.get("clOrdId", "")),
                str(item.get("ordId", "")),
                str(item.get("sCode", "")),
                str(item.get("sMsg", "")),
            )
            for item in (data if isinstance(data, list) else ())
            if isinstance(item, dict)
        )
        return cls(str(reply.get("code", "")), str(reply.get("msg", "")), items)


@dataclass(frozen=True, slots=True)
class _Query:
    cl_ord_id: str
    lookup: Lookup | None
    inst_id: str
    effect: str
    expires_at: float | None  # loop time at which the request's expTime passes
    sent: bool = True


@dataclass(frozen=True, slots=True)
class Sending:
    """What :meth:`StampTrackReconciler.before_send` decided for one request."""

    op: OrderOp
    exp_time: int | None
    expires_at: float | None


def note_failure(
    error: Failure,
    *,
    connection: str,
    args: list[dict[str, Any]],
    exp_time: int | None,
    expires_at: float | None,
    codes: Mapping[str, int],
) -> None:
    """Give a failed request's error what reconcile needs: instIds by clOrdId, its expiry."""
    by_code: dict[int, str] | None = None
    inst_ids: dict[str, str] = {}
    for item in args:
        cl_ord_id = item.get("clOrdId")
        if not isinstance(cl_ord_id, str) or not cl_ord_id:
            continue
        inst_id = item.get("instId")
        if not isinstance(inst_id, str) and item.get("instIdCode") is not None:
            if by_code is None:
                by_code = {code: name for name, code in codes.items()}
            inst_id = by_code.get(item["instIdCode"])
        if isinstance(inst_id, str) and inst_id:
            inst_ids[cl_ord_id] = inst_id
    error.inst_ids = MappingProxyType(inst_ids)
    error.exp_time = exp_time
    error.expires_at = expires_at
    error.connection = connection


class StampTrackReconciler:
    """One client's order bookkeeping, named for its three jobs: it stamps order requests
    with expTime (``stamp_exp_time``), feeds the optional order tracker (requests,
    replies, failures, pushes, late replies) and answers ``reconcile()``.  It knows
    which operations and channels concern orders.  Loop thread only."""

    def __init__(
        self,
        *,
        stamp_exp_time: bool,
        okx_now_ms: Callable[[], int],
        rest: Callable[[], SignedRest],
        logger: logging.Logger,
        codes: Callable[[], Mapping[str, int]] = dict,
    ) -> None:
        """``codes``: the instIdCodes known now (the registry's), to name a failed
        order's instrument when only its instIdCode was sent."""
        self.stamp_exp_time = stamp_exp_time
        self._codes = codes
        self.ops: dict[str, OrderOp] = {}
        self.channels: dict[Lookup, Channel[Any, Any]] = {}
        self.waits: OrderWaits | None = None
        self.subscribed: set[str] = set()  # order channels the tracker subscribed to
        self.refresh_on_reconnect = False
        self._refreshing: set[asyncio.Task[Any]] = set()
        self._okx_now_ms = okx_now_ms
        self._rest_factory = rest
        self._rest: SignedRest | None = None
        self._logger = logger
        self._settled: Recent[str, Settled] = Recent(MAX_SETTLED, SETTLED_TTL_S)
        self._cancelled: Recent[str, RequestCancelled] = Recent(MAX_CANCELLED)

    @property
    def tracker(self) -> OrderTracker | None:
        return None if self.waits is None else self.waits.tracker

    def register(self, ops: Iterable[OrderOp], channels: Iterable[Channel[Any, Any]]) -> None:
        """Learn the spec's order operations and order channels (the generated clients call it)."""
        self.ops.update({op.op: op for op in ops})
        for channel in channels:
            if channel.role == ROLE_ORDERS and channel.connection in LOOKUP_OF:
                self.channels[LOOKUP_OF[channel.connection]] = channel

    # -- the request path: net.sender's OrderHooks ----------------------------------

    def before_send(
        self, op: str, args: list[dict[str, Any]], exp_time: int | None, deadline: float
    ) -> Sending | None:
        """Stamp expTime if asked to, and tell the tracker; ``None`` for non-order ops."""
        order_op = self.ops.get(op)
        if order_op is None:
            return None
        stamp = self.stamp_exp_time and order_op.exp_time and exp_time is None
        if self.waits is None and not stamp:
            return None  # the hot path: nothing to stamp or track (failed() copes)
        now = asyncio.get_running_loop().time()
        expires_at = None
        if stamp:
            # OKX must not act on it once the caller stopped waiting: expTime = our deadline.
            exp_time = self._okx_now_ms() + max(0, round((deadline - now) * 1000))
            expires_at = deadline
        elif exp_time is not None:
            expires_at = now + (exp_time - self._okx_now_ms()) / 1000.0
        if self.waits is not None:
            changed = self.waits.tracker.on_request(
                order_op, args, now, exp_time=exp_time, expires_at=expires_at
            )
            self.waits.notify(changed)
        return Sending(order_op, exp_time, expires_at)

    def replied(
        self, sending: Sending | None, args: list[dict[str, Any]], reply: Mapping[str, Any]
    ) -> None:
        if sending is not None and self.waits is not None:
            now = asyncio.get_running_loop().time()
            self.waits.notify(self.waits.tracker.on_reply(sending.op, args, reply, now))

    def failed(
        self,
        sending: Sending | None,
        error: Failure,
        *,
        connection: str,
        args: list[dict[str, Any]],
        exp_time: int | None,
    ) -> None:
        """A request failed (timed out, connection lost, cancelled once written): give the
        error what reconcile needs and tell the tracker."""
        expires_at = sending.expires_at if sending is not None else None
        if sending is None and exp_time is not None:
            loop_now = asyncio.get_running_loop().time()
            expires_at = loop_now + (exp_time - self._okx_now_ms()) / 1000.0
        note_failure(
            error,
            connection=connection,
            args=args,
            exp_time=sending.exp_time if sending is not None else exp_time,
            expires_at=expires_at,
            codes=self._codes(),
        )
        if sending is not None and self.waits is not None:
            now = asyncio.get_running_loop().time()
            if isinstance(error, RequestTimeout) and not error.sent:
                changed = [
                    order
                    for item in args
                    for order in self.waits.tracker.on_not_placed(str(item.get("clOrdId")), now)
                ]
            else:
                changed = self.waits.tracker.on_failure(sending.op, args, now)
            self.waits.notify(changed)

    def cancelled(
        self,
        sending: Sending | None,
        record: RequestCancelled,
        *,
        connection: str,
        args: list[dict[str, Any]],
        exp_time: int | None,
    ) -> None:
        """A call was cancelled once its frame was being written: an unknown fate, kept
        (for :meth:`cancelled_fates`) until a late reply or ``reconcile`` settles it."""
        self.failed(sending, record, connection=connection, args=args, exp_time=exp_time)
        now = asyncio.get_running_loop().time()
        if self._settled.get(record.id, now) is None:  # its reply may have come already
            self._cancelled.put(record.id, record, now)

    def retained(self) -> dict[str, Retained]:
        """The late replies and cancelled fates kept, and their caps."""
        return {
            "late replies": Retained(len(self._settled), MAX_SETTLED),
            "cancelled fates": Retained(len(self._cancelled), MAX_CANCELLED),
        }

    def cancelled_fates(self) -> list[RequestCancelled]:
        return self._cancelled.values(asyncio.get_running_loop().time())

    def late_reply(
        self, request_id: str, op: str, args: list[dict[str, Any]], reply: Mapping[str, Any]
    ) -> None:
        """OKX answered a request its caller no longer waited for: its definitive fate."""
        now = asyncio.get_running_loop().time()
        self._settled.put(request_id, Settled.of(reply), now)
        self._cancelled.pop(request_id, now)
        order_op = self.ops.get(op)
        if order_op is not None and self.waits is not None:
            self.waits.notify(self.waits.tracker.on_reply(order_op, args, reply, now))

    def observe(self, channel: Channel[Any, Any], items: list[Any]) -> None:
        """Items of an order channel push (the router calls it)."""
        if self.waits is not None:
            lookup = LOOKUP_OF.get(channel.connection, "order")
            now = asyncio.get_running_loop().time()
            self.waits.notify(self.waits.tracker.on_push(items, lookup, now))

    # -- after a reconnect -------------------------------------------------------------

    def reconnected(self, connection: str, timeout: float) -> None:
        """A connection came back: pushes sent meanwhile were lost, so look the tracker's
        open orders of that connection up on OKX's REST API (in the background)."""
        lookup = LOOKUP_OF.get(connection)
        if not self.refresh_on_reconnect or self.waits is None or lookup is None:
            return
        task = asyncio.get_running_loop().create_task(self.refresh(lookup, timeout))
        self._refreshing.add(task)
        task.add_done_callback(self._refreshing.discard)

    async def refresh(self, lookup: Lookup, timeout: float) -> dict[str, Verdict]:
        """Look up the tracker's open orders (by clOrdId) and fold what OKX says."""
        tracker = self.tracker
        if tracker is None:
            return {}
        open_orders = [
            order.cl_ord_id
            for order in tracker.orders()
            if order.lookup == lookup and order.cl_ord_id and not order.final
        ][-MAX_REFRESH:]
        if not open_orders:
            return {}
        try:
            verdicts = await self.reconcile(open_orders, timeout=timeout)
        except OkxWsError as exc:
            self._logger.warning("okx-ws: refreshing open orders after a reconnect failed: %s", exc)
            return {}
        unknown = sum(1 for v in verdicts.values() if v.status == "unknown")
        self._logger.info(
            "okx-ws: refreshed %d open %s orders after a reconnect (%d still unknown)",
            len(verdicts),
            lookup,
            unknown,
        )
        return verdicts

    # -- reconcile -------------------------------------------------------------------

    async def reconcile(
        self, target: Target, *, timeout: float, margin: float = EXPIRY_MARGIN_S
    ) -> dict[str, Verdict]:
        """The verdict on every clOrdId of ``target`` (see the module doc)."""
        queries, verdicts = self._queries(target)
        if queries:
            gate = asyncio.Semaphore(MAX_CONCURRENT)

            async def judge(query: _Query) -> Verdict:
                async with gate:
                    return await self._judge(query, timeout, margin)

            judged = await asyncio.gather(*(judge(q) for q in queries))
            for verdict in judged:
                verdicts[verdict.cl_ord_id] = verdict
            self._learn(judged, {q.cl_ord_id: q.lookup for q in queries})
        if isinstance(target, RequestCancelled) and all(
            v.status != "unknown" for v in verdicts.values()
        ):
            self._cancelled.pop(target.id, asyncio.get_running_loop().time())
        return verdicts

    def _queries(self, target: Target) -> tuple[list[_Query], dict[str, Verdict]]:
        queries: list[_Query] = []
        verdicts: dict[str, Verdict] = {}
        tracker = self.tracker
        if isinstance(target, (RequestTimeout, ConnectionLost, RequestCancelled)):
            op = self.ops.get(target.op)
            inst_ids: Mapping[str, str] = target.inst_ids
            lookup: Lookup | None = op.lookup if op is not None else None
            if lookup is None:
                lookup = "order" if inst_ids else LOOKUP_OF.get(target.connection)
            sent = target.sent if isinstance(target, RequestTimeout) else True
            late = self._settled.get(target.id, asyncio.get_running_loop().time())
            for cl_ord_id in dict.fromkeys(target.cl_ord_ids):
                if late is not None and (op is None or op.effect == "place"):
                    settled = _from_late_reply(target.id, cl_ord_id, late, inst_ids)
                    if settled is not None:
                        verdicts[cl_ord_id] = settled
                        continue
                queries.append(
                    _Query(
                        cl_ord_id,
                        lookup,
                        inst_ids.get(cl_ord_id, ""),
                        op.effect if op is not None else "place",
                        target.expires_at,
                        sent,
                    )
                )
            return queries, verdicts
        if isinstance(target, (str, bytes)):
            raise ConfigurationError("reconcile() takes an error, a list or a mapping of clOrdIds")
        pairs: Iterable[tuple[str, str | None]]
        if isinstance(target, Mapping):
            pairs = [(str(k), None if v is None else str(v)) for k, v in target.items()]
        else:
            pairs = [(str(cl), "") for cl in target]  # "": ask the tracker
        for cl_ord_id, inst_id in pairs:
            known = tracker.get(cl_ord_id) if tracker is not None else None
            expires_at = tracker.expiry(cl_ord_id)[1] if tracker is not None else None
            if inst_id is None:
                queries.append(_Query(cl_ord_id, "spread", "", "place", expires_at))
            elif inst_id:
                queries.append(_Query(cl_ord_id, "order", inst_id, "place", expires_at))
            elif known is not None:
                lookup = known.lookup
                queries.append(_Query(cl_ord_id, lookup, known.inst_id, "place", expires_at))
            else:
                verdicts[cl_ord_id] = Verdict(
                    cl_ord_id,
                    "unknown",
                    "not tracked, so its instrument is unknown: pass {clOrdId: instId}"
                    " (None for a spread order)",
                )
        return queries, verdicts

    async def _judge(self, query: _Query, timeout: float, margin: float) -> Verdict:
        cl_ord_id = query.cl_ord_id
        if query.lookup is None:
            return Verdict(cl_ord_id, "unknown", "cannot tell which OKX order query finds it")
        if query.lookup == "order" and not query.inst_id:
            return Verdict(
                cl_ord_id,
                "unknown",
                "its instId is unknown (OKX's order query needs it): pass {clOrdId: instId}",
            )
        if not query.sent and query.effect == "place":
            return Verdict(
                cl_ord_id,
                "not_placed",
                "the request never left the client (no connection, or no time left)",
                definite=True,
                inst_id=query.inst_id,
            )
        found = await self._ask(query, timeout)
        if isinstance(found, Verdict):
            return found
        if found is not None:
            return self._placed(query, found)
        loop = asyncio.get_running_loop()
        if query.effect == "place" and query.expires_at is not None:
            wait = query.expires_at + margin - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
                found = await self._ask(query, timeout)
                if isinstance(found, Verdict):
                    return found
                if found is not None:
                    return self._placed(query, found)
            return Verdict(
                cl_ord_id,
                "not_placed",
                f"OKX has no order {cl_ord_id!r} ({NOT_FOUND_CODE}) and the request's expTime has"
                " passed: OKX can no longer execute it",
                definite=True,
                inst_id=query.inst_id,
            )
        if query.effect == "place":
            why = (
                f"OKX has no order {cl_ord_id!r} ({NOT_FOUND_CODE}); the request carried no"
                " expTime, so OKX could in principle still execute it late (stamp_exp_time=True"
                " makes this answer definite)"
            )
        else:
            why = (
                f"OKX has no order {cl_ord_id!r} ({NOT_FOUND_CODE}): never placed, or canceled"
                " without fills over 2 hours ago"
            )
        return Verdict(cl_ord_id, "not_placed", why, inst_id=query.inst_id)

    async def _ask(self, query: _Query, timeout: float) -> dict[str, Any] | Verdict | None:
        """OKX's order (a dict), ``None`` if OKX has none, or an unknown Verdict."""
        if query.lookup == "order":
            path, params = ORDER_PATH, {"instId": query.inst_id, "clOrdId": query.cl_ord_id}
        else:
            path, params = SPREAD_PATH, {"clOrdId": query.cl_ord_id}
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        attempt = 0
        while True:
            try:
                answer = await asyncio.wait_for(
                    self._client().get(path, params), max(0.0, deadline - loop.time())
                )
                break
            except (RestUnavailable, asyncio.TimeoutError) as exc:
                reason = exc.reason if isinstance(exc, RestUnavailable) else "no answer in time"
                retryable = isinstance(exc, RestUnavailable) and exc.retryable
                delay = RETRY_DELAYS[min(attempt, len(RETRY_DELAYS) - 1)]
                attempt += 1
                if not retryable or loop.time() + delay >= deadline:
                    return Verdict(
                        query.cl_ord_id,
                        "unknown",
                        f"OKX's REST API gave no answer within {timeout:g}s"
                        f" ({attempt} attempts): {reason}",
                        inst_id=query.inst_id,
                    )
                await asyncio.sleep(delay)
        return self._order_in(query, answer)

    def _order_in(self, query: _Query, answer: RestAnswer) -> dict[str, Any] | Verdict | None:
        if answer.code == NOT_FOUND_CODE or (answer.code == "0" and not answer.data):
            return None
        if answer.code == "0" and isinstance(answer.data[0], dict):
            return dict(answer.data[0])
        return Verdict(
            query.cl_ord_id,
            "unknown",
            f"{answer.request} answered code={answer.code} msg={answer.msg!r}",
            inst_id=query.inst_id,
        )

    def _placed(self, query: _Query, data: dict[str, Any]) -> Verdict:
        channel = self.channels.get(query.lookup) if query.lookup else None
        order: Any = None
        if channel is not None:
            order = channel.parse_items([data])[0][0]
        state = data.get("state", "?")
        return Verdict(
            query.cl_ord_id,
            "placed",
            f"OKX has order {data.get('ordId', '?')} for it, state {state}",
            definite=True,
            order=order,
            data=data,
            inst_id=query.inst_id,
        )

    def _learn(self, verdicts: Iterable[Verdict], lookups: Mapping[str, Lookup | None]) -> None:
        """Tell the tracker what reconcile found."""
        if self.waits is None:
            return
        tracker, now = self.waits.tracker, asyncio.get_running_loop().time()
        changed: list[TrackedOrder] = []
        for verdict in verdicts:
            if verdict.status == "placed" and verdict.data is not None:
                lookup = lookups.get(verdict.cl_ord_id) or "order"
                changed += tracker.on_push([verdict.data], lookup, now)
            elif verdict.status == "not_placed" and verdict.definite:
                changed += tracker.on_not_placed(verdict.cl_ord_id, now)
        self.waits.notify(changed)

    def _client(self) -> SignedRest:
        if self._rest is None:
            self._rest = self._rest_factory()
        return self._rest

    async def aclose(self) -> None:
        for task in tuple(self._refreshing):
            task.cancel()
        await asyncio.gather(*self._refreshing, return_exceptions=True)
        rest, self._rest = self._rest, None
        if rest is not None:
            await rest.aclose()


def _from_late_reply(
    request_id: str, cl_ord_id: str, reply: Settled, inst_ids: Mapping[str, str]
) -> Verdict | None:
    """The verdict OKX's late reply to a place request gives, ``None`` if it names no item."""
    inst_id = inst_ids.get(cl_ord_id, "")
    for item_cl, ord_id, code, s_msg in reply.items:
        if item_cl == cl_ord_id:
            if code == "0":
                why = f"OKX's late reply to request id={request_id} placed it as {ord_id}"
                data = MappingProxyType(
                    {"clOrdId": item_cl, "ordId": ord_id, "sCode": code, "sMsg": s_msg}
                )
                return Verdict(cl_ord_id, "placed", why, True, data=data, inst_id=inst_id)
            why = (
                f"OKX's late reply to request id={request_id} refused it:"
                f" sCode={code} sMsg={s_msg!r}"
            )
            return Verdict(cl_ord_id, "not_placed", why, True, inst_id=inst_id)
    if reply.code not in ("0", "1", "2"):  # the whole request refused, no item judged
        why = (
            f"OKX's late reply to request id={request_id} refused the request:"
            f" code={reply.code} msg={reply.msg!r}"
        )
        return Verdict(cl_ord_id, "not_placed", why, True, inst_id=inst_id)
    return None


OrderFates = StampTrackReconciler  # its former name


def okx_now_ms(offset_ms: Callable[[], int]) -> Callable[[], int]:
    """OKX's clock in Unix ms as we estimate it: the local clock plus the offset."""
    return lambda: int(time.time() * 1000) + offset_ms()


__all__ = [
    "EXPIRY_MARGIN_S",
    "NOT_FOUND_CODE",
    "ORDER_PATH",
    "SPREAD_PATH",
    "OrderFates",
    "StampTrackReconciler",
    "Sending",
    "Verdict",
    "note_failure",
]
