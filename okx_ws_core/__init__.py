"""okx-ws runtime: the hand-written core under the generated clients.

Import the typed API from ``okx_ws``; this package holds what it is built on:
operations as data, connections, login, heartbeat, reconnect, request
matching, the instrument registry, events and errors.  It never imports the
generated package.
"""

from typing import Any

from .book.orderbook import BookChange, Depth, OrderBook, StaleBookError, check_book_channels
from .book.stream import BlockingBookStream, BookStream
from .client.async_client import AsyncWebsocketClient
from .client.sync_client import BlockingFacade, WebsocketClient
from .errors import (
    AuthenticationError,
    BlockingCallInLoop,
    ClientClosed,
    ClockSyncError,
    ConfigurationError,
    ConnectionLost,
    ConnectRefused,
    ConnectTimeout,
    InstrumentResolutionError,
    OkxApiError,
    OkxWsError,
    ParamsValidationError,
    RateLimitExceeded,
    RequestCancelled,
    RequestTimeout,
    RestAuthenticationError,
    StreamInUse,
    SubscriptionError,
    UnexpectedReply,
    UnknownInstrumentError,
)
from .lazy import LazyModule as LazyModule  # for the generated package; not in __all__
from .options import ClientOptions, HttpTransport, RateLimitMode
from .orders.fates import Verdict
from .orders.tracker import (
    FINAL_STATES,
    Fill,
    OrderOp,
    OrderTracker,
    OrderWaitTimeout,
    TrackedOrder,
)
from .protocol.endpoints import CONNECTION_KEYS, resolve_url
from .protocol.frames import ExtraFields, Operation, Resolved, prepare_args
from .protocol.ratelimit import ConnectionLimits, RateLimit
from .streams.channels import (
    BlockingChannelStream,
    Channel,
    ChannelStream,
    ChannelUpdate,
    UpdateCallback,
    UpdateTimeout,
)
from .streams.events import Event
from .transports.interface import Connector, Transport, TransportName


def __getattr__(name: str) -> Any:
    """``__version__`` on first read: importlib.metadata costs ~30 ms of every import."""
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        value = version("okx-ws")
    except PackageNotFoundError:  # a source checkout that was never installed
        value = "0+unknown"
    globals()["__version__"] = value
    return value


__all__ = [
    "__version__",
    "ExtraFields",
    "CONNECTION_KEYS",
    "FINAL_STATES",
    "AsyncWebsocketClient",
    "AuthenticationError",
    "BlockingBookStream",
    "BlockingCallInLoop",
    "BlockingChannelStream",
    "BlockingFacade",
    "BookChange",
    "BookStream",
    "Channel",
    "ChannelStream",
    "ChannelUpdate",
    "ClientClosed",
    "ClientOptions",
    "ClockSyncError",
    "ConfigurationError",
    "ConnectRefused",
    "ConnectTimeout",
    "ConnectionLimits",
    "ConnectionLost",
    "Connector",
    "Depth",
    "Event",
    "Fill",
    "HttpTransport",
    "InstrumentResolutionError",
    "OkxApiError",
    "OkxWsError",
    "Operation",
    "OrderBook",
    "OrderOp",
    "OrderTracker",
    "OrderWaitTimeout",
    "ParamsValidationError",
    "RateLimit",
    "RateLimitExceeded",
    "RateLimitMode",
    "RequestCancelled",
    "UnexpectedReply",
    "RequestTimeout",
    "Resolved",
    "RestAuthenticationError",
    "StaleBookError",
    "StreamInUse",
    "SubscriptionError",
    "TrackedOrder",
    "Transport",
    "TransportName",
    "UnknownInstrumentError",
    "UpdateCallback",
    "UpdateTimeout",
    "Verdict",
    "WebsocketClient",
    "check_book_channels",
    "prepare_args",
    "resolve_url",
]
