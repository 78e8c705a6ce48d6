"""okx-ws runtime: the hand-written core under the generated clients.

Import the typed API from ``okx_ws``; this package holds what it is built on:
operations as data, connections, login, heartbeat, reconnect, request
matching, the instrument registry, events and errors.  It never imports the
generated package.
"""

from .client import AsyncWebsocketClient
from .endpoints import CONNECTION_KEYS, resolve_url
from .errors import (
    AuthenticationError,
    ClientClosed,
    ClockSyncError,
    ConfigurationError,
    ConnectionLost,
    ConnectTimeout,
    InstrumentResolutionError,
    OkxApiError,
    OkxWsError,
    ParamsValidationError,
    RateLimitExceeded,
    RequestTimeout,
    SubscriptionError,
    UnknownInstrumentError,
)
from .events import Event
from .options import ClientOptions
from .protocol import Operation, Resolved, prepare_args
from .sync_client import WebsocketClient
from .transport import Connector, Transport

__all__ = [
    "CONNECTION_KEYS",
    "AsyncWebsocketClient",
    "AuthenticationError",
    "ClientClosed",
    "ClientOptions",
    "ClockSyncError",
    "ConfigurationError",
    "ConnectTimeout",
    "ConnectionLost",
    "Connector",
    "Event",
    "InstrumentResolutionError",
    "OkxApiError",
    "OkxWsError",
    "Operation",
    "ParamsValidationError",
    "RateLimitExceeded",
    "RequestTimeout",
    "Resolved",
    "SubscriptionError",
    "Transport",
    "UnknownInstrumentError",
    "WebsocketClient",
    "prepare_args",
    "resolve_url",
]
