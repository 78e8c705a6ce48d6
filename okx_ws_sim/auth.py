"""Accounts, OKX login verification and signed-REST verification (pure: the clock
is passed in).

The signature is computed here, not borrowed from ``okx_ws_core.protocol.signing``, on
purpose: the simulator is an independent witness of OKX's rules.  A check
written once and run on both sides proves nothing: if the shared function put
the timestamp in milliseconds, signed "POST", or dropped the path, the client
would sign wrongly and the simulator would agree, and only real OKX would say
60007.  Two transcriptions of OKX's one-line rule (Base64 of HMAC-SHA256 over
timestamp + "GET" + "/users/self/verify"), written apart, must agree on the wire
for a login to pass; that agreement is the test.  The duplication is six lines.

The REST signature (``verify_rest``) is transcribed the same way, from OKX's
"REST Authentication" pages: ``OK-ACCESS-SIGN`` = Base64(HMAC-SHA256(secret,
timestamp + method + requestPath + body)), the method in upper case, the
requestPath with its query string ("GET request parameters are counted as
requestpath, not body"), the body empty for a GET; ``OK-ACCESS-TIMESTAMP`` is
ISO 8601 UTC with milliseconds (``2020-12-08T09:08:57.715Z``) and must be within
30 s of the server's clock (50102).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Final

from . import codes

DEFAULT_API_KEY: Final = "sim-api-key-0001"
DEFAULT_API_SECRET: Final = "sim-api-secret-0001"
DEFAULT_PASSPHRASE: Final = "sim-passphrase"

DEFAULT_BALANCES: Final[dict[str, str]] = {"USDT": "100000", "BTC": "10", "ETH": "100"}

VERIFY_PATH: Final = "/users/self/verify"


@dataclass
class Account:
    """An API key the simulator accepts, with its starting balances."""

    api_key: str
    api_secret: str
    passphrase: str
    balances: dict[str, str | int | float | Decimal] = field(
        default_factory=lambda: dict(DEFAULT_BALANCES)
    )
    uid: str = ""

    def decimal_balances(self) -> dict[str, Decimal]:
        return {ccy: Decimal(str(v)) for ccy, v in self.balances.items()}


def default_account() -> Account:
    return Account(DEFAULT_API_KEY, DEFAULT_API_SECRET, DEFAULT_PASSPHRASE, uid="100000001")


def sign(secret: str, timestamp: str) -> str:
    """Base64(HMAC-SHA256(secret, timestamp + "GET" + "/users/self/verify"))."""
    mac = hmac.new(secret.encode(), (timestamp + "GET" + VERIFY_PATH).encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def login_args(
    account: Account | None = None, timestamp: float | int | str | None = None
) -> dict[str, str]:
    """A ready ``login`` args item (handy for tests and the demo)."""
    import time

    acct = account or default_account()
    ts = str(int(time.time())) if timestamp is None else str(int(float(timestamp)))
    return {
        "apiKey": acct.api_key,
        "passphrase": acct.passphrase,
        "timestamp": ts,
        "sign": sign(acct.api_secret, ts),
    }


class LoginError(Exception):
    def __init__(self, code: str, msg: str) -> None:
        super().__init__(f"{code} {msg}")
        self.code = code
        self.msg = msg


def verify_login(args: Any, accounts: dict[str, Account], now: float, window: float) -> Account:
    """Check a login frame's ``args``; returns the account or raises LoginError."""
    if not isinstance(args, list) or len(args) != 1 or not isinstance(args[0], dict):
        raise LoginError(codes.LOGIN_FAILED, "Login failed.")
    item = args[0]
    ts = item.get("timestamp")
    # Seconds only: a millisecond or ISO timestamp is "invalid", not "expired".
    if not isinstance(ts, str) or not _is_seconds(ts):
        raise LoginError(codes.INVALID_TIMESTAMP, "Invalid timestamp.")
    if abs(now - float(ts)) > window:
        raise LoginError(codes.TIMESTAMP_EXPIRED, "Timestamp request expired.")
    key = item.get("apiKey")
    if not isinstance(key, str) or not key:
        raise LoginError(codes.INVALID_API_KEY, "Invalid OK-ACCESS-KEY.")
    account = accounts.get(key)
    if account is None:
        raise LoginError(
            codes.UNKNOWN_API_KEY_CODE,
            "API key doesn't exist. (Check that the key belongs to this market's hosts.)",
        )
    if item.get("passphrase") != account.passphrase:
        raise LoginError(codes.WRONG_PASSPHRASE, "Incorrect passphrase.")
    given = item.get("sign")
    if not isinstance(given, str) or not hmac.compare_digest(given, sign(account.api_secret, ts)):
        raise LoginError(codes.INVALID_SIGN, "Invalid sign.")
    return account


def _is_seconds(ts: str) -> bool:
    try:
        value = float(ts)
    except ValueError:
        return False
    # Unix seconds are 10 digits until 2286; 13 digits means milliseconds.
    return 0 < value < 1e11


# -- signed REST requests ------------------------------------------------------------
_ISO_MS: Final = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{3})Z")


class RestAuthError(Exception):
    """A signed REST request refused: OKX's ``code`` / ``msg`` (HTTP 401)."""

    def __init__(self, code: str) -> None:
        self.code = code
        self.msg = codes.REST_AUTH_MSG[code]
        super().__init__(f"{code} {self.msg}")


def rest_signature(
    secret: str, timestamp: str, method: str, request_path: str, body: str = ""
) -> str:
    """Base64(HMAC-SHA256(secret, timestamp + METHOD + requestPath + body))."""
    payload = timestamp + method.upper() + request_path + body
    return base64.b64encode(
        hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest()
    ).decode()


def rest_headers(
    account: Account | None,
    request_path: str,
    timestamp: str,
    method: str = "GET",
    body: str = "",
) -> dict[str, str]:
    """The four OK-ACCESS-* headers of one request (handy for demos and debugging)."""
    acct = account or default_account()
    return {
        "OK-ACCESS-KEY": acct.api_key,
        "OK-ACCESS-SIGN": rest_signature(acct.api_secret, timestamp, method, request_path, body),
        "OK-ACCESS-TIMESTAMP": timestamp,
        "OK-ACCESS-PASSPHRASE": acct.passphrase,
    }


def parse_rest_timestamp(value: str) -> int | None:
    """``2020-12-08T09:08:57.715Z`` -> Unix ms; None unless exactly that form (UTC,
    milliseconds: what OKX documents; whether it accepts other ISO forms is
    *uncertain*, the simulator does not)."""
    match = _ISO_MS.fullmatch(value)
    if match is None:
        return None
    year, month, day, hour, minute, second, millis = (int(g) for g in match.groups())
    try:
        moment = datetime(year, month, day, hour, minute, second, tzinfo=timezone.utc)
    except ValueError:
        return None
    return int(moment.timestamp()) * 1000 + millis


def verify_rest(
    headers: Mapping[str, str],
    method: str,
    request_path: str,
    body: str,
    accounts: Mapping[str, Account],
    now_ms: int,
    window_s: float,
) -> Account:
    """The account a signed request speaks for, or RestAuthError.  ``headers`` have
    lower-case names; ``request_path`` is the request target exactly as sent."""
    key = headers.get("ok-access-key", "")
    sign_ = headers.get("ok-access-sign", "")
    timestamp = headers.get("ok-access-timestamp", "")
    passphrase = headers.get("ok-access-passphrase", "")
    for value, code in (
        (key, codes.REST_KEY_MISSING),
        (sign_, codes.REST_SIGN_MISSING),
        (timestamp, codes.REST_TIMESTAMP_MISSING),
        (passphrase, codes.REST_PASSPHRASE_MISSING),
    ):
        if not value:
            raise RestAuthError(code)
    sent_ms = parse_rest_timestamp(timestamp)
    if sent_ms is None:
        raise RestAuthError(codes.REST_TIMESTAMP_INVALID)
    if abs(now_ms - sent_ms) > window_s * 1000:
        raise RestAuthError(codes.REST_TIMESTAMP_EXPIRED)
    account = accounts.get(key)
    if account is None:
        raise RestAuthError(codes.REST_KEY_UNKNOWN)
    # Compared as bytes: a header value may hold any Latin-1 text.
    if not hmac.compare_digest(passphrase.encode(), account.passphrase.encode()):
        raise RestAuthError(codes.REST_PASSPHRASE_WRONG)
    expected = rest_signature(account.api_secret, timestamp, method, request_path, body)
    if not hmac.compare_digest(sign_.encode(), expected.encode()):
        raise RestAuthError(codes.REST_SIGN_INVALID)
    return account
