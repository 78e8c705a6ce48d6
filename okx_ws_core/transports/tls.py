"""One verified TLS context per process, shared by every httpx client okx-ws makes.

httpx builds a context per client otherwise (loading the CA bundle): about
0.8 MiB and tens of milliseconds each time, for every WebSocket reconnect on
the httpx-ws transport and for every client's instrument registry.
"""

from __future__ import annotations

import ssl
from functools import cache


@cache
def shared_ssl_context() -> ssl.SSLContext:
    import httpx

    return httpx.create_ssl_context()


def verify_for(url: str) -> ssl.SSLContext | bool:
    """What to pass as httpx's ``verify=`` for ``url``: no context at all for plain http."""
    # Plain http (the simulator on loopback) uses no TLS; building a context would
    # only cost time and memory.  Every https URL is verified.
    return False if url.startswith("http://") else shared_ssl_context()
