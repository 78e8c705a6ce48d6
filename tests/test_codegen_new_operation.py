"""Adding an operation needs only a spec edit.

A made-up operation is appended to a copy of spec/, generated into a temporary
directory, imported in a fresh interpreter (so it cannot mix with the real
generated package) and called on both clients against a tiny local OKX-like
WebSocket server through the real runtime.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent

NEW_OPERATION = {
    "op": "echo-note",
    "connection": "business",
    "batch": False,
    "params": {
        "type": "object",
        "additionalProperties": False,
        "required": ["instId", "noteText"],
        "properties": {
            "instId": {"$ref": "#/definitions/InstId"},
            "noteText": {"type": "string", "maxLength": 8},
        },
    },
    "response_item": {
        "type": "object",
        "required": ["sCode", "sMsg"],
        "properties": {
            "echoedText": {"type": "string"},
            "sCode": {"type": "string"},
            "sMsg": {"type": "string"},
        },
    },
    "doc": "Echo a note back (a made-up operation proving spec-only extension).",
    "examples": {
        "valid": [
            {
                "name": "echo",
                "params": {"instId": "BTC-USDT", "noteText": "hi"},
                "response": [{"echoedText": "hi", "sCode": "0", "sMsg": ""}],
            }
        ],
        "invalid": [
            {
                "name": "note too long",
                "params": {"instId": "BTC-USDT", "noteText": "123456789"},
                "error_field": "noteText",
            }
        ],
    },
}

# Runs in a fresh interpreter with the temporary package first on sys.path.
SCRIPT = textwrap.dedent(
    """
    import asyncio, json, sys, threading
    from websockets.asyncio.server import serve

    sys.path[:0] = [sys.argv[1], sys.argv[2]]
    import okx_ws
    assert okx_ws.__file__.startswith(sys.argv[1]), okx_ws.__file__

    received = []

    async def handler(ws):
        async for message in ws:
            if message == "ping":
                await ws.send("pong")
                continue
            frame = json.loads(message)
            if frame.get("op") == "login":
                await ws.send(json.dumps({"event": "login", "code": "0", "msg": "", "connId": "x"}))
                continue
            received.append((ws.request.path, frame))
            note = frame["args"][0]["noteText"]
            data = [{"echoedText": note, "sCode": "0", "sMsg": ""}]
            await ws.send(json.dumps({"id": frame["id"], "op": frame["op"], "code": "0",
                                      "msg": "", "data": data, "inTime": "1", "outTime": "2"}))

    port = []
    ready = threading.Event()

    async def run_server():
        async with serve(handler, "127.0.0.1", 0) as server:
            port.append(server.sockets[0].getsockname()[1])
            ready.set()
            await asyncio.Future()

    threading.Thread(target=lambda: asyncio.run(run_server()), daemon=True).start()
    ready.wait(5)
    options = dict(api_key="k", api_secret="s", api_passphrase="p",
                   base_url=f"ws://127.0.0.1:{port[0]}", attach_event_listeners=False,
                   request_timeout=5.0)

    async def use_async():
        async with okx_ws.AsyncWebsocketAPIClient(**options) as client:
            reply = await client.echo_note({"instId": "BTC-USDT", "noteText": "async"})
            return reply.data[0].echoed_text, type(reply).__name__

    with okx_ws.WebsocketAPIClient(**options) as client:
        sync_reply = client.echo_note(okx_ws.EchoNoteParams(inst_id="BTC-USDT", note_text="sync"))
    rejected = ""
    with okx_ws.WebsocketAPIClient(**options) as client:
        try:
            client.echo_note({"instId": "BTC-USDT", "noteText": "123456789"})
        except okx_ws.ParamsValidationError as exc:
            rejected = str(exc)
    print(json.dumps({
        "async": asyncio.run(use_async()),
        "sync": [sync_reply.data[0].echoed_text, type(sync_reply).__name__],
        "op": okx_ws.OPERATIONS["echo_note"].op,
        "rejected": rejected,
        "frames": [(path, f["op"], f["args"]) for path, f in received],
    }))
    """
)


def test_a_new_operation_needs_only_a_spec_edit(tmp_path: Path) -> None:
    spec_dir = tmp_path / "spec"
    shutil.copytree(ROOT / "spec", spec_dir)
    operations_file = spec_dir / "operations.yaml"
    document = yaml.safe_load(operations_file.read_text())
    document["operations"]["echo_note"] = NEW_OPERATION
    operations_file.write_text(yaml.safe_dump(document, sort_keys=False))
    out_dir = tmp_path / "out"

    generated = subprocess.run(
        [sys.executable, "-m", "codegen", "--spec", str(spec_dir), "--out", str(out_dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert generated.returncode == 0, generated.stderr

    env = {**os.environ, "PYTHONPATH": ""}
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(out_dir), str(ROOT)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["async"] == ["async", "EchoNoteResponse"]
    assert result["sync"] == ["sync", "EchoNoteResponse"]
    assert result["op"] == "echo-note"
    assert "noteText" in result["rejected"]
    assert sorted(frame[2][0]["noteText"] for frame in result["frames"]) == ["async", "sync"]
    assert all(
        frame[0].endswith("/business") and frame[1] == "echo-note" for frame in result["frames"]
    )
