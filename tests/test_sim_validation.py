"""The simulator's own validation table (okx_ws_sim.rules) against the protocol notes.

The simulator must be an independent witness: it never uses the client's spec or
models, so a field the client's spec misspells is refused here with OKX's error.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from okx_ws_sim import Simulator, rules
from okx_ws_sim.testing import SAMPLE_ORDER, RawClient, inst_id_code
from okx_ws_sim.validation import validator_for

BTC = inst_id_code("BTC-USDT")
SPREAD = "BTC-USDT_BTC-USDT-SWAP"

# The item fields of okx-protocol.md's op table, transcribed a second time, here,
# so that a typo in rules.py cannot go unnoticed.
PROTOCOL_FIELDS: dict[str, set[str]] = {
    "order": set(
        "instIdCode instId tdMode side ordType sz px ccy clOrdId tag posSide reduceOnly "
        "tgtCcy banAmend pxUsd pxVol stpMode tradeQuoteCcy pxAmendType rpiTakerAccess "
        "rpiPxRound slippagePct".split()
    ),
    "cancel-order": {"instIdCode", "instId", "ordId", "clOrdId"},
    "amend-order": set(
        "instIdCode instId ordId clOrdId cxlOnFail reqId newSz newPx newPxUsd newPxVol "
        # rpiPxRound: the protocol table is silent; OKX's log_zh (2026-07-27) lists the
        # amend ops for it as for rpiTakerAccess.
        "pxAmendType rpiTakerAccess rpiPxRound".split()
    ),
    "mass-cancel": {"instType", "instFamily", "lockInterval"},
    "sprd-order": {"sprdId", "side", "ordType", "sz", "px", "clOrdId", "tag"},
    "sprd-amend-order": {"ordId", "clOrdId", "reqId", "newSz", "newPx"},
    "sprd-cancel-order": {"ordId", "clOrdId"},
    "sprd-mass-cancel": {"sprdId"},
}
PROTOCOL_FIELDS["batch-orders"] = PROTOCOL_FIELDS["order"]
PROTOCOL_FIELDS["batch-cancel-orders"] = PROTOCOL_FIELDS["cancel-order"]
PROTOCOL_FIELDS["batch-amend-orders"] = PROTOCOL_FIELDS["amend-order"]


def test_table_matches_the_protocol_notes() -> None:
    assert {op: set(rule.fields) for op, rule in rules.RULES.items()} == PROTOCOL_FIELDS
    assert rules.RULES["order"].required == ("instIdCode", "tdMode", "side", "ordType", "sz")
    assert rules.RULES["sprd-order"].required == ("sprdId", "side", "ordType", "sz")
    assert rules.RULES["mass-cancel"].required == ("instType", "instFamily")
    for op in ("cancel-order", "amend-order", "sprd-amend-order", "sprd-cancel-order"):
        assert rules.RULES[op].one_of == ("ordId", "clOrdId"), op
    kinds = {name: f.kind for name, f in rules.RULES["order"].fields.items()}
    assert kinds["instIdCode"] == rules.CODE and kinds["reduceOnly"] == rules.BOOL
    decimals = {k for k, v in kinds.items() if v == rules.DECIMAL}
    assert decimals == {"sz", "px", "pxUsd", "pxVol", "slippagePct"}


def _absolute_imports(source: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(source.read_text())):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.append(node.module or "")
    return names


# The client modules the simulator may use: event-loop plumbing and the blocking facade
# (SimulatorThread), no OKX rule in them, importing nothing else of okx_ws_core (checked below).
SHARED_PLUMBING = ("okx_ws_core.client.loop_thread", "okx_ws_core.client.facade")


def test_simulator_never_imports_the_client() -> None:
    root = Path(__file__).resolve().parent.parent
    package = root / "okx_ws_sim"
    for source in package.glob("*.py"):
        for name in _absolute_imports(source):
            if name in SHARED_PLUMBING:
                continue
            assert name.split(".")[0] not in ("okx_ws", "okx_ws_core"), (source.name, name)
    for module in SHARED_PLUMBING:
        plumbing = _absolute_imports(root / (module.replace(".", "/") + ".py"))
        assert {n.split(".")[0] for n in plumbing} <= {
            "__future__",
            "asyncio",
            "threading",
            "collections",
            "typing",
            "inspect",
        }
    probe = (
        "import sys, okx_ws_sim\n"
        "from okx_ws_sim.validation import validator_for\n"
        "validator_for('order')({'instIdCode': 1})\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('okx_ws', 'okx_ws_core')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", probe], check=True, cwd=package.parent)


# A value of each kind that OKX accepts.
GOOD: dict[str, Any] = {
    rules.CODE: BTC,
    rules.STR: "x1",
    rules.DECIMAL: "1.5",
    rules.BOOL: False,
    rules.CL_ORD_ID: "a1",
    rules.TAG: "t1",
    rules.REQ_ID: "r1",
    rules.LOCK_INTERVAL: "10",
}


@pytest.mark.parametrize("op", sorted(rules.RULES))
def test_every_field_of_the_table_is_accepted(op: str) -> None:
    fields = rules.RULES[op].fields
    item = {
        name: sorted(spec.choices)[0] if spec.kind == rules.ENUM else GOOD[spec.kind]
        for name, spec in fields.items()
    }
    assert validator_for(op)(item) is None


@pytest.mark.parametrize(
    ("op", "item", "expected"),
    [
        # names a client's spec might misspell
        ("order", {"instIDCode": BTC}, "instIDCode"),
        ("order", {"inst_id_code": BTC}, "inst_id_code"),
        ("order", {"clOrdID": "a1"}, "clOrdID"),
        ("order", {"reduce_only": True}, "reduce_only"),
        ("order", {"tdmode": "cash"}, "tdmode"),
        ("cancel-order", {"ordID": "1"}, "ordID"),
        ("amend-order", {"new_px": "1"}, "new_px"),
        ("order", {"expTime": "1"}, "expTime"),  # a request field, not an item field
        # wrong JSON types and formats
        ("order", {"sz": 0.01}, "sz"),
        ("order", {"sz": "1e5"}, "sz"),
        ("order", {"px": " 1"}, "px"),
        ("order", {"reduceOnly": "true"}, "reduceOnly"),
        ("order", {"banAmend": 1}, "banAmend"),
        ("order", {"side": "BUY"}, "side"),
        ("order", {"ordType": "stop"}, "ordType"),
        ("order", {"posSide": "both"}, "posSide"),
        ("order", {"tgtCcy": "base"}, "tgtCcy"),
        ("order", {"stpMode": "none"}, "stpMode"),
        ("order", {"clOrdId": "a" * 33}, "clOrdId"),
        ("order", {"clOrdId": "a-b"}, "clOrdId"),
        ("order", {"tag": "t" * 17}, "tag"),
        ("order", {"ccy": 5}, "ccy"),
        ("order", {"px": None}, "px"),  # a field is omitted, never null
        ("amend-order", {"ordId": 123}, "ordId"),
        ("amend-order", {"ordId": "1", "reqId": "r-1"}, "reqId"),
        ("amend-order", {"ordId": "1", "cxlOnFail": "false"}, "cxlOnFail"),
        ("mass-cancel", {"lockInterval": 100}, "lockInterval"),
        ("mass-cancel", {"lockInterval": "10001"}, "lockInterval"),
        ("mass-cancel", {"instType": "SWAP"}, "instType"),
        ("sprd-order", {"ordType": "fok"}, "ordType"),
    ],
)
def test_misspelt_or_mistyped_fields_are_refused(
    op: str, item: dict[str, Any], expected: str
) -> None:
    base: dict[str, Any] = {
        "order": dict(SAMPLE_ORDER),
        "cancel-order": {"instIdCode": BTC, "ordId": "1"},
        "amend-order": {"instIdCode": BTC},
        "mass-cancel": {"instType": "OPTION", "instFamily": "BTC-USD"},
        "sprd-order": {"sprdId": SPREAD, "side": "buy", "ordType": "limit", "sz": "1"},
    }[op]
    assert validator_for(op)({**base, **item}) == ("51000", f"Parameter {expected} error")


@pytest.mark.parametrize(
    ("op", "item", "expected"),
    [
        ("order", {"tdMode": "cash", "side": "buy", "ordType": "market", "sz": "1"}, "instIdCode"),
        ("order", {"instIdCode": BTC, "side": "buy", "ordType": "market", "sz": "1"}, "tdMode"),
        ("order", dict(SAMPLE_ORDER, sz=""), "sz"),
        ("mass-cancel", {"instType": "OPTION", "instFamily": ""}, "instFamily"),
        ("sprd-order", {"side": "buy", "ordType": "limit", "sz": "1"}, "sprdId"),
    ],
)
def test_missing_required_fields(op: str, item: dict[str, Any], expected: str) -> None:
    assert validator_for(op)(item) == ("50014", f"Parameter {expected} can not be empty.")


def test_empty_optional_strings_count_as_unset() -> None:
    assert validator_for("order")(dict(SAMPLE_ORDER, tag="", clOrdId="", px="1")) is None


@pytest.fixture
async def priv() -> AsyncIterator[RawClient]:
    async with Simulator() as s, await RawClient.open(s.url("private")) as c:
        await c.login()
        yield c


@pytest.mark.parametrize("misspelt", ["instIDCode", "clOrdID", "reduce_only"])
async def test_wire_refuses_a_misspelt_field(priv: RawClient, misspelt: str) -> None:
    item = dict(SAMPLE_ORDER)
    if misspelt == "instIDCode":
        item[misspelt] = item.pop("instIdCode")  # the code is there, under the wrong name
    else:
        item[misspelt] = "a1" if misspelt == "clOrdID" else True
    r = await priv.request("order", item)
    assert r["code"] == "1" and r["msg"] == ""
    it = r["data"][0]
    assert (it["sCode"], it["sMsg"], it["ordId"]) == ("51000", f"Parameter {misspelt} error", "")


async def test_wire_accepts_every_field_of_the_table(priv: RawClient) -> None:
    placed = await priv.request(
        "order",
        {
            "instIdCode": BTC,
            "instId": "BTC-USDT",
            "tdMode": "cash",
            "side": "buy",
            "ordType": "limit",
            "sz": "0.01",
            "px": "40000",
            "ccy": "USDT",
            "clOrdId": "all1",
            "tag": "t1",
            "posSide": "net",
            "reduceOnly": False,
            "tgtCcy": "base_ccy",
            "banAmend": False,
            "pxUsd": "40000",
            "pxVol": "1",
            "stpMode": "cancel_maker",
        },
    )
    assert placed["code"] == "0", placed
    ord_id = placed["data"][0]["ordId"]
    ids = {"instIdCode": BTC, "instId": "BTC-USDT", "ordId": ord_id, "clOrdId": "all1"}
    amend = {
        **ids,
        "cxlOnFail": False,
        "reqId": "q1",
        "newSz": "0.02",
        "newPx": "41000",
        "newPxUsd": "41000",
        "newPxVol": "1",
    }
    assert (await priv.request("amend-order", amend))["code"] == "0"
    assert (await priv.request("cancel-order", ids))["code"] == "0"
    lock = {"instType": "OPTION", "instFamily": "BTC-USD", "lockInterval": "10000"}
    assert (await priv.request("mass-cancel", lock))["code"] == "0"
