"""Old path of :mod:`okx_ws_core.protocol.endpoints`, kept for code written against it.

New code imports the public names from ``okx_ws_core``.
"""

# Written by tools/restructure.py.

from .protocol.endpoints import (
    CONNECTION_KEYS,
    DEMO_BUSINESS_QUERY,
    DEMO_HEADER,
    DEMO_HEADERS,
    DEMO_HOSTS,
    LIVE_HOSTS,
    PATHS,
    REST_HOST_EEA,
    REST_HOST_PROD,
    REST_HOST_US,
    REST_HOSTS,
    RETIRED_PORT,
    RETIRED_PORT_SINCE,
    ConnectionKey,
    Market,
    is_okx_host,
    resolve_url,
    rest_headers,
    rest_url,
)

__all__ = [
    "Market",
    "ConnectionKey",
    "CONNECTION_KEYS",
    "PATHS",
    "LIVE_HOSTS",
    "DEMO_HOSTS",
    "RETIRED_PORT",
    "RETIRED_PORT_SINCE",
    "DEMO_BUSINESS_QUERY",
    "resolve_url",
    "is_okx_host",
    "REST_HOST_PROD",
    "REST_HOST_EEA",
    "REST_HOST_US",
    "REST_HOSTS",
    "DEMO_HEADER",
    "DEMO_HEADERS",
    "rest_url",
    "rest_headers",
]
