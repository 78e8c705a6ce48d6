"""The one httpx client wrapper behind every REST request okx-ws makes.

The instrument lists, OKX's clock, the signed queries of ``reconcile()`` and
the order book's snapshots all GET from one OKX REST host.  What they share
lives here once: the base URL (checked by :func:`~okx_ws_core.protocol.endpoints.rest_url`),
the demo header (``x-simulated-trading: 1``), the process's one TLS context,
the timeout, a client created lazily (httpx is imported only when a request is
made: a preset-only registry never loads it), and what a failed round trip
becomes: :class:`~okx_ws_core.errors.RestUnavailable` naming the request.

What an *answer* means differs per caller (the registry wants ``code == "0"``
and a data list, the clock one timestamp), so :class:`RestHttp` hands back the
raw :class:`RestReply`; :func:`okx_answer` is the reading shared by the public
and signed queries.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlencode

from ..errors import REST_AUTH_CODES, RestAuthenticationError, RestUnavailable
from ..protocol import endpoints
from ..transports.tls import verify_for

if TYPE_CHECKING:
    import httpx

# Answers that say "not now": rate limit, busy, unavailable, endpoint timeout.
RETRY_CODES: Final = frozenset({"50001", "50004", "50011", "50013"})


@dataclass(frozen=True, slots=True)
class RestReply:
    """One HTTP answer as received: ``body`` is the parsed JSON (``None`` if not JSON).

    ``sent``/``received`` are the wall clock around the round trip (the clock
    sync reads OKX's time at its midpoint).
    """

    request: str  # "GET /api/v5/...?..." for messages
    status: int
    body: Any
    sent: float
    received: float

    def okx_code(self) -> str:
        """OKX's ``code`` and ``msg`` for a message, or "" when the body has no code."""
        body = self.body
        if not isinstance(body, dict) or "code" not in body:
            return ""
        return f"OKX code={body.get('code')} msg={str(body.get('msg', ''))[:200]!r}"


@dataclass(frozen=True, slots=True)
class RestAnswer:
    """OKX's JSON answer: ``code`` ("0" on success), ``msg`` and ``data``."""

    status: int
    code: str
    msg: str
    data: list[Any]
    request: str  # "GET /api/v5/...?..." for messages


def request_path(path: str, params: Mapping[str, str] | None = None) -> str:
    """``path?query`` as sent (and as signed: OKX signs the query string of a GET)."""
    return f"{path}?{urlencode(dict(params))}" if params else path


class RestHttp:
    """GETs on one REST host: base URL, demo header, shared TLS, timeout, error mapping.

    ``transport`` (an ``httpx.AsyncBaseTransport``, e.g. ``httpx.MockTransport``)
    is for tests.  ``explain_connect`` words a failed connection (the
    instrument registry names the setting its URL came from); by default the
    message names the request and httpx's error.
    """

    def __init__(
        self,
        base_url: str,
        *,
        demo_trading: bool = False,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 5.0,
        explain_connect: Callable[[str, BaseException], str] | None = None,
    ) -> None:
        self.base_url = endpoints.rest_url(rest_url=base_url)
        self.demo_trading = demo_trading
        self.timeout = timeout
        self._transport = transport
        self._explain_connect = explain_connect
        self._client: httpx.AsyncClient | None = None

    def __repr__(self) -> str:
        return f"<RestHttp {self.base_url} demo={self.demo_trading}>"

    def client(self) -> httpx.AsyncClient:
        """The HTTP client, made on first use: that imports httpx and its transport
        (tens of ms, blocking the loop), which a caller may want done ahead."""
        if self._client is None:
            import httpx

            self._client = httpx.AsyncClient(
                base_url=self.base_url,
                headers=endpoints.rest_headers(demo_trading=self.demo_trading),
                timeout=self.timeout,
                transport=self._transport,
                verify=verify_for(self.base_url),
            )
        return self._client

    async def get(
        self,
        path: str,
        params: Mapping[str, str] | None = None,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> RestReply:
        """GET ``path?params``; :class:`RestUnavailable` when no HTTP answer came."""
        import httpx

        target = request_path(path, params)
        what = f"GET {self.base_url}{target}"
        client = self.client()
        sent = time.time()
        try:
            response = await client.get(target, headers=headers)
        except httpx.TimeoutException as exc:
            raise RestUnavailable(f"{what} timed out after {self.timeout:g}s") from exc
        except httpx.ConnectError as exc:
            if self._explain_connect is None:
                raise RestUnavailable(f"{what} failed: {type(exc).__name__}: {exc}") from exc
            raise RestUnavailable(self._explain_connect(what, exc)) from exc
        except httpx.HTTPError as exc:
            raise RestUnavailable(f"{what} failed: {type(exc).__name__}: {exc}") from exc
        received = time.time()
        try:
            body: Any = response.json()
        except ValueError:
            body = None
        return RestReply(f"GET {target}", response.status_code, body, sent, received)

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()


def okx_answer(reply: RestReply, *, signed: bool = False) -> RestAnswer:
    """OKX's answer, whatever its ``code``, or the error that says it is none.

    :class:`RestUnavailable` when it may pass (HTTP 5xx/429, OKX busy, not
    JSON); with ``signed``, :class:`RestAuthenticationError` when OKX refused
    the key, passphrase, signature or timestamp (retrying cannot help).
    """
    what, status, body = reply.request, reply.status, reply.body
    if not isinstance(body, dict):
        raise RestUnavailable(
            f"{what}: HTTP {status}, the answer is not a JSON object",
            retryable=status >= 500 or status == 429,
        )
    code, msg = str(body.get("code", "")), str(body.get("msg", ""))[:200]
    if signed and (code in REST_AUTH_CODES or (status == 401 and code not in RETRY_CODES)):
        raise RestAuthenticationError(code or "?", msg, request=what, status=status)
    if code in RETRY_CODES or status == 429 or status >= 500:
        raise RestUnavailable(f"{what}: HTTP {status} code={code} msg={msg!r}")
    data = body.get("data")
    return RestAnswer(status, code, msg, data if isinstance(data, list) else [], what)


__all__ = ["RETRY_CODES", "RestAnswer", "RestHttp", "RestReply", "okx_answer", "request_path"]
