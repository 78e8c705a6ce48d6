"""OKX's market-data channels as the simulator serves them: its own table.

Transcribed by hand from OKX's documentation and changelog, deliberately NOT
derived from the client's spec: a channel the client names wrongly, puts on the
wrong connection or subscribes with the wrong key must fail here.  Each row says
on which connection the channel lives, which key names what it follows, whether
it needs a login, how deep its book is and what paces its pushes
(``MarketRates``).  Sources (mirrored copies; dates are OKX's):

- "WS / Tickers, Trades, All trades, Order book, Instruments, Mark price,
  Funding rate, Index tickers, Candlesticks" channel pages and the spread
  "WS / Order book (sprd-books5), BBO (sprd-bbo-tbt), Public trades" pages of
  docs-v5 (as mirrored 2025-2026): connection, arg keys, push fields, push pace.
  Candlesticks and ``trades-all`` live on ``/ws/v5/business`` since 2023-06-20
  (OKX help centre "Changes to V5 API WebSocket subscription parameter and URL",
  updated 2024-04-04); the spread channels are business channels too.
- OKX notice 2022-04-14 (help/5399923178253): ``bbo-tbt`` new (tick by tick, level
  1); ``books5`` every 100 ms; ``books-l2-tbt`` and ``books50-l2-tbt`` need a login
  and a VIP tier ("identity verification required before subscription").  ccxt
  #12995 (2022-04-25) and cryptofeed #845 (2022-05-12) quote the refusal without
  login on /ws/v5/public: ``{"event":"error","msg":"Please log in","code":"60011"}``;
  okx-api #140 (2025-09-04) confirms the login happens on the public connection.
  Tiers today: VIP6+ for ``books-l2-tbt``, VIP5+ for ``books50-l2-tbt``
  (shared/okx-protocol.md, 2026-12; *uncertain*).  The simulator has no fee tiers
  and serves every logged-in account (as it does ``fills``).
- Changelog (log_en, notice of 2026-05-21): ``checksum`` of books, books-l2-tbt
  and books50-l2-tbt deprecated on 2026-06-23 (demo 2026-06-02): still present,
  always 0; books5 and bbo-tbt carry none.  The plan of 2026-02-12 to drop the
  initial snapshot was not carried out (shared/okx-protocol.md): a snapshot with
  ``prevSeqId: -1`` still opens every incremental subscription (*uncertain*
  whether OKX will drop it).
- Changelog (log_zh, 2026-09-30): the ``instruments`` channel pushes only the
  instruments that changed after the full list on subscribing.

Where a code or a message is not documented, the choice is marked *uncertain*.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import Any, Final

from . import codes
from .instruments import REST_INST_TYPES, Instrument

# What a channel's arg names (its one required key besides "channel").
INST_ID: Final = "instId"
SPRD_ID: Final = "sprdId"
INST_TYPE: Final = "instType"
INDEX: Final = "index"  # instId holding an index name (index-tickers)

# How a channel's data is made.
INCREMENTAL: Final = "incremental"  # snapshot then updates chained by seqId/prevSeqId
BOOK_SNAPSHOT: Final = "book_snapshot"  # every push is the top N levels (replace)
TICKER: Final = "ticker"
TRADES: Final = "trades"  # aggregated per push (count)
TRADE_EACH: Final = "trade_each"  # one trade per push (trades-all, sprd-public-trades)
INSTRUMENTS: Final = "instruments"
MARK_PRICE: Final = "mark_price"
FUNDING: Final = "funding"
INDEX_TICKER: Final = "index_ticker"
CANDLE: Final = "candle"


@dataclass(frozen=True, slots=True)
class MarketChannel:
    name: str
    kind: str  # public / business
    key: str  # INST_ID, SPRD_ID, INST_TYPE or INDEX
    data: str  # how its data is made (constants above)
    rate: str  # the MarketRates field pacing it ("" : pushed on change only)
    depth: int = 0  # levels per side of a book channel
    login: bool = False  # needs a login on its (public) connection
    inst_types: frozenset[str] = frozenset()  # instTypes it serves (empty: all but SPREAD)


_DERIVS: Final = frozenset({"SWAP", "FUTURES", "OPTION"})
CHANNELS: Final[dict[str, MarketChannel]] = {
    c.name: c
    for c in (
        # "The fastest rate is 1 update/100ms. There will be no update if the event is
        # not triggered."
        MarketChannel("tickers", "public", INST_ID, TICKER, "tickers"),
        # "Data will be pushed whenever there is a trade. Every update may aggregate
        # multiple trades" (count).
        MarketChannel("trades", "public", INST_ID, TRADES, "trades"),
        # business; "Every update contains only one trade".
        MarketChannel("trades-all", "business", INST_ID, TRADE_EACH, "trades"),
        # 5 levels, a snapshot every 100 ms when they change (notice 2022-04-14).
        MarketChannel("books5", "public", INST_ID, BOOK_SNAPSHOT, "books5", depth=5),
        # 1 level, tick by tick: every 10 ms when it changes.
        MarketChannel("bbo-tbt", "public", INST_ID, BOOK_SNAPSHOT, "bbo_tbt", depth=1),
        # 400 levels: snapshot, then the levels changed in each 100 ms.
        MarketChannel("books", "public", INST_ID, INCREMENTAL, "books", depth=400),
        # 400 / 50 levels, changes every 10 ms; login (and a VIP tier) required.
        MarketChannel(
            "books-l2-tbt", "public", INST_ID, INCREMENTAL, "l2_tbt", depth=400, login=True
        ),
        MarketChannel(
            "books50-l2-tbt", "public", INST_ID, INCREMENTAL, "l2_tbt", depth=50, login=True
        ),
        # Full list on subscribing, then only what changed (log_zh 2026-09-30).
        MarketChannel("instruments", "public", INST_TYPE, INSTRUMENTS, ""),
        # "pushed every 200 ms when the mark price changes, and every 10 seconds when
        # it does not"; derivatives and margin pairs (*uncertain* for SPOT pairs: OKX
        # computes a mark price for margin trading).
        MarketChannel(
            "mark-price", "public", INST_ID, MARK_PRICE, "mark_price", inst_types=_DERIVS
        ),
        # SWAP only; "pushed in 30s to 90s".
        MarketChannel(
            "funding-rate",
            "public",
            INST_ID,
            FUNDING,
            "funding_rate",
            inst_types=frozenset({"SWAP"}),
        ),
        # instId is an index (BTC-USDT); "every 100ms if there are any price updates".
        MarketChannel("index-tickers", "public", INDEX, INDEX_TICKER, "index_tickers"),
        # business spread channels: 1 level every 10 ms / 5 levels every 100 ms on
        # change; public trades as they happen.
        MarketChannel(
            "sprd-bbo-tbt",
            "business",
            SPRD_ID,
            BOOK_SNAPSHOT,
            "sprd_bbo_tbt",
            depth=1,
            inst_types=frozenset({"SPREAD"}),
        ),
        MarketChannel(
            "sprd-books5",
            "business",
            SPRD_ID,
            BOOK_SNAPSHOT,
            "sprd_books5",
            depth=5,
            inst_types=frozenset({"SPREAD"}),
        ),
        MarketChannel(
            "sprd-public-trades",
            "business",
            SPRD_ID,
            TRADE_EACH,
            "trades",
            inst_types=frozenset({"SPREAD"}),
        ),
    )
}
# Candlesticks: "candle" + a bar, on /ws/v5/business.  "Fastest rate 1 update/500ms"
# (*uncertain*: OKX's page gives no pace for every bar).  Bars as OKX lists them; the
# "utc" variants open at 00:00 UTC rather than Hong Kong time.
CANDLE_PREFIX: Final = "candle"
_BAR_UNITS: Final = {"s": 1_000, "m": 60_000, "H": 3_600_000, "D": 86_400_000, "W": 604_800_000}
# A month is 30 days here (*uncertain*: OKX opens monthly bars on calendar months).
_BAR_UNITS_MONTH: Final = 30 * 86_400_000
BARS: Final = frozenset(
    "1s 1m 3m 5m 15m 30m 1H 2H 4H 6H 12H 1D 2D 3D 5D 1W 1M 3M "
    "6Hutc 12Hutc 1Dutc 2Dutc 3Dutc 5Dutc 1Wutc 1Mutc 3Mutc".split()
)
_BAR = re.compile(r"([0-9]+)([smHDWM])(utc)?")
_CANDLE_CHANNEL: Final = MarketChannel("candle", "business", INST_ID, CANDLE, "candle")

# The channels whose books cannot be combined on one connection for one instrument.
# OKX's order-book page: books-l2-tbt cannot be subscribed together with books50-l2-tbt
# or books for the same instrument.  The error it answers is *uncertain* (undocumented):
# 60012 "Invalid request" with a message naming the rule is our choice.
EXCLUSIVE: Final = "books-l2-tbt"
EXCLUSIVE_WITH: Final = frozenset({"books", "books50-l2-tbt"})
COMBINATION_CODE: Final = codes.INVALID_REQUEST
COMBINATION_MSG: Final = (
    "Invalid request: books-l2-tbt cannot be subscribed together with books or"
    " books50-l2-tbt for {inst_id} on one connection"
)


def bar_ms(bar: str) -> int:
    """Length of a candle bar in ms (ValueError if OKX has no such bar)."""
    match = _BAR.fullmatch(bar)
    if bar not in BARS or match is None:
        raise ValueError(f"no candle bar {bar!r}")
    n, unit = int(match.group(1)), match.group(2)
    return n * (_BAR_UNITS_MONTH if unit == "M" else _BAR_UNITS[unit])


def lookup(conn_kind: str, channel: str) -> MarketChannel | None:
    """The market channel ``channel`` names on a ``conn_kind`` connection, or None
    (not a market channel, or not served there: 60018)."""
    rule = CHANNELS.get(channel)
    if rule is None and channel.startswith(CANDLE_PREFIX) and channel[6:] in BARS:
        rule = _CANDLE_CHANNEL
    return rule if rule is not None and rule.kind == conn_kind else None


def is_market_channel(channel: str) -> bool:
    """Is ``channel`` one of the market channels on any connection?"""
    return channel in CHANNELS or (channel.startswith(CANDLE_PREFIX) and channel[6:] in BARS)


def index_source(index: str, instruments: dict[str, Instrument]) -> Instrument | None:
    """The instrument whose mid price stands for index ``index``: the spot pair of that
    name, else a SWAP / FUTURES of that family (*uncertain*: OKX's index is a weighted
    average of several venues; the simulator has one market)."""
    inst = instruments.get(index)
    if inst is not None and inst.inst_type == "SPOT":
        return inst
    for inst in instruments.values():
        if inst.inst_type in ("SWAP", "FUTURES") and inst.inst_family == index:
            return inst
    return None


def target(
    rule: MarketChannel, arg: dict[str, Any], instruments: dict[str, Instrument]
) -> str | None:
    """What the arg follows (an instId, sprdId, instType or index), or None when it names
    nothing the simulator has (60018).  The arg's keys were checked before."""
    value = arg[rule.key if rule.key != INDEX else INST_ID]
    if rule.key == INST_TYPE:
        return value if value in REST_INST_TYPES else None
    if rule.key == INDEX:
        return value if index_source(value, instruments) is not None else None
    inst = instruments.get(value)
    if inst is None:
        return None
    if rule.inst_types:
        ok = inst.inst_type in rule.inst_types or (
            rule.name == "mark-price" and inst.margin_enabled
        )
        return value if ok else None
    return value if inst.inst_type != "SPREAD" else None


def check_keys(rule: MarketChannel, arg: dict[str, Any]) -> bool:
    """The arg has the channel's one key, a non-empty string, and nothing else."""
    key = INST_ID if rule.key == INDEX else rule.key
    value = arg.get(key)
    return isinstance(value, str) and bool(value) and set(arg) == {"channel", key}


@dataclass
class MarketRates:
    """Seconds between pushes (or book changes), per what paces them.  OKX's own pace
    where it documents one; ``walk`` (how often the synthetic book changes) and
    ``heartbeat`` (idle time before an empty update) are the simulator's.  Tests set
    them in milliseconds; every push happens only for subscribed pairs."""

    walk: float = 0.05  # a step of the synthetic market (one seqId) per instrument
    books: float = 0.1
    l2_tbt: float = 0.01
    books5: float = 0.1
    bbo_tbt: float = 0.01
    tickers: float = 0.1
    trades: float = 0.01  # how soon a fill is pushed on the trade channels
    mark_price: float = 0.2
    mark_price_idle: float = 10.0  # mark price re-sent unchanged after this long
    funding_rate: float = 30.0
    index_tickers: float = 0.1
    candle: float = 0.5
    sprd_bbo_tbt: float = 0.01
    sprd_books5: float = 0.1
    # OKX sends an empty update (seqId == prevSeqId) when a book did not change "for
    # a long time"; about 60 s (shared/okx-protocol.md; *uncertain*: OKX gives no number).
    heartbeat: float = 60.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"{f.name} must be a number of seconds >= 0")
            if value == 0 and f.name != "walk":
                raise ValueError(f"{f.name} must be > 0 (walk=0 freezes the market)")


__all__ = [
    "BARS",
    "CHANNELS",
    "COMBINATION_CODE",
    "COMBINATION_MSG",
    "EXCLUSIVE",
    "EXCLUSIVE_WITH",
    "MarketChannel",
    "MarketRates",
    "bar_ms",
    "check_keys",
    "index_source",
    "is_market_channel",
    "lookup",
    "target",
]
