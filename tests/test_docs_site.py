"""The documentation site builds in strict mode, and renders and searches in a real browser.

The site is built once per run into a temporary folder, exactly as ``make docs``
builds it (``mkdocs build --strict``: a broken link or reference fails).  The
browser tests drive Debian's headless ``chromium`` over the DevTools protocol
(with the ``websockets`` library okx-ws already depends on) against the site
served on loopback, because the search runs in a web worker that reads
``search/search_index.json`` over HTTP, which ``file://`` pages cannot.
"""

from __future__ import annotations

import base64
import functools
import itertools
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import ClientConnection, connect

from codegen.spec_loader import load_spec

ROOT = Path(__file__).resolve().parents[1]
SPEC = load_spec(ROOT / "spec")
CHROMIUM = shutil.which("chromium")
NO_CHROMIUM = (
    "Debian's chromium is not installed (apt-get install -y chromium); "
    "CI installs it, so the browser tests run there"
)
BUILD_TIMEOUT_S = 240
BROWSER_TIMEOUT_S = 20


# -- the build ------------------------------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_S,
    )
    assert result.returncode == 0, (
        f"mkdocs build --strict failed:\n{result.stdout}\n{result.stderr}"
    )
    print(f"docs built in {time.monotonic() - started:.1f} s")
    return out


def search_docs(site: Path) -> list[dict[str, str]]:
    docs: list[dict[str, str]] = json.loads((site / "search/search_index.json").read_text())["docs"]
    return docs


def test_every_operation_and_channel_has_a_page_in_the_search_index(site: Path) -> None:
    pages = {doc["location"]: doc for doc in search_docs(site)}
    for section, names in (
        ("operations", [op.name for op in SPEC.operations]),
        ("channels", [channel.name for channel in SPEC.channels]),
    ):
        for name in names:
            page = pages.get(f"{section}/{name}/")
            assert page is not None, f"no {section} page for {name} in the search index"
            assert page["title"] == name
    for op in SPEC.operations:
        assert f"<code>{op.op}</code>" in pages[f"operations/{op.name}/"]["text"], op.name


def test_the_api_reference_documents_both_clients_models_and_simulator(site: Path) -> None:
    locations = {doc["location"] for doc in search_docs(site)}
    for anchor in (
        "reference/async-api-client/#okx_ws.AsyncWebsocketAPIClient.submit_new_order",
        "reference/api-client/#okx_ws.WebsocketAPIClient.submit_new_order",
        "reference/async-ws-client/#okx_ws_core.AsyncWebsocketClient.subscribe",
        "reference/ws-client/#okx_ws_core.WebsocketClient",
        "reference/models/#okx_ws.models.OrderParams",
        "reference/simulator/#okx_ws_sim.SimulatorThread",
    ):
        assert anchor in locations, anchor
    for op in SPEC.operations:
        for client in (
            "async-api-client/#okx_ws.AsyncWebsocketAPIClient",
            "api-client/#okx_ws.WebsocketAPIClient",
        ):
            assert f"reference/{client}.{op.name}" in locations, (client, op.name)


def test_the_readme_links_to_files_that_exist() -> None:
    """The README is read on GitHub, outside the site: its relative links are checked here."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = re.findall(r"\]\((?!https?:|#)([^)#]+)", readme)
    assert targets, "the README links to the guide"
    for target in targets:
        assert (ROOT / target).is_file(), target


# -- the browser ----------------------------------------------------------------


class Browser:
    """One headless Chromium tab, driven over the DevTools protocol."""

    def __init__(self, socket: ClientConnection, base_url: str) -> None:
        self._socket = socket
        self._ids = itertools.count(1)
        self.base_url = base_url

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        call_id = next(self._ids)
        self._socket.send(json.dumps({"id": call_id, "method": method, "params": params}))
        while True:
            message = json.loads(self._socket.recv(timeout=BROWSER_TIMEOUT_S))
            if message.get("id") == call_id:
                assert "error" not in message, message
                result: dict[str, Any] = message["result"]
                return result

    def evaluate(self, expression: str) -> Any:
        reply = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        assert "exceptionDetails" not in reply, reply
        return reply["result"].get("value")

    def open(self, path: str) -> None:
        self.call("Page.navigate", url=self.base_url + path)
        self.wait_for(
            "document.readyState === 'complete' && location.href.startsWith(%r)"
            % (self.base_url + path.split("?")[0])
        )

    def wait_for(self, expression: str) -> Any:
        deadline = time.monotonic() + BROWSER_TIMEOUT_S
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {expression}")

    def text(self) -> str:
        return str(self.evaluate("document.querySelector('article').innerText"))


@pytest.fixture(scope="module")
def served(site: Path) -> Iterator[str]:
    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _devtools_url(log: Path, process: subprocess.Popen[bytes]) -> str:
    deadline = time.monotonic() + BROWSER_TIMEOUT_S
    while time.monotonic() < deadline:
        found = re.search(r"DevTools listening on (ws://\S+)", log.read_text(errors="replace"))
        if found:
            return found.group(1)
        assert process.poll() is None, f"chromium exited:\n{log.read_text(errors='replace')}"
        time.sleep(0.05)
    raise AssertionError(f"chromium did not start:\n{log.read_text(errors='replace')}")


@pytest.fixture(scope="module")
def browser(served: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    if CHROMIUM is None:
        if os.environ.get("CI"):  # CI installs it: a missing browser there is a failure
            pytest.fail(f"CI without chromium: {NO_CHROMIUM}")
        pytest.skip(NO_CHROMIUM)
    home = tmp_path_factory.mktemp("chromium")
    log = home / "stderr.log"
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",  # CI runs as root
                "--disable-gpu",
                "--no-first-run",
                "--window-size=1280,1024",
                "--remote-debugging-port=0",
                f"--user-data-dir={home / 'profile'}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        port = re.search(r":(\d+)/", _devtools_url(log, process)).group(1)  # type: ignore[union-attr]
        with urllib.request.urlopen(
            f"http://127.0.0.1:{port}/json/list", timeout=BROWSER_TIMEOUT_S
        ) as reply:
            tab = next(t for t in json.load(reply) if t["type"] == "page")
        with connect(
            tab["webSocketDebuggerUrl"], max_size=None, open_timeout=BROWSER_TIMEOUT_S
        ) as socket:
            tab_browser = Browser(socket, served)
            tab_browser.call("Page.enable")
            yield tab_browser
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


PAGES = {
    "": ["okx-ws", "Where to go", "OKX-compatible simulator"],
    "guide/quick-start/": ["Quick start", "submit_new_order", "asyncio.run(main())"],
    "operations/submit_new_order/": [
        "OKX op",
        "order",
        "OrderParams",
        "60 requests / 2 s per instrument",
        "Refused before sending",
    ],
    "channels/orders/": ["OKX channel", "subscribe_orders", "OrdersPushItem", "Push item fields"],
    "reference/async-api-client/": [
        "okx_ws.AsyncWebsocketAPIClient",
        "connect_ws_api",
        "Place one order on the private connection",
    ],
    "reference/ws-client/": ["okx_ws_core.WebsocketClient"],
    "reference/models/": ["OrderParams", "instIdCode"],
    "reference/simulator/": ["okx_ws_sim", "SimulatorThread", "Simulator"],
}


@pytest.mark.parametrize("path", list(PAGES))
def test_a_page_renders_with_its_content(browser: Browser, path: str) -> None:
    browser.open(path)
    text = browser.text()
    for expected in PAGES[path]:
        assert expected in text, f"{path or 'index'}: {expected!r} not on the rendered page"
    # Material's stylesheet and script ran: a laid-out page with its navigation.
    assert (
        browser.evaluate("document.querySelector('article').getBoundingClientRect().height") > 200
    )
    assert browser.evaluate("document.querySelectorAll('nav.md-nav a').length") > 20
    assert ":class:" not in text and ":meth:" not in text, "a reST role leaked into the page"


def test_an_operation_page_links_into_the_api_reference(browser: Browser) -> None:
    browser.open("operations/cancel_order/")
    hrefs = browser.evaluate("[...document.querySelectorAll('article a')].map(a => a.href)")
    anchor = "reference/async-api-client/#okx_ws.AsyncWebsocketAPIClient.cancel_order"
    assert browser.base_url + anchor in hrefs
    browser.open(anchor)
    assert browser.evaluate(
        "!!document.getElementById('okx_ws.AsyncWebsocketAPIClient.cancel_order')"
    )


def test_runnable_examples_carry_their_badge(browser: Browser) -> None:
    browser.open("guide/quick-start/")
    assert browser.evaluate("document.querySelectorAll('.runnable').length") == 2
    badge = browser.evaluate(
        "getComputedStyle(document.querySelector('.runnable'), '::before').content"
    )
    assert badge == '"runs in CI"'


def test_the_index_page_screenshot_is_a_real_picture(browser: Browser, tmp_path: Path) -> None:
    browser.open("")
    png = base64.b64decode(browser.call("Page.captureScreenshot", format="png")["data"])
    (tmp_path / "index.png").write_bytes(png)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert width == 1280 and height > 600, (width, height)
    assert len(png) > 30_000, "a nearly blank page"


@pytest.mark.parametrize(
    "name", [op.name for op in SPEC.operations] + [ch.name for ch in SPEC.channels]
)
def test_the_browser_search_finds_each_operation_and_channel(browser: Browser, name: str) -> None:
    """Typed into the search box of one loaded page (a page load per name cost 0.5 s each)."""
    meta = "(document.querySelector('.md-search-result__meta') || {}).textContent"
    if browser.evaluate("location.href") != browser.base_url + "?q=":
        browser.open("?q=")
        browser.wait_for(f"{meta} && !/Initializing/.test({meta})")
    typed = json.dumps(name)
    browser.evaluate(
        f"""(() => {{
            document.querySelector('.md-search-result__list').replaceChildren();
            const input = document.querySelector('.md-search__input');
            input.value = {typed};
            input.dispatchEvent(new KeyboardEvent('keyup'));
        }})()"""
    )
    browser.wait_for(
        f"document.querySelectorAll('.md-search-result__item').length || /No matching/.test({meta})"
    )
    hrefs = browser.evaluate(
        "[...document.querySelectorAll('.md-search-result__item a')].map(a => a.href)"
    )
    section = "operations" if name in {op.name for op in SPEC.operations} else "channels"
    assert any(f"/{section}/{name}/" in href for href in hrefs), hrefs
