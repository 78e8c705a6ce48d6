"""Exceptions raised by okx-ws.

Every failure a caller can meet has its own class so that trading code can
decide precisely: an order that was *rejected* (:class:`OkxApiError`) is known
not to exist, while an order whose reply never came (:class:`RequestTimeout`,
:class:`ConnectionLost`) has an *unknown* fate and must be reconciled by its
``clOrdId``.  No exception message ever contains a secret.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from .orders.tracker import TrackedOrder

from .protocol.api_codes import CREDENTIALS_CHECK, CodeHint, clock_hint, hint_for


class OkxWsError(Exception):
    """Base class of every okx-ws error."""


class ConfigurationError(OkxWsError, ValueError):
    """Constructor options are inconsistent (e.g. unknown market, missing secret)."""


class AuthenticationError(OkxWsError):
    """OKX refused the login; carries OKX's ``code`` and ``msg``.

    The client does not retry a refused first login in a loop: the next request
    on that connection makes one fresh attempt (one refused on a reconnect is
    retried with the reconnect backoff, see :mod:`okx_ws_core.net.connection`).
    """

    def __init__(self, code: str, msg: str, *, connection: str, hint: str = "") -> None:
        self.code = code
        self.msg = msg
        self.connection = connection
        self.hint = hint
        text = f"login on {connection!r} refused by OKX: code={code} msg={msg!r}"
        super().__init__(f"{text}. {hint}" if hint else text)


class ConnectTimeout(OkxWsError, TimeoutError):
    """A connection could not be opened (and logged in) in time; nothing was sent on it."""


class _RequestFailure(OkxWsError):
    """A request whose outcome is tied to one request id.

    Besides ``id``, ``op`` and ``cl_ord_ids``, a failed ``call()`` carries what
    ``reconcile()`` needs: ``inst_ids`` (clOrdId -> instId of each order-book
    item), ``exp_time`` (the request's expTime in Unix ms, ``None`` if it had
    none), ``expires_at`` (the same moment on the event loop's clock) and
    ``connection``.
    """

    inst_ids: Mapping[str, str] = MappingProxyType({})
    exp_time: int | None = None
    expires_at: float | None = None
    connection: str = ""

    def __init__(self, message: str, *, id: str, op: str, cl_ord_ids: Sequence[str]) -> None:
        self.id = id
        self.op = op
        self.cl_ord_ids = tuple(cl_ord_ids)
        super().__init__(message)


class RequestTimeout(_RequestFailure, TimeoutError):
    """No reply arrived within the request timeout.

    If ``sent`` is true the request reached the socket and its fate on OKX is
    **unknown**: look the orders up by ``cl_ord_ids`` before acting again.  If
    ``sent`` is false the request never left the client and nothing happened.
    """

    def __init__(
        self, *, id: str, op: str, cl_ord_ids: Sequence[str], timeout: float, sent: bool
    ) -> None:
        self.timeout = timeout
        self.sent = sent
        if not sent:
            fate = "it was never sent (no connection or no time left), nothing happened"
        elif cl_ord_ids:
            fate = f"fate on OKX is UNKNOWN; settle it with reconcile(error) (clOrdIds={list(cl_ord_ids)})"
        else:
            fate = "its effect on OKX is unknown"
        super().__init__(
            f"no reply to {op!r} request{f' id={id}' if id else ''} within {timeout:g}s: {fate}",
            id=id,
            op=op,
            cl_ord_ids=cl_ord_ids,
        )


class ConnectionLost(_RequestFailure, ConnectionError):
    """The connection closed while the request was in flight.

    The request is never re-sent automatically: its fate on OKX is **unknown**
    and must be reconciled by ``cl_ord_ids``.
    """

    def __init__(self, *, id: str, op: str, cl_ord_ids: Sequence[str], reason: str) -> None:
        self.reason = reason
        fate = (
            f"fate on OKX is UNKNOWN; settle it with reconcile(error) (clOrdIds={list(cl_ord_ids)})"
            if cl_ord_ids
            else "its effect on OKX is unknown"
        )
        super().__init__(
            f"connection lost while {op!r} request{f' id={id}' if id else ''} was in flight"
            f" ({reason}): {fate}",
            id=id,
            op=op,
            cl_ord_ids=cl_ord_ids,
        )


class ClockSyncError(OkxWsError):
    """OKX's clock could not be read (``sync_time``); the message says why."""


class RateLimitExceeded(OkxWsError):
    """The request would pass one of OKX's rate limits; nothing was sent.

    ``retry_after`` is how many seconds until it fits; ``limit`` and ``key``
    name the bucket (e.g. ``"order"`` and the instrument).
    """

    def __init__(
        self, *, op: str, limit: str, key: str, retry_after: float, cl_ord_ids: Sequence[str] = ()
    ) -> None:
        self.op = op
        self.limit = limit
        self.key = key
        self.retry_after = retry_after
        self.cl_ord_ids = tuple(cl_ord_ids)
        where = f"{limit} limit" + (f" for {key}" if key else "")
        super().__init__(
            f"{op!r} would exceed OKX's {where}; retry in {retry_after:.3f}s; nothing was sent"
        )


class OkxApiError(OkxWsError):
    """OKX answered the request with ``code != "0"``.

    ``data`` holds every per-item result (``sCode``, ``sMsg``, ``subCode``,
    ``ordId``, ``clOrdId``... and any field OKX adds), so the successes inside
    a partially failed batch (``code == "2"``) are never lost: see
    :attr:`succeeded` and :attr:`failed`.  ``response`` is the same reply as
    the operation's typed model (``None`` from a raw request or when the
    reply does not fit it); ``hints`` say what to do about the codes in
    :mod:`okx_ws_core.protocol.api_codes`.
    """

    def __init__(self, reply: dict[str, Any]) -> None:
        self.reply = reply
        self.id = str(reply.get("id", ""))
        self.op = str(reply.get("op", ""))
        self.code = str(reply.get("code", ""))
        self.msg = str(reply.get("msg", ""))
        data = reply.get("data")
        # An item that is not an object (a broken reply) becomes {}: the raw one stays in .reply.
        items = data if isinstance(data, list) else []
        self.data: list[dict[str, Any]] = [i if isinstance(i, dict) else {} for i in items]
        self.response: Any = None  # the operation's typed reply model, when call() made one
        codes = [self.code, *(str(item.get("sCode")) for item in self.failed)]
        self.hints: list[CodeHint] = [h for h in map(hint_for, dict.fromkeys(codes)) if h]
        details = "; ".join(
            f"[{i}] sCode={item.get('sCode')} sMsg={item.get('sMsg')!r}"
            + (f" subCode={item['subCode']}" if item.get("subCode") else "")
            for i, item in enumerate(self.data)
            if str(item.get("sCode", "0")) != "0"
        )
        advice = " ".join(f"({hint})." for hint in self.hints)
        super().__init__(
            f"OKX rejected {self.op!r} id={self.id}: code={self.code} msg={self.msg!r}"
            + (f" items: {details}" if details else "")
            + (f" {advice}" if advice else "")
        )

    @property
    def succeeded(self) -> list[dict[str, Any]]:
        """Items OKX accepted (``sCode == "0"``) inside a partially failed batch."""
        return [item for item in self.data if str(item.get("sCode")) == "0"]

    @property
    def failed(self) -> list[dict[str, Any]]:
        """Items OKX rejected, each with its ``sCode`` and ``sMsg``."""
        return [item for item in self.data if str(item.get("sCode")) != "0"]


class SubscriptionError(OkxWsError):
    """OKX refused a subscribe/unsubscribe (e.g. 60018 channel doesn't exist)."""

    def __init__(self, code: str, msg: str, args: Sequence[dict[str, Any]]) -> None:
        self.code = code
        self.msg = msg
        self.args_ = list(args)
        self.hint = hint_for(code)
        advice = f" ({self.hint})." if self.hint else ""
        super().__init__(f"subscription refused: code={code} msg={msg!r} args={self.args_}{advice}")


class ClientClosed(OkxWsError):
    """The client was closed; no further requests are accepted."""


class ParamsValidationError(OkxWsError, ValueError):
    """Parameters failed validation; nothing was sent.

    ``errors`` lists ``(location, message)`` pairs, location in OKX field names
    and prefixed by the item index for batch operations (``"[2].clOrdId"``).
    """

    def __init__(self, operation: str, errors: Sequence[tuple[str, str]]) -> None:
        self.operation = operation
        self.errors = list(errors)
        lines = "; ".join(f"{loc}: {msg}" for loc, msg in self.errors)
        super().__init__(f"invalid parameters for {operation}: {lines}")


class UnknownInstrumentError(OkxWsError, LookupError):
    """OKX does not list ``inst_id`` (in the instrument types we loaded); nothing was sent.

    A new listing is found by one refresh of its instrument type; a typo is not.
    """

    def __init__(self, inst_id: str, *, inst_type: str, detail: str = "") -> None:
        self.inst_id = inst_id
        self.inst_type = inst_type
        text = f"OKX lists no {inst_type} instrument {inst_id!r}, so its instIdCode is unknown"
        super().__init__(f"{text}: {detail}" if detail else f"{text}; nothing was sent")


class InstrumentResolutionError(OkxWsError):
    """The instIdCode of ``inst_id`` could not be resolved (REST unreachable...); nothing was sent.

    Pass ``instIdCode`` yourself, or give the client an ``instruments={instId: code}``
    mapping, to trade without OKX's instrument list.
    """

    def __init__(self, inst_id: str, reason: str) -> None:
        self.inst_id = inst_id
        self.reason = reason
        super().__init__(
            f"could not resolve the instIdCode of {inst_id!r}: {reason}; nothing was sent"
        )


# -- streams: errors once defined beside the code raising them (re-exported there) -----


class UpdateTimeout(OkxWsError, TimeoutError):
    """No update arrived within the ``timeout`` given to a stream's ``get()``."""


class OrderWaitTimeout(OkxWsError, TimeoutError):
    """``wait_for`` ran out of time; ``order`` is the last known state (``None``: never seen)."""

    def __init__(
        self, cl_ord_id: str, states: Iterable[str], timeout: float, order: TrackedOrder | None
    ) -> None:
        self.cl_ord_id = cl_ord_id
        self.order = order
        state = order.state if order is not None else "never seen"
        super().__init__(
            f"order {cl_ord_id!r} did not reach {sorted(states)} within {timeout:g}s"
            f" (last state: {state})"
        )


# OKX's REST authentication codes (API v5 error codes, "REST API / Public").
REST_AUTH_CODES: Final[dict[str, str]] = {
    "50100": "API frozen",
    "50101": "APIKey does not match current environment (live key on demo or the reverse)",
    "50102": "timestamp request expired",
    "50103": "OK-ACCESS-KEY header missing",
    "50104": "OK-ACCESS-PASSPHRASE header missing",
    "50105": "OK-ACCESS-PASSPHRASE incorrect",
    "50106": "OK-ACCESS-SIGN header missing",
    "50107": "OK-ACCESS-TIMESTAMP header missing",
    "50110": "IP not in the API key's whitelist",
    "50111": "invalid OK-ACCESS-KEY",
    "50112": "invalid OK-ACCESS-TIMESTAMP",
    "50113": "invalid signature",
    "50114": "invalid authorization",
    "50119": "API key doesn't exist",
    "50120": "the API key lacks the permission (Read is needed)",
}
REST_CLOCK_CODES: Final = frozenset({"50102", "50112"})
_REST_HINT_KEY = (
    f"{CREDENTIALS_CHECK} (a demo key fails on live and the reverse), market, and that the key"
    " may read trades."
)
_REST_HINT_CLOCK = clock_hint("request")


class RestAuthenticationError(AuthenticationError):
    """OKX refused a signed REST request (bad key, passphrase, signature or timestamp).

    ``code``/``msg`` are OKX's; ``connection`` is ``"rest"``.  Retrying with
    the same credentials cannot succeed.
    """

    def __init__(self, code: str, msg: str, *, request: str, status: int) -> None:
        self.status = status
        self.request = request
        hint = _REST_HINT_CLOCK if code in REST_CLOCK_CODES else _REST_HINT_KEY
        AuthenticationError.__init__(self, code, msg, connection="rest", hint=hint)
        what = REST_AUTH_CODES.get(code, "authentication failed")
        self.args = (
            f"OKX refused the signed REST request {request} ({what}): HTTP {status}"
            f" code={code} msg={msg!r}. {hint}",
        )


class RestUnavailable(OkxWsError):
    """A REST request got no usable answer (network, timeout, HTTP error, rate limit)."""

    def __init__(self, reason: str, *, retryable: bool = True) -> None:
        self.reason = reason
        self.retryable = retryable
        super().__init__(reason)


class StreamInUse(OkxWsError, RuntimeError):
    """A second task tried to read a stream another task is already waiting on.

    A stream has one consumer; for a second one open a second stream (streams of
    one channel argument share one subscription).
    """


# -- request path (issue #17) -------------------------------------------------------


class RequestCancelled(_RequestFailure):
    """The record of a call cancelled after its frame was (maybe) written: never raised.

    The cancelled call itself re-raises :class:`asyncio.CancelledError`, as
    asyncio requires; its fate on OKX is **unknown** all the same.  The client
    keeps these records, listed by ``cancelled_fates()``, until OKX's late reply
    or ``reconcile(record)`` settles them.  ``sent`` is always true: the frame
    may have reached OKX.
    """

    sent = True

    def __init__(self, *, id: str, op: str, cl_ord_ids: Sequence[str]) -> None:
        fate = (
            f"fate on OKX is UNKNOWN; settle it with reconcile(record) (clOrdIds={list(cl_ord_ids)})"
            if cl_ord_ids
            else "its effect on OKX is unknown"
        )
        super().__init__(
            f"{op!r} request{f' id={id}' if id else ''} was cancelled after it was sent: {fate}",
            id=id,
            op=op,
            cl_ord_ids=cl_ord_ids,
        )


# -- replies that break the spec (found by fuzzing the inbound path, issue #17) -----------


class UnexpectedReply(OkxWsError):
    """OKX answered ``code == "0"`` (accepted) but the reply does not have the shape
    the operation's model expects.  The request's fate is known, *accepted*: do not
    re-send it; ``reply`` holds OKX's frame as received."""

    def __init__(self, reply: dict[str, Any], model: str, problem: str) -> None:
        self.reply = reply
        self.id = str(reply.get("id", ""))
        self.op = str(reply.get("op", ""))
        super().__init__(
            f"OKX accepted {self.op!r} id={self.id} (code 0) but its reply is not a"
            f" {model}: {problem}"
        )


# -- the blocking client's threads (helper "threads") ----------------------------------------


class BlockingCallInLoop(OkxWsError, RuntimeError):
    """A blocking method of ``WebsocketClient`` was called on its own loop thread.

    Event handlers and channel callbacks run there, and the call would wait for
    the loop it blocks: a deadlock.  Nothing was sent.
    """

    def __init__(self, method: str) -> None:
        self.method = method
        super().__init__(
            f"{method} blocks, and was called on the client's loop thread (from an event"
            " handler or a callback), where it would wait for itself; nothing was sent."
            " Use the async client (client.async_client) there, or schedule the call off"
            " the loop thread (e.g. a queue read by your own thread)"
        )


# -- connect failures that point at the cause (helper "newcomer") ----------------------------


class ConnectRefused(ConnectTimeout):
    """Nothing listens at a loopback URL (``base_url`` wrong, or the simulator not running).

    Raised by the first connect at once instead of after the timeout: a refused
    connection on this machine does not heal by waiting.  A :class:`ConnectTimeout`,
    so code that catches that still catches it.
    """
