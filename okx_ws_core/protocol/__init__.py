"""OKX's protocol without I/O: operations, frames, signatures, endpoints,
rate-limit windows, heartbeat timing, instId shapes, late replies.

May import: the top-level errors only; never asyncio, httpx or websockets.
"""

# Written by tools/restructure.py.
