"""The WebSocket transports: the interface, the registry of backends
(websockets, httpx-ws), the shared TLS context, connect-failure diagnosis.

May import: protocol.
"""

# Written by tools/restructure.py.
