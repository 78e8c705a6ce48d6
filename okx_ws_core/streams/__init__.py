"""What reaches user code: events for handlers, typed channel streams, the
raw updates stream and their buffers.

May import: transports, protocol.
"""

# Written by tools/restructure.py.
