"""The soak's hygiene counts what asyncio logs: the benign write-after-loss note apart,
anything else as a problem (it used to be printed and counted nowhere)."""

from __future__ import annotations

import logging

from soak.probes import Hygiene


def test_asyncio_log_lines_are_counted_never_just_printed() -> None:
    hygiene = Hygiene()
    hygiene.install()
    try:
        log = logging.getLogger("asyncio")
        for _ in range(3):
            log.warning("socket.send() raised exception.")
        log.error("Fatal error on transport %s", "x")
    finally:
        hygiene.uninstall()
    assert hygiene.notes == {"socket.send() raised exception.": 3}
    assert hygiene.problems == ["[asyncio log] ERROR: Fatal error on transport x"]
    assert logging.getLogger("asyncio").propagate  # restored


class Kept:
    pass


class Owner:
    def __init__(self) -> None:
        self.kept = Kept()


def test_holders_name_who_keeps_a_type_alive() -> None:
    from soak.probes import holders

    owners = [Owner() for _ in range(3)]
    found = holders([f"{__name__}.Kept"])
    [(holder, n)] = found[f"{__name__}.Kept"].items()
    assert holder in ("Owner", "Owner.__dict__") and n == 3  # inline attributes or a dict
    del owners
