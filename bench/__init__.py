"""okx-ws benchmark harness (issue #5): ``make bench`` / ``python -m bench``.

Every client is measured in its own subprocess against its own fresh server
subprocess, so client CPU figures never include server work, and no client
inherits another's imports, garbage or server-side order book.
"""
