"""``BlockingOrderTracker``: the blocking client's order tracker, usable from any thread.

The tracker lives on the client's loop thread, where replies and pushes fold
into its dicts; another thread reading them could catch them mid-change.  This
view runs every public method and attribute read of the real tracker *on* the
loop thread (directly when already there) and returns the result.  What comes
back is safe to keep anywhere: a :class:`~.tracker.TrackedOrder` is an
immutable snapshot.  It subclasses :class:`~.tracker.OrderTracker` so that it
is one for type checkers, but holds no state of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..orders.tracker import OrderTracker

OnLoop = Callable[
    [Callable[[], Any]], Any
]  # runs a function on the loop thread, returns its result


class BlockingOrderTracker(OrderTracker):
    """Every public method and attribute of ``tracker``, each one hop to the loop thread."""

    def __init__(self, tracker: OrderTracker, on_loop: OnLoop) -> None:
        # No super().__init__(): this is a view, the state is `tracker`'s alone.
        object.__setattr__(self, "_tracker", tracker)
        object.__setattr__(self, "_on_loop", on_loop)

    def __getattribute__(self, name: str) -> Any:
        if name.startswith("_"):
            return object.__getattribute__(self, name)
        tracker: OrderTracker = object.__getattribute__(self, "_tracker")
        on_loop: OnLoop = object.__getattribute__(self, "_on_loop")
        if callable(getattr(type(tracker), name, None)):

            def call(*args: Any, **kwargs: Any) -> Any:
                return on_loop(lambda: getattr(tracker, name)(*args, **kwargs))

            return call
        return on_loop(lambda: getattr(tracker, name))

    def __setattr__(self, name: str, value: Any) -> None:
        tracker: OrderTracker = object.__getattribute__(self, "_tracker")
        object.__getattribute__(self, "_on_loop")(lambda: setattr(tracker, name, value))

    def __len__(self) -> int:
        tracker: OrderTracker = object.__getattribute__(self, "_tracker")
        result: int = object.__getattribute__(self, "_on_loop")(lambda: len(tracker))
        return result

    def __repr__(self) -> str:
        return f"<BlockingOrderTracker of {len(self)} orders>"
