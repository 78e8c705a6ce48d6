"""The asyncio drivers of the protocol: one socket (link), its requests
(session), reconnects and login (connection), OKX's limits (pacing), and one
request's way from admission to its booked reply (sender).

May import: streams (events), transports, protocol.
"""

# Written by tools/restructure.py.
