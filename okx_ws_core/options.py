"""``ClientOptions``: every tunable of a client, defined once.

Both runtime clients take these as keyword arguments (or a ready
``ClientOptions``); the generated API clients' typed constructors and their
docs are derived from this dataclass by the code generator, so a new option
is one field here and ``make generate``.  Credentials are kept apart, never
in an options repr.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Literal

from .errors import ConfigurationError
from .protocol.endpoints import CONNECTION_KEYS, resolve_url, rest_url
from .protocol.timing import Backoff, Heartbeat
from .transports.interface import Connector, TransportName
from .transports.registry import TRANSPORTS

RateLimitMode = Literal["wait", "raise", "off"]
RATE_LIMIT_MODES: tuple[RateLimitMode, ...] = ("wait", "raise", "off")
# An ``httpx.AsyncBaseTransport`` (typed loosely so importing okx_ws does not import httpx).
HttpTransport = Any


def _doc(text: str) -> Any:
    return {"doc": text}


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientOptions:
    """Validated once at construction; a bad value raises :class:`ConfigurationError`."""

    market: str = field(
        default="prod", metadata=_doc('Market of the API key: "prod", "eea" or "us".')
    )
    demo_trading: bool = field(default=False, metadata=_doc("Use OKX's demo-trading hosts."))
    base_url: str | None = field(
        default=None,
        metadata=_doc("Replace scheme, host and port of every WebSocket URL (e.g. the simulator)."),
    )
    rest_url: str | None = field(
        default=None,
        metadata=_doc(
            "REST host for the instrument list; default: the market's host, or http(s)://"
            " of base_url."
        ),
    )
    request_timeout: float = field(
        default=10.0, metadata=_doc("Default seconds a call may take, connecting included.")
    )
    min_send_time: float = field(
        default=0.1,
        metadata=_doc(
            "Seconds a request must have left before its deadline to be sent; with less (a"
            " rate-limit wait or a connect used it up) it fails RequestTimeout(sent=False),"
            " nothing sent: its reply could not come in time, and with stamp_exp_time it"
            " would reach OKX after its expTime. 0 sends until the deadline."
        ),
    )
    ping_interval: float = field(
        default=10.0, metadata=_doc('Seconds of silence before sending "ping" (below 30).')
    )
    pong_timeout: float = field(
        default=2.0, metadata=_doc("Seconds without any frame after a ping before reconnecting.")
    )
    reconnect_delay: float = field(default=0.5, metadata=_doc("First reconnect delay in seconds."))
    reconnect_max_delay: float = field(
        default=30.0, metadata=_doc("Upper bound of the exponential reconnect backoff.")
    )
    transport: TransportName | Connector = field(
        default="websockets",
        metadata=_doc(
            'WebSocket library, "websockets" (fastest) or "httpx-ws", or a Connector object.'
        ),
    )
    instruments: Mapping[str, int] | None = field(
        default=None,
        metadata=_doc("Known instIdCodes by instId; with these no REST call is needed."),
    )
    instrument_types: tuple[str, ...] = field(
        default=(),
        metadata=_doc(
            'Instrument types whose codes connect_ws_api() loads up front, e.g. ("SPOT", "SWAP").'
        ),
    )
    instruments_push: bool | None = field(
        default=None,
        metadata=_doc(
            "Keep the codes of instrument_types fresh from OKX's instruments channel (new"
            " listings without a REST call, delistings refused before sending); default: on"
            " when instrument_types is set."
        ),
    )
    rate_limit: RateLimitMode = field(
        default="wait",
        metadata=_doc(
            'OKX\'s rate limits, client side: "wait" until a request may go (within its'
            ' timeout), "raise" RateLimitExceeded at once, or "off".'
        ),
    )
    share_limits: bool = field(
        default=True,
        metadata=_doc(
            "Pace connects and load instrument lists together with this process's other"
            " clients of the same host, as OKX counts both per IP; False: this client alone."
        ),
    )
    sync_time: bool = field(
        default=False,
        metadata=_doc("Read OKX's clock (GET /api/v5/public/time) before the first login."),
    )
    rest_transport: HttpTransport | None = field(
        default=None,
        metadata=_doc("An httpx.AsyncBaseTransport for OKX's REST calls (tests, proxies)."),
    )
    stamp_exp_time: bool = field(
        default=False,
        metadata=_doc(
            "Stamp order and amend requests with expTime = the call's deadline, so OKX never"
            " executes one after the caller stopped waiting and reconcile() can answer"
            ' "not placed" for sure once it passed. Trade-off: a request OKX receives late'
            " is rejected (sCode 50036) instead of executed late; keep the clock right (sync_time)."
        ),
    )
    attach_event_listeners: bool = field(
        default=True, metadata=_doc("Log connection lifecycle events.")
    )
    logger: logging.Logger | None = field(
        default=None, metadata=_doc('Logger for the client (default: "okx_ws").')
    )
    id_prefix: str | None = field(
        default=None, metadata=_doc("Prefix of request ids (1-16 alphanumerics; default random).")
    )

    def __post_init__(self) -> None:
        try:
            for key in CONNECTION_KEYS:
                resolve_url(
                    key, market=self.market, demo_trading=self.demo_trading, base_url=self.base_url
                )
            self.rest_base()
            Heartbeat(self.ping_interval, self.pong_timeout)
            Backoff(self.reconnect_delay, self.reconnect_max_delay)
        except ValueError as exc:
            raise ConfigurationError(str(exc)) from None
        if self.request_timeout <= 0:
            raise ConfigurationError(f"request_timeout must be > 0, got {self.request_timeout}")
        if not 0 <= self.min_send_time < self.request_timeout:
            raise ConfigurationError(
                f"min_send_time must be >= 0 and below request_timeout, got {self.min_send_time}"
            )
        if isinstance(self.transport, str) and self.transport not in TRANSPORTS:
            raise ConfigurationError(
                f"transport must be one of {TRANSPORTS} or a Connector, got {self.transport!r}"
            )
        for inst_id, code in (self.instruments or {}).items():
            if type(code) is not int or code <= 0:
                raise ConfigurationError(
                    f"instruments[{inst_id!r}] must be a positive int instIdCode, got {code!r}"
                )
        if self.rate_limit not in RATE_LIMIT_MODES:
            raise ConfigurationError(
                f"rate_limit must be one of {RATE_LIMIT_MODES}, got {self.rate_limit!r}"
            )
        if isinstance(self.instrument_types, str):
            raise ConfigurationError("instrument_types must be a tuple of names, not a string")

    def url(self, connection: str) -> str:
        return resolve_url(
            connection, market=self.market, demo_trading=self.demo_trading, base_url=self.base_url
        )

    @property
    def follows_instruments(self) -> bool:
        """Whether connect_ws_api() follows the instruments channel (``instruments_push``,
        by default on when ``instrument_types`` is set)."""
        if self.instruments_push is None:
            return bool(self.instrument_types)
        return self.instruments_push

    def rest_origin(self) -> str:
        """Where :meth:`rest_base` comes from, for error messages that name the setting."""
        if self.rest_url is not None:
            return "rest_url"
        if self.base_url is not None:
            return f"derived from base_url {self.base_url!r}"
        return f"OKX's REST host for market={self.market!r}"

    def rest_base(self) -> str:
        return rest_url(
            market=self.market,
            demo_trading=self.demo_trading,
            base_url=self.base_url,
            rest_url=self.rest_url,
        )

    @classmethod
    def build(cls, options: ClientOptions | None, overrides: Mapping[str, Any]) -> ClientOptions:
        """``options`` (or the defaults) with ``overrides`` applied; unknown names are refused."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ConfigurationError(f"unknown client option(s) {unknown}; known: {sorted(known)}")
        base = {f.name: getattr(options, f.name) for f in fields(cls)} if options else {}
        return cls(**{**base, **overrides})
