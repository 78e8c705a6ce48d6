"""The order book: a sans-I/O book (levels, checksum, resync decisions) and
BookStream, its driver over a channel stream and REST snapshots.

May import: streams, rest, transports, protocol.
"""

# Written by tools/restructure.py.
