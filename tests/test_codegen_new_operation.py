"""Adding an operation, every step of docs/guide/adding-an-operation.md, on copies.

A made-up operation is appended to a copy of spec/ (step 1) and generated into
a temporary directory (step 2, ``make generate``).  Then, in fresh interpreters
that import the temporary package (so nothing mixes with the real generated one):
- the suite's checks run against it *before* the other steps, and must fail
  naming the op and each missing step (the simulator rule, the e2e scenario);
- the simulator learns the op (step 3, ``okx_ws_sim.extra_ops.extra_operation``,
  the same three table rows rules.py / protocol.py / engine.py would get) and
  both generated clients call it end to end through the real runtime (step 4,
  the scenario).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.conftest import generate, run_against, spec_copy

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
    import asyncio, json, sys

    sys.path[:0] = [sys.argv[1], sys.argv[2]]
    import okx_ws
    assert okx_ws.__file__.startswith(sys.argv[1]), okx_ws.__file__
    from okx_ws_sim import SimulatorThread
    from okx_ws_sim.extra_ops import extra_operation
    from okx_ws_sim.rules import STR, Field
    from tests.conftest import client_options

    def echo(engine, acct, item, now_ms, changed):
        return {"echoedText": item["noteText"], "sCode": "0", "sMsg": ""}

    rule = dict(fields={"instId": Field(STR), "noteText": Field(STR)},
                required=("instId", "noteText"))
    with extra_operation("echo-note", connection="business", handler=echo, **rule):
        with SimulatorThread(idle_timeout=5.0) as sim:
            options = client_options(sim.base_url)

            async def use_async():
                async with okx_ws.AsyncWebsocketAPIClient(**options) as client:
                    reply = await client.echo_note({"instId": "BTC-USDT", "noteText": "async"})
                    return reply.data[0].echoed_text, type(reply).__name__

            async_result = asyncio.run(use_async())
            with okx_ws.WebsocketAPIClient(**options) as client:
                params = okx_ws.EchoNoteParams(inst_id="BTC-USDT", note_text="sync")
                sync_reply = client.echo_note(params)
                rejected = ""
                try:
                    client.echo_note({"instId": "BTC-USDT", "noteText": "123456789"})
                except okx_ws.ParamsValidationError as exc:
                    rejected = str(exc)
            requests = dict(sim.simulator.stats.requests_by_op)
    print(json.dumps({
        "async": async_result,
        "sync": [sync_reply.data[0].echoed_text, type(sync_reply).__name__],
        "op": okx_ws.OPERATIONS["echo_note"].op,
        "rejected": rejected,
        "requests": requests,
    }))
    """
)
# The suite's "every operation is covered" checks, run against the temporary package.
CHECKS = [
    "tests/test_e2e_operations.py::test_every_operation_has_a_scenario",
    "tests/test_e2e_operations.py::test_every_operation_is_served_by_the_simulator",
    "tests/test_e2e_operations.py::test_operation_end_to_end",
]


def generate_with_new_operation(tmp_path: Path) -> Path:
    """Steps 1 and 2 on copies: the spec entry, then ``make generate`` into tmp."""
    spec_dir = spec_copy(
        tmp_path, {"operations.yaml": lambda doc: doc["operations"].update(echo_note=NEW_OPERATION)}
    )
    out_dir = tmp_path / "out"
    generated = generate(spec_dir, out_dir)
    assert generated.returncode == 0, generated.stderr
    return out_dir


def test_a_new_operation_end_to_end_after_every_step(tmp_path: Path) -> None:
    out_dir = generate_with_new_operation(tmp_path)
    run = run_against(SCRIPT, out_dir, tmp_path)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["async"] == ["async", "EchoNoteResponse"]
    assert result["sync"] == ["sync", "EchoNoteResponse"]
    assert result["op"] == "echo-note"
    assert "noteText" in result["rejected"]
    assert result["requests"].get("echo-note") == 2  # the invalid one was never sent


def test_the_suite_names_each_missing_step_of_a_new_operation(tmp_path: Path) -> None:
    """Before steps 3 and 4 the suite fails, and each message says what to add where."""
    out_dir = generate_with_new_operation(tmp_path)
    env = {**os.environ, "PYTHONPATH": ""}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "-o", f"pythonpath={ROOT} {out_dir}", "-k", "echo_note or every_operation",
         *CHECKS],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )  # fmt: skip
    output = run.stdout
    assert run.returncode == 1, output
    failed = sorted(set(re.findall(r"^FAILED (\S+)", output, re.MULTILINE)))
    assert failed == [
        "tests/test_e2e_operations.py::test_every_operation_has_a_scenario",
        "tests/test_e2e_operations.py::test_every_operation_is_served_by_the_simulator",
        "tests/test_e2e_operations.py::test_operation_end_to_end[async-echo_note]",
        "tests/test_e2e_operations.py::test_operation_end_to_end[blocking-echo_note]",
    ], output
    assert 'echo_note: no end-to-end scenario; add one with @scenario("echo_note")' in output
    assert "op 'echo-note' (echo_note) is not served by the simulator" in output
    assert "okx_ws_sim/rules.py" in output and "60013" in output
    assert "KeyError" not in output
