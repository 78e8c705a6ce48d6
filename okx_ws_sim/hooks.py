"""An observer's (and a test harness's) public view into the simulator's decisions.

A harness auditing the simulator wants to know which connection upgrades it
refused and when, and which requests it refused and why (one arriving after
its ``expTime`` among them); to prove its own checks can fail it also wants to
refuse or reshape one request.  Subclass :class:`SimHooks` and set
``Simulator.policy.hooks`` to an instance, rather than wrapping the
simulator's private methods: every method's default does nothing, and each is
called on the simulator's loop, synchronously, so it must be quick.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .policy import Refusal


class SimHooks:
    """No-op defaults; override what you need."""

    def connection(self, ip: str, admitted: bool) -> None:
        """A WebSocket upgrade from ``ip`` was decided: admitted, or refused (HTTP 429)."""

    def request(self, api_key: str, op: str, msg: dict[str, Any], now_ms: int) -> Refusal | None:
        """A logged-in WS API request, before the simulator checks ``expTime``, ``args``
        and the rate limits.  Return a :class:`~okx_ws_sim.policy.Refusal` to refuse it
        as a whole; ``msg`` may be changed in place (what the checks then see)."""
        return None

    def refused(
        self, api_key: str, op: str, msg: dict[str, Any], refusal: Refusal, now_ms: int
    ) -> None:
        """A logged-in WS API request was refused as a whole (by :meth:`request` or by the
        simulator's checks): e.g. ``codes.EXPIRED_REQUEST_CODE`` when it arrived after
        its ``expTime``."""
