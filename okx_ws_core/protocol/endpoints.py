"""OKX endpoints per market and trading mode: the WebSocket URLs, and the REST
host used for OKX's public instrument list (the source of ``instIdCode``).

A key only works on its own market's hosts (an EEA key on global hosts fails
login with 60032), hence ``market`` is an explicit option and login errors hint
at it.
"""

from __future__ import annotations

from typing import Final, Literal
from urllib.parse import urlsplit

Market = Literal["prod", "eea", "us"]
ConnectionKey = Literal["public", "private", "business"]

CONNECTION_KEYS: Final[tuple[ConnectionKey, ...]] = ("public", "private", "business")
PATHS: Final[dict[str, str]] = {key: f"/ws/v5/{key}" for key in CONNECTION_KEYS}

# Port 443, wss://'s default. OKX refuses WebSocket connections on port 8443 since
# 2026-10-31 (changelog, log_zh "WebSocket 8443 端口下线", updated 2026-09-30: drop
# ":8443", keep host and path; every WS host and path). The EEA and US hosts are
# covered by "all affected domains support 443" (uncertain only in that OKX's
# example names the global hosts).
LIVE_HOSTS: Final[dict[str, str]] = {
    "prod": "wss://ws.okx.com",
    "eea": "wss://wseea.okx.com",
    "us": "wss://wsus.okx.com",
}
DEMO_HOSTS: Final[dict[str, str]] = {
    "prod": "wss://wspap.okx.com",
    "eea": "wss://wseeapap.okx.com",
    "us": "wss://wsuspap.okx.com",
}
RETIRED_PORT: Final = 8443
RETIRED_PORT_SINCE: Final = "2026-10-31"
# okx-api adds brokerId=9999 to the demo *business* URL only (ccxt adds it to
# every demo URL); we follow okx-api. Uncertain: change here if OKX says more.
DEMO_BUSINESS_QUERY: Final = "brokerId=9999"


def resolve_url(
    connection: str,
    *,
    market: str = "prod",
    demo_trading: bool = False,
    base_url: str | None = None,
) -> str:
    """Return the URL of one connection.

    ``base_url`` (e.g. ``ws://127.0.0.1:8765``, the simulator) replaces scheme,
    host and port while keeping OKX's paths and the demo query; a path (or a
    query) in it is refused rather than silently dropped.
    """
    if connection not in PATHS:
        raise ValueError(f"connection must be one of {CONNECTION_KEYS}, got {connection!r}")
    hosts = DEMO_HOSTS if demo_trading else LIVE_HOSTS
    if market not in hosts:
        raise ValueError(f"market must be one of {tuple(hosts)}, got {market!r}")
    root = hosts[market]
    if base_url is not None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("ws", "wss") or not parts.netloc:
            raise ValueError(f"base_url must look like ws://host:port, got {base_url!r}")
        _refuse_retired_port(base_url, parts.hostname or "", parts.port)
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            root = f"{parts.scheme}://{parts.netloc}"
            what = "a path" if parts.path not in ("", "/") else "a query"
            raise ValueError(
                f"base_url {base_url!r} has {what} ({base_url[len(root) :]!r}), which would be"
                f" ignored: give scheme://host:port only ({root!r}); the client appends"
                f" OKX's paths ({', '.join(PATHS.values())}) itself"
            )
        root = f"{parts.scheme}://{parts.netloc}"
    url = root + PATHS[connection]
    if demo_trading and connection == "business":
        url += "?" + DEMO_BUSINESS_QUERY
    return url


def is_okx_host(hostname: str) -> bool:
    """``okx.com`` or one of its subdomains (a proxy or the simulator is not)."""
    host = hostname.lower().rstrip(".")
    return host == "okx.com" or host.endswith(".okx.com")


def _refuse_retired_port(url: str, hostname: str, port: int | None) -> None:
    """OKX's own hosts no longer listen on 8443: say so instead of failing to connect."""
    if port == RETIRED_PORT and is_okx_host(hostname):
        fixed = url.replace(f":{RETIRED_PORT}", "", 1)
        raise ValueError(
            f"base_url {url!r} names port {RETIRED_PORT}: OKX refuses WebSocket connections"
            f" on port {RETIRED_PORT} since {RETIRED_PORT_SINCE}; use port 443 by dropping"
            f" the port ({fixed!r}), or leave base_url unset for OKX's default hosts"
        )


# REST hosts for the public endpoints (the instrument list). Demo trading uses
# the live host plus DEMO_HEADERS, so live and demo differ by header, not host.
REST_HOST_PROD: Final = "https://www.okx.com"
# Uncertain: the EEA and US REST hosts are inferred from OKX's WS host naming
# and peers' configuration, not confirmed by OKX's docs; change them here.
REST_HOST_EEA: Final = "https://eea.okx.com"
REST_HOST_US: Final = "https://us.okx.com"
REST_HOSTS: Final[dict[str, str]] = {
    "prod": REST_HOST_PROD,
    "eea": REST_HOST_EEA,
    "us": REST_HOST_US,
}
DEMO_HEADER: Final = "x-simulated-trading"
DEMO_HEADERS: Final[dict[str, str]] = {DEMO_HEADER: "1"}
_WS_TO_HTTP: Final[dict[str, str]] = {"ws": "http", "wss": "https"}


def _split_root(
    url: str, schemes: tuple[str, str], what: str, example: str
) -> tuple[str, str, bool]:
    """Return (scheme, netloc, has_extras) of ``url``; extras = path, query or fragment.

    ValueError unless the scheme is one of ``schemes`` and the host (and port,
    if any) is valid; a URL with credentials is refused without being echoed.
    """
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a non-numeric or out-of-range port
    except (ValueError, TypeError, AttributeError):
        raise ValueError(f"{what} must look like {example}, got {url!r}") from None
    if "@" in parts.netloc:  # never echo a URL that may carry a password
        raise ValueError(f"{what} must look like {example}, without credentials")
    scheme = parts.scheme.lower()
    if scheme not in schemes or not parts.hostname:
        raise ValueError(f"{what} must look like {example}, got {url!r}")
    extras = parts.path not in ("", "/") or bool(parts.query) or bool(parts.fragment)
    return scheme, parts.netloc, extras


def rest_url(
    *,
    market: str = "prod",
    demo_trading: bool = False,
    base_url: str | None = None,
    rest_url: str | None = None,
) -> str:
    """Return the REST base URL (``scheme://host[:port]``, no path) for public endpoints.

    An explicit ``rest_url`` wins; otherwise a WS ``base_url`` (e.g. the
    simulator's ``ws://127.0.0.1:8765``) maps to the same host and port over
    HTTP (``ws`` -> ``http``, ``wss`` -> ``https``, its path dropped, as
    :func:`resolve_url` drops it) so REST follows the WS override; otherwise
    the market's host. ``demo_trading`` does not change the host: send
    :func:`rest_headers` with every request instead.
    """
    if market not in REST_HOSTS:
        raise ValueError(f"market must be one of {tuple(REST_HOSTS)}, got {market!r}")
    if rest_url is not None:
        example = "https://host[:port]"
        scheme, netloc, extras = _split_root(rest_url, ("http", "https"), "rest_url", example)
        if extras:  # a path here would be silently replaced by /api/v5/...: refuse it
            raise ValueError(f"rest_url must look like {example} (no path), got {rest_url!r}")
        return f"{scheme}://{netloc}"
    if base_url is not None:
        scheme, netloc, _ = _split_root(base_url, ("ws", "wss"), "base_url", "ws://host:port")
        return f"{_WS_TO_HTTP[scheme]}://{netloc}"
    return REST_HOSTS[market]


def rest_headers(*, demo_trading: bool = False) -> dict[str, str]:
    """Headers every REST request needs: ``x-simulated-trading: 1`` for demo trading.

    Without it OKX answers from live trading, whose instrument codes may differ.
    """
    return dict(DEMO_HEADERS) if demo_trading else {}
