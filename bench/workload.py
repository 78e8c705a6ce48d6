"""The one workload every client runs: a resting spot limit buy, identified by clOrdId.

A limit buy far below the simulator's reference price rests on the book, so the
engine does the same (cheap) work for every request and the account balance
(100,000 USDT, 0.1 USDT frozen per order) never runs out during a run.  Each
request carries a unique clOrdId so the harness can prove each reply belongs to
the request that was sent (a client that hands one caller another's reply shows
up as ``mismatched``).
"""

from __future__ import annotations

from typing import Any

INST_ID = "BTC-USDT"
CCXT_SYMBOL = "BTC/USDT"
PX = "100"
SZ = "0.001"

# Credentials of the simulator's default account (okx_ws_sim.DEFAULT_*); repeated
# here so the stand-in server and the drivers need not import okx_ws_sim.
API_KEY = "sim-api-key-0001"
API_SECRET = "sim-api-secret-0001"
PASSPHRASE = "sim-passphrase"


def order_args(cl_ord_id: str) -> dict[str, Any]:
    """OKX ``order`` item carrying ``cl_ord_id`` (keys as OKX spells them)."""
    return {
        "instId": INST_ID,
        "tdMode": "cash",
        "side": "buy",
        "ordType": "limit",
        "px": PX,
        "sz": SZ,
        "clOrdId": cl_ord_id,
    }


def cl_ord_id(phase: str, n: int) -> str:
    """Unique, OKX-valid clOrdId (alphanumeric, starts with a letter, <= 32 chars)."""
    return f"b{phase}{n}"
