"""What to do about the OKX error codes a trader meets since OKX's 2026 changes.

One table, read by :class:`~okx_ws_core.errors.OkxApiError` (its message and
:attr:`~okx_ws_core.errors.OkxApiError.hints`): OKX's own message says what
went wrong, the hint says what to do about it.  Each entry names the date
and the changelog entry it comes from; add a row when OKX introduces a code
(README, "Keeping up with OKX").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class CodeHint:
    """OKX's meaning of ``code`` and what the caller can do about it."""

    code: str
    meaning: str
    action: str
    since: str  # the date OKX introduced (or redefined) the code
    source: str
    uncertain: str = ""

    def __str__(self) -> str:
        return f"{self.code}: {self.meaning}; {self.action}"


# What to check when OKX refuses the credentials: the login's and the signed REST's.
CREDENTIALS_CHECK: Final = "Check api_key/api_secret/api_passphrase, demo_trading"


def clock_hint(what: str) -> str:
    """The hint of a ``what`` ("login", "request") refused for its timestamp."""
    return f"The {what} timestamp is off: correct the clock with set_time_offset_ms()."


HINTS: Final[dict[str, CodeHint]] = {
    hint.code: hint
    for hint in (
        CodeHint(
            "50014",
            "a required parameter is missing; since 2026 the order ops need instIdCode",
            "pass instId and let the client fill in instIdCode, or pass instIdCode yourself",
            "2026-03-26",
            'OKX changelog (log_zh) 2026-03-26 and 2026-04-07, "下线 WS 订单操作频道中的 instId 请求参数"',
        ),
        CodeHint(
            "51001",
            "Instrument ID, Instrument ID code or Spread ID doesn't exist",
            "check the instId (OKX retired its Crypto-USD spot pairs on 2026-09-30: trade the"
            " USDC pair with tradeQuoteCcy='USD'); the client drops the cached instIdCode",
            "2025-12-01",
            "OKX error code list (docs copy of 2026-07-20)",
            uncertain="the date the message began naming the code",
        ),
        CodeHint(
            "54051",
            "the rpi order is below RPI's minimum notional (SPOT 500, FUTURES 2,000, SWAP 5,000 USD)",
            "raise its size above the minimum, or use another ordType than rpi",
            "2026-08-18",
            'OKX changelog (log_zh) "RPI 挂单最小名义金额限制" (2026-08-18; thresholds 2026-09-15)',
        ),
        CodeHint(
            "54094",
            "the cool-off period is active for this instId: OKX refuses orders that are not"
            " reduce-only on this SWAP or FUTURES instrument",
            "send reduceOnly orders only, or wait until the cool-off period ends",
            "2026-07-07",
            'OKX changelog (log_zh) "合约冷静期下单拦截" (last updated 2026-06-23)',
            uncertain="the dated heading was not seen; 2026-07-07 is the announced date",
        ),
        CodeHint(
            "54109",
            "USDC trading is not activated for this account",
            'activate it once with POST /api/v5/account/activate-feature {"feature": "1"}'
            " (shared by master and sub-accounts), then send the order again; to keep trading"
            " in USD on a Crypto-USDC pair send tradeQuoteCcy='USD'",
            "2026-09-30",
            'OKX changelog (log_zh) "USD 现货交易对迁移" (54109 text last updated 2026-09-11)',
        ),
        CodeHint(
            "59113",
            "placing orders needs KYC level 2 or above (live trading)",
            "complete identity verification level 2 on OKX; demo trading is not affected",
            "2026-04-07",
            "OKX changelog (log_zh) 2026-04-07",
        ),
        CodeHint(
            "64003",
            "your trading fee tier does not give access to this channel (fills: VIP4 and up)",
            "subscribe to the orders channel instead: its pushes carry every fill",
            "2026-04-07",
            "OKX changelog (log_zh) 2026-04-07 (replaces 60029/60030)",
        ),
    )
}


def hint_for(code: object) -> CodeHint | None:
    """The hint for an OKX code (``"54109"`` or ``54109``), ``None`` if there is none."""
    return HINTS.get(str(code))
