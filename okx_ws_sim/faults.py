"""Fault injection plan: what the simulator should break next.

All knobs are plain attributes set by methods; the server consults them on
each frame only while ``active`` is true, so an idle plan costs one attribute
read per frame.  Methods are meant to be called on the simulator's event loop
(``SimulatorThread.faults`` forwards calls to it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

ActionHook = Callable[[str, dict[str, Any]], None]


class FaultPlan:
    def __init__(self, on_action: ActionHook | None = None) -> None:
        self._on_action = on_action
        self.reset()

    def reset(self) -> None:
        """Clear every pending fault (does not touch connections already closing)."""
        self.close_after_n: int | None = None
        self.close_each = False
        self.close_epoch = 0
        self.drops: list[str | None] = []
        self.pongs_swallowed = False
        self.delay = 0.0
        self.jitter = 0.0
        self.refuse_left = 0
        self.refuse_code = "60009"
        # pending REST faults, oldest first: (kind "fail"/"hang", path or None, value)
        self.rest_faults: list[tuple[str, str | None, float]] = []
        self._refresh()

    def _refresh(self) -> None:
        self.active = bool(
            self.close_after_n is not None
            or self.drops
            or self.pongs_swallowed
            or self.delay
            or self.jitter
            or self.refuse_left
            or self.rest_faults
        )

    # -- knobs --------------------------------------------------------------------
    def close_after_frames(self, n: int, *, each: bool = False) -> None:
        """Close (abort, no close frame) a connection once it has received ``n`` more frames.

        Counting starts now for open connections and at open for new ones.  The
        ``n``-th frame is received but not processed.  With ``each=False`` only
        the first connection to get there is closed and the fault disarms; with
        ``each=True`` every connection is closed after ``n`` frames until reset.
        """
        if n < 1:
            raise ValueError("n must be >= 1")
        self.close_after_n = n
        self.close_each = each
        self.close_epoch += 1
        self._refresh()

    def drop_next_request(self, op: str | None = None, count: int = 1) -> None:
        """Abort the connection when the next WS API request (of ``op``, or any) arrives,
        without replying and without executing it: the request is lost in flight."""
        self.drops.extend([op] * count)
        self._refresh()

    def drop_after_execute(self, op: str | None = None, count: int = 1) -> None:
        """Like drop_next_request, but the request IS executed (orders placed) before the
        connection is aborted, and no reply is sent: the reply is lost in flight."""
        self.drops.extend([f"!{op or ''}"] * count)
        self._refresh()

    def swallow_pongs(self, on: bool = True) -> None:
        """Answer no text ``ping`` with ``pong`` while on."""
        self.pongs_swallowed = on
        self._refresh()

    def delay_replies(self, seconds: float, jitter: float = 0.0) -> None:
        """Delay every WS API reply by ``seconds`` + uniform(0, jitter); with jitter
        replies may be reordered.  ``delay_replies(0)`` turns it off."""
        if seconds < 0 or jitter < 0:
            raise ValueError("delay and jitter must be >= 0")
        self.delay = seconds
        self.jitter = jitter
        self._refresh()

    def refuse_logins(self, count: int = 1, code: str = "60009") -> None:
        """The next ``count`` logins fail with ``code`` even with good credentials."""
        self.refuse_left = count
        self.refuse_code = code
        self._refresh()

    def fail_rest(self, count: int = 1, status: int = 503, path: str | None = None) -> None:
        """The next ``count`` REST requests (to ``path``, or any REST path) get HTTP
        ``status`` with OKX's ``50001`` "Service temporarily unavailable" body, and are
        not counted as answered by ``Simulator.rest_calls``."""
        if count < 1 or not 100 <= status <= 599:
            raise ValueError("count must be >= 1 and status an HTTP status")
        self.rest_faults.extend([("fail", path, float(status))] * count)
        self._refresh()

    def hang_rest(self, count: int = 1, seconds: float = 5.0, path: str | None = None) -> None:
        """The next ``count`` REST requests get no answer: the connection is held
        ``seconds`` (or until the simulator stops / restarts), then dropped without
        a response, like a host that does not answer.  The server's handshake
        timeout (10 s) caps ``seconds``."""
        if count < 1 or seconds < 0:
            raise ValueError("count must be >= 1 and seconds >= 0")
        self.rest_faults.extend([("hang", path, seconds)] * count)
        self._refresh()

    # -- one-shot actions (need the server) ---------------------------------------
    def send_notice(
        self, close_after: float = 0.2, kinds: tuple[str, ...] = ("private", "business")
    ) -> None:
        """Send the 64008 notice on every open connection of ``kinds`` and close
        them (code 1012, service restart) ``close_after`` seconds later."""
        self._act("notice", {"close_after": close_after, "kinds": kinds})

    def send_malformed(
        self, n: int = 1, kinds: tuple[str, ...] = ("public", "private", "business")
    ) -> None:
        """Push ``n`` malformed frames to every open connection, alternating
        ``{not json`` and ``{"unexpected": true}``."""
        self._act("malformed", {"n": n, "kinds": kinds})

    def _act(self, kind: str, params: dict[str, Any]) -> None:
        if self._on_action is None:
            raise RuntimeError("FaultPlan is not attached to a running Simulator")
        self._on_action(kind, params)

    # -- consulted by the server ----------------------------------------------------
    def take_drop(self, op: str) -> str | None:
        """'before' / 'after' when this request must be dropped, else None."""
        for i, want in enumerate(self.drops):
            if want is None or want == op:
                del self.drops[i]
                self._refresh()
                return "before"
            if want.startswith("!") and want[1:] in ("", op):
                del self.drops[i]
                self._refresh()
                return "after"
        return None

    def take_refusal(self) -> str | None:
        if self.refuse_left <= 0:
            return None
        self.refuse_left -= 1
        self._refresh()
        return self.refuse_code

    def take_rest_fault(self, path: str) -> tuple[str, float] | None:
        """("fail", status) or ("hang", seconds) when this REST request must fail."""
        for i, (kind, want, value) in enumerate(self.rest_faults):
            if want is None or want == path:
                del self.rest_faults[i]
                self._refresh()
                return kind, value
        return None
