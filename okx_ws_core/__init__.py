"""okx-ws runtime: the hand-written core under the generated clients.

Import the typed API from ``okx_ws``; this package holds what it is built on:
operations as data, connections, login, heartbeat, reconnect, request
matching, the instrument registry, events and errors.  It never imports the
generated package.
"""

from .channels import (
    BlockingChannelStream,
    Channel,
    ChannelStream,
    ChannelUpdate,
    UpdateCallback,
    UpdateTimeout,
)
from .client import AsyncWebsocketClient
from .endpoints import CONNECTION_KEYS, resolve_url
from .errors import (
    AuthenticationError,
    BlockingCallInLoop,
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
from .reconcile import Verdict
from .rest import RestAuthenticationError
from .sync_client import WebsocketClient
from .tracker import FINAL_STATES, Fill, OrderOp, OrderTracker, OrderWaitTimeout, TrackedOrder
from .transport import Connector, Transport

__all__ = [
    "CONNECTION_KEYS",
    "FINAL_STATES",
    "AsyncWebsocketClient",
    "AuthenticationError",
    "BlockingCallInLoop",
    "BlockingChannelStream",
    "Channel",
    "ChannelStream",
    "ChannelUpdate",
    "ClientClosed",
    "ClientOptions",
    "ClockSyncError",
    "ConfigurationError",
    "ConnectTimeout",
    "ConnectionLost",
    "Connector",
    "Event",
    "Fill",
    "InstrumentResolutionError",
    "OkxApiError",
    "OkxWsError",
    "Operation",
    "OrderOp",
    "OrderTracker",
    "OrderWaitTimeout",
    "ParamsValidationError",
    "RateLimitExceeded",
    "RequestTimeout",
    "Resolved",
    "RestAuthenticationError",
    "SubscriptionError",
    "TrackedOrder",
    "Transport",
    "UnknownInstrumentError",
    "UpdateCallback",
    "UpdateTimeout",
    "Verdict",
    "WebsocketClient",
    "prepare_args",
    "resolve_url",
]
