"""The one workload every client runs: a resting spot limit buy, identified by clOrdId.

A limit buy far below the simulator's reference price rests on the book, so the
engine does the same (cheap) work for every request and the account balance
(100,000 USDT, 0.1 USDT frozen per order) never runs out during a run.  Each
request carries a unique clOrdId so the harness can prove each reply belongs to
the request that was sent (a client that hands one caller another's reply shows
up as ``mismatched``).

Since 2026 OKX (and okx_ws_sim) reject order/amend/cancel items without the
integer ``instIdCode``.  Every client learns it from the server's REST list
``GET /api/v5/public/instruments?instType=SPOT`` once, before anything is
timed: okx-ws through its own registry, ccxt through its own ``load_markets``,
python-okx through its own REST ``PublicAPI``, the floor through
:func:`fetch_inst_id_code`.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any
from urllib.parse import urlsplit, urlunsplit

INST_ID = "BTC-USDT"
INST_TYPE = "SPOT"
CCXT_SYMBOL = "BTC/USDT"
PX = "100"
SZ = "0.001"
INSTRUMENTS_PATH = "/api/v5/public/instruments"
REST_TIMEOUT_S = 5.0

# Credentials of the simulator's default account (okx_ws_sim.DEFAULT_*); repeated
# here so the stand-in server and the drivers need not import okx_ws_sim.
API_KEY = "sim-api-key-0001"
API_SECRET = "sim-api-secret-0001"
PASSPHRASE = "sim-passphrase"

_ORDER_FIELDS: dict[str, Any] = {
    "tdMode": "cash",
    "side": "buy",
    "ordType": "limit",
    "px": PX,
    "sz": SZ,
}


def order_args(cl_ord_id: str) -> dict[str, Any]:
    """OKX ``order`` item carrying ``cl_ord_id``, by ``instId`` as users write it.

    Only okx-ws gets this form: it fills in ``instIdCode`` itself, from its
    instrument registry (warmed before anything is timed).
    """
    return {"instId": INST_ID, **_ORDER_FIELDS, "clOrdId": cl_ord_id}


def coded_order_args(cl_ord_id: str, inst_id_code: int) -> dict[str, Any]:
    """The item as OKX requires it on the wire: integer ``instIdCode`` and no
    ``instId`` (OKX ignores it now), for clients that do not resolve codes."""
    return {"instIdCode": inst_id_code, **_ORDER_FIELDS, "clOrdId": cl_ord_id}


def coded_cancel_args(ord_id: str, inst_id_code: int) -> dict[str, Any]:
    return {"instIdCode": inst_id_code, "ordId": ord_id}


def rest_base(ws_base_url: str) -> str:
    """``ws://h:p`` -> ``http://h:p``: the simulator serves REST on its WebSocket port."""
    parts = urlsplit(ws_base_url)
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
    return urlunsplit((scheme, parts.netloc, "", "", ""))


def inst_id_code_in(body: Any, inst_id: str = INST_ID) -> int:
    """The integer instIdCode of ``inst_id`` in an OKX instruments reply; ValueError if none."""
    if not isinstance(body, dict) or body.get("code") != "0":
        raise ValueError(f"instrument list failed: {str(body)[:200]}")
    for item in body.get("data") or ():
        if isinstance(item, dict) and item.get("instId") == inst_id:
            code = item.get("instIdCode")
            if type(code) is int and code > 0:
                return code
            raise ValueError(f"{inst_id} is listed without an integer instIdCode: {code!r}")
    raise ValueError(f"{inst_id} is not in the {INST_TYPE} instrument list")


def fetch_inst_id_code(ws_base_url: str, inst_id: str = INST_ID) -> int:
    """``inst_id``'s instIdCode from the server's REST list (urllib, at most
    REST_TIMEOUT_S).  Blocking: call it once, before anything is timed."""
    url = f"{rest_base(ws_base_url)}{INSTRUMENTS_PATH}?instType={INST_TYPE}"
    with urllib.request.urlopen(url, timeout=REST_TIMEOUT_S) as response:
        body = json.loads(response.read())
    return inst_id_code_in(body, inst_id)


def cl_ord_id(phase: str, n: int) -> str:
    """Unique, OKX-valid clOrdId (alphanumeric, starts with a letter, <= 32 chars)."""
    return f"b{phase}{n}"
