"""Sans-I/O core of OKX's WebSocket protocol: frames in, typed inbound events out.

Nothing here touches a socket or a clock, so the same logic serves the asyncio
client, the blocking facade and unit tests.  Encoding is one ``json.dumps``
per frame and decoding one ``json.loads`` plus a few dict look-ups: the request
path must stay cheap.
"""

from __future__ import annotations

import json
import secrets
import string
from dataclasses import dataclass
from typing import Any, Final

PING: Final = "ping"
PONG: Final = "pong"
NOTICE_RECONNECT_CODE: Final = "64008"
MAX_ID_LENGTH: Final = 32
_ALNUM = string.ascii_letters + string.digits

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
_loads = json.loads


class RequestIds:
    """Request ids: a random prefix per client plus a counter.

    OKX accepts up to 32 case-sensitive alphanumerics and echoes the id in the
    reply; the prefix keeps ids of several clients (or processes) on one key apart.
    """

    def __init__(self, prefix: str | None = None) -> None:
        self._prefix = (
            prefix if prefix is not None else "".join(secrets.choice(_ALNUM) for _ in range(8))
        )
        if not self._prefix.isalnum() or len(self._prefix) > 16:
            raise ValueError("id prefix must be 1-16 alphanumerics")
        self._counter = 0

    def next(self) -> str:
        self._counter += 1
        return f"{self._prefix}{self._counter}"


def encode_request(
    request_id: str, op: str, args: list[dict[str, Any]], exp_time: int | None = None
) -> str:
    frame: dict[str, Any] = {"id": request_id, "op": op, "args": args}
    if exp_time is not None:
        frame["expTime"] = str(exp_time)
    return _dumps(frame)


def encode_op(op: str, args: list[dict[str, Any]]) -> str:
    """Frames without an id: ``login``, ``subscribe``, ``unsubscribe``."""
    return _dumps({"op": op, "args": args})


# -- inbound events ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Pong:
    pass


@dataclass(frozen=True, slots=True)
class Reply:
    """A reply to a WS API request, matched to it by ``id``."""

    id: str
    message: dict[str, Any]


@dataclass(frozen=True, slots=True)
class LoginOk:
    message: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ErrorEvent:
    """``{"event": "error"}`` without an id: a failed login or subscription."""

    code: str
    msg: str
    message: dict[str, Any]


@dataclass(frozen=True, slots=True)
class SubscriptionAck:
    event: str  # "subscribe" | "unsubscribe"
    arg: dict[str, Any]
    message: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Notice:
    code: str
    msg: str
    message: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Push:
    """A channel update: ``{"arg": {...}, "data": [...]}``."""

    arg: dict[str, Any]
    message: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Info:
    """Known but uninteresting events (``channel-conn-count``...)."""

    message: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Malformed:
    text: str
    reason: str


Inbound = Pong | Reply | LoginOk | ErrorEvent | SubscriptionAck | Notice | Push | Info | Malformed
PONG_EVENT: Final = Pong()


def parse_frame(text: str) -> Inbound:
    """Classify one text frame; never raises."""
    if text == PONG:
        return PONG_EVENT
    try:
        message = _loads(text)
    except ValueError as exc:
        return Malformed(text[:200], f"invalid JSON: {exc}")
    if type(message) is not dict:
        return Malformed(text[:200], "not a JSON object")
    request_id = message.get("id")
    if request_id is not None and ("op" in message or "code" in message):
        return Reply(str(request_id), message)
    event = message.get("event")
    if event is None:
        arg = message.get("arg")
        if isinstance(arg, dict) and "data" in message:
            return Push(arg, message)
        return Malformed(text[:200], "neither a reply, an event nor a push")
    if event == "login":
        if str(message.get("code", "0")) == "0":
            return LoginOk(message)
        return ErrorEvent(str(message.get("code")), str(message.get("msg", "")), message)
    if event == "error":
        return ErrorEvent(str(message.get("code", "")), str(message.get("msg", "")), message)
    if event in ("subscribe", "unsubscribe"):
        arg = message.get("arg")
        return SubscriptionAck(event, arg if isinstance(arg, dict) else {}, message)
    if event == "notice":
        return Notice(str(message.get("code", "")), str(message.get("msg", "")), message)
    return Info(message)


def cl_ord_ids(args: list[dict[str, Any]]) -> list[str]:
    """The client order ids of a request's items (for reconciling unknown fates)."""
    return [str(item["clOrdId"]) for item in args if isinstance(item, dict) and "clOrdId" in item]


def arg_matches(sent: dict[str, Any], acked: dict[str, Any]) -> bool:
    """An ack matches a subscription when it echoes every key we sent."""
    return all(acked.get(key) == value for key, value in sent.items())
