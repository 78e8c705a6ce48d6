"""okx-ws runtime: the hand-written transport core under the generated clients.

Import the typed API from ``okx_ws``; this package holds what it is built on:
connections, login, heartbeat, reconnect, request matching, events, errors.
"""

from .client import AsyncWebsocketClient, ClientOptions
from .endpoints import CONNECTION_KEYS, resolve_url
from .errors import (
    AuthenticationError,
    ClientClosed,
    ConfigurationError,
    ConnectionLost,
    OkxApiError,
    OkxWsError,
    RequestTimeout,
    SubscriptionError,
)
from .events import Event
from .params import ParamsValidationError, prepare_args
from .sync_client import WebsocketClient

__all__ = [
    "CONNECTION_KEYS",
    "AsyncWebsocketClient",
    "AuthenticationError",
    "ClientClosed",
    "ClientOptions",
    "ConfigurationError",
    "ConnectionLost",
    "Event",
    "OkxApiError",
    "OkxWsError",
    "ParamsValidationError",
    "RequestTimeout",
    "SubscriptionError",
    "WebsocketClient",
    "prepare_args",
    "resolve_url",
]
