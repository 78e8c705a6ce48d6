"""The spec covers every field of the protocol notes' operation table (okx-protocol.md).

The table below is transcribed from those notes, and from the audit of OKX's
documentation and changelog of 2026-12-06 (slippagePct, outcome, rpiPxRound on
amend), on purpose: it is an independent record to catch a field dropped
from, or misspelt in, the spec.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from codegen.schema_check import SchemaChecker, requirement_groups
from codegen.spec_loader import load_spec

SPEC = load_spec(Path(__file__).resolve().parent.parent / "spec")
CHECKER = SchemaChecker(SPEC.raw)

# Since 2026 OKX reads the integer instIdCode; the spec also takes instId (at least
# one of the two) and the client resolves the code from it ("instIdCode replaced instId").
INST = {"instIdCode", "instId"}
ORDER = (
    {"tdMode", "side", "ordType", "sz"} | INST,
    {"px", "ccy", "clOrdId", "tag", "posSide", "reduceOnly", "tgtCcy", "banAmend", "pxUsd", "pxVol", "stpMode",
     "tradeQuoteCcy", "pxAmendType", "rpiTakerAccess", "rpiPxRound", "slippagePct", "outcome"},
    {"clOrdId", "ordId", "tag", "ts", "sCode", "sMsg", "subCode"},
)  # fmt: skip
CANCEL = (INST, {"ordId", "clOrdId"}, {"clOrdId", "ordId", "ts", "sCode", "sMsg"})
AMEND = (
    INST,
    {
        "ordId",
        "clOrdId",
        "cxlOnFail",
        "reqId",
        "newSz",
        "newPx",
        "newPxUsd",
        "newPxVol",
        "pxAmendType",
        "rpiTakerAccess",
        "rpiPxRound",
    },
    {"clOrdId", "ordId", "ts", "reqId", "sCode", "sMsg", "subCode"},
)
# method: (op, connection, max_items, required fields, optional fields, reply item fields);
# a required field may be satisfied by another of its one-of group (ONE_OF below).
PROTOCOL_TABLE: dict[str, tuple[str, str, int, set[str], set[str], set[str]]] = {
    "submit_new_order": ("order", "private", 1, *ORDER),
    "submit_multiple_orders": ("batch-orders", "private", 20, *ORDER),
    "cancel_order": ("cancel-order", "private", 1, *CANCEL),
    "cancel_multiple_orders": ("batch-cancel-orders", "private", 20, *CANCEL),
    "amend_order": ("amend-order", "private", 1, *AMEND),
    "amend_multiple_orders": ("batch-amend-orders", "private", 20, *AMEND),
    "mass_cancel_orders": ("mass-cancel", "private", 1, {"instType", "instFamily"}, {"lockInterval"}, {"result"}),
    "submit_spread_order": (
        "sprd-order", "business", 1, {"sprdId", "side", "ordType", "sz"}, {"px", "clOrdId", "tag"},
        {"clOrdId", "ordId", "tag", "sCode", "sMsg"},
    ),
    "amend_spread_order": (
        "sprd-amend-order", "business", 1, set(), {"ordId", "clOrdId", "reqId", "newSz", "newPx"},
        {"clOrdId", "ordId", "reqId", "sCode", "sMsg"},
    ),
    "cancel_spread_order": (
        "sprd-cancel-order", "business", 1, set(), {"ordId", "clOrdId"}, {"clOrdId", "ordId", "sCode", "sMsg"},
    ),
    "mass_cancel_spread_orders": ("sprd-mass-cancel", "business", 1, set(), {"sprdId"}, {"result"}),
}  # fmt: skip
ONE_OF: dict[str, list[set[str]]] = {
    "submit_new_order": [INST],
    "submit_multiple_orders": [INST],
    "cancel_order": [INST, {"ordId", "clOrdId"}],
    "cancel_multiple_orders": [INST, {"ordId", "clOrdId"}],
    "amend_order": [INST, {"ordId", "clOrdId"}],
    "amend_multiple_orders": [INST, {"ordId", "clOrdId"}],
    "amend_spread_order": [{"ordId", "clOrdId"}],
    "cancel_spread_order": [{"ordId", "clOrdId"}],
}
SPREAD_OPS = {"submit_spread_order"}  # its own ordType values: market, limit, post_only, ioc
ENUMS = {
    "tdMode": ["cash", "cross", "isolated", "spot_isolated"],
    "posSide": ["long", "short", "net"],
    "tgtCcy": ["base_ccy", "quote_ccy"],
    "stpMode": ["cancel_maker", "cancel_taker", "cancel_both"],
    "instType": ["OPTION"],
    # RPI replaced ELP on 2026-07-28 ("elp" refused since 2026-10-31).
    "ordType": [
        "market",
        "limit",
        "post_only",
        "fok",
        "ioc",
        "optimal_limit_ioc",
        "mmp",
        "mmp_and_post_only",
        "rpi",
    ],
    "pxAmendType": ["0", "1"],
}


def _object(schema: dict[str, Any]) -> Any:
    return CHECKER.resolve(schema)


def test_the_spec_lists_exactly_the_protocol_operations() -> None:
    spec = list(SPEC.raw["operations"])
    problems = [
        f"{name}: in spec/operations.yaml but not in PROTOCOL_TABLE of tests/test_spec_fields.py;"
        " transcribe its op, connection, max_items and fields there from OKX's docs (an"
        " independent record that catches a field dropped from the spec; step 1 of"
        " docs/guide/adding-an-operation.md)"
        for name in spec
        if name not in PROTOCOL_TABLE
    ] + [
        f"{name}: in PROTOCOL_TABLE of tests/test_spec_fields.py but not in spec/operations.yaml"
        for name in PROTOCOL_TABLE
        if name not in spec
    ]
    assert not problems, "\n".join(problems)
    assert spec == list(PROTOCOL_TABLE), "same operations, listed in another order"


@pytest.mark.parametrize("name", list(PROTOCOL_TABLE))
def test_operation_matches_the_protocol_table(name: str) -> None:
    op, connection, max_items, required, optional, reply = PROTOCOL_TABLE[name]
    entry = SPEC.raw["operations"][name]
    params = _object(entry["params"])
    assert (entry["op"], entry["connection"], entry.get("max_items", 1)) == (
        op,
        connection,
        max_items,
    )
    groups = [
        {name for alt in alternatives for name in alt["required"]}
        for _, alternatives in requirement_groups(params)
    ]
    assert groups == ONE_OF.get(name, [])
    in_groups = set().union(*groups) if groups else set()
    assert set(params.get("required", [])) == required - in_groups
    assert set(params["properties"]) == required | optional
    assert set(_object(entry["response_item"])["properties"]) == reply


@pytest.mark.parametrize("name", list(PROTOCOL_TABLE))
def test_enums_match_the_protocol(name: str) -> None:
    properties = _object(SPEC.raw["operations"][name]["params"])["properties"]
    for field, values in ENUMS.items():
        if field in properties and not (field == "ordType" and name in SPREAD_OPS):
            assert _object(properties[field])["enum"] == values


def test_booleans_are_booleans_and_numbers_are_strings() -> None:
    for entry in SPEC.raw["operations"].values():
        properties = _object(entry["params"])["properties"]
        for field, schema in properties.items():
            resolved = _object(schema)
            if field in {"reduceOnly", "banAmend", "cxlOnFail"}:
                assert resolved["type"] == "boolean", field
            if field in {"sz", "px", "newSz", "newPx", "pxUsd", "pxVol", "newPxUsd", "newPxVol"}:
                assert resolved["type"] == "string" and "pattern" in resolved, field


def test_inst_id_code_is_a_positive_integer_resolved_from_inst_id() -> None:
    for name in ONE_OF:
        properties = _object(SPEC.raw["operations"][name]["params"])["properties"]
        if "instIdCode" not in properties:
            continue
        code = properties["instIdCode"]
        assert _object(code)["type"] == "integer", name
        assert _object(code)["minimum"] == 1, name
        assert code["x-resolve"] == {"from": "instId", "by": "instruments"}, name
