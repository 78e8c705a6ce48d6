"""Read OKX's clock: ``GET /api/v5/public/time``, offset from the round trip's midpoint.

A login signed with a clock more than ~30 s off is refused (60004/60006), and
once ``expTime`` is used a skewed clock expires orders; the offset found here
is what ``set_time_offset_ms`` applies to every later login.
"""

from __future__ import annotations

from typing import Any

from ..errors import ClockSyncError, RestUnavailable
from .http import RestHttp

TIME_PATH = "/api/v5/public/time"


async def server_offset_ms(
    rest_url: str, *, demo_trading: bool = False, transport: Any = None, timeout: float = 5.0
) -> int:
    """Milliseconds to add to the local clock to read OKX's (server minus local)."""
    http = RestHttp(rest_url, demo_trading=demo_trading, transport=transport, timeout=timeout)
    what = f"GET {http.base_url}{TIME_PATH}"
    try:
        reply = await http.get(TIME_PATH)
    except RestUnavailable as exc:
        raise ClockSyncError(exc.reason) from exc.__cause__
    finally:
        await http.aclose()
    status, body = reply.status, reply.body
    try:  # the status first: an error page (503...) is not "something else than the time"
        if status != 200 or str(body.get("code")) != "0":
            raise ClockSyncError(f"{what} answered HTTP {status}: {body!r:.200}")
        server_ms = int(body["data"][0]["ts"])
    except (KeyError, IndexError, TypeError, AttributeError, ValueError) as exc:
        raise ClockSyncError(f"{what} answered HTTP {status}, not OKX's time: {exc!r}") from exc
    return round(server_ms - (reply.sent + reply.received) * 500)
