"""Read OKX's clock: ``GET /api/v5/public/time``, offset from the round trip's midpoint.

A login signed with a clock more than ~30 s off is refused (60004/60006), and
once ``expTime`` is used a skewed clock expires orders; the offset found here
is what ``set_time_offset_ms`` applies to every later login.
"""

from __future__ import annotations

import time
from typing import Any

from .endpoints import rest_headers
from .errors import ClockSyncError
from .tls import verify_for

TIME_PATH = "/api/v5/public/time"


async def server_offset_ms(
    rest_url: str, *, demo_trading: bool = False, transport: Any = None, timeout: float = 5.0
) -> int:
    """Milliseconds to add to the local clock to read OKX's (server minus local)."""
    import httpx

    what = f"GET {rest_url}{TIME_PATH}"
    try:
        async with httpx.AsyncClient(
            base_url=rest_url,
            headers=rest_headers(demo_trading=demo_trading),
            timeout=timeout,
            transport=transport,
            verify=verify_for(rest_url),
        ) as http:
            sent = time.time()
            response = await http.get(TIME_PATH)
            received = time.time()
    except httpx.HTTPError as exc:
        raise ClockSyncError(f"{what} failed: {type(exc).__name__}: {exc}") from exc
    try:  # the status first: an error page (503...) is not "something else than the time"
        body = response.json()
        if response.status_code != 200 or str(body.get("code")) != "0":
            raise ClockSyncError(f"{what} answered HTTP {response.status_code}: {body!r:.200}")
        server_ms = int(body["data"][0]["ts"])
    except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
        raise ClockSyncError(
            f"{what} answered HTTP {response.status_code}, not OKX's time: {exc!r}"
        ) from exc
    return round(server_ms - (sent + received) * 500)
