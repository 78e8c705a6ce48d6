"""The runtime client's constructor options, spelled out in the generated clients.

Listed here once (not in spec/, which describes OKX's protocol) so both
generated clients expose the same typed keyword arguments to mypy and IDEs.
Every option defaults to ``None`` meaning "the runtime's default", so the
defaults live only in ``okx_ws_core`` and cannot drift.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ClientOption:
    name: str
    annotation: str  # without "| None"
    doc: str


CLIENT_OPTIONS: tuple[ClientOption, ...] = (
    ClientOption("api_key", "str", "API key (private and business connections)."),
    ClientOption("api_secret", "str", "API secret used to sign the login."),
    ClientOption("api_passphrase", "str", "API passphrase."),
    ClientOption("market", "str", 'Market of the API key: "prod", "eea" or "us".'),
    ClientOption("demo_trading", "bool", "Use OKX's demo-trading hosts."),
    ClientOption("base_url", "str", "Override the host (e.g. a local simulator)."),
    ClientOption("request_timeout", "float", "Default seconds to wait for a reply."),
    ClientOption("ping_interval", "float", "Seconds of silence before sending ``ping``."),
    ClientOption("pong_timeout", "float", "Seconds to wait for ``pong`` before reconnecting."),
    ClientOption("reconnect_delay", "float", "First reconnect delay in seconds."),
    ClientOption("reconnect_max_delay", "float", "Upper bound of the reconnect backoff."),
    ClientOption("transport", "TransportName", 'WebSocket library: "httpx-ws" or "websockets".'),
    ClientOption("attach_event_listeners", "bool", "Log connection lifecycle events."),
    ClientOption("logger", "logging.Logger", "Logger for the client."),
    ClientOption("id_prefix", "str", "Prefix of the request ids."),
)
