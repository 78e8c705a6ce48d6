"""Login signing: Base64(HMAC-SHA256(secret, timestamp + "GET" + "/users/self/verify"))."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any

LOGIN_PATH = "/users/self/verify"


def login_timestamp(offset_ms: int = 0, *, now: float | None = None) -> str:
    """OKX wants Unix **seconds** as a string; the offset corrects a skewed local clock."""
    current = time.time() if now is None else now
    return str(int(current + offset_ms / 1000.0))


def sign(secret: str, timestamp: str) -> str:
    digest = hmac.new(
        secret.encode(), (timestamp + "GET" + LOGIN_PATH).encode(), hashlib.sha256
    ).digest()
    return base64.b64encode(digest).decode()


def login_args(api_key: str, secret: str, passphrase: str, timestamp: str) -> dict[str, Any]:
    return {
        "apiKey": api_key,
        "passphrase": passphrase,
        "timestamp": timestamp,
        "sign": sign(secret, timestamp),
    }
