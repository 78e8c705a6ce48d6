"""Small things a newcomer trips over (issue #19 item 7)."""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

import okx_ws

import okx_ws_core
import okx_ws_sim
from okx_ws_sim.__main__ import parser


def test_both_packages_have_the_installed_version() -> None:
    assert okx_ws.__version__ == okx_ws_core.__version__ == version("okx-ws")


def test_the_simulator_is_typed() -> None:
    assert (Path(okx_ws_sim.__file__).parent / "py.typed").is_file()


def test_every_simulator_option_has_help() -> None:
    actions = [a for a in parser()._actions if a.dest != "help"]
    assert actions and all(action.help for action in actions), [
        a.dest for a in actions if not a.help
    ]


def test_entering_a_closed_client_raises_client_closed() -> None:
    import asyncio

    import pytest
    from okx_ws import AsyncWebsocketAPIClient, ClientClosed, WebsocketAPIClient

    async def main() -> None:
        client = AsyncWebsocketAPIClient()
        async with client:
            pass
        with pytest.raises(ClientClosed, match="create a new one"):
            async with client:
                pass

    asyncio.run(main())
    blocking = WebsocketAPIClient()
    with blocking:
        pass
    with pytest.raises(ClientClosed, match="create a new one"):
        with blocking:
            pass
