"""What the harness needs from a client: open, one order, one cancel, close.

``order`` returns the clOrdId echoed in the reply and the ordId, so the
harness can check every reply against the request it answers.  Drivers are
thin: the work measured is the library's, plus at most a dict look-up.
"""

from __future__ import annotations

from typing import Protocol


class DriverUnavailable(Exception):
    """This peer cannot be driven offline; the message says exactly why."""


class AsyncDriver(Protocol):
    name: str

    async def open(self, base_url: str) -> None:
        """Connect and log in, before anything is timed."""

    async def order(self, cl_ord_id: str) -> tuple[str, str]:
        """Place one order; return (echoed clOrdId, ordId)."""

    async def cancel(self, ord_id: str) -> str:
        """Cancel one order; return the echoed ordId."""

    async def close(self) -> None: ...


class SyncDriver(Protocol):
    name: str

    def open(self, base_url: str) -> None: ...

    def order(self, cl_ord_id: str) -> tuple[str, str]: ...

    def cancel(self, ord_id: str) -> str: ...

    def close(self) -> None: ...
