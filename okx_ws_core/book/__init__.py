"""The order book: a sans-I/O book (levels, checksum, resync decisions) and
BookStream, its driver over a channel stream and REST snapshots.

``COMPILED`` is true when the book's core (``levels``, ``orderbook``) runs
compiled with mypyc, false for pure Python (see ``compiled``).

May import: streams, rest, transports, protocol.
"""

# Written by tools/restructure.py.

# First: the guard in `compiled` must run before anything imports the two modules.
from .compiled import COMPILED as COMPILED
