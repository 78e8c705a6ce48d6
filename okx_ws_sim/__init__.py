"""okx_ws_sim: an OKX-compatible WebSocket simulator on loopback.

Try bots without risking money, and run end-to-end tests, demos, chaos soaks
and benchmarks against it::

    async with Simulator(idle_timeout=5) as sim:
        url = sim.base_url + "/ws/v5/private"   # login with DEFAULT_API_KEY & co.
        sim.faults.drop_next_request("order")
        ...
        sim.find_order(cl_ord_id="abc1")

    with SimulatorThread() as sim:                # blocking code, demo
        ...

As OKX since 2026, order/amend/cancel items name the instrument by the integer
``instIdCode`` (``sim.inst_id_code("BTC-USDT")``, ``okx_ws_sim.testing.by_code``);
``Simulator(legacy_inst_id=True)`` also accepts items with only ``instId``.  The
mapping is served on the same port: ``GET {sim.rest_url}/api/v5/public/instruments
?instType=SPOT|MARGIN|SWAP|FUTURES|OPTION`` (``sim.rest_calls(path, inst_type)``
counts the answers).  ``sim.add_instrument(Instrument(...))`` lists a new
instrument, ``sim.remove_instrument(inst_id)`` delists one.  Items are checked
against the simulator's own table (``rules.py``), never the client's models.

It follows OKX's changes of 2026 (dates and sources in ``rules.py`` / ``codes.py``):
``ordType: "rpi"``, ``rpiTakerAccess``, ``rpiPxRound``, ``pxAmendType`` and
``tradeQuoteCcy`` are accepted, the retired ``elp`` / ``isElpTakerAccess`` refused
(51000); order and amend reply items carry ``subCode``; no Crypto-USD spot pair is
listed (``BTC-USDC`` / ``ETH-USDC`` trade in USDC or, with ``tradeQuoteCcy: "USD"``,
in USD; the old codes in ``instruments.RETIRED_SPOT`` answer 51001); an RPI order
below OKX's minimum notional gets 54051; a post-only or RPI order is pushed ``live``
only after its reply, and one that would cross only ``canceled``.

Private channels push what OKX's do, with OKX's fields: ``orders`` / ``sprd-orders``
(every order change), ``fills`` / ``sprd-trades`` (every fill), ``account``,
``positions`` and ``balance_and_position`` (a snapshot on subscribing, then each
change).  ``sim.fill(cl_ord_id="abc1", sz="0.1")`` fills a resting order as a
counterparty would (partially, then fully), pushing all of it; an order larger
than the book's depth fills partially at once.  ``sim.positions()`` lists the
open derivatives positions.

Signed REST queries (OK-ACCESS-* headers verified from OKX's formula, HTTP 401
and 501xx codes when refused): ``GET /api/v5/trade/order?instId=&ordId=|clOrdId=``,
``GET /api/v5/trade/orders-pending`` and ``GET /api/v5/sprd/order?ordId=|clOrdId=``
answer with the engine's orders (51603 when there is none).

OKX's rate limits are on by default, with OKX's numbers (``limits.py``): 50011
past an op's limit, 50061 past the sub-account ceiling, 60014 past 480
login/subscribe/unsubscribe per hour on a connection, HTTP 429 past 3
connection requests per second; ``Simulator(rate_limits=False)`` turns them
off, ``rate_limits=RateLimits(...)`` changes them.  ``Simulator(clock_offset_s=45)``
(or ``sim.clock_offset_s = 45`` at runtime) runs the simulator's clock ahead of
this machine's: logins signed with the local time then fail (60006) until the
client reads ``GET {sim.rest_url}/api/v5/public/time``.

A market (``sim.market``, market.py): a seeded random walk per instrument with a
ladder of 400 levels a side, in which the engine's resting orders appear at their
prices and fills appear as public trades.  Market channels are checked against the
simulator's own table (market_channels.py) and pushed only while subscribed:
``tickers``, ``trades``, ``books5``, ``bbo-tbt``, ``books``, ``books-l2-tbt`` and
``books50-l2-tbt`` (login on /ws/v5/public), ``instruments``, ``mark-price``,
``funding-rate``, ``index-tickers`` on public; ``trades-all``, ``candle<bar>``,
``sprd-bbo-tbt``, ``sprd-books5``, ``sprd-public-trades`` on business.  Books chain
by seqId / prevSeqId (snapshot prevSeqId -1, checksum 0, heartbeats, maintenance
resets); ``GET {sim.rest_url}/api/v5/market/books?instId=&sz=`` answers the
snapshot with its seqId.  ``Simulator(market_rates=MarketRates(books=0.005, ...))``
or ``sim.market.set_rates(...)`` paces them; ``sim.market.book_at(inst_id, seq_id)``
is the book a client must hold at that seqId; ``sim.market.freeze()`` stops the walk.

Faults (``sim.faults``, a FaultPlan; fired ones counted in ``sim.stats.faults_injected``,
armed ones in ``sim.faults.armed()`` / ``pending()`` / ``discarded()``):
``close_after_frames(n, each=False)``, ``drop_next_request(op=None, count=1)``,
``drop_after_execute(op=None, count=1)``, ``swallow_pongs(on=True)``,
``delay_replies(seconds, jitter=0.0)``, ``refuse_logins(count=1, code="60009")``,
``send_notice(close_after=0.2, kinds=("private", "business"))``,
``send_malformed(n=1, kinds=(all))``, ``fail_rest(count=1, status=503, path=None)``, ``skip_book_update(inst_id=None,
channel=None, count=1)`` (a gap), ``duplicate_book_update(...)``,
``reset_book_sequence(inst_id=None)`` (maintenance), ``delay_book_snapshot(seconds)``,
``hang_rest(count=1, seconds=5.0, path=None)``, ``reset()``; plus ``await sim.restart()``.

See ``codes.py`` for every error code it answers with (uncertain ones marked).
"""

from typing import TYPE_CHECKING, Any

from .auth import (
    DEFAULT_API_KEY,
    DEFAULT_API_SECRET,
    DEFAULT_PASSPHRASE,
    Account,
    login_args,
    sign,
)
from .clock import SimClock
from .engine import Engine
from .faults import DropKind, FaultPlan
from .hooks import SimHooks
from .instruments import Instrument, default_instruments
from .limits import OKX_OP_LIMITS, Limit, OpLimit, RateLimits, Scope
from .market import Market
from .market_channels import MarketRates
from .policy import Refusal
from .server import Simulator
from .stats import SimStats

if TYPE_CHECKING:
    from .thread import SimulatorThread


def __getattr__(name: str) -> Any:
    """``SimulatorThread`` on first use: it derives its methods with okx_ws_core's
    facade, which ``import okx_ws_sim`` alone must not load (the client's package)."""
    if name == "SimulatorThread":
        from .thread import SimulatorThread

        return SimulatorThread
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DEFAULT_API_KEY",
    "DEFAULT_API_SECRET",
    "DEFAULT_PASSPHRASE",
    "OKX_OP_LIMITS",
    "Account",
    "DropKind",
    "Engine",
    "FaultPlan",
    "Instrument",
    "Limit",
    "Market",
    "MarketRates",
    "OpLimit",
    "RateLimits",
    "Refusal",
    "Scope",
    "SimClock",
    "SimHooks",
    "SimStats",
    "Simulator",
    "SimulatorThread",
    "default_instruments",
    "login_args",
    "sign",
]
