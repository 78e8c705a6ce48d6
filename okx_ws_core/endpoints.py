"""OKX WebSocket endpoints per market and trading mode.

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

LIVE_HOSTS: Final[dict[str, str]] = {
    "prod": "wss://ws.okx.com:8443",
    "eea": "wss://wseea.okx.com:8443",
    "us": "wss://wsus.okx.com:8443",
}
DEMO_HOSTS: Final[dict[str, str]] = {
    "prod": "wss://wspap.okx.com:8443",
    "eea": "wss://wseeapap.okx.com:8443",
    "us": "wss://wsuspap.okx.com:8443",
}
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
    host and port while keeping OKX's paths and the demo query.
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
        root = f"{parts.scheme}://{parts.netloc}"
    url = root + PATHS[connection]
    if demo_trading and connection == "business":
        url += "?" + DEMO_BUSINESS_QUERY
    return url
