"""Orders: the tracker and the fates (stamping expTime, feeding the tracker,
reconcile over REST).

May import: streams, rest, transports, protocol.
"""

# Written by tools/restructure.py.
