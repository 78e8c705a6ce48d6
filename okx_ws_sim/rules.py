"""What OKX accepts in each WS API op's items: the simulator's own table.

Transcribed by hand from /work/shared/okx-protocol.md (the op table under
"instIdCode replaced instId" and "Field formats"), deliberately NOT derived from
the client's spec or generated models: a field the client's spec gets wrong must
fail against the simulator, not be accepted on both sides.

Each field has a kind (its JSON type and format) and, for enums, its choices.
Where the table and OKX's own docs differ, the table wins and a comment says so.

OKX's changes of 2026 (checked 2026-12 against OKX's changelog, docs-v5/log_zh as
mirrored day by day, and OKX's WS op pages as mirrored 2026-07):
- 2026-07-28 (prod; demo 07-23) ELP renamed RPI: ``ordType: "rpi"`` replaces ``"elp"``,
  ``rpiTakerAccess`` (Boolean, default false, every standard ordType, also on amends
  and never inherited by one) replaces ``isElpTakerAccess``, and ``rpiPxRound``
  (Boolean, default false; place and amend, REST and WS) is new.  Source: log_zh "ELP
  更名为 RPI（散户价格优化）计划", last updated 2026-07-27, dated entry 2026-07-28.
- 2026-10-31: the ELP names stop being accepted (same entry: "ELP 命名将于上述截止日期后
  停止支持").  So ``elp`` is no longer an ordType (51000 "Parameter ordType error", as any
  value OKX does not know) and ``isElpTakerAccess`` is no longer a field (refused like
  every unknown field, codes.UNKNOWN_FIELD_CODE).  *Uncertain*: OKX may instead ignore
  the retired field silently, as it documents for ``speedBump`` since 2026-07-24.
- ``pxAmendType`` (String "0" / "1", default "0"): on place and on amend, per OKX's
  "WS / Place order" (mirrored 2026-07-05) and "WS / Amend order" (2026-07-17) pages.
- ``tradeQuoteCcy`` (String, SPOT only, default the instId's quote currency): "WS /
  Place order" (2026-07-05); since 2026-09-30 (USD spot pairs merged into USDC) it must
  be one of the pair's ``tradeQuoteCcyList`` (log_zh "USD 现货交易对迁移", 2026-09-30).
  Its JSON type is checked here, its value against the instrument by the engine.
- ``slippagePct`` (String, 0 to 0.05, at most 4 decimals; SPOT and margin market
  orders): log_zh 2026-05-06 and "WS / Place order" (2026-07-05).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

# Field kinds.
CODE: Final = "code"  # a JSON integer (never a string, float or bool): instIdCode
STR: Final = "str"  # any non-empty string
DECIMAL: Final = "decimal"  # a decimal string: "0.1", "-5", "40000" (never a JSON number)
BOOL: Final = "bool"  # a JSON boolean (never "true")
ENUM: Final = "enum"  # a string out of `choices`
CL_ORD_ID: Final = "clOrdId"  # 1-32 alphanumerics (letters, digits or both)
TAG: Final = "tag"  # 1-16 alphanumerics
REQ_ID: Final = "reqId"  # 1-32 alphanumerics (OKX's docs; the protocol table is silent)
LOCK_INTERVAL: Final = "lockInterval"  # "0".."10000" as a string (OKX documents a String)

PATTERNS: Final[dict[str, re.Pattern[str]]] = {
    DECIMAL: re.compile(r"-?[0-9]+(\.[0-9]+)?"),
    # OKX's "WS / Place order" (copy of 2026-07-05): "a combination of case-sensitive
    # alphanumerics, all numbers, or all letters of up to 32 characters"; the
    # protocol notes' "starting with a letter" is not OKX's rule.
    CL_ORD_ID: re.compile(r"[A-Za-z0-9]{1,32}"),
    TAG: re.compile(r"[A-Za-z0-9]{1,16}"),
    REQ_ID: re.compile(r"[A-Za-z0-9]{1,32}"),
    LOCK_INTERVAL: re.compile(r"10000|[0-9]{1,4}"),
}


@dataclass(frozen=True)
class Field:
    kind: str
    choices: frozenset[str] = frozenset()


@dataclass(frozen=True)
class OpRule:
    """The fields of one op's item; ``required`` must be present and non-empty,
    at least one of ``one_of`` must be."""

    fields: Mapping[str, Field]
    required: tuple[str, ...] = ()
    one_of: tuple[str, ...] = ()
    has_inst_id_code: bool = False  # instIdCode replaces instId (legacy switch applies)


def _enum(*choices: str) -> Field:
    return Field(ENUM, frozenset(choices))


_S, _D, _B = Field(STR), Field(DECIMAL), Field(BOOL)
# instId: accepted for old bots and ignored when instIdCode is present (OKX's
# precedence rule); only Simulator(legacy_inst_id=True) lets it stand alone.
_INST = {"instIdCode": Field(CODE), "instId": _S}
_IDS = {"ordId": _S, "clOrdId": Field(CL_ORD_ID)}
# "0": refuse a price beyond the price limit, "1": amend it to the best allowed price.
# The simulator has no price limit, so both behave alike.
_PX_AMEND_TYPE = _enum("0", "1")

# The ordTypes of place-order (the engine reads the same set).
ORD_TYPES: Final = frozenset(
    {
        "market",
        "limit",
        "post_only",
        "fok",
        "ioc",
        "optimal_limit_ioc",
        "mmp",
        "mmp_and_post_only",
        "rpi",  # was "elp" (retired 2026-10-31)
    }
)

ORDER: Final[Mapping[str, Field]] = {
    **_INST,
    "tdMode": _enum("cash", "cross", "isolated", "spot_isolated"),
    "side": _enum("buy", "sell"),
    "ordType": Field(ENUM, ORD_TYPES),
    "sz": _D,
    "px": _D,
    "ccy": _S,
    "clOrdId": Field(CL_ORD_ID),
    "tag": Field(TAG),
    "posSide": _enum("long", "short", "net"),
    "reduceOnly": _B,
    "tgtCcy": _enum("base_ccy", "quote_ccy"),
    "banAmend": _B,
    "pxUsd": _D,
    "pxVol": _D,
    "stpMode": _enum("cancel_maker", "cancel_taker", "cancel_both"),
    "pxAmendType": _PX_AMEND_TYPE,
    "tradeQuoteCcy": _S,
    "rpiTakerAccess": _B,  # was isElpTakerAccess (retired 2026-10-31)
    "rpiPxRound": _B,
    "slippagePct": _D,  # SPOT / margin market orders; range and precision: the engine
}
CANCEL: Final[Mapping[str, Field]] = {**_INST, **_IDS}
AMEND: Final[Mapping[str, Field]] = {
    **_INST,
    **_IDS,
    "cxlOnFail": _B,
    "reqId": Field(REQ_ID),
    "newSz": _D,
    "newPx": _D,
    "newPxUsd": _D,
    "newPxVol": _D,
    "pxAmendType": _PX_AMEND_TYPE,
    "rpiTakerAccess": _B,  # not inherited from the order: absent means false
    "rpiPxRound": _B,
}
MASS_CANCEL: Final[Mapping[str, Field]] = {
    "instType": _enum("OPTION"),
    "instFamily": _S,
    "lockInterval": Field(LOCK_INTERVAL),
}
SPRD_ORDER: Final[Mapping[str, Field]] = {
    "sprdId": _S,
    "side": _enum("buy", "sell"),
    "ordType": _enum("market", "limit", "post_only", "ioc"),
    "sz": _D,
    "px": _D,
    "clOrdId": Field(CL_ORD_ID),
    "tag": Field(TAG),
}
SPRD_AMEND: Final[Mapping[str, Field]] = {**_IDS, "reqId": Field(REQ_ID), "newSz": _D, "newPx": _D}
SPRD_CANCEL: Final[Mapping[str, Field]] = dict(_IDS)
SPRD_MASS_CANCEL: Final[Mapping[str, Field]] = {"sprdId": _S}

_ORDER_RULE = OpRule(ORDER, ("instIdCode", "tdMode", "side", "ordType", "sz"), (), True)
_CANCEL_RULE = OpRule(CANCEL, ("instIdCode",), ("ordId", "clOrdId"), True)
_AMEND_RULE = OpRule(AMEND, ("instIdCode",), ("ordId", "clOrdId"), True)

RULES: Final[dict[str, OpRule]] = {
    "order": _ORDER_RULE,
    "batch-orders": _ORDER_RULE,
    "cancel-order": _CANCEL_RULE,
    "batch-cancel-orders": _CANCEL_RULE,
    "amend-order": _AMEND_RULE,
    "batch-amend-orders": _AMEND_RULE,
    "mass-cancel": OpRule(MASS_CANCEL, ("instType", "instFamily")),
    "sprd-order": OpRule(SPRD_ORDER, ("sprdId", "side", "ordType", "sz")),
    "sprd-amend-order": OpRule(SPRD_AMEND, (), ("ordId", "clOrdId")),
    "sprd-cancel-order": OpRule(SPRD_CANCEL, (), ("ordId", "clOrdId")),
    "sprd-mass-cancel": OpRule(SPRD_MASS_CANCEL),
}


# -- subscription arguments of the private and business channels ----------------------
# From OKX's docs-v5 channel pages (mirrored 2026-06), not from okx-protocol.md (which
# only sketches them): each channel's "Request Parameters" besides `channel`.
# `EVENTS` (event contracts) is documented for orders / positions; the simulator lists
# none, so it subscribes but never pushes.
@dataclass(frozen=True)
class ChannelRule:
    """A channel's subscription arg: its keys, those required, and whether its
    ``instId`` / ``sprdId`` / ``instFamily`` must name something the simulator lists."""

    fields: Mapping[str, Field]
    required: tuple[str, ...] = ()


_ORDERS_TYPES = _enum("SPOT", "MARGIN", "SWAP", "FUTURES", "OPTION", "EVENTS", "ANY")
_POSITIONS_TYPES = _enum("MARGIN", "SWAP", "FUTURES", "OPTION", "EVENTS", "ANY")
CHANNEL_RULES: Final[dict[str, ChannelRule]] = {
    "orders": ChannelRule(
        {"instType": _ORDERS_TYPES, "instFamily": _S, "instId": _S}, ("instType",)
    ),
    "fills": ChannelRule({"instId": _S}),
    "account": ChannelRule({"ccy": _S, "extraParams": _S}),
    "positions": ChannelRule(
        {"instType": _POSITIONS_TYPES, "instFamily": _S, "instId": _S, "extraParams": _S},
        ("instType",),
    ),
    "balance_and_position": ChannelRule({}),
    "sprd-orders": ChannelRule({"sprdId": _S}),
    "sprd-trades": ChannelRule({"sprdId": _S}),
}
