"""OKX's WebSocket hosts as they are today: port 443, and 8443 refused with advice.

OKX stopped accepting WebSocket connections on port 8443 on 2026-10-31
(changelog, log_zh "WebSocket 8443 端口下线", updated 2026-09-30).
"""

from __future__ import annotations

import itertools
from urllib.parse import urlsplit

import pytest

from okx_ws_core import AsyncWebsocketClient, ConfigurationError
from okx_ws_core.protocol.endpoints import CONNECTION_KEYS, resolve_url

MARKETS = ("prod", "eea", "us")


@pytest.mark.parametrize(
    ("market", "demo", "connection"),
    list(itertools.product(MARKETS, (False, True), CONNECTION_KEYS)),
)
def test_every_default_url_uses_port_443(market: str, demo: bool, connection: str) -> None:
    url = resolve_url(connection, market=market, demo_trading=demo)
    parts = urlsplit(url)
    assert ":8443" not in url
    assert parts.scheme == "wss" and parts.port is None  # wss:// means 443
    assert parts.hostname is not None and parts.hostname.endswith(".okx.com")
    assert parts.path == f"/ws/v5/{connection}"


@pytest.mark.parametrize(
    "base_url",
    ["wss://ws.okx.com:8443", "wss://wspap.okx.com:8443/ws/v5/private", "wss://WSEEA.OKX.COM:8443"],
)
def test_port_8443_on_an_okx_host_is_refused_with_the_date_and_the_fix(base_url: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        AsyncWebsocketClient(base_url=base_url)
    message = str(caught.value)
    assert "8443" in message and "2026-10-31" in message and "443" in message
    assert base_url.replace(":8443", "", 1) in message  # what to write instead


@pytest.mark.parametrize(
    "base_url", ["ws://127.0.0.1:8443", "wss://my-proxy.example:8443", "wss://okx.com.evil:8443"]
)
def test_port_8443_elsewhere_is_left_alone(base_url: str) -> None:
    assert resolve_url("private", base_url=base_url).startswith(base_url.split("/ws/")[0])
    AsyncWebsocketClient(base_url=base_url)  # no ConfigurationError
