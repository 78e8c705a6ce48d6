"""Signed GET requests on OKX's private REST API (what ``reconcile()`` asks OKX).

OKX's REST signing: ``OK-ACCESS-SIGN`` = Base64(HMAC-SHA256(secret,
timestamp + method + requestPath + body)), where ``requestPath`` includes the
query string of a GET and ``body`` is empty for one; ``OK-ACCESS-TIMESTAMP``
is the same timestamp, ISO 8601 UTC with milliseconds
(``2020-12-08T09:08:57.715Z``); ``OK-ACCESS-KEY`` and ``OK-ACCESS-PASSPHRASE``
carry the key and passphrase, and demo trading adds ``x-simulated-trading: 1``.
The timestamp is corrected by the client's time offset, as the login is.

Every outcome is one of three: an :class:`RestAnswer` (OKX answered, any
``code``), :class:`RestAuthenticationError` (OKX refused the key, passphrase,
signature or timestamp: retrying cannot help) or :class:`RestUnavailable`
(network, timeout, HTTP 5xx/429, not JSON: may pass; ``retryable``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlencode

from . import endpoints
from .errors import REST_AUTH_CODES, REST_CLOCK_CODES, RestAuthenticationError, RestUnavailable
from .tls import verify_for

if TYPE_CHECKING:  # httpx is imported lazily, as in instruments.py
    import httpx

# Answers that say "not now": rate limit, busy, unavailable, endpoint timeout.
RETRY_CODES: Final = frozenset({"50001", "50004", "50011", "50013"})
# The tables live in errors.py, beside the error whose message reads them.
AUTH_CODES: Final = REST_AUTH_CODES
CLOCK_CODES: Final = REST_CLOCK_CODES


@dataclass(frozen=True, slots=True)
class RestAnswer:
    """OKX's JSON answer: ``code`` ("0" on success), ``msg`` and ``data``."""

    status: int
    code: str
    msg: str
    data: list[Any]
    request: str  # "GET /api/v5/...?..." for messages


def rest_timestamp(now: float) -> str:
    """``2020-12-08T09:08:57.715Z``: ISO 8601 UTC with milliseconds, as OKX wants."""
    moment = datetime.fromtimestamp(now, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def rest_sign(secret: str, timestamp: str, method: str, request_path: str, body: str = "") -> str:
    """Base64(HMAC-SHA256(secret, timestamp + METHOD + requestPath + body))."""
    message = f"{timestamp}{method.upper()}{request_path}{body}".encode()
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def signed_headers(
    credentials: tuple[str, str, str],
    timestamp: str,
    method: str,
    request_path: str,
    *,
    body: str = "",
    demo_trading: bool = False,
) -> dict[str, str]:
    """The headers of one signed request (plus ``x-simulated-trading: 1`` on demo)."""
    key, secret, passphrase = credentials
    return {
        "OK-ACCESS-KEY": key,
        "OK-ACCESS-SIGN": rest_sign(secret, timestamp, method, request_path, body),
        "OK-ACCESS-TIMESTAMP": timestamp,
        "OK-ACCESS-PASSPHRASE": passphrase,
        **endpoints.rest_headers(demo_trading=demo_trading),
    }


class SignedRest:
    """Signed GETs on one REST host with one key; one lazily created httpx client.

    ``transport`` (an ``httpx.AsyncBaseTransport``, e.g. ``httpx.MockTransport``)
    and ``clock`` (Unix seconds) are for tests; ``offset_ms`` returns the
    client's current time offset (server minus local).
    """

    def __init__(
        self,
        base_url: str,
        credentials: tuple[str, str, str],
        *,
        demo_trading: bool = False,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 5.0,
        offset_ms: Callable[[], int] = lambda: 0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.base_url = endpoints.rest_url(rest_url=base_url)
        self._credentials = credentials
        self._demo_trading = demo_trading
        self._transport = transport
        self._timeout = timeout
        self._offset_ms = offset_ms
        self._clock = clock
        self._client: httpx.AsyncClient | None = None

    def __repr__(self) -> str:
        return f"<SignedRest {self.base_url} demo={self._demo_trading}>"  # never the secrets

    async def get(self, path: str, params: Mapping[str, str]) -> RestAnswer:
        """GET ``path?params`` signed; OKX's answer whatever its ``code``.

        Raises :class:`RestAuthenticationError` when OKX refuses the credentials
        and :class:`RestUnavailable` when no usable answer came.
        """
        import httpx

        request_path = f"{path}?{urlencode(dict(params))}" if params else path
        what = f"GET {request_path}"
        if self._client is None:
            self._client = httpx.AsyncClient(
                base_url=self.base_url,
                timeout=self._timeout,
                transport=self._transport,
                verify=verify_for(self.base_url),
            )
        timestamp = rest_timestamp(self._clock() + self._offset_ms() / 1000.0)
        headers = signed_headers(
            self._credentials, timestamp, "GET", request_path, demo_trading=self._demo_trading
        )
        try:
            response = await self._client.get(request_path, headers=headers)
        except httpx.TimeoutException as exc:
            raise RestUnavailable(f"{what} timed out after {self._timeout:g}s") from exc
        except httpx.HTTPError as exc:
            raise RestUnavailable(f"{what} failed: {type(exc).__name__}: {exc}") from exc
        try:
            body: Any = response.json()
        except ValueError:
            body = None
        status = response.status_code
        if not isinstance(body, dict):
            raise RestUnavailable(
                f"{what}: HTTP {status}, the answer is not a JSON object",
                retryable=status >= 500 or status == 429,
            )
        code, msg = str(body.get("code", "")), str(body.get("msg", ""))[:200]
        if code in AUTH_CODES or (status == 401 and code not in RETRY_CODES):
            raise RestAuthenticationError(code or "?", msg, request=what, status=status)
        if code in RETRY_CODES or status == 429 or status >= 500:
            raise RestUnavailable(f"{what}: HTTP {status} code={code} msg={msg!r}")
        data = body.get("data")
        return RestAnswer(status, code, msg, data if isinstance(data, list) else [], what)

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()


__all__ = [
    "AUTH_CODES",
    "RestAnswer",
    "RestAuthenticationError",
    "RestUnavailable",
    "SignedRest",
    "rest_sign",
    "rest_timestamp",
    "signed_headers",
]
