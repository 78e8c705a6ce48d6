"""Why a WebSocket connect failed, in words that point at the cause.

A transport reports a failed connect with its own exception, wrapped once or
twice (httpx wraps httpcore's, which wraps the ``OSError``; the link wraps
that).  A newcomer with a wrong ``base_url`` or a simulator that is not
running would otherwise read "All connection attempts failed" ten times and
then a bare ``ConnectTimeout``.  This module finds the cause in that chain
(connection refused, an HTTP status on the upgrade) and says it with the URL
and where the URL came from.  No I/O: it reads exceptions and URLs.
"""

from __future__ import annotations

import errno
import ipaddress
from typing import Final
from urllib.parse import urlsplit

from ..protocol.endpoints import is_okx_host

CONNECT_LIMIT: Final = "3 connection requests per second per IP"  # okx-protocol.md "Rate limits"
SIMULATOR_LIMIT_OFF: Final = (
    "okx_ws_sim.Simulator(rate_limits=False) or `python -m okx_ws_sim --no-rate-limits`"
)
_MAX_CHAIN: Final = 16  # causes followed; a cycle or a silly depth stops here


def causes(exc: BaseException) -> list[BaseException]:
    """``exc`` and what it wraps (``__cause__``, else ``__context__``), outermost first."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain and len(chain) < _MAX_CHAIN:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def refused(exc: BaseException) -> bool:
    """Was the TCP connection refused (nothing listens on that port)?"""
    return any(
        isinstance(e, ConnectionRefusedError)
        or (isinstance(e, OSError) and e.errno == errno.ECONNREFUSED)
        for e in causes(exc)
    )


def http_status(exc: BaseException) -> int | None:
    """The HTTP status that refused the WebSocket upgrade, if that was the failure.

    websockets' ``InvalidStatus`` and httpx-ws' ``WebSocketUpgradeError`` both
    carry the response as ``.response`` with ``.status_code``.
    """
    for e in causes(exc):
        status = getattr(getattr(e, "response", None), "status_code", None)
        if isinstance(status, int):
            return status
    return None


def is_loopback(url: str) -> bool:
    """``localhost`` or an address of 127.0.0.0/8 or ::1: this machine (the simulator?)."""
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def root(url: str) -> str:
    """``scheme://host:port`` of ``url``: what ``base_url`` replaced."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def origin(url: str, base_url: str | None) -> str:
    """Where ``url`` came from, for messages: ``ws://127.0.0.1:9 (base_url)`` or the URL."""
    return f"{root(url)} (base_url)" if base_url is not None else url


def nothing_listens(url: str, base_url: str | None) -> str:
    """The message for a connection refused on this machine."""
    where = origin(url, base_url)
    return (
        f"nothing listens on {where}: is the simulator running? (connection refused;"
        " start one with `python -m okx_ws_sim` or okx_ws_sim.Simulator(), or fix base_url)"
    )


def explain(exc: BaseException, url: str, base_url: str | None) -> str:
    """One line saying why a connect to ``url`` failed, and what to do when we know."""
    status = http_status(exc)
    if status == 429:
        return too_many_connects(url, base_url)
    if status is not None:
        return f"HTTP {status} on the WebSocket upgrade at {url} ({_innermost(exc)})"
    if refused(exc):
        if is_loopback(url):
            return nothing_listens(url, base_url)
        return f"connection refused by {origin(url, base_url)}"
    return f"connect to {url} failed: {_innermost(exc)}"


def too_many_connects(url: str, base_url: str | None) -> str:
    """HTTP 429 on the upgrade: OKX's connect limit, or the simulator's copy of it."""
    if is_okx_host(urlsplit(url).hostname or ""):
        return (
            f"HTTP 429 Too Many Requests at {url}: OKX allows {CONNECT_LIMIT}"
            " (open fewer connections at once: reuse one client)"
        )
    return (
        f"HTTP 429 Too Many Requests at {origin(url, base_url)}: the simulator enforces"
        f" OKX's limit of {CONNECT_LIMIT}; turn it off with {SIMULATOR_LIMIT_OFF},"
        " or reuse one client"
    )


def _innermost(exc: BaseException) -> str:
    """The most specific cause, e.g. ``ConnectionRefusedError: [Errno 111] ...``."""
    deepest = causes(exc)[-1]
    text = str(deepest)
    return f"{type(deepest).__name__}: {text}" if text else type(deepest).__name__


__all__ = [
    "CONNECT_LIMIT",
    "SIMULATOR_LIMIT_OFF",
    "causes",
    "explain",
    "http_status",
    "is_loopback",
    "nothing_listens",
    "origin",
    "refused",
    "root",
    "too_many_connects",
]
