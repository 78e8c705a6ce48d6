"""The market channels' data items, in OKX's field names and shapes.

Pure functions from the simulator's state to the ``data`` items OKX pushes (and
``GET /api/v5/market/books`` answers).  Field lists follow OKX's docs-v5 channel
pages (mirrored 2025-2026); fields the simulator has no value for are sent as
OKX sends an empty value (``""``), never left out, so a client's parser meets
OKX's shape.  *Uncertain* fields are marked.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Final

from .instruments import Instrument, rest_item
from .market_book import ASKS, BIDS, Level
from .views import fmt

Rows = list[list[str]]
# The third element of a book row: "deprecated, always 0" (was liquidated orders).
_DEPRECATED: Final = "0"
# Funding (*uncertain* values: the simulator charges no funding).
FUNDING_INTERVAL_MS: Final = 8 * 3_600_000
FUNDING_RATE: Final = "0.0001"


def rows(levels: list[tuple[Decimal, Level]]) -> Rows:
    """Book rows ``[px, sz, "0", orderCount]`` (books, books5, bbo-tbt, REST books)."""
    return [[fmt(px), fmt(sz), _DEPRECATED, str(n)] for px, (sz, n) in levels]


def spread_rows(levels: list[tuple[Decimal, Level]]) -> Rows:
    """Spread book rows ``[px, sz, orderCount]`` (sprd-books5, sprd-bbo-tbt)."""
    return [[fmt(px), fmt(sz), str(n)] for px, (sz, n) in levels]


def delta_rows(changes: list[tuple[Decimal, Level | None]]) -> Rows:
    """Update rows; a deleted level is ``[px, "0", "0", "0"]`` (size 0 deletes)."""
    return [
        [fmt(px), "0", _DEPRECATED, "0"]
        if level is None
        else [fmt(px), fmt(level[0]), _DEPRECATED, str(level[1])]
        for px, level in changes
    ]


def book_item(bids: Rows, asks: Rows, ts: int, seq_id: int, prev_seq_id: int) -> dict[str, Any]:
    """books / books-l2-tbt / books50-l2-tbt: checksum is always 0 since 2026-06-23."""
    return {
        "asks": asks,
        "bids": bids,
        "ts": str(ts),
        "checksum": 0,
        "prevSeqId": prev_seq_id,
        "seqId": seq_id,
    }


def books5_item(inst_id: str, bids: Rows, asks: Rows, ts: int, seq_id: int) -> dict[str, Any]:
    return {"asks": asks, "bids": bids, "instId": inst_id, "ts": str(ts), "seqId": seq_id}


def bbo_item(bids: Rows, asks: Rows, ts: int, seq_id: int) -> dict[str, Any]:
    return {"asks": asks, "bids": bids, "ts": str(ts), "seqId": seq_id}


def spread_book_item(bids: Rows, asks: Rows, ts: int) -> dict[str, Any]:
    return {"asks": asks, "bids": bids, "ts": str(ts)}


def rest_book(bids: Rows, asks: Rows, ts: int, seq_id: int) -> dict[str, Any]:
    """One item of GET /api/v5/market/books.  ``seqId`` is what OKX's resync procedure
    compares with the stream's (log_en, 2026-02-12); an integer like the stream's
    (*uncertain*: OKX's REST page may send it as a string)."""
    return {"asks": asks, "bids": bids, "ts": str(ts), "seqId": seq_id}


def ticker_item(
    inst: Instrument,
    last: tuple[Decimal, Decimal],
    bid: tuple[Decimal, Level] | None,
    ask: tuple[Decimal, Level] | None,
    day: tuple[Decimal, Decimal, Decimal, Decimal],
) -> dict[str, Any]:
    """tickers: last trade, best bid / ask, 24 h open / high / low / volume.  ``day``
    is (open, high, low, volume in base or contracts); volCcy24h is volume x price
    (*uncertain* for derivatives, where OKX gives it in the base currency)."""
    open_, high, low, vol = day
    return {
        "instType": inst.inst_type,
        "instId": inst.inst_id,
        "last": fmt(last[0]),
        "lastSz": fmt(last[1]),
        "askPx": fmt(ask[0]) if ask else "",
        "askSz": fmt(ask[1][0]) if ask else "",
        "bidPx": fmt(bid[0]) if bid else "",
        "bidSz": fmt(bid[1][0]) if bid else "",
        "open24h": fmt(open_),
        "high24h": fmt(high),
        "low24h": fmt(low),
        "sodUtc0": fmt(open_),
        "sodUtc8": fmt(open_),
        "volCcy24h": fmt(vol * last[0]),
        "vol24h": fmt(vol),
    }


def trade_item(
    inst_id: str, trade_id: str, px: Decimal, sz: Decimal, side: str, ts: int, count: int
) -> dict[str, Any]:
    """trades: an aggregate of ``count`` trades at one price and side; ``tradeId`` is
    the last one's.  ``source`` "0" is a normal order (*uncertain*: "1" marks RPI)."""
    return {
        "instId": inst_id,
        "tradeId": trade_id,
        "px": fmt(px),
        "sz": fmt(sz),
        "side": side,
        "ts": str(ts),
        "count": str(count),
        "source": "0",
    }


def trade_all_item(
    inst_id: str, trade_id: str, px: Decimal, sz: Decimal, side: str, ts: int
) -> dict[str, Any]:
    """trades-all: one trade per push."""
    return {
        "instId": inst_id,
        "tradeId": trade_id,
        "px": fmt(px),
        "sz": fmt(sz),
        "side": side,
        "source": "0",
        "ts": str(ts),
    }


def sprd_trade_item(
    sprd_id: str, trade_id: str, px: Decimal, sz: Decimal, side: str, ts: int
) -> dict[str, Any]:
    """sprd-public-trades: one spread trade per push."""
    return {
        "sprdId": sprd_id,
        "tradeId": trade_id,
        "px": fmt(px),
        "sz": fmt(sz),
        "side": side,
        "ts": str(ts),
    }


def mark_price_item(inst: Instrument, px: Decimal, ts: int) -> dict[str, Any]:
    inst_type = "MARGIN" if inst.inst_type == "SPOT" else inst.inst_type
    return {"instType": inst_type, "instId": inst.inst_id, "markPx": fmt(px), "ts": str(ts)}


def index_item(
    index: str, px: Decimal, day: tuple[Decimal, Decimal, Decimal], ts: int
) -> dict[str, Any]:
    open_, high, low = day
    return {
        "instId": index,
        "idxPx": fmt(px),
        "high24h": fmt(high),
        "low24h": fmt(low),
        "open24h": fmt(open_),
        "sodUtc0": fmt(open_),
        "sodUtc8": fmt(open_),
        "ts": str(ts),
    }


def funding_item(inst: Instrument, now_ms: int) -> dict[str, Any]:
    """funding-rate: a constant rate, settled every 8 hours (*uncertain*: the simulator
    charges no funding; the fields are OKX's, the values a placeholder)."""
    next_time = (now_ms // FUNDING_INTERVAL_MS + 1) * FUNDING_INTERVAL_MS
    return {
        "instType": inst.inst_type,
        "instId": inst.inst_id,
        "method": "current_period",
        "formulaType": "withRate",
        "fundingRate": FUNDING_RATE,
        "nextFundingRate": "",
        "fundingTime": str(next_time),
        "nextFundingTime": str(next_time + FUNDING_INTERVAL_MS),
        "minFundingRate": "-0.0075",
        "maxFundingRate": "0.0075",
        "interestRate": "0.0001",
        "impactValue": "",
        "premium": "0",
        "settState": "settled",
        "settFundingRate": FUNDING_RATE,
        "ts": str(now_ms),
    }


def candle_row(
    start: int, ohlc: tuple[Decimal, Decimal, Decimal, Decimal], vol: Decimal, confirm: bool
) -> list[str]:
    """candle<bar>: ``[ts, o, h, l, c, vol, volCcy, volCcyQuote, confirm]``; volCcy and
    volCcyQuote are vol x close here (*uncertain* for derivatives)."""
    o, h, low, c = ohlc
    return [
        str(start),
        fmt(o),
        fmt(h),
        fmt(low),
        fmt(c),
        fmt(vol),
        fmt(vol * c),
        fmt(vol * c),
        "1" if confirm else "0",
    ]


def instrument_item(inst: Instrument, inst_type: str, *, delisted: bool = False) -> dict[str, Any]:
    """instruments: the REST listing's item; a delisted one is pushed once with state
    ``expired`` (*uncertain*: OKX may use another state for a spot delisting)."""
    item = rest_item(inst, inst_type)
    if delisted:
        item["state"] = "expired"
    return item


__all__ = [
    "ASKS",
    "BIDS",
    "bbo_item",
    "book_item",
    "books5_item",
    "candle_row",
    "delta_rows",
    "funding_item",
    "index_item",
    "instrument_item",
    "mark_price_item",
    "rest_book",
    "rows",
    "spread_book_item",
    "spread_rows",
    "sprd_trade_item",
    "ticker_item",
    "trade_all_item",
    "trade_item",
]
