"""OKX's REST API: the one httpx wrapper and what uses it (signed and public
queries, the clock, the instrument registry).

May import: transports, protocol.
"""

# Written by tools/restructure.py.
