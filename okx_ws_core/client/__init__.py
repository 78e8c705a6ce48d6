"""The clients: AsyncWebsocketClient, the blocking WebsocketClient and its
loop thread.

May import: every layer below.
"""

# Written by tools/restructure.py.
