"""Old path of :mod:`okx_ws_core.transports.registry`, kept for code written against it.

New code imports the public names from ``okx_ws_core``.
"""

# Written by tools/restructure.py.

from .transports.registry import (
    CLOSE_TIMEOUT_S,
    MAX_MESSAGE_BYTES,
    TRANSPORTS,
    Connector,
    Transport,
    TransportClosed,
    TransportName,
    connector_for,
)

__all__ = [
    "CLOSE_TIMEOUT_S",
    "MAX_MESSAGE_BYTES",
    "TRANSPORTS",
    "Connector",
    "Transport",
    "TransportClosed",
    "TransportName",
    "connector_for",
]
