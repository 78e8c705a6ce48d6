"""OKX's signatures (pure: the clock is passed in or read once).

One rule serves the WebSocket login and the signed REST requests:
Base64(HMAC-SHA256(secret, timestamp + METHOD + requestPath + body)).  The login
signs ``GET /users/self/verify`` with a timestamp in Unix seconds; a REST
request signs its own method and path with an ISO 8601 timestamp.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from datetime import datetime, timezone
from typing import Any, Final

LOGIN_PATH = "/users/self/verify"
# The login refused for its timestamp (the clock is off): a clock sync may help.
LOGIN_CLOCK_CODES: Final = frozenset({"60004", "60006"})


def login_timestamp(offset_ms: int = 0, *, now: float | None = None) -> str:
    """OKX wants Unix **seconds** as a string; the offset corrects a skewed local clock."""
    current = time.time() if now is None else now
    return str(int(current + offset_ms / 1000.0))


def rest_timestamp(now: float) -> str:
    """``2020-12-08T09:08:57.715Z``: ISO 8601 UTC with milliseconds, as OKX wants."""
    moment = datetime.fromtimestamp(now, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def rest_sign(secret: str, timestamp: str, method: str, request_path: str, body: str = "") -> str:
    """Base64(HMAC-SHA256(secret, timestamp + METHOD + requestPath + body))."""
    message = f"{timestamp}{method.upper()}{request_path}{body}".encode()
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def sign(secret: str, timestamp: str) -> str:
    """The login's signature: the REST rule over ``GET /users/self/verify``."""
    return rest_sign(secret, timestamp, "GET", LOGIN_PATH)


def login_args(api_key: str, secret: str, passphrase: str, timestamp: str) -> dict[str, Any]:
    return {
        "apiKey": api_key,
        "passphrase": passphrase,
        "timestamp": timestamp,
        "sign": sign(secret, timestamp),
    }
