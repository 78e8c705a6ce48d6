"""ccxt pro (``ccxt.pro.okx``): ``create_order_ws`` / ``cancel_order_ws``.

How it is driven offline (from its installed source): ``urls['api']['ws']``
is the URL prefix ccxt appends ``/private`` to; markets come from a hand-built
OKX instrument passed through ccxt's own ``parse_market`` and ``set_markets``,
so ``load_markets`` (REST) is never called; login is ccxt's ``authenticate``.
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

import statistics
import time
from typing import Any

from ..workload import API_KEY, API_SECRET, CCXT_SYMBOL, INST_ID, PASSPHRASE, PX, SZ
from .base import DriverUnavailable

# What OKX's /api/v5/public/instruments returns for BTC-USDT (fields ccxt reads).
OKX_INSTRUMENT: dict[str, str] = {
    "alias": "",
    "baseCcy": "BTC",
    "category": "1",
    "ctMult": "",
    "ctType": "",
    "ctVal": "",
    "ctValCcy": "",
    "expTime": "",
    "instFamily": "",
    "instId": INST_ID,
    "instType": "SPOT",
    "lever": "10",
    "listTime": "1548133413000",
    "lotSz": "0.00000001",
    "maxLmtSz": "10000",
    "maxMktSz": "1000000",
    "minSz": "0.00001",
    "optType": "",
    "quoteCcy": "USDT",
    "settleCcy": "",
    "state": "live",
    "stk": "",
    "tickSz": "0.1",
    "uly": "",
}


class CcxtProDriver:
    name = "ccxt pro okx"

    def __init__(self) -> None:
        self._ex: Any = None
        self._base_url = ""
        self.note = (
            "markets fed offline (ccxt parse_market of a hand-built OKX instrument, then "
            "set_markets; no REST); createOrderWs op set to 'order'; cancel_order_ws always "
            "sends instIdCode (null here), which okx_ws_sim rejects (see probe)"
        )

    async def open(self, base_url: str) -> None:
        try:
            import ccxt.pro  # noqa: F401 - fail early with a clear reason
        except ImportError as exc:
            raise DriverUnavailable(f"ccxt not installed: {exc}") from exc
        self._base_url = base_url
        self._ex = await self._exchange(enable_rate_limit=False)

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
        ex.options["createOrderWs"] = {"op": "order"}
        ex.set_markets([ex.parse_market(OKX_INSTRUMENT)])
        await ex.authenticate()
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
        # ccxt's cancel_order_ws always sends the market's instIdCode (null when the
        # market has none, and okx_ws_sim knows no instIdCode); instId is added so
        # a server that ignores instIdCode could still find the order.
        order = await self._ex.cancel_order_ws(ord_id, CCXT_SYMBOL, {"instId": INST_ID})
        return str(order["id"])

    async def close(self) -> None:
        if self._ex is not None:
            await self._ex.close()
