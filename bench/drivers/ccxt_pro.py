"""ccxt pro (``ccxt.pro.okx``): ``create_order_ws`` / ``cancel_order_ws``.

How it is driven offline (from its installed source): ``urls['api']['ws']``
is the URL prefix ccxt appends ``/private`` to, and ``urls['api']['rest']``
its REST host, pointed at the simulator, which serves OKX's
``GET /api/v5/public/instruments`` on its WebSocket port.  Markets come from
ccxt's own ``load_markets`` against it, before anything is timed: ccxt's
``parse_market`` keeps each instrument's ``instIdCode``, and (since ccxt PR
#27729) ``create_order_ws`` sends that code in place of ``instId`` and
``cancel_order_ws`` sends it too, as OKX now requires.  Two settings keep
``load_markets`` to that one public endpoint: ``fetchMarkets`` types = spot
(the one market traded), and ``has['fetchCurrencies'] = False`` (with keys
set ccxt would first call the signed ``/asset/currencies``, which the
simulator does not serve).  Login is ccxt's ``authenticate``.
``options['createOrderWs']['op'] = 'order'`` makes it send OKX's single
``order`` op like every other client (ccxt's default is ``batch-orders``).

``enableRateLimit`` is turned off for the measured instance: by default ccxt
sends every WS request through a token bucket at ``rateLimit`` (110 ms for
okx), i.e. about 9 requests/s, which would measure ccxt's throttle rather
than its code.  :meth:`side_note` samples that default behaviour for the report.

Facts a reader should know: ccxt matches replies by a request id made of the
millisecond clock plus 4 random digits (``request_id``), so requests issued
in the same millisecond can collide; the harness's clOrdId check counts any
reply handed to the wrong caller as ``mismatched``.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

from ..workload import API_KEY, API_SECRET, CCXT_SYMBOL, PASSPHRASE, PX, SZ, rest_base
from .base import DriverUnavailable

LOAD_MARKETS_TIMEOUT_S = 15.0


class CcxtProDriver:
    name = "ccxt pro okx"

    def __init__(self) -> None:
        self._ex: Any = None
        self._base_url = ""
        self.note = ""

    async def open(self, base_url: str) -> None:
        try:
            import ccxt.pro  # noqa: F401 - fail early with a clear reason
        except ImportError as exc:
            raise DriverUnavailable(f"ccxt not installed: {exc}") from exc
        self._base_url = base_url
        self._ex = await self._exchange(enable_rate_limit=False)
        code = self._ex.market(CCXT_SYMBOL).get("instIdCode")
        self.note = (
            f"markets from ccxt's own load_markets against the simulator's REST "
            f"(fetchMarkets types=spot, fetchCurrencies off): {CCXT_SYMBOL} instIdCode={code}, "
            "sent by create_order_ws and cancel_order_ws; createOrderWs op set to 'order'"
        )

    async def _exchange(self, *, enable_rate_limit: bool) -> Any:
        import ccxt.pro

        ex = ccxt.pro.okx(
            {
                "apiKey": API_KEY,
                "secret": API_SECRET,
                "password": PASSPHRASE,
                "enableRateLimit": enable_rate_limit,
            }
        )
        ex.urls["api"]["ws"] = self._base_url + "/ws/v5"
        ex.urls["api"]["rest"] = rest_base(self._base_url)
        ex.has["fetchCurrencies"] = False
        ex.options["fetchMarkets"] = {"types": ["spot"]}
        ex.options["createOrderWs"] = {"op": "order"}
        try:
            await asyncio.wait_for(ex.load_markets(), LOAD_MARKETS_TIMEOUT_S)
            code = ex.market(CCXT_SYMBOL).get("instIdCode")
            if type(code) is not int:
                raise DriverUnavailable(
                    f"ccxt's {CCXT_SYMBOL} market has no integer instIdCode ({code!r}): "
                    "its WS orders would be rejected"
                )
            await ex.authenticate()
        except BaseException:
            await ex.close()
            raise
        return ex

    async def side_note(self, samples: int = 8) -> str:
        """Median order round trip with ccxt's default settings (rate limiter on)."""
        ex = await self._exchange(enable_rate_limit=True)
        times = []
        try:
            for i in range(samples):
                t0 = time.perf_counter()
                await ex.create_order_ws(
                    CCXT_SYMBOL, "limit", "buy", float(SZ), float(PX), {"clOrdId": f"bdefault{i}"}
                )
                times.append(time.perf_counter() - t0)
        finally:
            await ex.close()
        return (
            f"with ccxt's default enableRateLimit=True, sequential order p50 = "
            f"{statistics.median(times) * 1e6:,.0f} µs ({samples} samples): ccxt throttles WS "
            f"requests at rateLimit={ex.rateLimit} ms; rows above use enableRateLimit=False"
        )

    async def order(self, cl_ord_id: str) -> tuple[str, str]:
        order = await self._ex.create_order_ws(
            CCXT_SYMBOL, "limit", "buy", float(SZ), float(PX), {"clOrdId": cl_ord_id}
        )
        return order["clientOrderId"], order["id"]

    async def cancel(self, ord_id: str) -> str:
        order = await self._ex.cancel_order_ws(ord_id, CCXT_SYMBOL)
        return str(order["id"])

    async def close(self) -> None:
        if self._ex is not None:
            await self._ex.close()
