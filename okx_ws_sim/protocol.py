"""OKX's WebSocket protocol as the simulator speaks it: frames in, envelopes out.

Parsing classifies each text frame once (``parse``); every frame the simulator
sends is built here (``reply``, ``event``, ``error``, ``push``), so the field
order and the ``connId`` / ``id`` / ``inTime`` rules live in one place.  The
tables say which op or channel lives on which endpoint and what a reply item
echoes.  No I/O and no clock: callers pass the timestamps.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from typing import Any, Final

PATHS: Final = {
    "/ws/v5/public": "public",
    "/ws/v5/private": "private",
    "/ws/v5/business": "business",
}


@dataclass(frozen=True, slots=True)
class OpSpec:
    connection: str  # the only endpoint kind that serves the op
    max_items: int  # args per request
    echo: tuple[str, ...] = ()  # request fields each reply item echoes, in OKX's order
    has_ts: bool = False  # reply items carry `ts`
    result: bool = False  # the reply item is {"result": bool}; a failure fails the request


_ORDER_ECHO: Final = ("clOrdId", "ordId", "tag")
_CANCEL_ECHO: Final = ("clOrdId", "ordId")
_AMEND_ECHO: Final = ("clOrdId", "ordId", "reqId")
OPS: Final[dict[str, OpSpec]] = {
    "order": OpSpec("private", 1, _ORDER_ECHO, True),
    "batch-orders": OpSpec("private", 20, _ORDER_ECHO, True),
    "cancel-order": OpSpec("private", 1, _CANCEL_ECHO, True),
    "batch-cancel-orders": OpSpec("private", 20, _CANCEL_ECHO, True),
    "amend-order": OpSpec("private", 1, _AMEND_ECHO, True),
    "batch-amend-orders": OpSpec("private", 20, _AMEND_ECHO, True),
    "mass-cancel": OpSpec("private", 1, result=True),
    "sprd-order": OpSpec("business", 1, _ORDER_ECHO),
    "sprd-amend-order": OpSpec("business", 1, _AMEND_ECHO),
    "sprd-cancel-order": OpSpec("business", 1, _CANCEL_ECHO),
    "sprd-mass-cancel": OpSpec("business", 1, result=True),
}

# The login channels (channel -> needs login) per endpoint kind; they push what their
# account does (session.py).  The market channels (tickers, books...) have their own
# table, market_channels.py.
CHANNELS: Final[dict[str, dict[str, bool]]] = {
    "public": {},
    "private": {
        "orders": True,
        "fills": True,
        "account": True,
        "positions": True,
        "balance_and_position": True,
    },
    "business": {"sprd-orders": True, "sprd-trades": True},
}
# Close code of an idle connection: *uncertain* (OKX's table names 4004 "No data
# received in 30s"; reports show clients seeing 1006).  4004 is our choice.
IDLE_CLOSE_CODE: Final = 4004
IDLE_CLOSE_REASON: Final = "No data received in 30s."
# Close code after the 64008 notice: *uncertain*, 1012 (service restart).
NOTICE_CLOSE_CODE: Final = 1012
MALFORMED_FRAMES: Final = ("{not json", '{"unexpected": true}')
# OKX: "the total length of multiple channels cannot exceed 64 KB" (it said 4096 bytes
# once); measured here on the whole subscribe frame.  The refusal's code is *uncertain*:
# 60012 (invalid request), once for the frame, nothing subscribed.
MAX_SUBSCRIBE_BYTES: Final = 64 * 1024
MAX_ID_LEN: Final = 32


def valid_id(rid: Any) -> bool:
    """A request id OKX accepts: 1-32 ASCII alphanumerics."""
    return isinstance(rid, str) and 0 < len(rid) <= MAX_ID_LEN and rid.isascii() and rid.isalnum()


class FrameKind(enum.Enum):
    PING = "ping"  # the text frame "ping"
    LOGIN = "login"
    SUBSCRIBE = "subscribe"
    UNSUBSCRIBE = "unsubscribe"
    REQUEST = "request"  # a WS API request: has "id"
    UNKNOWN = "unknown"  # a JSON object that is none of the above
    MALFORMED = "malformed"  # not a JSON object


@dataclass(frozen=True, slots=True)
class Frame:
    kind: FrameKind
    text: str
    msg: dict[str, Any]  # the decoded object ({} for ping / malformed)

    @property
    def rid(self) -> Any:
        return self.msg.get("id")


_SESSION_OPS: Final = {
    "login": FrameKind.LOGIN,
    "subscribe": FrameKind.SUBSCRIBE,
    "unsubscribe": FrameKind.UNSUBSCRIBE,
}
_PING: Final = Frame(FrameKind.PING, "ping", {})


def parse(message: str | bytes) -> Frame:
    """Classify one inbound frame."""
    text = message if isinstance(message, str) else message.decode("utf-8", "replace")
    if text == "ping":
        return _PING
    try:
        msg = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nested past json's limit
        msg = None
    if not isinstance(msg, dict):
        return Frame(FrameKind.MALFORMED, text, {})
    op = msg.get("op")
    kind = _SESSION_OPS.get(op) if isinstance(op, str) else None
    if kind is None:
        kind = FrameKind.REQUEST if "id" in msg else FrameKind.UNKNOWN
    return Frame(kind, text, msg)


# -- envelopes ------------------------------------------------------------------------
_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def reply(rid: Any, op: Any, code: str, msg: str, data: list[Any], in_us: int, out_us: int) -> str:
    """A WS API reply; ``inTime`` / ``outTime`` are the gateway's microseconds."""
    return _dumps(
        {
            "id": rid,
            "op": op,
            "code": code,
            "msg": msg,
            "data": data,
            "inTime": str(in_us),
            "outTime": str(out_us),
        }
    )


def event(name: str, conn_id: str, rid: Any = None, **fields: Any) -> str:
    """An ``{"event": ...}`` frame: login / subscribe acks, errors, notices; the request's
    ``id`` is echoed when it had one."""
    frame = {"event": name, **fields, "connId": conn_id}
    if rid is not None:
        frame["id"] = rid
    return _dumps(frame)


def error(conn_id: str, code: str, msg: str, rid: Any = None) -> str:
    return event("error", conn_id, rid, code=code, msg=msg)


def push(arg: dict[str, Any], data: list[Any], **envelope: Any) -> str:
    """A channel push; ``envelope`` adds top-level fields between ``arg`` and ``data``
    (``eventType``, ``curPage``, ``lastPage`` of the account / positions channels)."""
    return _dumps({"arg": arg, **envelope, "data": data})


def excerpt(text: str) -> str:
    """The start of an offending frame, as OKX quotes it in "Invalid request: ..."."""
    return text[:200]


__all__ = [
    "CHANNELS",
    "MAX_SUBSCRIBE_BYTES",
    "OPS",
    "PATHS",
    "Frame",
    "FrameKind",
    "OpSpec",
    "error",
    "event",
    "parse",
    "push",
    "reply",
    "valid_id",
]
