"""The simulator's instrument table, and each instrument as OKX's REST API lists it.

Every instrument carries a fixed ``inst_id_code``: OKX's six order operations
identify the instrument by that integer since 2026, and clients load the
mapping from ``GET /api/v5/public/instruments``.  The codes of the default
table are literals, not an enumeration, so adding an instrument never shifts
another one's code (a client that cached a code across a restart keeps a valid
one).  An instrument built without a code gets one derived from its instId by
CRC-32: the same on every run and every machine.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from . import codes

# instTypes /api/v5/public/instruments serves.  SPREAD instruments are the sim's
# own spread-trading books (sprdId); OKX lists those elsewhere.
REST_INST_TYPES: Final = ("SPOT", "MARGIN", "SWAP", "FUTURES", "OPTION")
LIST_TIME_MS: Final = 1606468572000  # listTime of every default instrument
_DERIVED_CODE_BASE: Final = 1_000_000  # derived codes stay clear of the table's literals


@dataclass(frozen=True)
class Instrument:
    """One tradable instrument; the fields after ``ct_val`` exist for the REST listing."""

    inst_id: str
    inst_type: str  # SPOT, SWAP, FUTURES, OPTION, SPREAD
    ref_px: Decimal
    depth: Decimal  # most that fills at ref_px per order
    base: str = ""
    quote: str = ""
    settle: str = ""
    inst_family: str = ""
    ct_val: Decimal = Decimal(1)
    inst_id_code: int = 0  # 0: derive a stable code from inst_id (see derived_code)
    tick_sz: str = "0.01"
    lot_sz: str = "1"
    min_sz: str = "1"
    lever: str = ""  # max leverage; for SPOT non-empty means margin-enabled (listed under MARGIN)
    ct_type: str = ""  # linear / inverse (SWAP, FUTURES)
    ct_val_ccy: str = ""
    opt_type: str = ""  # C / P
    stk: str = ""
    exp_time: int = 0  # ms; 0 = none
    list_time: int = LIST_TIME_MS
    state: str = "live"
    # SPOT: the quote currencies an order may trade in (tradeQuoteCcy), the pair's own
    # first; () means just the pair's quote.  Empty for other instTypes.
    trade_quote_ccys: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.inst_id_code == 0:
            object.__setattr__(self, "inst_id_code", derived_code(self.inst_id))
        if type(self.inst_id_code) is not int or self.inst_id_code <= 0:
            raise ValueError(f"inst_id_code must be a positive int, got {self.inst_id_code!r}")
        if self.inst_type == "SPOT" and not self.trade_quote_ccys:
            object.__setattr__(self, "trade_quote_ccys", (self.quote,))

    @property
    def margin_enabled(self) -> bool:
        return self.inst_type == "SPOT" and self.lever != ""

    @property
    def margin_code(self) -> int:
        """The instIdCode of this pair's MARGIN listing (see codes.MARGIN_CODE_OFFSET)."""
        return self.inst_id_code + codes.MARGIN_CODE_OFFSET


def derived_code(inst_id: str) -> int:
    """A positive code from ``inst_id`` alone: stable across runs, unlike ``hash()``."""
    return _DERIVED_CODE_BASE + zlib.crc32(inst_id.encode()) % 900_000_000


def _ms(iso_date: str) -> int:
    """08:00 UTC of ``YYYY-MM-DD`` in ms: OKX's delivery / exercise time."""
    from datetime import datetime, timezone

    day = datetime.strptime(iso_date, "%Y-%m-%d").replace(hour=8, tzinfo=timezone.utc)
    return int(day.timestamp() * 1000)


def _spot(
    inst_id: str,
    code: int,
    ref: str,
    depth: str,
    tick: str,
    lot: str,
    minimum: str,
    lever: str,
    trade_quote_ccys: tuple[str, ...] = (),
) -> Instrument:
    base, quote = inst_id.split("-")
    return Instrument(
        inst_id,
        "SPOT",
        Decimal(ref),
        Decimal(depth),
        base,
        quote,
        quote,
        inst_id_code=code,
        tick_sz=tick,
        lot_sz=lot,
        min_sz=minimum,
        lever=lever,
        trade_quote_ccys=trade_quote_ccys,
    )


def _linear(
    inst_id: str, inst_type: str, code: int, ref: str, ct_val: str, tick: str, exp: int = 0
) -> Instrument:
    base, quote = inst_id.split("-")[:2]
    return Instrument(
        inst_id,
        inst_type,
        Decimal(ref),
        Decimal("1000"),
        base,
        quote,
        quote,
        f"{base}-{quote}",
        Decimal(ct_val),
        inst_id_code=code,
        tick_sz=tick,
        lot_sz="0.01",
        min_sz="0.01",
        lever="100" if inst_type == "SWAP" else "50",
        ct_type="linear",
        ct_val_ccy=base,
        exp_time=exp,
    )


def _option(inst_id: str, code: int, ref: str, ct_val: str) -> Instrument:
    base, quote, expiry, strike, kind = inst_id.split("-")
    return Instrument(
        inst_id,
        "OPTION",
        Decimal(ref),
        Decimal("100"),
        base,
        quote,
        base,
        f"{base}-{quote}",
        Decimal(ct_val),
        inst_id_code=code,
        tick_sz="0.0005",
        ct_val_ccy=base,
        opt_type=kind,
        stk=strike,
        exp_time=_ms(f"20{expiry[:2]}-{expiry[2:4]}-{expiry[4:]}"),
    )


def _spread(sprd_id: str, code: int, ref: str, depth: str) -> Instrument:
    base, quote = sprd_id.split("-")[:2]
    quote = quote.split("_")[0]
    return Instrument(
        sprd_id, "SPREAD", Decimal(ref), Decimal(depth), base, quote, quote, inst_id_code=code
    )


_USDC_QUOTES: Final = ("USDC", "USD")


def default_instruments() -> dict[str, Instrument]:
    """The default table.  Codes are fixed here: never renumber, only append."""
    items = [
        _spot("BTC-USDT", 10001, "50000", "5", "0.1", "0.00000001", "0.00001", "10"),
        _spot("ETH-USDT", 10002, "3000", "10", "0.01", "0.000001", "0.0001", "10"),
        _spot("ETH-BTC", 10003, "0.06", "100", "0.00001", "0.000001", "0.001", ""),  # no margin
        _linear("BTC-USDT-SWAP", "SWAP", 20001, "50000", "0.01", "0.1"),
        _linear("ETH-USDT-SWAP", "SWAP", 20002, "3000", "0.1", "0.01"),
        _linear("BTC-USDT-261225", "FUTURES", 30001, "51000", "0.01", "0.1", _ms("2026-12-25")),
        _option("BTC-USD-251226-60000-C", 40001, "0.05", "0.01"),
        _option("BTC-USD-251226-60000-P", 40002, "0.08", "0.01"),
        _option("BTC-USD-251226-40000-P", 40003, "0.01", "0.01"),
        _option("ETH-USD-251226-4000-C", 40004, "0.04", "0.1"),
        _spread("BTC-USDT_BTC-USDT-SWAP", 50001, "25", "100"),
        _spread("ETH-USDT_ETH-USDT-SWAP", 50002, "2", "1000"),
        # Since 2026-09-30 the USDC pairs also trade in USD (tradeQuoteCcy=USD).
        _spot("BTC-USDC", 10004, "50000", "5", "0.1", "0.00000001", "0.00001", "", _USDC_QUOTES),
        _spot("ETH-USDC", 10005, "3000", "10", "0.01", "0.000001", "0.0001", "", _USDC_QUOTES),
    ]
    return {i.inst_id: i for i in items}


# OKX merged its USD spot books into USDC on 2026-09-30 (log_zh "USD 现货交易对迁移"):
# the Crypto-USD pairs were delisted, their instId / instIdCode are not mapped to the
# USDC pair ("Crypto-USD 产品 ID 不会映射为 Crypto-USDC 产品 ID"), and an order still
# naming them fails.  The simulator lists none of them; these are the codes they had
# here, kept so that tests can send one (51001) and so that no instrument reuses them.
RETIRED_SPOT: Final[dict[str, int]] = {"BTC-USD": 19001, "ETH-USD": 19002}
RETIRED_CODES: Final = frozenset(RETIRED_SPOT.values())


def _dec(value: Decimal) -> str:
    return format(value.normalize(), "f") if value != value.to_integral_value() else str(int(value))


def rest_item(inst: Instrument, inst_type: str | None = None) -> dict[str, Any]:
    """``inst`` as one item of /api/v5/public/instruments, listed under ``inst_type``
    (default its own; ``"MARGIN"`` for a margin-enabled SPOT pair).

    Fields that do not apply to an instType are ``""`` as OKX sends them.
    *Uncertain*: OKX's docs say uly/instFamily apply to MARGIN; we send the pair
    (``BTC-USDT``) there.  Its SPOT example shows ``lever`` on a spot pair although
    the field is documented "not applicable to SPOT": we follow the example.
    """
    as_type = inst_type or inst.inst_type
    spot_like = as_type in ("SPOT", "MARGIN")
    deriv = not spot_like
    family = inst.inst_id if as_type == "MARGIN" else inst.inst_family
    return {
        "instType": as_type,
        "instId": inst.inst_id,
        "instIdCode": inst.margin_code if as_type == "MARGIN" else inst.inst_id_code,
        "uly": family if as_type != "SPOT" else "",
        "instFamily": family if as_type != "SPOT" else "",
        "baseCcy": inst.base if spot_like else "",
        "quoteCcy": inst.quote if spot_like else "",
        "settleCcy": inst.settle if deriv else "",
        "ctVal": _dec(inst.ct_val) if deriv else "",
        "ctMult": "1" if deriv else "",
        "ctValCcy": inst.ct_val_ccy if deriv else "",
        "ctType": inst.ct_type if as_type in ("SWAP", "FUTURES") else "",
        "optType": inst.opt_type if as_type == "OPTION" else "",
        "stk": inst.stk if as_type == "OPTION" else "",
        "listTime": str(inst.list_time),
        "expTime": str(inst.exp_time) if inst.exp_time else "",
        "lever": inst.lever if as_type != "OPTION" else "",
        "tickSz": inst.tick_sz,
        "lotSz": inst.lot_sz,
        "minSz": inst.min_sz,
        "alias": "",
        "ruleType": "normal",
        "state": inst.state,
        # *Uncertain* whether OKX sends it on non-SPOT listings; [] there.
        "tradeQuoteCcyList": list(inst.trade_quote_ccys) if spot_like else [],
    }


__all__ = [
    "REST_INST_TYPES",
    "RETIRED_CODES",
    "RETIRED_SPOT",
    "Instrument",
    "default_instruments",
    "derived_code",
    "rest_item",
]
