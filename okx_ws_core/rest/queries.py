"""GETs on OKX's REST API: signed (what ``reconcile()`` asks OKX) and public (book snapshots).

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

import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Final

from ..errors import REST_AUTH_CODES, REST_CLOCK_CODES, RestAuthenticationError, RestUnavailable
from ..protocol import endpoints
from ..protocol.signing import rest_sign, rest_timestamp
from .http import RETRY_CODES, RestAnswer, RestHttp, okx_answer, request_path

if TYPE_CHECKING:
    import httpx

# The tables live in errors.py, beside the error whose message reads them.
AUTH_CODES: Final = REST_AUTH_CODES
CLOCK_CODES: Final = REST_CLOCK_CODES


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


class PublicRest:
    """Unsigned GETs on OKX's public REST API (the order book's snapshots).

    Outcomes as :meth:`SignedRest.get`, less the authentication error: a
    :class:`RestAnswer` (any ``code``) or :class:`RestUnavailable` (network,
    timeout, HTTP 5xx/429, OKX busy, not JSON).
    """

    def __init__(
        self,
        base_url: str,
        *,
        demo_trading: bool = False,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 5.0,
    ) -> None:
        self._http = RestHttp(
            base_url, demo_trading=demo_trading, transport=transport, timeout=timeout
        )
        self.base_url = self._http.base_url

    async def get(self, path: str, params: Mapping[str, str]) -> RestAnswer:
        return okx_answer(await self._http.get(path, params))

    async def aclose(self) -> None:
        await self._http.aclose()


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
        self._http = RestHttp(
            base_url, demo_trading=demo_trading, transport=transport, timeout=timeout
        )
        self.base_url = self._http.base_url
        self._credentials = credentials
        self._demo_trading = demo_trading
        self._offset_ms = offset_ms
        self._clock = clock

    def __repr__(self) -> str:
        return f"<SignedRest {self.base_url} demo={self._demo_trading}>"  # never the secrets

    async def get(self, path: str, params: Mapping[str, str]) -> RestAnswer:
        """GET ``path?params`` signed; OKX's answer whatever its ``code``.

        Raises :class:`RestAuthenticationError` when OKX refuses the credentials
        and :class:`RestUnavailable` when no usable answer came.
        """
        timestamp = rest_timestamp(self._clock() + self._offset_ms() / 1000.0)
        headers = signed_headers(
            self._credentials,
            timestamp,
            "GET",
            request_path(path, params),
            demo_trading=self._demo_trading,
        )
        return okx_answer(await self._http.get(path, params, headers=headers), signed=True)

    async def aclose(self) -> None:
        await self._http.aclose()


__all__ = [
    "AUTH_CODES",
    "RETRY_CODES",
    "PublicRest",
    "RestAnswer",
    "RestAuthenticationError",
    "RestUnavailable",
    "SignedRest",
    "rest_sign",
    "rest_timestamp",
    "signed_headers",
]
