"""OKX's order-book channels: their depths, which replace and which chain, and the combination rule.

Kept apart from :mod:`okx_ws_core.book.orderbook` so a driver (the client) can check
a subscription before it exists, without a book.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final

from ..errors import ConfigurationError

__all__ = ["BOOK_CHANNELS", "REPLACE_CHANNELS", "check_book_channels"]

#: Levels kept per side, per channel (OKX's documented depths).
BOOK_CHANNELS: Final[Mapping[str, int]] = {
    "books": 400,
    "books-l2-tbt": 400,
    "books50-l2-tbt": 50,
    "books5": 5,
    "bbo-tbt": 1,
}
#: Channels whose every push is the whole (shallow) book: no seqId chaining.
REPLACE_CHANNELS: Final = frozenset({"books5", "bbo-tbt"})
_EXCLUSIVE: Final = "books-l2-tbt"
_EXCLUDED_WITH_TBT: Final = frozenset({"books", "books50-l2-tbt"})


def check_book_channels(existing: Iterable[tuple[str, str]], new: tuple[str, str]) -> None:
    """Raise :class:`ConfigurationError` if ``new`` may not join ``existing`` subscriptions.

    OKX refuses ``books-l2-tbt`` together with ``books`` or ``books50-l2-tbt``
    on one instrument; checking before subscribing names both channels instead
    of surfacing OKX's generic subscribe error later.  Pairs are
    ``(channel, instId)``.
    """
    channel, inst_id = new
    for other, other_inst in existing:
        if other_inst != inst_id or other == channel:
            continue
        pair = {channel, other}
        if _EXCLUSIVE in pair and pair & _EXCLUDED_WITH_TBT:
            raise ConfigurationError(
                f"cannot subscribe {channel!r} for {inst_id}: OKX does not allow "
                f"{_EXCLUSIVE!r} together with {other if other != _EXCLUSIVE else channel!r} "
                f"on one instrument, and {other!r} is already subscribed"
            )
