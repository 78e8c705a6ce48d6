"""OKX's instId shapes: which instType (and family) an ``instId`` belongs to (pure).

Read from the id's shape alone, so the rate limiter (which buckets per instrument
type) and the instrument registry (which loads one REST list per type) agree
without either asking OKX.
"""

from __future__ import annotations

import re
from typing import Final

from ..errors import UnknownInstrumentError

__all__ = ["ANY_INST_TYPE", "INST_TYPES", "SPOT_SHAPED_INST_TYPE", "inst_type_of"]

INST_TYPES: Final[tuple[str, ...]] = ("SPOT", "MARGIN", "SWAP", "FUTURES", "OPTION")

# Uncertain: a spot pair (BTC-USDT) is listed under SPOT and, if marginable,
# under MARGIN with the same instId.  We assume both lists carry the same
# instIdCode, so every spot-shaped instId is looked up (and loaded) under this
# one type.  If OKX gives MARGIN its own codes, this is the place to change:
# set it to "MARGIN" to serve margin trading only, or key the cache by
# (instType, instId) and let callers say which type they trade.
SPOT_SHAPED_INST_TYPE: Final = "SPOT"

# For UnknownInstrumentError on an instId that has none of OKX's shapes.
ANY_INST_TYPE: Final = "SPOT, SWAP, FUTURES or OPTION"
_SHAPES: Final = (
    "BASE-QUOTE (spot), BASE-QUOTE-SWAP, BASE-QUOTE-YYMMDD (futures)"
    " or BASE-QUOTE-YYMMDD-STRIKE-C|P (options)"
)
_PAIR: Final = r"([A-Z0-9_]+-[A-Z0-9_]+)"  # "_" for families such as BTC-USD_UM
_OPTION_RE: Final = re.compile(_PAIR + r"-\d{6}-\d+(?:\.\d+)?-[CP]")
_SWAP_RE: Final = re.compile(_PAIR + r"-SWAP")
_FUTURES_RE: Final = re.compile(_PAIR + r"-\d{6}")
_SPOT_RE: Final = re.compile(_PAIR)


def inst_type_of(inst_id: str) -> tuple[str, str | None]:
    """Return the (instType, instFamily) whose REST list holds ``inst_id``.

    Read from the instId's shape, so a cold lookup loads one list, not five:
    ``BTC-USDT`` -> SPOT (see :data:`SPOT_SHAPED_INST_TYPE`), ``BTC-USDT-SWAP``
    -> SWAP, ``BTC-USD-251226`` -> FUTURES, ``BTC-USD-251226-60000-C`` ->
    (OPTION, ``BTC-USD``).  The family is given for OPTION only, the one type
    whose list OKX serves per family.  Raises UnknownInstrumentError otherwise.
    """
    if isinstance(inst_id, str):
        match = _OPTION_RE.fullmatch(inst_id)
        if match is not None:
            return "OPTION", match.group(1)
        if _SWAP_RE.fullmatch(inst_id):
            return "SWAP", None
        if _FUTURES_RE.fullmatch(inst_id):
            return "FUTURES", None
        if _SPOT_RE.fullmatch(inst_id):
            return SPOT_SHAPED_INST_TYPE, None
    hint = (
        " (OKX instIds are upper case)"
        if isinstance(inst_id, str) and inst_id != inst_id.upper()
        else ""
    )
    raise UnknownInstrumentError(
        str(inst_id),
        inst_type=ANY_INST_TYPE,
        detail=f"{inst_id!r} is not shaped like an OKX instId{hint}: expected {_SHAPES}",
    )
